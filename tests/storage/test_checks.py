"""`python -m proxy check` against the real servers: one line per problem, per provider."""

from __future__ import annotations

import subprocess
import sys

from proxy.checks import run_checks
from tests.server_process import free_port
from tests.storage.conftest import ROOT, endpoint_at


async def test_ok(store):
    store.create_bucket(store.ghost)
    assert await run_checks(store.settings()) == []


async def test_bucket_missing(remote_store):
    store = remote_store
    problems = await run_checks(store.settings())
    assert len(problems) == 1
    assert problems[0].startswith(f"{store.provider}: bucket missing (bucket {store.ghost}")


async def test_a_local_bucket_folder_serve_would_create_is_no_problem(
    request, make_settings, data_path
):
    from proxy.checks import start_notes
    from tests.storage.conftest import make_store

    store = make_store("http", request, make_settings, data_path)
    settings = store.settings()
    assert await run_checks(settings) == []
    ghost = settings.storage.root / store.ghost
    assert start_notes(settings) == [
        f"http: bucket folder {ghost} does not exist; serve creates it at start"
    ]
    assert not ghost.exists()


async def test_check_and_the_store_health_agree(store, make_client):
    """check and /health/store name the same store problems, with the same lines, or both
    find none; /health stays 200 either way (a node with a cache serves through an outage)."""
    settings = store.settings()  # one bucket there, one (the ghost) missing at the store
    problems = await run_checks(settings)
    client = await make_client(settings)
    response = await client.get("/health/store")
    report = await response.json()
    assert (await client.get("/health")).status == 200
    if store.provider == "http":
        # serve made the ghost's folder at start; check said it would and found no problem.
        assert (settings.storage.root / store.ghost).is_dir()
        assert (problems, response.status) == ([], 200)
    else:
        assert response.status == 503
        assert str(report["storage"]).split("; ") == problems


async def test_endpoint_unreachable(remote_store):
    store = remote_store
    settings = store.settings(STORAGE_ENDPOINT=endpoint_at(store, free_port()))
    problems = await run_checks(settings)
    assert len(problems) == 2  # one per configured bucket
    assert all(p.startswith(f"{store.provider}: endpoint unreachable") for p in problems)


async def test_azure_credentials_refused(request, make_settings, data_path):
    from tests.storage.conftest import make_store

    store = make_store("azure", request, make_settings, data_path)
    wrong = "d3Jvbmcta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ="
    problems = await run_checks(store.settings(STORAGE_SECRET_KEY=wrong))
    assert len(problems) == 2
    assert all(p.startswith("azure: credentials refused") for p in problems)
    assert not any(wrong in p for p in problems)


def test_cli_check(remote_store, tmp_path, data_path):
    store = remote_store
    env_file = tmp_path / "check.env"
    lines = {**store.env, "DATA_PATH": str(data_path), "STORAGE_BUCKETS": store.bucket}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    ok = subprocess.run(
        [sys.executable, "-m", "proxy", "check", "--env-file", str(env_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith(f"OK: {store.provider} storage answers")
    env_file.write_text(env_file.read_text() + f"STORAGE_BUCKETS={store.ghost}\n")
    missing = subprocess.run(
        [sys.executable, "-m", "proxy", "check", "--env-file", str(env_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert missing.returncode == 1
    assert missing.stdout.splitlines()[0].startswith(f"{store.provider}: bucket missing")
