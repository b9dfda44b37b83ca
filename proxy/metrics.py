"""Every Prometheus metric the proxy exports; names are a contract with dashboards."""

import weakref

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from proxy.formats import CONTENT_TYPES
from proxy.settings.catalog import CACHE_NAMES

# The *_created series double the output and no dashboard uses them.
disable_created_metrics()

CACHE_REQUESTS = Counter(
    "proxy_cache_requests_total", "Cache lookups by result", ["cache", "result"]
)
CACHE_SIZE = Gauge(
    "proxy_cache_size_bytes", "Bytes held by a cache", ["cache"], multiprocess_mode="livemostrecent"
)
CACHE_ENTRIES = Gauge(
    "proxy_cache_entries", "Entries held by a cache", ["cache"], multiprocess_mode="livemostrecent"
)
CACHE_EVICTIONS = Counter(
    "proxy_cache_evictions_total", "Entries removed, by reason", ["cache", "reason"]
)
CACHE_STALE = Counter("proxy_cache_stale_served_total", "Stale entries served", ["cache"])
REVALIDATIONS = Counter(
    "proxy_revalidations_total",
    "Checks of cached originals against the store, by outcome",
    ["outcome"],
)
PURGES = Counter(
    "proxy_purges_total", "Purges of originals and what was made from them, by origin", ["origin"]
)
STORE_UP = Gauge("proxy_store_up", "1 when this node's last probe of the store succeeded, else 0")
CACHE_CORRUPT = Counter(
    "proxy_cache_corrupt_total", "Entries dropped because their body failed its check", ["cache"]
)
CACHE_ERRORS = Counter(
    "proxy_cache_errors_total", "Failures of a cache's index, by kind", ["cache", "kind"]
)

STORAGE_READS = Counter(
    "proxy_storage_reads_total", "Reads issued to the storage backend", ["provider"]
)
STORAGE_READ_BYTES = Counter(
    "proxy_storage_read_bytes_total", "Bytes read from the storage backend", ["provider"]
)
STORAGE_HEADS = Counter(
    "proxy_storage_heads_total", "Metadata requests issued to the storage backend", ["provider"]
)
STORAGE_ERRORS = Counter(
    "proxy_storage_errors_total", "Failed storage requests by kind", ["provider", "kind"]
)

