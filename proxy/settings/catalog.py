"""Every setting, declared once: its name, default, kind (form and bounds) and meaning.

The parser, `python -m proxy where` and the README's settings table all read this list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from proxy.settings import kinds as k

PROVIDERS = ("http", "minio", "azure")
CACHE_NAMES = ("storage", "previews", "image_converter")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    kind: k.Kind[Any]
    help: str
    secret: bool = False

    @property
    def form(self) -> str:
        return self.kind.form


NODE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def _node_name(raw: str) -> str:
    # It goes into a response header, so only characters that are safe there.
    if raw and not NODE_NAME_RE.fullmatch(raw):
        raise ValueError
    return raw


CACHE_SIZE = k.size("64k", "1024t")
EXPIRES = k.duration("1s", "10y")
TIMEOUT = k.duration("100ms", "1h")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_PATH",
        "./data",
        k.Kind("a folder", str),
        "holds `storage/` (local provider) and `proxy_cache/`",
    ),
    Setting("STORAGE_PROVIDER", "http", k.choice(*PROVIDERS), "where originals live"),
    Setting(
        "STORAGE_BUCKETS",
        "",
        k.BUCKETS,
        "the only buckets served; for `http` defaults to the folders under DATA_PATH/storage",
    ),
    Setting(
        "STORAGE_ENDPOINT",
        "",
        k.Kind("host[:port] or URL", str),
        "S3 or Azure blob endpoint; for `minio` empty means AWS S3, "
        "https://s3.<STORAGE_REGION>.amazonaws.com",
    ),
    Setting(
        "STORAGE_PORT",
        "",
        k.optional(k.integer(1, 65535, "a port number"), "the endpoint's own"),
        "endpoint port; 443 means https",
    ),
    Setting("STORAGE_ACCESS_KEY", "", k.TEXT, "S3 access key id / Azure account name"),
    Setting("STORAGE_SECRET_KEY", "", k.TEXT, "S3 secret key / Azure account key", secret=True),
    Setting(
        "STORAGE_IAM_ROLE",
        "",
        k.Kind("an IAM role name", str),
        "S3 only: credentials from IMDSv2",
    ),
    Setting("STORAGE_REGION", "us-east-1", k.Kind("an AWS region", str), "S3 signing region"),
    Setting("STORAGE_TIMEOUT", "30s", TIMEOUT, "limit for one storage request"),
    Setting("STORAGE_RETRIES", "3", k.integer(0, 10), "retries of transient storage failures"),
    Setting("CACHE_STORAGE_SIZE", "10g", CACHE_SIZE, "bound of the storage cache"),
    Setting("CACHE_STORAGE_EXPIRES", "7d", EXPIRES, "idle time after which an original is dropped"),
    Setting("CACHE_PREVIEWS_SIZE", "1g", CACHE_SIZE, "bound of the preview cache"),
    Setting("CACHE_PREVIEWS_EXPIRES", "12h", EXPIRES, "idle time after which a preview is dropped"),
    Setting("CACHE_IMAGE_CONVERTER_SIZE", "10g", CACHE_SIZE, "bound of the image-converter cache"),
    Setting(
        "CACHE_IMAGE_CONVERTER_EXPIRES",
        "7d",
        EXPIRES,
        "idle time after which a conversion is dropped",
    ),
    Setting(
        "CACHE_MAX_OBJECT_SIZE",
        "256m",
        k.size("1k", "1024t"),
        "larger objects stream through uncached, so one video cannot flush a cache",
    ),
    Setting(
        "CACHE_MEMORY_SIZE",
        "64m",
        k.size("0", "64g"),
        "per-process memory tier for hot entries up to 256k, one bound for the three caches together "
        "(0 turns it off)",
    ),
    Setting(
        "CACHE_RANGE_FILL_SIZE",
        "4m",
        k.size("0", "1024t"),
        "a Range request of an uncached object joins the fill of the whole object when the "
        "object is at most this large, or the range starts within this many bytes; else it is "
        "a ranged read of its own",
    ),
    Setting(
        "CACHE_ABANDONED_FILL_LIMIT",
        "64m",
        k.size("0", "1024t"),
        "a fill whose clients all left (or that a 304 answered) is finished anyway when at most "
        "this much of it remains and it is more than half done or was asked to finish",
    ),
    Setting(
        "CACHE_SCRUB_RATE",
        "8m",
        k.size("0", "64g"),
        "bytes per second the scrubber reads to check cached bodies against their checksums "
        "(0 turns it off)",
    ),
    Setting(
        "CACHE_STORAGE_REVALIDATE",
        "10m",
        k.duration_or_off("1s", "30d"),
        "after this long since the store last confirmed an original, its next request (or "
        "one for a preview or conversion of it) is served at once and starts one HEAD to the "
        "store: unchanged moves the check time, changed or deleted drops the original and "
        "everything made from it",
    ),
    Setting(
        "CACHE_STORAGE_REVALIDATE_WAIT",
        "off",
        k.FLAG,
        "strict mode: a request for an original due for its check waits for the check",
    ),
    Setting(
        "CACHE_STALE_GRACE",
        "1d",
        k.duration("0s", "10y"),
        "how long an idle-expired original stays on disk to be served STALE when the store fails",
    ),
    Setting(
        "CACHE_CONTROL",
        "max-age=86400",
        k.Kind("a Cache-Control header value", str),
        "sent with every image",
    ),
    Setting(
        "SHUTDOWN_TIMEOUT",
        "30s",
        k.duration("0s", "1h"),
        "how long in-flight requests may finish on stop",
    ),
    Setting("REQUEST_TIMEOUT", "60s", TIMEOUT, "limit for one request; past it, 504"),
    Setting(
        "HTTP_HEADER_TIMEOUT",
        "10s",
        k.duration("1s", "10m"),
        "a new connection must send a complete request within this, or it is closed",
    ),
    Setting(
        "HTTP_IDLE_TIMEOUT",
        "15s",
        k.duration("1s", "1h"),
        "a keep-alive connection idle this long is closed",
    ),
    Setting(
        "HTTP_SEND_TIMEOUT",
        "60s",
        k.duration("1s", "1h"),
        "a client that takes none of its answer for this long is disconnected (nginx's "
        "send_timeout); one that has taken nothing for a second can be evicted when the process "
        "is full",
    ),
    Setting(
        "HTTP_MAX_CONNECTIONS",
        "2048",
        k.integer(16, 1_000_000),
        "open connections per server process; past it the longest idle one is closed, else the "
        "one whose client has taken nothing the longest, else the new one is refused",
    ),
    Setting(
        "EVENT_LOOP",
        "asyncio",
        k.choice("asyncio", "uvloop", "auto"),
        "the server processes' event loop: asyncio's (with at most 8 ready sockets a turn), "
        "uvloop (libuv), or auto: uvloop when it is installed",
    ),
    Setting("LOG_LEVEL", "info", k.choice("debug", "info", "warning", "error"), "log verbosity"),
    Setting("ACCESS_LOG", "on", k.FLAG, "one JSON line per request"),
    Setting(
        "NODE_NAME",
        "",
        k.Kind("up to 63 letters, digits, '.', '_' or '-', or empty for the host name", _node_name),
        "this node's name in a cluster: the `X-Served-By` header, `/health` and `where`",
    ),
    Setting(
        "PREVIEWS_CONCURRENCY",
        "",
        k.optional(k.integer(1, 1024), "the cores / --workers, at least 1"),
        "parallel renders per server process",
    ),
    Setting(
        "PREVIEWS_QUEUE",
        "",
        k.optional(k.integer(0, 100_000), "64 x concurrency"),
        "renders that may wait",
    ),
    Setting(
        "PREVIEWS_MEMORY_LIMIT",
        "640m",
        k.size("64m", "1t"),
        "memory one render process may use for a job beyond its own start-up; past it the job "
        "is killed and answered 422",
    ),
    Setting(
        "PREVIEWS_PROCESS_IDLE_TIMEOUT",
        "5m",
        k.duration_or_off("1s", "30d"),
        "a server process starts its render processes (40 to 70 MiB each) for its first "
        "render and stops them after this long without one; the next render starts them again "
        "and waits for that start; off: started with the server and kept",
    ),
    Setting(
        "PREVIEWS_MAX_SRC_RESOLUTION",
        "50",
        k.number(0, 10_000, "megapixels"),
        "largest source image",
    ),
    Setting(
        "PREVIEWS_MAX_SRC_FILE_SIZE",
        "100m",
        k.size("1k", "64g"),
        "largest source file for a preview",
    ),
    Setting(
        "PREVIEWS_MAX_RESULT_DIMENSION",
        "8192",
        k.integer(1, 65535, "pixels,"),
        "largest output side: a larger result is scaled down to fit, as imgproxy does",
    ),
    Setting(
        "PREVIEWS_MAX_ANIMATION_FRAMES",
        "100",
        k.integer(1, 100_000),
        "frames of an animation that are kept, the rest cut (1: never animate)",
    ),
    Setting(
        "PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION",
        "0",
        k.number(0, 10_000, "megapixels", low_included=True),
        "limit per frame of an animation; 0: the frames' sum counts against "
        "PREVIEWS_MAX_SRC_RESOLUTION",
    ),
    Setting(
        "PREVIEWS_MAX_SVG_FILE_SIZE",
        "10m",
        k.size("1k", "1g"),
        "largest SVG source (it is parsed, sanitised and rendered)",
    ),
    Setting(
        "PREVIEWS_PRESERVE_HDR",
        "off",
        k.FLAG,
        "keep 16 bits a channel for PNG, TIFF and AVIF outputs (the `preserve_hdr` default)",
    ),
    Setting(
        "PREVIEWS_SKIP_PROCESSING_FORMATS",
        "",
        k.FORMATS,
        "source formats passed through unprocessed (`skip_processing` adds to them)",
    ),
    Setting(
        "PREVIEWS_WATERMARK_PATH",
        "",
        k.Kind("a local image file", str),
        "the image `watermark` options place; read once at start",
    ),
    Setting(
        "PREVIEWS_WATERMARK_OPACITY",
        "1",
        k.number(0, 1, "a number"),
        "base opacity the `watermark` option's opacity is multiplied by",
    ),
    Setting(
        "PREVIEWS_ALLOW_SECURITY_OPTIONS",
        "off",
        k.FLAG,
        "allow the `msr`, `msfs`, `maf`, `mafr` and `mrd` options in URLs (else 403)",
    ),
    Setting("PREVIEWS_AUTO_WEBP", "off", k.FLAG, "pick WebP from Accept when no format is given"),
    Setting("PREVIEWS_AUTO_AVIF", "off", k.FLAG, "pick AVIF from Accept when no format is given"),
    Setting(
        "PREVIEWS_BEST_FORMAT_BY_DEFAULT",
        "off",
        k.FLAG,
        "answer `format:best` when a URL names no format (instead of the source's format)",
    ),
    Setting(
        "PREVIEWS_BEST_FORMAT_COMPLEXITY_THRESHOLD",
        "5.5",
        k.number(0, 1000, "a number", low_included=True),
        "`format:best`: an image less complex than this (mean edge strength, 0-255) is tried lossless (PNG, lossless WebP), a more complex one lossy (JPEG, WebP, AVIF)",
    ),
    Setting(
        "PREVIEWS_BEST_FORMAT_MAX_RESOLUTION",
        "0",
        k.number(0, 10000, "megapixels", low_included=True),
        "`format:best`: a result larger than this many megapixels is encoded once, in the format that suits it, instead of in every candidate (0: always try them all)",
    ),
    Setting(
        "PREVIEWS_BEST_FORMAT_ALLOW_SKIPS",
        "off",
        k.FLAG,
        "`format:best` still passes SVG and PREVIEWS_SKIP_PROCESSING_FORMATS sources through",
    ),
    Setting("PREVIEWS_QUALITY", "80", k.integer(1, 100), "default output quality"),
    Setting(
        "PREVIEWS_FORMAT_QUALITY",
        "webp=79,avif=63,jxl=77",
        k.FORMAT_QUALITY,
        "default quality per format (imgproxy's defaults; a format or an alias such as jpg)",
    ),
    Setting(
        "PREVIEWS_PRESETS",
        "",
        k.PRESETS,
        "named option sets; `default` applies to every preview",
    ),
    Setting("SIGNATURE_KEY", "", k.HEX_LIST, "imgproxy URL key", secret=True),
    Setting("SIGNATURE_SALT", "", k.HEX_LIST, "imgproxy URL salt", secret=True),
    Setting("SIGNATURE_SIZE", "32", k.integer(1, 32), "bytes of the signature that are checked"),
    Setting(
        "SIGNATURE_TRUSTED",
        "",
        k.WORDS,
        "signatures accepted as they are, whatever the path (imgproxy's trusted signatures)",
        secret=True,
    ),
    Setting(
        "SIGNATURE_SCOPE",
        "all",
        k.choice("all", "previews"),
        "with SIGNATURE_KEY: `all` routes need a signature (originals and conversions as "
        "`?exp=&sig=`), or only `previews`",
    ),
    Setting(
        "AUTH_BEARER_TOKEN",
        "",
        k.TOKEN,
        "every request but /health and /metrics must carry `Authorization: Bearer` with it",
        secret=True,
    ),
    Setting(
        "ADMIN_TOKEN",
        "",
        k.TOKEN,
        "enables the admin API (`/admin/purge`, `/admin/events`), which needs "
        "`Authorization: Bearer` with it",
        secret=True,
    ),
    Setting(
        "AUTH_REQUEST_URL",
        "",
        k.SERVICE_URL,
        "an auth service asked before serving, as nginx's auth_request: 2xx allows, 401/403 "
        "refuse, anything else is a 503",
    ),
    Setting(
        "AUTH_REQUEST_CACHE",
        "30s",
        k.duration("0s", "1h"),
        "how long an auth service's answer is reused for the same credentials and scope",
    ),
    Setting(
        "AUTH_REQUEST_SCOPE",
        "url",
        k.choice("url", "credentials"),
        "what one answer of the auth service covers: the `url` asked for, or every URL asked "
        "with the same `credentials`",
    ),
    Setting(
        "AUTH_REQUEST_TIMEOUT",
        "5s",
        k.duration("100ms", "1m"),
        "limit for one call to the auth service; past it, 503",
    ),
    Setting(
        "AUTH_CACHE_CONTROL",
        "",
        k.Kind("a Cache-Control header value, or empty for private + CACHE_CONTROL", str),
        "sent instead of CACHE_CONTROL when a bearer or an auth service admits the request",
    ),
    Setting(
        "CORS_ALLOW_ORIGIN",
        "",
        k.ORIGINS,
        "web apps on these origins may read images cross-origin (canvas, fetch): CORS headers "
        "and preflights on every route but /health, /metrics and /admin/",
    ),
    Setting(
        "CROSS_ORIGIN_RESOURCE_POLICY",
        "cross-origin",
        k.choice("cross-origin", "same-site", "same-origin"),
        "the Cross-Origin-Resource-Policy of images, so pages with COEP require-corp can show them",
    ),
    Setting("CONVERTER_TIMEOUT", "30s", TIMEOUT, "limit for one conversion or frame decode"),
)
BY_NAME = {s.name: s for s in SETTINGS}
