"""STORAGE_IAM_ROLE: credentials from a (fake) instance metadata service, checked by a moto
whose IAM authentication is on, so only real role credentials get through."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest
from aiohttp import web

from proxy.checks import run_checks
from tests.conftest import read_metric
from tests.storage.conftest import s3_client, unique_bucket

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
    served = {"credentials": 0, "expires_in": 300}
    token = "imds-token-123"

    async def put_token(request: web.Request) -> web.Response:
        assert request.headers["X-aws-ec2-metadata-token-ttl-seconds"]
        return web.Response(text=token)

    async def role_credentials(request: web.Request) -> web.Response:
        if request.headers.get("X-aws-ec2-metadata-token") != token:
            return web.Response(status=401)
        if request.match_info["role"] != ROLE:
            return web.Response(status=404)
        served["credentials"] += 1
        creds = role_world["credentials"]
        # Inside botocore's refresh window: every use must fetch fresh credentials first.
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
    app.router.add_get("/latest/meta-data/iam/security-credentials/{role}", role_credentials)
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
    # Credentials that expire soon are fetched again before use, never used stale.
    assert metadata_service["credentials"] >= 2


async def test_unknown_role_is_refused(role_world, metadata_service, make_settings, make_client):
    client = await make_client(make_settings(**role_env(role_world, STORAGE_IAM_ROLE="nobody")))
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 502
    assert metadata_service["credentials"] == 0


async def test_expired_role_credentials_are_refused(
    role_world, metadata_service, make_settings, make_client
):
    metadata_service["expires_in"] = -60
    client = await make_client(make_settings(**role_env(role_world)))
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 502
    assert (await response.text()).strip() == "storage refused the proxy's credentials"


async def test_metadata_service_disabled_is_refused(role_world, make_settings, make_client):
    client = await make_client(make_settings(**role_env(role_world)))
    response = await client.get(f"/{role_world['bucket']}/{KEY}")
    assert response.status == 502
    assert (await response.text()).strip() == "storage refused the proxy's credentials"


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
