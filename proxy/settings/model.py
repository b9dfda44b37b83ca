"""The typed settings a process runs with, parsed and validated once at start."""

from __future__ import annotations

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


@dataclass(frozen=True)
class PreviewSettings:
    concurrency: int
    queue: int
    memory_limit: int
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
    signature_pairs: tuple[tuple[bytes, bytes], ...]
    signature_size: int
    converter_timeout: float
    trusted_signatures: frozenset[str] = frozenset()


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
    access_log: bool
    previews: PreviewSettings
    access: AccessSettings
    node_name: str = ""  # NODE_NAME, or the host name when that is empty
    revalidate: float = 0.0  # CACHE_STORAGE_REVALIDATE; 0: off
    revalidate_wait: bool = False
    admin_token: str = ""  # empty: no admin API
    raw: Mapping[str, str] = field(repr=False, default_factory=dict)
