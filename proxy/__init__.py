"""Caching image-preview proxy in front of local disk, S3 and Azure Blob storage."""

__version__ = "0.1.0"
