"""`python -m proxy <command>`: serve, check, where, demo, cache, migrate, sign.

Exit statuses (the README's table lists them per command): 0 done; 1 the command ran and
something failed (check found a problem, a copy or a warm-up failed, workers kept dying);
2 nothing was done: a wrong command line or invalid settings (for `check` these are problems
like any other: 1); 130 interrupted (Ctrl-C);
141 the reader of the output went away (`| head`), as for any Unix tool.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
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

OK, FAILED, USAGE, INTERRUPTED, BROKEN_PIPE = 0, 1, 2, 130, 141


def _settings(args: argparse.Namespace) -> Settings:
    env_file = Path(args.env_file) if args.env_file else None
    return load_settings(env_file, workers=_workers(args))


def _workers(args: argparse.Namespace) -> int:
    """The server processes `serve` runs (the render defaults depend on it); 1 elsewhere."""
    if not hasattr(args, "workers"):
        return 1
    return args.workers if args.workers is not None else available_cores()


def _valid_settings(args: argparse.Namespace) -> Settings:
    """The settings, also checked where the previews read them (presets, watermark)."""
    from proxy.services import validate

    settings = _settings(args)
    validate(settings)
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    from proxy.jobs.budget import MemoryPlan, container_memory_limit
    from proxy.server import serve

    supervising = _workers(args) > 1 and not getattr(args, "worker", False)
    if supervising:
        # The supervisor only starts and watches workers: checking the settings loads libvips
        # (presets, the watermark), some 50 MiB it would then hold for nothing, so a forked
        # child checks them and the supervisor keeps its own memory small.
        settings = _settings(args)
        _validated_in_a_child(settings)
    else:
        settings = _valid_settings(args)
    unfit = MemoryPlan.of(settings).problem(container_memory_limit())
    if unfit is not None:
        print(unfit, file=sys.stderr)
        return USAGE
    return serve(
        settings,
        args.host,
        args.port,
        workers=settings.workers,
        env_file=args.env_file,
        worker=getattr(args, "worker", False),
    )


def _validated_in_a_child(settings: Settings) -> None:
    """`validate` in a forked child, whose problems come back through a pipe and are raised
    here as if it had run in this process."""
    import json

    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
        from proxy.services import validate

        os.close(read_end)
        problems: list[str] = []
        try:
            validate(settings)
        except SettingsError as exc:
            problems = list(exc.problems)
        except BaseException as exc:  # what would have failed in the supervisor fails it
            problems = [f"settings could not be checked: {type(exc).__name__}: {exc}"]
        finally:
            with os.fdopen(write_end, "w") as pipe:
                json.dump(problems, pipe)
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    problems = json.loads(text) if text else ["settings could not be checked: the check died"]
    if problems:
        raise SettingsError(problems)


def _say_problems(exc: SettingsError) -> None:
    for line in exc.problems:
        print(f"error: {line}", file=sys.stderr)


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
    return OK


def cmd_check(args: argparse.Namespace) -> int:
    from proxy.checks import run_checks, start_notes

    # Invalid settings are problems like any other here: one line each, exit 1.
    try:
        settings = _valid_settings(args)
    except SettingsError as exc:
        for line in exc.problems:
            print(line)
        return FAILED
    # The verdict is this command's output. Libraries' warnings would only repeat one of its
    # lines, some with a traceback (botocore logs every failed credential refresh so).
    logging.disable(logging.WARNING)
    problems = asyncio.run(run_checks(settings))
    for line in problems:
        print(line)
    if problems:
        return FAILED
    for line in start_notes(settings):
        print(line)
    print(f"OK: {settings.storage.provider} storage answers, caches are writable, libvips works")
    return OK


def cmd_cache(args: argparse.Namespace) -> int:
    from proxy import admin

    if args.action == "warm":
        from proxy.warm import warm

        # With AUTH_BEARER_TOKEN the server wants it on every request: warming is a client.
        bearer = _settings(args).access.bearer_token or None
        return warm(args.file, args.url, args.concurrency, bearer=bearer)
    settings = _settings(args)
    if args.action == "stats":
        print(admin.format_stats(admin.cache_stats(settings)))
        return OK
    if args.action == "check":
        lines, sound = admin.check(settings, fix=args.fix)
        for line in lines:
            print(line)
        return OK if sound else FAILED
    return _purge(args, settings)


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from proxy import admin

    if args.prefix.strip("/") == "" and not args.all:
        print("an empty prefix purges every cache: say --all", file=sys.stderr)
        return USAGE
    if not (args.nodes or args.nodes_dns):
        removed = admin.purge(settings, args.cache, args.prefix.lstrip("/"))
        for name, count in removed.items():
            print(f"{name}: removed {count} entries")
        return OK
    from proxy.purge_nodes import nodes_from_dns, purge_nodes

    if not settings.admin_token:
        print("--nodes sends the purge to the admin API: set ADMIN_TOKEN", file=sys.stderr)
        return USAGE
    try:
        nodes = [n for n in (args.nodes or "").split(",") if n.strip()]
        if args.nodes_dns:
            nodes += nodes_from_dns(args.nodes_dns)
    except (ValueError, OSError) as exc:
        print(f"cannot find the nodes: {exc}", file=sys.stderr)
        return FAILED
    results = asyncio.run(
        purge_nodes(nodes, args.prefix, settings.admin_token, everything=args.all, cache=args.cache)
    )
    for result in results:
        if result.purged is None:
            print(f"{result.node}: FAILED: {result.problem}")
        else:
            print(f"{result.node}: removed {result.purged} entries")
    return OK if results and all(r.purged is not None for r in results) else FAILED


def cmd_sign(args: argparse.Namespace) -> int:
    from proxy.sign import CannotSign, signed_url
    from proxy.units import parse_duration

    settings = _settings(args)
    try:
        expires = None if args.expires is None else parse_duration(args.expires)
        print(signed_url(args.url, settings, expires))
    except ValueError as exc:
        print(f"error: --expires: {exc}", file=sys.stderr)
        return USAGE
    except CannotSign as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    if settings.access.signature_scope == "previews" and "/previews/" not in args.url:
        print("note: SIGNATURE_SCOPE=previews: this route is served unsigned", file=sys.stderr)
    return OK


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


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default; an option without a value default says its own."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number 0-65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m proxy", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str, *, env_file: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=_Help)
        if env_file:
            p.add_argument(
                "--env-file", help="read settings from this file (default: ./.env when present)"
            )
        return p

    def listen(p: argparse.ArgumentParser, workers: int | None) -> None:
        p.add_argument("--host", default="127.0.0.1", help="address to listen on")
        p.add_argument("--port", type=_port, default=8080, help="port to listen on")
        if workers is None:
            p.add_argument(
                "--workers",
                type=_positive,
                default=None,
                help="processes sharing the port (default: one per core)",
            )
        else:
            p.add_argument(
                "--workers", type=_positive, default=workers, help="processes sharing the port"
            )

    serve = add("serve", "run the HTTP server")
    listen(serve, None)
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    demo = add("demo", "put a sample image under DATA_PATH/storage, print URLs, serve")
    listen(demo, 1)
    demo.set_defaults(func=cmd_demo)

    cache = add("cache", "cache statistics, purge and warm-up (safe while serving)")
    actions = cache.add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text, description=help_text, formatter_class=_Help)
        # Also accepted after the action; `cache --env-file F stats` is the documented place.
        p.add_argument("--env-file", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    action("stats", "entries, bytes, bound and oldest entry per cache")
    check = action(
        "check", "compare the index with the files and read every body against its checksum"
    )
    check.add_argument(
        "--fix", action="store_true", help="repair what is found (default: only report)"
    )
    purge = action(
        "purge", "remove entries; a purged original also drops its previews and conversions"
    )
    purge.add_argument(
        "--cache",
        choices=CACHE_NAMES,
        help="only this cache and those derived from it (default: all)",
    )
    purge.add_argument(
        "--prefix", default="", help="BUCKET/KEY-PREFIX of the originals (empty: with --all)"
    )
    purge.add_argument("--all", action="store_true", help="an empty prefix: purge everything")
    purge.add_argument(
        "--nodes",
        help="send it to these running nodes (comma-separated base URLs) through the admin "
        "API (default: none, this host's caches directly)",
    )
    purge.add_argument(
        "--nodes-dns",
        help="send it to every address HOST:PORT resolves to, a headless service (default: none)",
    )
    warm = action("warm", "request paths or preview URLs (one a line) from the running server")
    warm.add_argument("file", nargs="?", default="-", help="a file, or - for stdin")
    warm.add_argument("--url", default="http://127.0.0.1:8080", help="the running server")
    warm.add_argument("--concurrency", type=_positive, default=8, help="requests at once")
    cache.set_defaults(func=cmd_cache)

    add("where", "print where settings, storage and caches are").set_defaults(func=cmd_where)
    add(
        "check", "would serve start healthy? settings, storage, caches, libvips; exit 1 if not"
    ).set_defaults(func=cmd_check)

    sign = add("sign", "print URL signed with the first SIGNATURE_KEY/SIGNATURE_SALT pair")
    sign.add_argument("url", help="a path or URL of any route, e.g. /bucket/key or /previews/_/...")
    sign.add_argument(
        "--expires", help="valid for this long from now, e.g. 1h or 7d (default: forever)"
    )
    sign.set_defaults(func=cmd_sign)

    migrate = add("migrate", "copy DATA_PATH/storage to the store another env file describes")
    migrate.add_argument("--to-env-file", required=True, help="settings of the target store")
    migrate.add_argument("--buckets", help="comma-separated bucket folders (default: every folder)")
    migrate.add_argument("--concurrency", type=_positive, default=4, help="parallel copies")
    migrate.add_argument("--dry-run", action="store_true", help="only tell what would be copied")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 on a wrong command line
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # inside the try: a pipe closed early fails here, not at exit
        return status
    except SettingsError as exc:
        _say_problems(exc)
        return USAGE
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`). Point stdout at /dev/null so that the interpreter's
        # own flush at exit does not fail a second time and print a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
