"""Reading the settings from the environment and an env file, into the typed model."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values

from proxy.settings.catalog import BY_NAME, CACHE_NAMES
from proxy.settings.describe import mask
from proxy.settings.kinds import BUCKET_RE
from proxy.settings.model import (
    AccessSettings,
    CacheSettings,
    PreviewSettings,
    Settings,
    SettingsError,
    StorageSettings,
)

T = TypeVar("T")


def available_cores() -> int:
    """The cores this process may run on (a container's cpuset, not the whole host's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def host_name() -> str:
    """The default node name: the host name, reduced to what is safe in a header."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:63].strip("-")
    return name or "node"


class _Reader:
    """Reads each setting by its declared kind, collecting one problem line per bad one."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def raw(self, name: str) -> str:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            value = BY_NAME[name].default
        return value.strip()

    def __call__(self, name: str, fallback: Any = None) -> Any:
        setting = BY_NAME[name]
        raw = self.raw(name)
        try:
            return setting.kind.parse(raw)
        except (ValueError, TypeError) as exc:
            detail = f" ({exc})" if str(exc) and not str(exc).startswith(repr(raw)) else ""
            shown = repr(mask(raw)) if setting.secret else repr(raw)  # a secret is never printed
            if setting.secret and raw in detail:
                detail = ""
            self.problems.append(f"{name}={shown} is invalid: expected {setting.form}{detail}")
            return fallback

    def failed(self, name: str) -> bool:
        return any(line.startswith(f"{name}=") for line in self.problems)


def read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise SettingsError([f"env file {path} does not exist"])
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Parse the settings; the process environment wins over the env file, as in compose."""
    environ = os.environ if environ is None else environ
    if env_file is None and Path(".env").is_file():
        env_file = Path(".env")
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update(read_env_file(env_file))
    merged.update({k: v for k, v in environ.items() if k in BY_NAME})
    return parse_settings(merged, env_file)


def parse_settings(env: Mapping[str, str], env_file: Path | None = None) -> Settings:
    r = _Reader(env)
    data_path = Path(r("DATA_PATH", "./data")).expanduser().absolute()
    storage = _storage(r, data_path)
    caches = _caches(r, data_path)
    previews = _previews(r)
    settings = Settings(
        env_file=env_file,
        data_path=data_path,
        storage=storage,
        caches=caches,
        stale_grace=r("CACHE_STALE_GRACE", 0.0),
        memory_cache_size=r("CACHE_MEMORY_SIZE", 0),
        range_fill_size=r("CACHE_RANGE_FILL_SIZE", 0),
        abandoned_fill_limit=r("CACHE_ABANDONED_FILL_LIMIT", 0),
        scrub_rate=r("CACHE_SCRUB_RATE", 0),
        cache_control=r("CACHE_CONTROL", ""),
        shutdown_timeout=r("SHUTDOWN_TIMEOUT", 0.0),
        request_timeout=r("REQUEST_TIMEOUT", 60.0),
        header_timeout=r("HTTP_HEADER_TIMEOUT", 10.0),
        idle_timeout=r("HTTP_IDLE_TIMEOUT", 15.0),
        max_connections=r("HTTP_MAX_CONNECTIONS", 2048),
        log_level=r("LOG_LEVEL", "info"),
        access_log=r("ACCESS_LOG", False),
        previews=previews,
        access=_access(r),
        node_name=r("NODE_NAME", "") or host_name(),
        revalidate=r("CACHE_STORAGE_REVALIDATE", 0.0),
        revalidate_wait=r("CACHE_STORAGE_REVALIDATE_WAIT", False),
        admin_token=r("ADMIN_TOKEN", ""),
        raw=dict(env),
    )
    if r.problems:
        raise SettingsError(r.problems)
    return settings


def _storage(r: _Reader, data_path: Path) -> StorageSettings:
    provider = r("STORAGE_PROVIDER", "http")
    root = data_path / "storage"
    buckets: tuple[str, ...] = r("STORAGE_BUCKETS", ())
    if not buckets and provider == "http" and root.is_dir():
        buckets = tuple(
            sorted(p.name for p in root.iterdir() if p.is_dir() and BUCKET_RE.match(p.name))
        )
    if not buckets and provider != "http" and not r.failed("STORAGE_BUCKETS"):
        r.problems.append(
            "STORAGE_BUCKETS is required for a remote provider: comma-separated names"
        )
    region = r("STORAGE_REGION", "us-east-1")
    endpoint = r("STORAGE_ENDPOINT", "")
    default_endpoint = provider == "minio" and not endpoint
    if default_endpoint:
        # Said out loud (and shown by `where` and `check`), never a silent fallback.
        endpoint = f"https://s3.{region}.amazonaws.com"
    storage = StorageSettings(
        provider=provider,
        root=root,
        buckets=buckets,
        endpoint=endpoint,
        port=r("STORAGE_PORT"),
        access_key=r("STORAGE_ACCESS_KEY", ""),
        secret_key=r("STORAGE_SECRET_KEY", ""),
        iam_role=r("STORAGE_IAM_ROLE", ""),
        region=region,
        timeout=r("STORAGE_TIMEOUT", 30.0),
        retries=r("STORAGE_RETRIES", 0),
        endpoint_is_default=default_endpoint,
    )
    r.problems.extend(_storage_problems(storage))
    return storage


def _storage_problems(storage: StorageSettings) -> list[str]:
    if storage.provider == "http":
        return []
    problems = []
    if not storage.endpoint and storage.provider == "azure":
        problems.append(
            "STORAGE_ENDPOINT is required for azure: https://<account>.blob.core.windows.net"
        )
    if storage.provider == "minio" and storage.iam_role:
        return problems
    for name, value in (
        ("STORAGE_ACCESS_KEY", storage.access_key),
        ("STORAGE_SECRET_KEY", storage.secret_key),
    ):
        if not value:
            hint = " (or STORAGE_IAM_ROLE)" if storage.provider == "minio" else ""
            problems.append(f"{name} is required for {storage.provider}{hint}")
    return problems


def _caches(r: _Reader, data_path: Path) -> dict[str, CacheSettings]:
    max_object = r("CACHE_MAX_OBJECT_SIZE", 0)
    cache_root = data_path / "proxy_cache"
    caches = {}
    for name in CACHE_NAMES:
        upper = name.upper()
        size = r(f"CACHE_{upper}_SIZE", 0)
        caches[name] = CacheSettings(
            name=name,
            path=cache_root / name,
            size=size,
            expires=r(f"CACHE_{upper}_EXPIRES", 1.0),
            max_object_size=min(max_object, size),
        )
    return caches


def _previews(r: _Reader) -> PreviewSettings:
    concurrency = r("PREVIEWS_CONCURRENCY") or available_cores()
    queue = r("PREVIEWS_QUEUE")
    keys = r("SIGNATURE_KEY", ())
    salts = r("SIGNATURE_SALT", ())
    if len(keys) != len(salts) and not (r.failed("SIGNATURE_KEY") or r.failed("SIGNATURE_SALT")):
        r.problems.append(
            "SIGNATURE_KEY and SIGNATURE_SALT must have the same number of comma-separated hex values"
        )
    return PreviewSettings(
        concurrency=concurrency,
        queue=64 * concurrency if queue is None else queue,
        memory_limit=r("PREVIEWS_MEMORY_LIMIT", 1 << 30),
        max_src_resolution=r("PREVIEWS_MAX_SRC_RESOLUTION", 1.0),
        max_src_file_size=r("PREVIEWS_MAX_SRC_FILE_SIZE", 0),
        max_result_dimension=r("PREVIEWS_MAX_RESULT_DIMENSION", 1),
        max_animation_frames=r("PREVIEWS_MAX_ANIMATION_FRAMES", 1),
        max_animation_frame_resolution=r("PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION", 0.0),
        max_svg_file_size=r("PREVIEWS_MAX_SVG_FILE_SIZE", 0),
        preserve_hdr=r("PREVIEWS_PRESERVE_HDR", False),
        skip_processing_formats=r("PREVIEWS_SKIP_PROCESSING_FORMATS", ()),
        watermark_path=_optional_path(r("PREVIEWS_WATERMARK_PATH", "")),
        watermark_opacity=r("PREVIEWS_WATERMARK_OPACITY", 1.0),
        allow_security_options=r("PREVIEWS_ALLOW_SECURITY_OPTIONS", False),
        auto_webp=r("PREVIEWS_AUTO_WEBP", False),
        auto_avif=r("PREVIEWS_AUTO_AVIF", False),
        quality=r("PREVIEWS_QUALITY", 80),
        format_quality=r("PREVIEWS_FORMAT_QUALITY", {}),
        presets=r("PREVIEWS_PRESETS", {}),
        signature_pairs=tuple(zip(keys, salts, strict=False)),
        signature_size=r("SIGNATURE_SIZE", 32),
        converter_timeout=r("CONVERTER_TIMEOUT", 30.0),
        trusted_signatures=frozenset(r("SIGNATURE_TRUSTED", ())),
    )


def _access(r: _Reader) -> AccessSettings:
    cache_control = r("CACHE_CONTROL", "")
    return AccessSettings(
        signature_scope=r("SIGNATURE_SCOPE", "all"),
        bearer_token=r("AUTH_BEARER_TOKEN", ""),
        auth_request_url=r("AUTH_REQUEST_URL", ""),
        auth_request_cache=r("AUTH_REQUEST_CACHE", 0.0),
        auth_request_scope=r("AUTH_REQUEST_SCOPE", "url"),
        auth_request_timeout=r("AUTH_REQUEST_TIMEOUT", 5.0),
        cache_control=r("AUTH_CACHE_CONTROL", "") or private_cache_control(cache_control),
    )


def private_cache_control(shared: str) -> str:
    """CACHE_CONTROL for one client only: `private`, without what only shared caches read."""
    kept = [
        part.strip()
        for part in shared.split(",")
        if part.strip() and part.strip().split("=")[0].lower() not in SHARED_ONLY
    ]
    return ", ".join(["private", *kept])


# Directives that address shared caches (RFC 9111): meaningless or wrong with `private`.
SHARED_ONLY = frozenset({"public", "private", "s-maxage", "proxy-revalidate"})


def _optional_path(raw: str) -> Path | None:
    return Path(raw).expanduser() if raw else None
