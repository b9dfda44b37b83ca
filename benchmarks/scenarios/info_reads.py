"""Scenario 7: what `/info` reads from the store. Each source in moto's S3, a fresh proxy
(`STORAGE_PROVIDER=minio`, empty caches), three requests in a row per source:

1. the header fields (imgproxy's defaults: size, format, dimensions, EXIF, IPTC, XMP, the
   video's metadata) of an uncached source: a ranged read of its header (a JPEG's or PNG's
   first block; an MP4's first block and its index), not the whole object;
2. a BlurHash (every pixel; for the video, a SHA-256 of every byte): the whole object, once,
   into the storage cache;
3. the header fields again under another cache key (`cb:1`): the source is in the storage
   cache now, so nothing is read from the store.

A byte count, not a timing: a busy machine changes nothing in it. The bytes and reads come
from the proxy's `/metrics` (`proxy_storage_read_bytes_total`, `proxy_storage_reads_total`),
the statuses from moto's request log (206 for a ranged GET, 200 for a whole one).
"""

from __future__ import annotations

import json
import re
from typing import Any

from benchmarks import images
from benchmarks.harness import (
    BUCKET,
    WORK,
    Context,
    Section,
    http_get,
    log,
    metric_sum,
    proxy_metrics,
    s3_bucket,
    s3_settings,
    start_moto,
    start_proxy,
)

SOURCES = (
    images.JPEG_1080P,
    images.JPEG_12MP,
    images.JPEG_48MP,
    images.JPEG_50MP,
    images.PNG_ALPHA,
    images.TIFF_16,
    images.VIDEO,
)
HEADER = "/info/q/plain/"
WHOLE = "/info/q/bh:4:3/plain/"
WHOLE_VIDEO = "/info/q/chs:sha256/plain/"  # a video's pixels are not an image's
AGAIN = "/info/q/cb:1/plain/"
# The formats whose header /info reads in ranges (proxy/info/feature.py's HEADER_FIRST); a
# TIFF, WebP or GIF is read whole (libvips counts their pages or frames to the end).
HEADER_FIRST = (
    images.JPEG_1080P,
    images.JPEG_12MP,
    images.JPEG_48MP,
    images.JPEG_50MP,
    images.PNG_ALPHA,
    images.VIDEO,
)


def moto_statuses(log_text: str, key: str) -> list[str]:
    """Statuses of the GETs of `key` in moto's (werkzeug) request log, in order."""
    log_text = re.sub(r"\x1b\[[0-9;]*m", "", log_text)
    pattern = rf'"GET /{BUCKET}/{re.escape(key)}(?:\?[^" ]*)? HTTP/1\.1" (\d{{3}})'
    return re.findall(pattern, log_text)


def _reads(base: str) -> tuple[float, float]:
    text = proxy_metrics(base)
    return (
        metric_sum(text, "proxy_storage_reads_total"),
        metric_sum(text, "proxy_storage_read_bytes_total"),
    )


def run(ctx: Context) -> Section:
    sec = Section(
        "info",
        "7. /info of an uncached source: store bytes read per request",
        "Each source in moto's S3, a proxy with empty caches (`STORAGE_PROVIDER=minio`), and "
        "three requests in a row per source: the header fields (`/info/q/plain/...`: imgproxy's "
        "defaults, size, format, dimensions, EXIF, IPTC, XMP, video metadata) of the uncached "
        "source; a BlurHash (`bh:4:3`; for the video a SHA-256, `chs:sha256`), which needs every "
        "byte; the header fields again under another key (`cb:1`), with the source now in the "
        "storage cache. Bytes and reads from the proxy's `/metrics`, GET statuses from moto's "
        "log (206: ranged, 200: whole). A byte count, not a timing.",
    )
    rows: list[list[str]] = []
    data: dict[str, dict[str, Any]] = {}
    moto = start_moto()
    with ctx.server(moto):
        s3 = s3_bucket(moto)
        for src in SOURCES:
            s3.put_object(Bucket=BUCKET, Key=src.key, Body=src.path.read_bytes())
        env = {**ctx.env, **s3_settings(moto), "PREVIEWS_MAX_SRC_FILE_SIZE": "256m"}
        proxy = start_proxy("proxy-info", WORK / "data-info", env, fresh_caches=True, workers=1)
        with ctx.server(proxy):
            for src in SOURCES:
                size = src.path.stat().st_size
                whole = WHOLE_VIDEO if src is images.VIDEO else WHOLE
                row: dict[str, Any] = {"size": size}
                for step, prefix in (("header", HEADER), ("whole", whole), ("again", AGAIN)):
                    log_before = len(moto_statuses(moto.log_path.read_text(), src.key))
                    reads0, bytes0 = _reads(proxy.url)
                    status, body, _ = http_get(proxy.url + prefix + src.source, timeout=120)
                    reads1, bytes1 = _reads(proxy.url)
                    gets = moto_statuses(moto.log_path.read_text(), src.key)[log_before:]
                    answer = json.loads(body) if status == 200 else body[:200].decode()
                    row[step] = {
                        "status": status,
                        "reads": reads1 - reads0,
                        "bytes": bytes1 - bytes0,
                        "moto": gets,
                    }
                    if step == "header":
                        row["answer"] = answer
                    log(f"  {src.label} {step}: {status}, {bytes1 - bytes0:,.0f} bytes, {gets}")
                data[src.label] = row
                rows.append(_row(src.label, row))
    sec.tables.append(
        (
            "Store bytes read by each of three /info requests in a row, against the object's size.",
            [
                "source",
                "object size",
                "header fields: GETs at moto",
                "bytes read",
                "share of the object",
                "BlurHash / SHA-256: bytes read",
                "header again (cached source): bytes read",
                "answers",
            ],
            rows,
        )
    )
    ranged = [data[src.label] for src in SOURCES if src in HEADER_FIRST]
    header_ok = all(
        r["header"]["status"] == 200 and "200" not in r["header"]["moto"] for r in ranged
    )
    whole_gets = [
        sum(r[step]["moto"].count("200") for step in ("header", "whole", "again"))
        for r in data.values()
    ]
    once = all(n <= 1 for n in whole_gets) and all(r["again"]["bytes"] == 0 for r in data.values())
    sec.notes.append(
        f"**{'PASS' if header_ok and once else 'FAIL'}**: the header fields of every uncached "
        "JPEG, PNG and MP4 came from ranged GETs only (no whole-object GET at moto); every "
        "source was read whole at most once (a TIFF's header fields read it whole, into the "
        "storage cache, after the first block that tells its type), and a source in the "
        "storage cache was not read from the store again."
    )
    sec.data = data
    return sec


def _row(label: str, row: dict[str, Any]) -> list[str]:
    size = row["size"]
    header, whole, again = row["header"], row["whole"], row["again"]
    answer = row["answer"]
    dims = (
        f"{answer.get('width')}x{answer.get('height')}" if isinstance(answer, dict) else str(answer)
    )
    streams = answer.get("video_streams", []) if isinstance(answer, dict) else []
    durations = [s["duration"] for s in streams if s.get("type") == "video" and "duration" in s]
    if durations:
        dims += f", {durations[0]:g} s"
    statuses = "/".join(str(r["status"]) for r in (header, whole, again))
    return [
        label,
        f"{size:,}",
        " ".join(header["moto"]) or "-",
        f"{header['bytes']:,.0f}",
        f"{header['bytes'] / size:.2%}",
        f"{whole['bytes']:,.0f}",
        f"{again['bytes']:,.0f}",
        f"{statuses} ({dims})",
    ]
