"""Typed settings, parsed and validated once at start from the environment and a `.env` file.

Every setting is declared once in `SETTINGS`: its name, default, accepted form and meaning.
The parser, `python -m proxy where` and the README's settings table all read that list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values

from proxy.units import DURATION_FORM, SIZE_FORM, parse_duration, parse_size

T = TypeVar("T")

PROVIDERS = ("http", "minio", "azure")
CACHE_NAMES = ("storage", "previews", "image_converter")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    form: str
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_PATH", "./data", "a folder", "holds `storage/` (local provider) and `proxy_cache/`"
    ),
    Setting("STORAGE_PROVIDER", "http", "http, minio or azure", "where originals live"),
    Setting(
        "STORAGE_BUCKETS",
        "",
        "comma-separated bucket names",
        "the only buckets served; for `http` defaults to the folders under DATA_PATH/storage",
    ),
    Setting("STORAGE_ENDPOINT", "", "host[:port] or URL", "S3 or Azure blob endpoint"),
    Setting("STORAGE_PORT", "", "a port number", "endpoint port; 443 means https"),
    Setting("STORAGE_ACCESS_KEY", "", "text", "S3 access key id / Azure account name"),
    Setting("STORAGE_SECRET_KEY", "", "text", "S3 secret key / Azure account key", secret=True),
    Setting("STORAGE_IAM_ROLE", "", "an IAM role name", "S3 only: credentials from IMDSv2"),
    Setting("STORAGE_REGION", "us-east-1", "an AWS region", "S3 signing region"),
    Setting("STORAGE_TIMEOUT", "30s", DURATION_FORM, "limit for one storage request"),
    Setting("STORAGE_RETRIES", "3", "an integer 0-10", "retries of transient storage failures"),
    Setting("CACHE_STORAGE_SIZE", "10g", SIZE_FORM, "bound of the storage cache"),
    Setting(
        "CACHE_STORAGE_EXPIRES", "7d", DURATION_FORM, "idle time after which an original is dropped"
    ),
    Setting("CACHE_PREVIEWS_SIZE", "1g", SIZE_FORM, "bound of the preview cache"),
    Setting(
        "CACHE_PREVIEWS_EXPIRES", "12h", DURATION_FORM, "idle time after which a preview is dropped"
    ),
    Setting("CACHE_IMAGE_CONVERTER_SIZE", "10g", SIZE_FORM, "bound of the image-converter cache"),
    Setting(
        "CACHE_IMAGE_CONVERTER_EXPIRES",
        "7d",
        DURATION_FORM,
        "idle time after which a conversion is dropped",
    ),
    Setting(
        "CACHE_MAX_OBJECT_SIZE",
        "256m",
        SIZE_FORM,
        "larger objects stream through uncached, so one video cannot flush a cache",
    ),
    Setting(
        "CACHE_MEMORY_SIZE",
        "64m",
        SIZE_FORM,
        "per-process memory tier for hot entries up to 256k (0 turns it off)",
    ),
    Setting(
        "CACHE_STALE_GRACE",
        "1d",
        DURATION_FORM,
        "how long an idle-expired original stays on disk to be served STALE when the store fails",
    ),
    Setting(
        "CACHE_CONTROL", "max-age=86400", "a Cache-Control header value", "sent with every image"
    ),
    Setting(
        "SHUTDOWN_TIMEOUT", "30s", DURATION_FORM, "how long in-flight requests may finish on stop"
    ),
    Setting("REQUEST_TIMEOUT", "60s", DURATION_FORM, "limit for one request; past it, 504"),
    Setting("LOG_LEVEL", "info", "debug, info, warning or error", "log verbosity"),
    Setting("ACCESS_LOG", "on", "on or off", "one JSON line per request"),
    Setting(
        "PREVIEWS_CONCURRENCY",
        "",
        "an integer >= 1",
        "parallel renders per process (default: cores)",
    ),
    Setting(
        "PREVIEWS_QUEUE", "", "an integer >= 0", "renders that may wait (default: 64 x concurrency)"
    ),
    Setting(
        "PREVIEWS_MAX_SRC_RESOLUTION", "50", "megapixels, a number > 0", "largest source image"
    ),
    Setting("PREVIEWS_MAX_SRC_FILE_SIZE", "100m", SIZE_FORM, "largest source file for a preview"),
    Setting(
        "PREVIEWS_MAX_RESULT_DIMENSION", "8192", "pixels, an integer > 0", "largest output side"
    ),
    Setting(
        "PREVIEWS_AUTO_WEBP", "off", "on or off", "pick WebP from Accept when no format is given"
    ),
    Setting(
        "PREVIEWS_AUTO_AVIF", "off", "on or off", "pick AVIF from Accept when no format is given"
    ),
    Setting("PREVIEWS_QUALITY", "80", "an integer 1-100", "default output quality"),
    Setting(
        "PREVIEWS_FORMAT_QUALITY",
        "",
        "format=quality pairs, e.g. webp=79,avif=63",
        "default quality per format",
    ),
    Setting(
        "PREVIEWS_PRESETS",
        "",
        "name=options pairs separated by ';', e.g. default=q:70;thumb=rs:fill:300:300",
        "named option sets; `default` applies to every preview",
    ),
    Setting(
        "SIGNATURE_KEY", "", "hex, comma-separated for rotation", "imgproxy URL key", secret=True
    ),
    Setting(
        "SIGNATURE_SALT", "", "hex, comma-separated for rotation", "imgproxy URL salt", secret=True
    ),
    Setting("SIGNATURE_SIZE", "32", "an integer 1-32", "bytes of the signature that are checked"),
    Setting("CONVERTER_TIMEOUT", "30s", DURATION_FORM, "limit for one conversion or frame decode"),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def available_cores() -> int:
    """The cores this process may run on (a container's cpuset, not the whole host's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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
    endpoint: str
    port: int | None
    access_key: str
    secret_key: str
    iam_role: str
    region: str
    timeout: float
    retries: int


@dataclass(frozen=True)
class PreviewSettings:
    concurrency: int
    queue: int
    max_src_resolution: float
    max_src_file_size: int
    max_result_dimension: int
    auto_webp: bool
    auto_avif: bool
    quality: int
    format_quality: Mapping[str, int]
    presets: Mapping[str, str]
    signature_pairs: tuple[tuple[bytes, bytes], ...]
    signature_size: int
    converter_timeout: float


@dataclass(frozen=True)
class Settings:
    env_file: Path | None
    data_path: Path
    storage: StorageSettings
    caches: Mapping[str, CacheSettings]
    stale_grace: float
    memory_cache_size: int
    cache_control: str
    shutdown_timeout: float
    request_timeout: float
    log_level: str
    access_log: bool
    previews: PreviewSettings
    raw: Mapping[str, str] = field(repr=False, default_factory=dict)


class _Reader:
    """Reads typed values from a mapping, collecting one problem line per bad variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            value = _BY_NAME[name].default or ""
        return value.strip()

    def parsed(self, name: str, parse: Callable[[str], T], fallback: T) -> T:
        raw = self.text(name)
        try:
            return parse(raw)
        except (ValueError, TypeError) as exc:
            detail = f" ({exc})" if str(exc) and not str(exc).startswith(repr(raw)) else ""
            self.problems.append(
                f"{name}={raw!r} is invalid: expected {_BY_NAME[name].form}{detail}"
            )
            return fallback

    def size(self, name: str) -> int:
        return self.parsed(name, parse_size, 0)

    def duration(self, name: str) -> float:
        return self.parsed(name, parse_duration, 0.0)

    def integer(self, name: str, low: int, high: int | None = None, default: int = 0) -> int:
        def parse(raw: str) -> int:
            if raw == "" and default:
                return default
            value = int(raw)
            if value < low or (high is not None and value > high):
                raise ValueError("out of range")
            return value

        return self.parsed(name, parse, default or low)

    def number(self, name: str) -> float:
        def parse(raw: str) -> float:
            value = float(raw)
            if not value > 0:
                raise ValueError("must be > 0")
            return value

        return self.parsed(name, parse, 1.0)

    def flag(self, name: str) -> bool:
        return self.parsed(name, _parse_flag, False)

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            if raw.lower() not in choices:
                raise ValueError
            return raw.lower()

        return self.parsed(name, parse, choices[0])


def _parse_flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "on", "true", "yes"):
        return True
    if lowered in ("0", "off", "false", "no", ""):
        return False
    raise ValueError


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def _parse_buckets(raw: str) -> tuple[str, ...]:
    names = tuple(b.strip() for b in raw.split(",") if b.strip())
    for name in names:
        if not _BUCKET_RE.match(name) or ".." in name:
            raise ValueError(f"bad bucket name {name!r}")
    return names


def _parse_hex_list(raw: str) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(part.strip()) for part in raw.split(",") if part.strip())


def _parse_format_quality(raw: str) -> dict[str, int]:
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        fmt, _, value = part.partition("=")
        quality = int(value)
        if not 1 <= quality <= 100:
            raise ValueError(f"quality {quality} out of 1-100")
        result[fmt.strip().lower()] = quality
    return result


def _parse_presets(raw: str) -> dict[str, str]:
    presets: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        name, sep, options = part.partition("=")
        if not sep or not name.strip() or not options.strip():
            raise ValueError(f"bad preset {part!r}")
        presets[name.strip()] = options.strip()
    return presets


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
    merged.update({k: v for k, v in environ.items() if k in _BY_NAME})
    return parse_settings(merged, env_file)


def parse_settings(env: Mapping[str, str], env_file: Path | None = None) -> Settings:
    r = _Reader(env)
    data_path = Path(r.text("DATA_PATH")).expanduser().absolute()
    provider = r.choice("STORAGE_PROVIDER", PROVIDERS)
    root = data_path / "storage"
    buckets = r.parsed("STORAGE_BUCKETS", _parse_buckets, ())
    if not buckets and provider == "http" and root.is_dir():
        buckets = tuple(
            sorted(p.name for p in root.iterdir() if p.is_dir() and _BUCKET_RE.match(p.name))
        )
    if not buckets and provider != "http":
        r.problems.append(
            "STORAGE_BUCKETS is required for a remote provider: comma-separated names"
        )

    port_text = r.text("STORAGE_PORT")
    port = r.integer("STORAGE_PORT", 1, 65535) if port_text else None
    storage = StorageSettings(
        provider=provider,
        root=root,
        buckets=buckets,
        endpoint=r.text("STORAGE_ENDPOINT"),
        port=port,
        access_key=r.text("STORAGE_ACCESS_KEY"),
        secret_key=r.text("STORAGE_SECRET_KEY"),
        iam_role=r.text("STORAGE_IAM_ROLE"),
        region=r.text("STORAGE_REGION"),
        timeout=r.duration("STORAGE_TIMEOUT"),
        retries=r.integer("STORAGE_RETRIES", 0, 10),
    )
    _check_storage(storage, r.problems)

    max_object = r.size("CACHE_MAX_OBJECT_SIZE")
    cache_root = data_path / "proxy_cache"
    caches = {}
    for name in CACHE_NAMES:
        upper = name.upper()
        size = r.size(f"CACHE_{upper}_SIZE")
        expires = r.duration(f"CACHE_{upper}_EXPIRES")
        if expires <= 0 and not any(p.startswith(f"CACHE_{upper}_EXPIRES") for p in r.problems):
            r.problems.append(
                f"CACHE_{upper}_EXPIRES must be longer than 0: expected {DURATION_FORM}"
            )
        caches[name] = CacheSettings(
            name=name,
            path=cache_root / name,
            size=size,
            expires=expires,
            max_object_size=min(max_object, size),
        )

    cores = available_cores()
    concurrency = r.integer("PREVIEWS_CONCURRENCY", 1, 1024, default=cores)
    keys = r.parsed("SIGNATURE_KEY", _parse_hex_list, ())
    salts = r.parsed("SIGNATURE_SALT", _parse_hex_list, ())
    if len(keys) != len(salts):
        r.problems.append(
            "SIGNATURE_KEY and SIGNATURE_SALT must have the same number of comma-separated hex values"
        )
    previews = PreviewSettings(
        concurrency=concurrency,
        queue=r.integer("PREVIEWS_QUEUE", 0, 100000, default=64 * concurrency),
        max_src_resolution=r.number("PREVIEWS_MAX_SRC_RESOLUTION"),
        max_src_file_size=r.size("PREVIEWS_MAX_SRC_FILE_SIZE"),
        max_result_dimension=r.integer("PREVIEWS_MAX_RESULT_DIMENSION", 1, 65535),
        auto_webp=r.flag("PREVIEWS_AUTO_WEBP"),
        auto_avif=r.flag("PREVIEWS_AUTO_AVIF"),
        quality=r.integer("PREVIEWS_QUALITY", 1, 100),
        format_quality=r.parsed("PREVIEWS_FORMAT_QUALITY", _parse_format_quality, {}),
        presets=r.parsed("PREVIEWS_PRESETS", _parse_presets, {}),
        signature_pairs=tuple(zip(keys, salts, strict=False)),
        signature_size=r.integer("SIGNATURE_SIZE", 1, 32),
        converter_timeout=r.duration("CONVERTER_TIMEOUT"),
    )
    settings = Settings(
        env_file=env_file,
        data_path=data_path,
        storage=storage,
        caches=caches,
        stale_grace=r.duration("CACHE_STALE_GRACE"),
        memory_cache_size=r.size("CACHE_MEMORY_SIZE"),
        cache_control=r.text("CACHE_CONTROL"),
        shutdown_timeout=r.duration("SHUTDOWN_TIMEOUT"),
        request_timeout=r.duration("REQUEST_TIMEOUT"),
        log_level=r.choice("LOG_LEVEL", ("info", "debug", "warning", "error")),
        access_log=r.flag("ACCESS_LOG"),
        previews=previews,
        raw=dict(env),
    )
    if r.problems:
        raise SettingsError(r.problems)
    return settings


def _check_storage(storage: StorageSettings, problems: list[str]) -> None:
    if storage.provider == "http":
        return
    if not storage.endpoint and storage.provider == "azure":
        problems.append(
            "STORAGE_ENDPOINT is required for azure: https://<account>.blob.core.windows.net"
        )
    if storage.provider == "minio" and storage.iam_role:
        return
    for name, value in (
        ("STORAGE_ACCESS_KEY", storage.access_key),
        ("STORAGE_SECRET_KEY", storage.secret_key),
    ):
        if not value:
            hint = " (or STORAGE_IAM_ROLE)" if storage.provider == "minio" else ""
            problems.append(f"{name} is required for {storage.provider}{hint}")


def mask(value: str) -> str:
    """Show that a secret is set without showing it."""
    return "" if not value else "****" + (value[-2:] if len(value) > 12 else "")


def describe(settings: Settings) -> list[tuple[str, Any]]:
    """Name/value pairs for `where`, secrets masked."""
    rows: list[tuple[str, Any]] = [
        ("env file", settings.env_file or "(none)"),
        ("DATA_PATH", settings.data_path),
        ("STORAGE_PROVIDER", settings.storage.provider),
        ("STORAGE_BUCKETS", ",".join(settings.storage.buckets) or "(none)"),
    ]
    if settings.storage.provider == "http":
        rows.append(("storage folder", settings.storage.root))
    for setting in SETTINGS:
        if setting.name.startswith("STORAGE_") and settings.storage.provider != "http":
            value = settings.raw.get(setting.name, setting.default or "")
            if setting.name not in ("STORAGE_PROVIDER", "STORAGE_BUCKETS") and value:
                rows.append((setting.name, mask(value) if setting.secret else value))
    for cache in settings.caches.values():
        rows.append(
            (f"cache {cache.name}", f"{cache.path} (size {cache.size}, expires {cache.expires:g}s)")
        )
    for setting in SETTINGS:
        if setting.secret and not setting.name.startswith("STORAGE_"):
            value = settings.raw.get(setting.name, "")
            if value:
                rows.append((setting.name, mask(value)))
    return rows
