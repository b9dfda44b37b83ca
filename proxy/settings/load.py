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
    """Reads each setting by its declared kind, collecting one problem line per bad one.

    A bad value reads as its catalog default, so the rest can still be read and checked."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []
        self.failed: set[str] = set()

    def raw(self, name: str) -> str:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            value = BY_NAME[name].default
        return value.strip()

    def __call__(self, name: str) -> Any:
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
            self.failed.add(name)
            return setting.kind.parse(setting.default)

    def add(self, problems: list[str]) -> None:
        """Problems across values, but not those naming a variable already said to be bad
        (a bad STORAGE_BUCKETS is not also a missing one)."""
        for problem in problems:
            if not self.failed.intersection(_VARIABLE.findall(problem)):
                self.problems.append(problem)


_VARIABLE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise SettingsError([f"env file {path} does not exist"])
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    workers: int = 1,
) -> Settings:
    """Parse the settings; the process environment wins over the env file, as in compose."""
    environ = os.environ if environ is None else environ
    if env_file is None and Path(".env").is_file():
        env_file = Path(".env")
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update(read_env_file(env_file))
    merged.update({k: v for k, v in environ.items() if k in BY_NAME})
    return parse_settings(merged, env_file, workers)


def parse_settings(
    env: Mapping[str, str], env_file: Path | None = None, workers: int = 1
) -> Settings:
    r = _Reader(env)
    data_path = Path(r("DATA_PATH")).expanduser().absolute()
    storage = _storage(r, data_path)
    caches = _caches(r, data_path)
    previews = _previews(r, workers)
    settings = Settings(
        env_file=env_file,
        data_path=data_path,
        storage=storage,
        caches=caches,
        stale_grace=r("CACHE_STALE_GRACE"),
        memory_cache_size=r("CACHE_MEMORY_SIZE"),
        range_fill_size=r("CACHE_RANGE_FILL_SIZE"),
        abandoned_fill_limit=r("CACHE_ABANDONED_FILL_LIMIT"),
        scrub_rate=r("CACHE_SCRUB_RATE"),
        cache_control=r("CACHE_CONTROL"),
        shutdown_timeout=r("SHUTDOWN_TIMEOUT"),
        request_timeout=r("REQUEST_TIMEOUT"),
        header_timeout=r("HTTP_HEADER_TIMEOUT"),
        idle_timeout=r("HTTP_IDLE_TIMEOUT"),
        max_connections=r("HTTP_MAX_CONNECTIONS"),
        send_timeout=r("HTTP_SEND_TIMEOUT"),
        cors_allow_origin=r("CORS_ALLOW_ORIGIN"),
        resource_policy=r("CROSS_ORIGIN_RESOURCE_POLICY"),
        log_level=r("LOG_LEVEL"),
        event_loop=r("EVENT_LOOP"),
        access_log=r("ACCESS_LOG"),
        previews=previews,
        access=_access(r),
        node_name=r("NODE_NAME") or host_name(),
        revalidate=r("CACHE_STORAGE_REVALIDATE"),
        revalidate_wait=r("CACHE_STORAGE_REVALIDATE_WAIT"),
        admin_token=r("ADMIN_TOKEN"),
        workers=workers,
        raw=dict(env),
    )
    r.add(settings.problems())
    if r.problems:
        raise SettingsError(r.problems)
    return settings


def _storage(r: _Reader, data_path: Path) -> StorageSettings:
    provider = r("STORAGE_PROVIDER")
    root = data_path / "storage"
    buckets: tuple[str, ...] = r("STORAGE_BUCKETS")
    if not buckets and provider == "http" and root.is_dir():
        buckets = tuple(
            sorted(p.name for p in root.iterdir() if p.is_dir() and BUCKET_RE.match(p.name))
        )
    region = r("STORAGE_REGION")
    endpoint = r("STORAGE_ENDPOINT")
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
        access_key=r("STORAGE_ACCESS_KEY"),
        secret_key=r("STORAGE_SECRET_KEY"),
        iam_role=r("STORAGE_IAM_ROLE"),
        region=region,
        timeout=r("STORAGE_TIMEOUT"),
        retries=r("STORAGE_RETRIES"),
        endpoint_is_default=default_endpoint,
    )
    return storage


def _caches(r: _Reader, data_path: Path) -> dict[str, CacheSettings]:
    max_object = r("CACHE_MAX_OBJECT_SIZE")
    cache_root = data_path / "proxy_cache"
    caches = {}
    for name in CACHE_NAMES:
        upper = name.upper()
        size = r(f"CACHE_{upper}_SIZE")
        caches[name] = CacheSettings(
            name=name,
            path=cache_root / name,
            size=size,
            expires=r(f"CACHE_{upper}_EXPIRES"),
            max_object_size=min(max_object, size),
        )
    return caches


def _previews(r: _Reader, workers: int) -> PreviewSettings:
    # The cores are shared by the workers: more renders at once than cores only queue inside
    # the kernel instead of in the proxy, and each one may take PREVIEWS_MEMORY_LIMIT.
    concurrency = r("PREVIEWS_CONCURRENCY") or max(1, available_cores() // workers)
    queue = r("PREVIEWS_QUEUE")
    return PreviewSettings(
        concurrency=concurrency,
        queue=64 * concurrency if queue is None else queue,
        memory_limit=r("PREVIEWS_MEMORY_LIMIT"),
        process_idle_timeout=r("PREVIEWS_PROCESS_IDLE_TIMEOUT"),
        max_src_resolution=r("PREVIEWS_MAX_SRC_RESOLUTION"),
        max_src_file_size=r("PREVIEWS_MAX_SRC_FILE_SIZE"),
        max_result_dimension=r("PREVIEWS_MAX_RESULT_DIMENSION"),
        max_animation_frames=r("PREVIEWS_MAX_ANIMATION_FRAMES"),
        max_animation_frame_resolution=r("PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION"),
        max_svg_file_size=r("PREVIEWS_MAX_SVG_FILE_SIZE"),
        preserve_hdr=r("PREVIEWS_PRESERVE_HDR"),
        skip_processing_formats=r("PREVIEWS_SKIP_PROCESSING_FORMATS"),
        watermark_path=_optional_path(r("PREVIEWS_WATERMARK_PATH")),
        watermark_opacity=r("PREVIEWS_WATERMARK_OPACITY"),
        allow_security_options=r("PREVIEWS_ALLOW_SECURITY_OPTIONS"),
        auto_webp=r("PREVIEWS_AUTO_WEBP"),
        auto_avif=r("PREVIEWS_AUTO_AVIF"),
        quality=r("PREVIEWS_QUALITY"),
        format_quality=r("PREVIEWS_FORMAT_QUALITY"),
        presets=r("PREVIEWS_PRESETS"),
        signature_keys=r("SIGNATURE_KEY"),
        signature_salts=r("SIGNATURE_SALT"),
        signature_size=r("SIGNATURE_SIZE"),
        converter_timeout=r("CONVERTER_TIMEOUT"),
        trusted_signatures=frozenset(r("SIGNATURE_TRUSTED")),
        best_format_by_default=r("PREVIEWS_BEST_FORMAT_BY_DEFAULT"),
        best_format_complexity_threshold=r("PREVIEWS_BEST_FORMAT_COMPLEXITY_THRESHOLD"),
        best_format_max_resolution=r("PREVIEWS_BEST_FORMAT_MAX_RESOLUTION"),
        best_format_allow_skips=r("PREVIEWS_BEST_FORMAT_ALLOW_SKIPS"),
    )


def _access(r: _Reader) -> AccessSettings:
    cache_control = r("CACHE_CONTROL")
    return AccessSettings(
        signature_scope=r("SIGNATURE_SCOPE"),
        bearer_token=r("AUTH_BEARER_TOKEN"),
        auth_request_url=r("AUTH_REQUEST_URL"),
        auth_request_cache=r("AUTH_REQUEST_CACHE"),
        auth_request_scope=r("AUTH_REQUEST_SCOPE"),
        auth_request_timeout=r("AUTH_REQUEST_TIMEOUT"),
        cache_control=r("AUTH_CACHE_CONTROL") or private_cache_control(cache_control),
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