HTTP_REQUESTS = Counter(
    "proxy_http_requests_total", "HTTP requests by route and status", ["route", "status"]
)
HTTP_DURATION = Histogram(
    "proxy_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HTTP_IN_FLIGHT = Gauge(
    "proxy_http_requests_in_flight", "Requests being answered", multiprocess_mode="livesum"
)
EVENT_LOOP_LAG = Histogram(
    "proxy_event_loop_lag_seconds",
    "How late a server process's event loop ran a callback that was due (sampled 4 times a second)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
HTTP_CONNECTIONS = Gauge(
    "proxy_http_connections", "Open client connections", multiprocess_mode="livesum"
)
HTTP_CONNECTIONS_SHED = Counter(
    "proxy_http_connections_shed_total",
    "Connections closed past HTTP_MAX_CONNECTIONS (the longest idle one, one whose client takes "
    "nothing, or the new one) or past HTTP_SEND_TIMEOUT",
    ["reason"],
)

INTERNAL_FALLBACKS = Gauge(
    "proxy_internal_fallbacks",
    "1 when a fast path runs on its dependency's public path, a private internal it reaches "
    "into being missing (see proxy/internals.py); 0 when the fast path is on",
    ["internal"],
    multiprocess_mode="livemax",
)

ACCESS_REFUSALS = Counter(
    "proxy_access_refusals_total",
    "Requests the access rule turned away, by reason (none read a cache or the store)",
    ["reason"],
)
AUTH_REQUESTS = Counter(
    "proxy_auth_requests_total",
    "Calls to the auth service (AUTH_REQUEST_URL) by outcome: allowed, denied, unavailable",
    ["outcome"],
)

RENDERS = Counter("proxy_renders_total", "Previews rendered", ["format"])
RENDER_DURATION = Histogram(
    "proxy_render_duration_seconds",
    "Time to render one preview",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RENDER_QUEUE = Gauge(
    "proxy_render_queue_depth", "Renders waiting for a slot", multiprocess_mode="livesum"
)
RENDERS_REJECTED = Counter("proxy_renders_rejected_total", "Renders refused with 503")
RENDER_JOBS = Counter(
    "proxy_render_jobs_total",
    "Jobs of the render processes, by kind and how they ended: ok, refused (a 4xx about the "
    "source), timeout and memory (killed), crash (the process died), cancelled (nobody waited)",
    ["kind", "outcome"],
)
RENDER_PROCESSES_STARTED = Counter(
    "proxy_render_processes_started_total", "Render processes started (at start, and to replace)"
)

CONVERSIONS = Counter("proxy_conversions_total", "Image conversions and frame decodes", ["kind"])
CONVERSION_DURATION = Histogram(
    "proxy_conversion_duration_seconds",
    "Time for one conversion or frame decode",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# --- label values known before the first event ----------------------------------------------
# A labelled series exists only once it has been touched, so until then a panel over it shows
# "No data" on a healthy node, and the first event is lost to rate() (which needs a sample
# before it). Every label value known in advance is therefore created at zero when a server
# process starts. tests/test_metrics.py keeps these lists in step with the code that counts.

CACHE_RESULTS = ("hit", "miss")
# Only the storage cache keeps originals that can be served STALE when the store fails.
STALE_CACHES = ("storage",)
REVALIDATION_OUTCOMES = ("unchanged", "changed", "deleted", "failed")
PURGE_ORIGINS = ("api", "event", "cli")
EVICTION_REASONS = ("evicted", "expired", "purged", "corrupt", "outdated")
CACHE_ERROR_KINDS = ("damaged", "unavailable")
STORAGE_ERROR_KINDS = (
    "not_found",
    "invalid_key",
    "access_denied",
    "unavailable",
    "timeout",
    "range",
    "error",
)
ROUTES = (
    "original", "preview", "info", "image_converter", "health", "metrics", "admin", "preflight"
)  # fmt: skip
# A preview is in one of the output formats, or "source" when the original went out unchanged.
RENDER_FORMATS = (*CONTENT_TYPES, "source")
CONVERSION_KINDS = ("convert", "videoframe")
JOB_KINDS = ("preview", "info", *CONVERSION_KINDS)
SHED_REASONS = ("idle_evicted", "stalled_evicted", "send_timeout", "refused")
ACCESS_REFUSAL_REASONS = (
    "no_signature",
    "bad_signature",
    "expired",
    "no_bearer",
    "bad_bearer",
    "auth_denied",
    "auth_unavailable",
)
AUTH_OUTCOMES = ("allowed", "denied", "unavailable")
JOB_OUTCOMES = ("ok", "refused", "timeout", "memory", "crash", "cancelled")


def initialise(provider: str) -> None:
    """Create every series whose labels are known, at zero, for a process serving `provider`."""
    for cache in CACHE_NAMES:
        for result in CACHE_RESULTS:
            CACHE_REQUESTS.labels(cache, result)
        for reason in EVICTION_REASONS:
            CACHE_EVICTIONS.labels(cache, reason)
        CACHE_CORRUPT.labels(cache)
        for kind in CACHE_ERROR_KINDS:
            CACHE_ERRORS.labels(cache, kind)
    for cache in STALE_CACHES:
        CACHE_STALE.labels(cache)
    for outcome in REVALIDATION_OUTCOMES:
        REVALIDATIONS.labels(outcome)
    for origin in PURGE_ORIGINS:
        PURGES.labels(origin)
    STORAGE_READS.labels(provider)
    STORAGE_READ_BYTES.labels(provider)
    STORAGE_HEADS.labels(provider)
    for kind in STORAGE_ERROR_KINDS:
        STORAGE_ERRORS.labels(provider, kind)
    for route in ROUTES:
        # Only the status every route answers when all is well; other statuses appear when
        # they first happen.
        HTTP_REQUESTS.labels(route, "200")
        HTTP_DURATION.labels(route)
    for fmt in RENDER_FORMATS:
        RENDERS.labels(fmt)
    for kind in CONVERSION_KINDS:
        CONVERSIONS.labels(kind)
        CONVERSION_DURATION.labels(kind)
    for reason in SHED_REASONS:
        HTTP_CONNECTIONS_SHED.labels(reason)
    for reason in ACCESS_REFUSAL_REASONS:
        ACCESS_REFUSALS.labels(reason)
    for outcome in AUTH_OUTCOMES:
        AUTH_REQUESTS.labels(outcome)
    for kind in JOB_KINDS:
        for outcome in JOB_OUTCOMES:
            RENDER_JOBS.labels(kind, outcome)


class LaterCount:
    """Increments of one counter series kept in a plain number until `publish_later_counts`
    adds them (the request tally calls it every quarter second, and before a scrape): an
    increment of a prometheus_client counter takes a lock, and in multiprocess mode writes
    to its file, which a cache hit cannot afford on every request."""

    __slots__ = ("__weakref__", "_series", "pending")

    def __init__(self, series: Counter) -> None:
        self._series = series
        self.pending = 0
        _LATER_COUNTS.add(self)

    def inc(self) -> None:
        self.pending += 1

    def publish(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, 0
            self._series.inc(pending)


_LATER_COUNTS: weakref.WeakSet[LaterCount] = weakref.WeakSet()


def publish_later_counts() -> None:
    for count in list(_LATER_COUNTS):
        count.publish()
