"""Temporary S3 credentials for an IAM role from the EC2 instance metadata service (IMDSv2)."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import aiohttp

from proxy.storage.errors import AccessDenied, Unavailable

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL_SECONDS = 21600


def metadata_endpoint() -> str:
    return os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def metadata_disabled() -> bool:
    return os.environ.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() == "true"


class RoleCredentialsFetcher:
    """Fetches one role's credentials; botocore's refreshable credentials call it again
    shortly before they expire, so a long-running proxy never signs with expired keys."""

    def __init__(self, role: str, timeout: float) -> None:
        self.role = role
        self.timeout = timeout

    async def __call__(self) -> dict[str, Any]:
        if metadata_disabled():
            raise AccessDenied("instance metadata service disabled (AWS_EC2_METADATA_DISABLED)")
        base = metadata_endpoint()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.put(
                    f"{base}/latest/api/token",
                    headers={"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_SECONDS)},
                ) as response:
                    if response.status != 200:
                        raise Unavailable(f"instance metadata token: HTTP {response.status}")
                    token = await response.text()
                async with session.get(
                    f"{base}/latest/meta-data/iam/security-credentials/{self.role}",
                    headers={"X-aws-ec2-metadata-token": token},
                ) as response:
                    if response.status == 404:
                        raise AccessDenied(f"instance metadata has no IAM role {self.role!r}")
                    if response.status != 200:
                        raise Unavailable(f"instance metadata credentials: HTTP {response.status}")
                    body = json.loads(await response.text())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unavailable(f"instance metadata service unreachable at {base}") from exc
        except ValueError as exc:
            raise Unavailable("instance metadata answered with invalid JSON") from exc
        if body.get("Code", "Success") != "Success" or "AccessKeyId" not in body:
            raise AccessDenied(f"instance metadata refused credentials for role {self.role!r}")
        try:
            expires = dt.datetime.fromisoformat(body["Expiration"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("instance metadata credentials have no valid Expiration") from exc
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if expires <= dt.datetime.now(dt.UTC):
            # botocore would fail with a bare RuntimeError: say what is wrong instead.
            raise AccessDenied(
                f"instance metadata handed out expired credentials for {self.role!r}"
            )
        return {
            "access_key": body["AccessKeyId"],
            "secret_key": body["SecretAccessKey"],
            "token": body.get("Token"),
            "expiry_time": body["Expiration"],
        }
