"""The typed settings a process runs with, parsed and validated once at start.

Each value is checked against its own kind as it is read (proxy/settings/load.py); rules that
tie several values together are each dataclass's `problems()`, asked once every value is
read, so one start reports every bad variable at once.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(Exception):
    """One or more settings are wrong; `problems` holds one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CacheSettings:
    name: str
    path: Path
    size: int
    expires: float
    max_object_size: int

    def problems(self) -> list[str]:
        return []


@dataclass(frozen=True)
class StorageSettings:
    provider: str
    root: Path
    buckets: tuple[str, ...]
    endpoint: str  # for minio: AWS S3's regional endpoint when none was given
    port: int | None
    access_key: str
    secret_key: str
    iam_role: str
    region: str
    timeout: float
    retries: int
    endpoint_is_default: bool = False

    def problems(self) -> list[str]:
        """What a remote provider needs and was not given."""
        if self.provider == "http":
            return []
        problems = []
        if not self.buckets:
            problems.append(
                "STORAGE_BUCKETS is required for a remote provider: comma-separated names"
            )
        if not self.endpoint and self.provider == "azure":
            problems.append(
                "STORAGE_ENDPOINT is required for azure: https://<account>.blob.core.windows.net"
            )
        if self.provider == "minio" and self.iam_role:
            return problems
        for name, value in (
            ("STORAGE_ACCESS_KEY", self.access_key),
            ("STORAGE_SECRET_KEY", self.secret_key),
        ):
            if not value:
                hint = " (or STORAGE_IAM_ROLE)" if self.provider == "minio" else ""
                problems.append(f"{name} is required for {self.provider}{hint}")
        return problems


@dataclass(frozen=True)
class PreviewSettings:
    concurrency: int
    queue: int
    memory_limit: int
    process_idle_timeout: float  # 0: render processes are kept however long nothing runs
    max_src_resolution: float
    max_src_file_size: int
    max_result_dimension: int
    max_animation_frames: int
    max_animation_frame_resolution: float
    max_svg_file_size: int
    preserve_hdr: bool
    skip_processing_formats: tuple[str, ...]
    watermark_path: Path | None
    watermark_opacity: float
    allow_security_options: bool
    auto_webp: bool
    auto_avif: bool
    quality: int
    format_quality: Mapping[str, int]
    presets: Mapping[str, str]
    signature_keys: tuple[bytes, ...]
    signature_salts: tuple[bytes, ...]
    signature_size: int
    converter_timeout: float
    trusted_signatures: frozenset[str] = frozenset()
    best_format_by_default: bool = False
    best_format_complexity_threshold: float = 5.5
    best_format_max_resolution: float = 0.0
    best_format_allow_skips: bool = False

    @property
    def signature_pairs(self) -> tuple[tuple[bytes, bytes], ...]:
        """(key, salt) pairs, in the order given: the first signs, all of them verify."""
        return tuple(zip(self.signature_keys, self.signature_salts, strict=False))

    def problems(self) -> list[str]:
        if len(self.signature_keys) != len(self.signature_salts):
            return [
                "SIGNATURE_KEY and SIGNATURE_SALT must have the same number of "
                "comma-separated hex values"
            ]
        return []


@dataclass(frozen=True)
class AccessSettings:
    """Who may read: signatures beyond previews, a bearer secret, an auth service."""

    signature_scope: str  # "all" or "previews"
    bearer_token: str
    auth_request_url: str
    auth_request_cache: float
    auth_request_scope: str  # "url" or "credentials"
    auth_request_timeout: float
    cache_control: str  # for answers a bearer or an auth service admitted

    @property
    def per_client(self) -> bool:
        """Whether who asks decides what is served, so shared caches must not keep answers."""
        return bool(self.bearer_token or self.auth_request_url)

    def problems(self) -> list[str]:
        return []


@dataclass(frozen=True)
class Settings:
    env_file: Path | None
    data_path: Path
    storage: StorageSettings
    caches: Mapping[str, CacheSettings]
    stale_grace: float
    memory_cache_size: int
    range_fill_size: int
    abandoned_fill_limit: int
    scrub_rate: int
    cache_control: str
    shutdown_timeout: float
    request_timeout: float
    header_timeout: float
    idle_timeout: float
    max_connections: int
    log_level: str
    event_loop: str  # asyncio, uvloop or auto
    access_log: bool
    previews: PreviewSettings
    access: AccessSettings
    send_timeout: float = 60.0
    cors_allow_origin: tuple[str, ...] = ()  # ("*",), origins, or () for off
    resource_policy: str = "cross-origin"
    node_name: str = ""  # NODE_NAME, or the host name when that is empty
    revalidate: float = 0.0  # CACHE_STORAGE_REVALIDATE; 0: off
    revalidate_wait: bool = False
    admin_token: str = ""  # empty: no admin API
    workers: int = 1  # server processes sharing the port (`serve --workers`)
    raw: Mapping[str, str] = field(repr=False, default_factory=dict)

    def problems(self) -> list[str]:
        """Every rule across values, of every part."""
        return [
            *self.storage.problems(),
            *(problem for cache in self.caches.values() for problem in cache.problems()),
            *self.previews.problems(),
            *self.access.problems(),
            *self._loop_problems(),
        ]

    def _loop_problems(self) -> list[str]:
        if self.event_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
            return ["EVENT_LOOP=uvloop, but uvloop is not installed (pip install uvloop)"]
        return []
