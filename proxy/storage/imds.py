"""S3 credentials for the IAM role STORAGE_IAM_ROLE names, from the EC2 instance metadata service.

botocore does the work: its IMDSv2 client (aiobotocore's AioInstanceMetadataFetcher: the token,
AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED, its timeouts, and AWS's "static
stability" for credentials that IMDS hands out already expired) and its refreshable credentials
(fetched again before they expire). Three things are ours, each said where it is done: the role
is the one configured, a failure says why in one line, and a failure at start is not final.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from aiobotocore.credentials import AioDeferredRefreshableCredentials
from aiobotocore.utils import AioInstanceMetadataFetcher
from botocore.credentials import _local_now
from botocore.exceptions import BotoCoreError, InvalidIMDSEndpointError, MetadataRetrievalError
from botocore.utils import resolve_imds_endpoint_mode

from proxy.storage.errors import AccessDenied, StorageError, Unavailable


class RoleCredentialsFetcher(AioInstanceMetadataFetcher):  # type: ignore[misc]  # aiobotocore ships no types: its base is Any
    """botocore's fetcher for one named role, raising a typed error that says why it failed."""

    def __init__(self, role: str, **options: Any) -> None:
        super().__init__(**options)
        self.role = role
        self._failed_answer: tuple[int, str] | None = None

    async def _get_iam_role(self, token: str | None = None) -> str:
        # botocore asks the instance which role its profile carries and takes that one. The
        # operator named the role, so another role's rights are never used in its place: a
        # wrong name is a 404 below, refused with the name.
        return self.role

    async def _log_imds_response(
        self, response: Any, reason_to_log: str, log_body: bool = False
    ) -> None:
        # The only place where botocore sees why an answer was refused (and only logs it, at
        # debug level): remember it, so the failure can say it.
        self._failed_answer = (int(response.status_code), reason_to_log)
        await super()._log_imds_response(response, reason_to_log, log_body)

    async def __call__(self) -> dict[str, Any]:
        """The role's credentials, as botocore's refreshable credentials want them."""
        where = self.get_base_url()
        if self._disabled:
            raise AccessDenied("instance metadata service disabled (AWS_EC2_METADATA_DISABLED)")
        self._failed_answer = None
        try:
            # botocore answers {} for any failure; the reason is told apart below.
            credentials: dict[str, Any] = await self.retrieve_iam_role_credentials()
        except MetadataRetrievalError:
            # No IMDSv2 token came back, and the IMDSv1 fallback is off.
            raise Unavailable(
                f"no IMDSv2 token from the instance metadata service at {where}: unreachable, "
                "or (in a container) its hop limit is 1"
            ) from None
        except BotoCoreError as exc:
            raise Unavailable(f"instance metadata service at {where}: {exc}") from None
        if credentials:
            return credentials
        if self._failed_answer is None:
            raise AccessDenied(f"instance metadata service gave no credentials for {self.role!r}")
        status, reason = self._failed_answer
        if status == 404:
            raise AccessDenied(
                f"instance metadata service has no IAM role {self.role!r} "
                "(STORAGE_IAM_ROLE must be the instance profile's role)"
            )
        raise Unavailable(
            f"instance metadata service at {where}: {reason} answer (HTTP {status}) "
            f"for role {self.role!r}"
        )


def role_fetcher(session: Any, role: str) -> RoleCredentialsFetcher:
    """A fetcher configured as botocore configures its own, from `session` and the environment."""
    config = {
        "ec2_metadata_service_endpoint": session.get_config_variable(
            "ec2_metadata_service_endpoint"
        ),
        "ec2_metadata_service_endpoint_mode": resolve_imds_endpoint_mode(session),
        # IMDSv2 only, as the README says: no unauthenticated IMDSv1 request is ever sent.
        "ec2_metadata_v1_disabled": True,
    }
    try:
        return RoleCredentialsFetcher(
            role,
            timeout=session.get_config_variable("metadata_service_timeout"),
            num_attempts=session.get_config_variable("metadata_service_num_attempts"),
            user_agent=session.user_agent(),
            config=config,
        )
    except InvalidIMDSEndpointError as exc:
        raise Unavailable(
            f"AWS_EC2_METADATA_SERVICE_ENDPOINT is not a URL: {exc}", transient=False
        ) from None


def role_credentials(
    session: Any, role: str, now: Callable[[], dt.datetime] = _local_now
) -> AioDeferredRefreshableCredentials:
    """Credentials fetched at first use, then again before they expire.

    Not botocore's AioInstanceMetadataProvider: it fetches once, when the client is made, and
    when that fails (the metadata service not reachable yet as a container starts) the client
    has no credentials until a restart. Deferred credentials try again on every use until they
    have some, and a fetcher made per attempt reads the environment of that moment. `now` is
    botocore's clock, which decides when they are due.
    """

    async def fetch() -> dict[str, Any]:
        return await role_fetcher(session, role)()

    return AioDeferredRefreshableCredentials(
        refresh_using=fetch, method="iam-role", time_fetcher=now
    )


class _ReasonInsteadOfTraceback(logging.Filter):
    """botocore logs each failed refresh with its traceback; ours already say why in a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StorageError):
            record.msg = f"{record.getMessage()} {error}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


logging.getLogger("aiobotocore.credentials").addFilter(_ReasonInsteadOfTraceback())
