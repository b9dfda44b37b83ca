"""`python -m proxy <command>`: serve, check, where, demo, cache, migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from proxy.settings import (
    CACHE_NAMES,
    Settings,
    SettingsError,
    available_cores,
    describe,
    load_settings,
)


def _settings(args: argparse.Namespace) -> Settings:
    env_file = Path(args.env_file) if args.env_file else None
    return load_settings(env_file)


def _valid_settings(args: argparse.Namespace) -> Settings:
    """The settings, also checked where the previews read them (presets, watermark)."""
    from proxy.services import validate

    settings = _settings(args)
    validate(settings)
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    from proxy.server import serve

    settings = _valid_settings(args)
    workers = args.workers if args.workers is not None else available_cores()
    return serve(
        settings,
        args.host,
        args.port,
        workers=workers,
        env_file=args.env_file,
        worker=getattr(args, "worker", False),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from proxy.demo import seed_sample

    settings = _valid_settings(args)
    urls = seed_sample(settings)
    base = f"http://{args.host}:{args.port}"
    print("Try these:", flush=True)
    for url in urls:
        print(f"  {base}{url}", flush=True)
    return cmd_serve(args)


def cmd_where(args: argparse.Namespace) -> int:
    settings = _settings(args)
    width = max(len(name) for name, _ in describe(settings))
    for name, value in describe(settings):
        print(f"{name.ljust(width)}  {value}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from proxy.checks import run_checks

    settings = _valid_settings(args)
    problems = asyncio.run(run_checks(settings))
    for line in problems:
        print(line)
    if not problems:
        print(f"OK: {settings.storage.provider} storage answers, caches are writable")
    return 1 if problems else 0


def cmd_cache(args: argparse.Namespace) -> int:
    from proxy import admin

    settings = _settings(args)
    if args.action == "stats":
        print(admin.format_stats(admin.cache_stats(settings)))
        return 0
    if args.action == "purge":
        removed = admin.purge(settings, args.cache, args.prefix)
        for name, count in removed.items():
            print(f"{name}: removed {count} entries")
        return 0
    from proxy.warm import warm

    return warm(args.file, args.url, args.concurrency)


def cmd_migrate(args: argparse.Namespace) -> int:
    from proxy.migrate import migrate

    settings = _settings(args)
    buckets = [b.strip() for b in args.buckets.split(",") if b.strip()] if args.buckets else None
    return asyncio.run(
        migrate(
            settings,
            Path(args.to_env_file),
            buckets=buckets,
            concurrency=args.concurrency,
            dry_run=args.dry_run,
        )
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m proxy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--env-file", help="read settings from this file (default ./.env)")
        return p

    serve = add("serve", "run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers", type=int, default=None, help="processes sharing the port (default: cores)"
    )
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    demo = add("demo", "put a sample image under DATA_PATH/storage, print URLs, serve")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--workers", type=int, default=1)
    demo.set_defaults(func=cmd_demo)

    cache = add("cache", "cache statistics, purge and warm-up (safe while serving)")
    actions = cache.add_subparsers(dest="action", required=True)
    for action, help_text in (
        ("stats", "entries, bytes, bound and oldest entry per cache"),
        ("purge", "remove entries; a purged original also drops its previews and conversions"),
        ("warm", "request paths or preview URLs (one a line) from the running server"),
    ):
        p = actions.add_parser(action, help=help_text)
        p.add_argument("--env-file", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if action == "purge":
            p.add_argument("--cache", choices=CACHE_NAMES, help="only this cache (and derived)")
            p.add_argument("--prefix", default="", help="BUCKET/KEY-PREFIX of the originals")
        if action == "warm":
            p.add_argument("file", nargs="?", default="-", help="a file, or - for stdin")
            p.add_argument("--url", default="http://127.0.0.1:8080", help="the running server")
            p.add_argument("--concurrency", type=int, default=8)
    cache.set_defaults(func=cmd_cache)

    add("where", "print where settings, storage and caches are").set_defaults(func=cmd_where)
    add("check", "validate settings and that the storage answers").set_defaults(func=cmd_check)

    migrate = add("migrate", "copy DATA_PATH/storage to the store another env file describes")
    migrate.add_argument("--to-env-file", required=True, help="settings of the target store")
    migrate.add_argument("--buckets", help="comma-separated bucket folders (default: all)")
    migrate.add_argument("--concurrency", type=int, default=4, help="parallel copies")
    migrate.add_argument("--dry-run", action="store_true", help="only tell what would be copied")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
