"""The stores' notifications, as their vendors document them, read into what changed.

Payloads follow the vendors' pages:
- S3: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
  (the key is URL-encoded, `+` for a space).
- MinIO webhook target: https://min.io/docs/minio/linux/administration/monitoring/bucket-notifications.html
  (the same Records, with `s3:`-prefixed event names, under `EventName` and `Key`).
- Azure Event Grid, Blob Storage as a source:
  https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage
- CloudEvents schema in Event Grid: https://learn.microsoft.com/azure/event-grid/cloud-event-schema
- Endpoint validation: https://learn.microsoft.com/azure/event-grid/webhook-event-delivery
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.errors import BadRequest
from proxy.invalidation.events import (
    CHANGED,
    DELETED,
    PREFIX_DELETED,
    Change,
    Events,
    Handshake,
    read_events,
)


def s3_record(name: str, bucket: str, key: str) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-west-2",
        "eventTime": "1970-01-01T00:00:00.000Z",
        "eventName": name,
        "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURI"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "testConfigRule",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": key,
                "size": 1024,
                "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                "sequencer": "0055AED6DCD90281E5",
            },
        },
    }


def event_grid(kind: str, container: str, blob: str) -> dict[str, Any]:
    return {
        "topic": "/subscriptions/x/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/acct",
        "subject": f"/blobServices/default/containers/{container}/blobs/{blob}",
        "eventType": kind,
        "eventTime": "2017-06-26T18:41:00.9584103Z",
        "id": "831e1650-001e-001b-66ab-eeb76e069631",
        "data": {
            "api": "PutBlockList",
            "eTag": "0x8D4BCC2E4835CD0",
            "contentType": "image/jpeg",
            "contentLength": 524288,
            "blobType": "BlockBlob",
            "url": f"https://acct.blob.core.windows.net/{container}/{blob}",
            "sequencer": "00000000000004420000000000028963",
        },
        "dataVersion": "",
        "metadataVersion": "1",
    }


def cloud_event(kind: str, container: str, blob: str) -> dict[str, Any]:
    grid = event_grid(kind, container, blob)
    return {
        "specversion": "1.0",
        "type": kind,
        "source": grid["topic"],
        "id": grid["id"],
        "time": grid["eventTime"],
        "subject": grid["subject"].lstrip("/"),  # the CloudEvents sample has no leading slash
        "data": grid["data"],
    }


def read(document: object) -> Events | Handshake:
    return read_events(json.dumps(document).encode())


def test_s3_created_and_removed_with_url_encoded_keys():
    found = read(
        {
            "Records": [
                s3_record("ObjectCreated:Put", "pics", "summer/my+photo%C3%A9.jpg"),
                s3_record("ObjectRemoved:Delete", "pics", "old%2Fname.jpg"),
                s3_record("LifecycleExpiration:Delete", "pics", "expired.jpg"),
                s3_record("ObjectTagging:Put", "pics", "tagged.jpg"),
            ]
        }
    )
    assert found == Events(
        [
            Change("pics", "summer/my photoé.jpg", CHANGED),
            Change("pics", "old/name.jpg", DELETED),
            Change("pics", "expired.jpg", DELETED),
        ],
        ignored=1,
    )


def test_minio_webhook_names_events_with_an_s3_prefix():
    record = s3_record("s3:ObjectCreated:CompleteMultipartUpload", "pics", "a.jpg")
    found = read({"EventName": record["eventName"], "Key": "pics/a.jpg", "Records": [record]})
    assert found == Events([Change("pics", "a.jpg", CHANGED)], ignored=0)


def test_s3_test_event_is_ignored():
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2014-10-13T15:57:02.089Z",
        "Bucket": "pics",
        "RequestId": "5582815E1AEA5ADF",
    }
    assert read(test_event) == Events([], ignored=1)


def test_event_grid_created_deleted_and_renamed():
    renamed = event_grid("Microsoft.Storage.BlobRenamed", "pics", "new.jpg")
    renamed["data"] = {
        "api": "RenameFile",
        "sourceUrl": "https://acct.dfs.core.windows.net/pics/dir/old%20name.jpg",
        "destinationUrl": "https://acct.dfs.core.windows.net/pics/new.jpg",
    }
    found = read(
        [
            event_grid("Microsoft.Storage.BlobCreated", "pics", "dir/a.jpg"),
            event_grid("Microsoft.Storage.BlobDeleted", "pics", "dir/b.jpg"),
            event_grid("Microsoft.Storage.DirectoryDeleted", "pics", "dir"),
            renamed,
            event_grid("Microsoft.Storage.BlobTierChanged", "pics", "dir/c.jpg"),
        ]
    )
    assert found == Events(
        [
            Change("pics", "dir/a.jpg", CHANGED),
            Change("pics", "dir/b.jpg", DELETED),
            Change("pics", "dir/", PREFIX_DELETED),
            Change("pics", "dir/old name.jpg", DELETED),
            Change("pics", "new.jpg", CHANGED),
        ],
        ignored=1,
    )


def test_cloud_events_one_or_a_batch():
    created = cloud_event("Microsoft.Storage.BlobCreated", "pics", "a.jpg")
    deleted = cloud_event("Microsoft.Storage.BlobDeleted", "pics", "b.jpg")
    assert read(created) == Events([Change("pics", "a.jpg", CHANGED)], ignored=0)
    assert read([created, deleted]) == Events(
        [Change("pics", "a.jpg", CHANGED), Change("pics", "b.jpg", DELETED)], ignored=0
    )


def test_the_subscription_validation_is_its_code():
    validation = {
        "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        "topic": "/subscriptions/x",
        "subject": "",
        "data": {
            "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            "validationUrl": "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/x",
        },
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2018-01-25T22:12:19.4556811Z",
        "metadataVersion": "1",
        "dataVersion": "1",
    }
    assert read([validation]) == Handshake("512d38b6-c7b8-40c8-89fe-f46f9e9622b6")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b'"text"', "not a storage event"),
        (b"[]", "not a storage event"),
        (json.dumps({"Records": {"a": 1}}).encode(), "Records is not a list"),
        (json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}).encode(), "without"),
        (json.dumps({"Records": [s3_record("Mystery:Thing", "b", "k")]}).encode(), "unknown S3"),
        (json.dumps([{"subject": "x"}]).encode(), "without eventType"),
        (json.dumps([event_grid("Contoso.Items.ItemSold", "c", "b")]).encode(), "unknown event"),
        (
            json.dumps([{"eventType": "Microsoft.Storage.BlobCreated", "subject": "/x"}]).encode(),
            "names no blob",
        ),
    ],
)
def test_what_is_not_a_known_event_is_a_bad_request(body, reason):
    with pytest.raises(BadRequest) as err:
        read_events(body)
    assert reason in err.value.reason
