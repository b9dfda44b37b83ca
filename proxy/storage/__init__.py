"""One storage interface, three backends: local disk, S3 and Azure Blob."""

from proxy.storage.base import ObjectInfo, ObjectStream, Storage
from proxy.storage.errors import (
    AccessDenied,
    InvalidKey,
    ObjectMissing,
    StorageError,
    StorageTimeout,
    Unavailable,
)
from proxy.storage.factory import create_storage

__all__ = [
    "AccessDenied",
    "InvalidKey",
    "ObjectInfo",
    "ObjectMissing",
    "ObjectStream",
    "Storage",
    "StorageError",
    "StorageTimeout",
    "Unavailable",
    "create_storage",
]
