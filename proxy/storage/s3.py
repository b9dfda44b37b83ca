"""The `minio` provider: any S3-compatible store (AWS S3, MinIO, ...) through aiobotocore."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioCredentialResolver, AioDeferredRefreshableCredentials
from aiobotocore.session import get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

from proxy.errors import ProxyError, RangeNotSatisfiable
from proxy.settings import StorageSettings
from proxy.storage.base import CHUNK_SIZE, ObjectInfo, ObjectStream, Storage
from proxy.storage.errors import (
    AccessDenied,
    ObjectMissing,
    StorageTimeout,
    Unavailable,
)
from proxy.storage.imds import role_credentials
from proxy.storage.translate import translated

T = TypeVar("T")

MISSING_CODES = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}
DENIED_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "403",
    "Forbidden",
}
POOL_CONNECTIONS = 64
UNTYPED = {None, "", "binary/octet-stream"}


def endpoint_url(settings: StorageSettings) -> str:
    """`host`, `host:port` or a URL, plus STORAGE_PORT (443 means https).

    The settings always name one: AWS S3's regional endpoint when none was configured.
    """
    raw = settings.endpoint.strip().rstrip("/")
    if "://" not in raw:
        port = settings.port or urlsplit(f"//{raw}").port
        scheme = "https" if port in (None, 443) else "http"
        raw = f"{scheme}://{raw}"
    parts = urlsplit(raw)
    netloc = parts.netloc
    if settings.port is not None and parts.port is None:
        netloc = f"{netloc}:{settings.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def is_aws(url: str) -> bool:
    return (urlsplit(url).hostname or "").endswith("amazonaws.com")


def map_error(exc: BaseException, what: str) -> ProxyError | None:
    """A typed storage error for anything botocore or the connection raised; None: a bug."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in MISSING_CODES or status == 404:
            return ObjectMissing(f"{what}: {code or status}")
        if code in DENIED_CODES or status == 403:
            return AccessDenied(f"{what}: {code or status}")
        if code == "InvalidRange" or status == 416:
            size = error.get("ActualObjectSize")
            return RangeNotSatisfiable(size=int(size) if str(size).isdigit() else None)
        return Unavailable(f"{what}: {code or status}", transient=status >= 500 or status == 429)
    if isinstance(exc, NoCredentialsError):
        return AccessDenied(f"{what}: no credentials")
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return StorageTimeout(f"{what}: timed out")
    if isinstance(exc, BotoCoreError | aiohttp.ClientError | OSError):
        return Unavailable(f"{what}: {type(exc).__name__}")
    return None


async def mapped(what: str, call: Awaitable[T]) -> T:
    with translated(map_error, what):
        return await call


def header_range(byte_range: tuple[int, int | None] | None) -> str | None:
    if byte_range is None:
        return None
    start, end = byte_range
    if start < 0:
        return f"bytes={start}"  # suffix: "the last n bytes"
    return f"bytes={start}-" if end is None else f"bytes={start}-{end}"


def total_size(response: dict[str, Any]) -> int:
    """The whole object's size, also for a ranged answer ("bytes a-b/size")."""
    content_range = response.get("ContentRange")
    if content_range and "/" in content_range:
        return int(content_range.rsplit("/", 1)[1])
    return int(response["ContentLength"])


def info_from(bucket: str, key: str, response: dict[str, Any], size: int) -> ObjectInfo:
    etag = str(response.get("ETag", "")).strip('"')
    # A single-part upload's ETag is the content's MD5; a multipart one has a "-n" suffix.
    md5 = etag if len(etag) == 32 and "-" not in etag else None
    modified = response.get("LastModified")
    content_type = response.get("ContentType")
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=size,
        # S3's own default says nothing: leave it to the caller to guess from the key.
        content_type=None if content_type in UNTYPED else content_type,
        etag=etag,
        last_modified=modified.timestamp() if modified is not None else 0.0,
        md5=md5,
    )


class RoleProvider:
    """Credentials for STORAGE_IAM_ROLE only: never the environment's or a profile's."""

    METHOD = "iam-role"

    def __init__(self, session: Any, role: str) -> None:
        self.session = session
        self.role = role

    async def load(self) -> AioDeferredRefreshableCredentials:
        return role_credentials(self.session, self.role)


class S3Storage(Storage):
    provider = "minio"

    def __init__(self, settings: StorageSettings) -> None:
        super().__init__(settings)
        self.url = endpoint_url(settings)
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def start(self) -> None:
        if self._client is not None:
            return
        session = get_session()
        keys: dict[str, str] = {}
        if self.settings.iam_role:
            session.register_component(
                "credential_provider",
                AioCredentialResolver([RoleProvider(session, self.settings.iam_role)]),
            )
        elif self.settings.access_key:
            keys = {
                "aws_access_key_id": self.settings.access_key,
                "aws_secret_access_key": self.settings.secret_key,
            }
        config = AioConfig(
            # The base class retries with backoff; botocore retrying too would multiply them.
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=self.settings.timeout,
            read_timeout=self.settings.timeout,
            max_pool_connections=POOL_CONNECTIONS,
            s3={"addressing_style": "auto" if is_aws(self.url) else "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        stack = AsyncExitStack()
        self._client = await stack.enter_async_context(
            session.create_client(
                "s3",
                region_name=self.settings.region or "us-east-1",
                endpoint_url=self.url,
                config=config,
                **keys,
            )
        )
        self._stack = stack

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    @property
    def client(self) -> Any:
        if self._client is None:
            raise Unavailable("s3 storage used before start()", transient=False)
        return self._client

    async def _open(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None
    ) -> ObjectStream:
        what = f"{bucket}/{key}"
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        ranged = header_range(byte_range)
        if ranged is not None:
            params["Range"] = ranged
        try:
            response = await mapped(what, self.client.get_object(**params))
        except RangeNotSatisfiable as exc:
            if exc.size is not None:
                raise
            # The store did not say the size that a 416's Content-Range needs: ask for it.
            raise RangeNotSatisfiable(size=(await self._head(bucket, key)).size) from exc
        size = total_size(response)
        info = info_from(bucket, key, response, size)
        length = int(response["ContentLength"])
        start = 0
        # Without a Content-Range the store ignored Range and sent the whole body from 0.
        if ranged is not None and "ContentRange" in response:
            start = int(response["ContentRange"].split()[1].split("-")[0])
        body = response["Body"]

        async def close() -> None:
            body.close()

        async def chunks() -> AsyncIterator[bytes]:
            try:
                with translated(map_error, what):
                    async for chunk in body.iter_chunks(CHUNK_SIZE):
                        yield chunk
            finally:
                body.close()

        return ObjectStream(info, chunks(), close, start=start, length=length)

    async def _head(self, bucket: str, key: str) -> ObjectInfo:
        response = await mapped(f"{bucket}/{key}", self.client.head_object(Bucket=bucket, Key=key))
        return info_from(bucket, key, response, int(response["ContentLength"]))

    async def _probe_bucket(self, bucket: str) -> None:
        await mapped(self.url, self.client.head_bucket(Bucket=bucket))

    async def _put(self, bucket: str, key: str, path: Path, content_type: str | None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        with open(path, "rb") as body:
            await mapped(
                f"{bucket}/{key}",
                self.client.put_object(Bucket=bucket, Key=key, Body=body, **extra),
            )

    async def _list_keys(self, bucket: str) -> AsyncIterator[tuple[str, int]]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=bucket)
        with translated(map_error, f"list {bucket}"):
            async for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"], int(item["Size"])
