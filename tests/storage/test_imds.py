"""STORAGE_IAM_ROLE: credentials from a (fake) instance metadata service, checked by a moto
whose IAM authentication is on, so only real role credentials get through.

botocore fetches and refreshes them; what these tests pin down is what we rely on and what we
add: the configured role, IMDSv2, refresh before expiry, AWS's static stability for expired
credentials, and a one-line reason (no traceback) when there are none.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from aiobotocore.session import get_session
from aiohttp import web

from proxy.checks import run_checks
from proxy.storage.imds import role_credentials
from tests.conftest import read_metric
from tests.server_process import free_port
from tests.storage.conftest import ROOT, s3_client, unique_bucket

ROLE = "proxy-reader"
KEY = "images/role.jpg"
BODY = b"read with role credentials" * 100


@pytest.fixture(scope="session")
def role_world(moto_auth_server):  # type: ignore[no-untyped-def]
    """A bucket with one object, a role allowed to read it, its STS session; then auth on."""
    endpoint = moto_auth_server.url
    import boto3

    kwargs = dict(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = boto3.client("iam", **kwargs).create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]
    boto3.client("iam", **kwargs).put_role_policy(
        RoleName=ROLE,
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    bucket = unique_bucket()
    s3 = s3_client(endpoint, "setup", "setup")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=KEY, Body=BODY, ContentType="image/jpeg")
    credentials = boto3.client("sts", **kwargs).assume_role(
        RoleArn=role["Arn"], RoleSessionName="proxy"
    )["Credentials"]
    request = urllib.request.Request(
        endpoint + "/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form type would hide the body from moto
    )
    urllib.request.urlopen(request, timeout=10).close()
    return {"endpoint": endpoint, "bucket": bucket, "credentials": credentials}


@pytest.fixture
async def metadata_service(role_world, aiohttp_server, monkeypatch):  # type: ignore[no-untyped-def]
    """IMDSv2: a token by PUT, then the role's credentials for that token only."""
    # An hour, as EC2 hands them out: past botocore's refresh windows, so they are reused.
    served = {"credentials": 0, "tokens": 0, "expires_in": 3600}
    token = "imds-token-123"

    async def put_token(request: web.Request) -> web.Response:
        assert request.headers["X-aws-ec2-metadata-token-ttl-seconds"]
        served["tokens"] += 1
        return web.Response(text=token)

    async def role_credentials_answer(request: web.Request) -> web.Response:
        if request.headers.get("X-aws-ec2-metadata-token") != token:
            return web.Response(status=401)  # IMDSv2 only: never answered without the token
        if request.match_info["role"] != ROLE:
            return web.Response(status=404)
        served["credentials"] += 1
        creds = role_world["credentials"]
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=served["expires_in"])
        return web.json_response(
            {
                "Code": "Success",
                "Type": "AWS-HMAC",
                "AccessKeyId": creds["AccessKeyId"],
                "SecretAccessKey": creds["SecretAccessKey"],
                "Token": creds["SessionToken"],
                "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    app = web.Application()
    app.router.add_put("/latest/api/token", put_token)
    app.router.add_get("/latest/meta-data/iam/security-credentials/{role}", role_credentials_answer)
    server = await aiohttp_server(app)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", str(server.make_url("")))
    return served


def role_env(world, **env: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "STORAGE_PROVIDER": "minio",
        "STORAGE_ENDPOINT": world["endpoint"],
        "STORAGE_BUCKETS": world["bucket"],
        "STORAGE_IAM_ROLE": ROLE,
        **env,
    }


async def test_reads_with_role_credentials(
    role_world, metadata_service, make_settings, make_client
):
    client = await make_client(make_settings(**role_env(role_world)))
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 200, await response.text()
    assert await response.read() == BODY
    head = await client.head(f"/{role_world['bucket']}/images/other.jpg")
    assert head.status == 404
    # Fetched once, with an IMDSv2 token, and reused while they are good.
    assert metadata_service["credentials"] == 1
    assert metadata_service["tokens"] == 1


async def test_credentials_are_fetched_again_before_they_expire(role_world, metadata_service):
    clock = {"ahead": dt.timedelta(0)}

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + clock["ahead"]

    credentials = role_credentials(get_session(), ROLE, now=now)
    first = await credentials.get_frozen_credentials()
    assert first.access_key == role_world["credentials"]["AccessKeyId"]
    await credentials.get_frozen_credentials()
    assert metadata_service["credentials"] == 1
    # 50 minutes later the hour-long credentials are within botocore's refresh window.
    clock["ahead"] = dt.timedelta(minutes=50)
    again = await credentials.get_frozen_credentials()
    assert metadata_service["credentials"] == 2
    assert again.token == role_world["credentials"]["SessionToken"]


async def test_unknown_role_is_refused_with_its_name(
    role_world, metadata_service, make_settings, make_client
):
    settings = make_settings(**role_env(role_world, STORAGE_IAM_ROLE="nobody"))
    client = await make_client(settings)
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 502
    assert (await response.text()).strip() == "storage refused the proxy's credentials"
    assert metadata_service["credentials"] == 0
    assert await run_checks(settings) == [
        f"minio: credentials refused (bucket {role_world['bucket']}: instance metadata service "
        "has no IAM role 'nobody' (STORAGE_IAM_ROLE must be the instance profile's role))"
    ]


async def test_expired_credentials_are_used_as_aws_static_stability_says(
    role_world, metadata_service, make_settings, make_client, caplog
):
    # During an IMDS outage EC2 may hand out credentials past their expiry, and AWS accepts
    # them for a while: botocore (and so the proxy) uses them, and tries again in minutes.
    # A store that refuses them answers ExpiredToken: a 502 "credentials refused".
    caplog.set_level(logging.INFO, logger="botocore.utils")
    metadata_service["expires_in"] = -60
    client = await make_client(make_settings(**role_env(role_world)))
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 200, await response.text()
    assert await response.read() == BODY
    assert "credential expiration extension" in caplog.text
    assert metadata_service["credentials"] == 1


async def test_metadata_service_disabled_is_refused(role_world, make_settings, make_client, caplog):
    settings = make_settings(**role_env(role_world))
    client = await make_client(settings)
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 502
    assert (await response.text()).strip() == "storage refused the proxy's credentials"
    # botocore's own warning about the failed refresh: one line with the reason, no traceback.
    (warning,) = [r for r in caplog.records if r.name == "aiobotocore.credentials"]
    assert warning.exc_info is None
    assert warning.getMessage().endswith(
        "instance metadata service disabled (AWS_EC2_METADATA_DISABLED)"
    )
    assert await run_checks(settings) == [
        f"minio: credentials refused (bucket {role_world['bucket']}: instance metadata service "
        "disabled (AWS_EC2_METADATA_DISABLED))"
    ]


def test_check_names_an_unreachable_metadata_service_in_one_line(role_world, tmp_path: Path):
    endpoint = f"http://127.0.0.1:{free_port()}/"
    env_file = tmp_path / "role.env"
    values = {**role_env(role_world), "DATA_PATH": str(tmp_path / "data")}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_EC2_METADATA_DISABLED": "false",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint,
    }
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "check", "--env-file", str(env_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr == ""  # no traceback, no library warning: the verdict says it all
    assert done.stdout.splitlines() == [
        f"minio: endpoint unreachable (bucket {role_world['bucket']}: no IMDSv2 token from the "
        f"instance metadata service at {endpoint}: unreachable, or (in a container) its hop "
        "limit is 1)"
    ]


async def test_wrong_keys_are_refused(role_world, make_settings, make_client, caplog):
    env = role_env(
        role_world,
        STORAGE_IAM_ROLE="",
        STORAGE_ACCESS_KEY="AKIAWRONGWRONGWRONG1",
        STORAGE_SECRET_KEY="not-the-secret-at-all",
    )
    client = await make_client(make_settings(**env))
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 502
    assert "not-the-secret-at-all" not in caplog.text
    assert "provider=minio kind=access_denied" in caplog.text
    assert await read_metric(client, "proxy_storage_errors_total", kind="access_denied") >= 1


async def test_check_says_credentials_refused(role_world, make_settings):
    env = role_env(
        role_world,
        STORAGE_IAM_ROLE="",
        STORAGE_ACCESS_KEY="AKIAWRONGWRONGWRONG1",
        STORAGE_SECRET_KEY="not-the-secret-at-all",
    )
    problems = await run_checks(make_settings(**env))
    assert len(problems) == 1
    assert problems[0].startswith("minio: credentials refused")
    assert "not-the-secret-at-all" not in problems[0]


async def test_check_ok_with_role(role_world, metadata_service, make_settings):
    assert await run_checks(make_settings(**role_env(role_world))) == []
