"""Every Prometheus metric the proxy exports; names are a contract with dashboards."""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

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

CONVERSIONS = Counter("proxy_conversions_total", "Image conversions and frame decodes", ["kind"])
CONVERSION_DURATION = Histogram(
    "proxy_conversion_duration_seconds",
    "Time for one conversion or frame decode",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
