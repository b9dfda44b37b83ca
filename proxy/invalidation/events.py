"""The change notifications storage services send, read into what changed.

- S3 and MinIO: `{"Records": [{"eventName", "s3": {"bucket": {"name"}, "object": {"key"}}}]}`
  with the key URL-encoded (`+` for a space). S3 names events `ObjectCreated:Put`, MinIO
  `s3:ObjectCreated:Put`.
- Azure Event Grid, in its own schema (a JSON array of `{"eventType", "subject", "data"}`)
  and in the CloudEvents 1.0 schema (`{"specversion", "type", "subject", "data"}`, one or a
  batch), with `subject` `/blobServices/default/containers/<container>/blobs/<path>`.
  A subscription is confirmed by echoing `data.validationCode` of a
  `Microsoft.EventGrid.SubscriptionValidationEvent`; its `validationUrl` is never fetched.

Events that change no bytes (tags, ACLs, tier changes, restores) are known and ignored; an
event of a type not known at all is refused, so a misconfigured subscription shows up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from proxy.errors import BadRequest

CHANGED, DELETED, PREFIX_DELETED = "changed", "deleted", "prefix_deleted"

# S3 event names by their first part (`ObjectCreated:Put` -> `ObjectCreated`).
S3_KINDS = {
    "ObjectCreated": CHANGED,
    "ObjectRemoved": DELETED,
    "LifecycleExpiration": DELETED,
}
S3_IGNORED = frozenset(
    {
        "ObjectRestore", "ObjectTagging", "ObjectAcl", "Replication", "LifecycleTransition",
        "IntelligentTiering", "ReducedRedundancyLostObject", "ObjectTransition",
        "ObjectAccessed",  # MinIO's GET/HEAD notifications
        "TestEvent",
    }
)  # fmt: skip
AZURE_KINDS = {
    "Microsoft.Storage.BlobCreated": CHANGED,
    "Microsoft.Storage.BlobDeleted": DELETED,
    "Microsoft.Storage.DirectoryDeleted": PREFIX_DELETED,
}
AZURE_RENAMED = frozenset({"Microsoft.Storage.BlobRenamed", "Microsoft.Storage.DirectoryRenamed"})
AZURE_IGNORED = frozenset(
    {
        "Microsoft.Storage.BlobTierChanged", "Microsoft.Storage.AsyncOperationInitiated",
        "Microsoft.Storage.BlobInventoryPolicyCompleted",
        "Microsoft.Storage.LifecyclePolicyCompleted", "Microsoft.Storage.DirectoryCreated",
    }
)  # fmt: skip
VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
BLOB_SUBJECT = "blobServices/default/containers/"


@dataclass(frozen=True)
class Change:
    bucket: str
    key: str  # for PREFIX_DELETED, the prefix
    kind: str


@dataclass(frozen=True)
class Handshake:
    """Event Grid's subscription validation: answered with its code, nothing else done."""

    code: str


@dataclass(frozen=True)
class Events:
    changes: list[Change]
    ignored: int


def read_events(body: bytes) -> Events | Handshake:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not JSON") from None
    if isinstance(document, dict) and "Records" in document:
        return _s3(document["Records"])
    if isinstance(document, dict) and ("Event" in document or "EventName" in document):
        return Events([], 1)  # S3's test event; MinIO's without records
    items = document if isinstance(document, list) else [document]
    if not items or not all(isinstance(item, dict) for item in items):
        raise BadRequest("not a storage event: expected S3 Records or Event Grid events")
    changes: list[Change] = []
    ignored = 0
    for item in items:
        found = _azure(item)
        if isinstance(found, Handshake):
            return found
        if found is None:
            ignored += 1
        else:
            changes.extend(found)
    return Events(changes, ignored)


def _s3(records: Any) -> Events:
    if not isinstance(records, list):
        raise BadRequest("Records is not a list")
    changes, ignored = [], 0
    for record in records:
        try:
            name = str(record["eventName"]).removeprefix("s3:")
            bucket = str(record["s3"]["bucket"]["name"])
            key = unquote_plus(str(record["s3"]["object"]["key"]))
        except (KeyError, TypeError):
            raise BadRequest("an S3 record without eventName, bucket name or object key") from None
        family = name.partition(":")[0]
        kind = S3_KINDS.get(family)
        if kind is None:
            if family not in S3_IGNORED:
                raise BadRequest(f"unknown S3 event type {name[:80]!r}")
            ignored += 1
            continue
        changes.append(Change(bucket, key, kind))
    return Events(changes, ignored)


def _azure(event: dict[str, Any]) -> list[Change] | Handshake | None:
    """One Event Grid or CloudEvents event: its changes, a handshake, or None (ignored)."""
    kind_name = event.get("eventType", event.get("type"))
    if not isinstance(kind_name, str):
        raise BadRequest("an event without eventType (Event Grid) or type (CloudEvents)")
    data = event.get("data")
    if kind_name == VALIDATION:
        code = data.get("validationCode") if isinstance(data, dict) else None
        if not isinstance(code, str) or not code:
            raise BadRequest("a validation event without validationCode")
        return Handshake(code)
    if kind_name in AZURE_IGNORED:
        return None
    if kind_name in AZURE_RENAMED:
        if not isinstance(data, dict):
            raise BadRequest("a rename event without data")
        if kind_name.endswith("DirectoryRenamed"):
            gone, arrived = PREFIX_DELETED, PREFIX_DELETED  # whatever was cached under either
        else:
            gone, arrived = DELETED, CHANGED
        source, destination = data.get("sourceUrl"), data.get("destinationUrl")
        return [_from_url(source, gone), _from_url(destination, arrived)]
    kind = AZURE_KINDS.get(kind_name)
    if kind is None:
        raise BadRequest(f"unknown event type {kind_name[:80]!r}")
    bucket, key = _subject(event.get("subject"))
    if kind == PREFIX_DELETED:
        key = key.rstrip("/") + "/"
    return [Change(bucket, key, kind)]


def _subject(subject: Any) -> tuple[str, str]:
    if not isinstance(subject, str):
        raise BadRequest("an event without subject")
    container, sep, path = subject.lstrip("/").removeprefix(BLOB_SUBJECT).partition("/blobs/")
    if not subject.lstrip("/").startswith(BLOB_SUBJECT) or not sep or not container or not path:
        raise BadRequest(f"a subject that names no blob: {subject[:120]!r}")
    return container, path


def _from_url(url: Any, kind: str) -> Change:
    """A blob named by its URL in a rename event: read, never fetched."""
    if not isinstance(url, str):
        raise BadRequest("a rename event without sourceUrl or destinationUrl")
    container, _, path = unquote(urlsplit(url).path).lstrip("/").partition("/")
    if not container or not path:
        raise BadRequest("a rename URL that names no blob")
    if kind == PREFIX_DELETED:
        path = path.rstrip("/") + "/"
    return Change(container, path, kind)
