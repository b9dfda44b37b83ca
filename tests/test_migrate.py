"""`migrate`: local storage -> moto and -> Azurite, resumable, verified, never deleting."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.migrate import Item, Migration, migrate, source_storage, target_settings
from proxy.storage import create_storage
from tests.storage.conftest import (  # noqa: F401 - the session servers, shared with tests/storage
    ROOT,
    Store,
    azurite_server,
    make_store,
    moto_server,
    unique_bucket,
)

OBJECTS = {
    "images/original/a/b/cd/photo.jpg": os.urandom(70_000),
    "images/original/x.png": os.urandom(1234),
    "docs/empty.txt": b"",
    "videos/Z/d/HD/v.mp4": os.urandom(300_000),
    "top.bin": os.urandom(10),
}


@pytest.fixture(params=("minio", "azure"))
def target(request, make_settings, data_path) -> Store:  # type: ignore[no-untyped-def]
    """A remote store with an empty bucket, and a local bucket folder of the same name."""
    store = make_store(request.param, request, make_settings, data_path)
    store.extra_buckets = [unique_bucket("private")]
    for bucket in store.extra_buckets:
        store.create_bucket(bucket)
    return store


def fill_local(store: Store, objects: dict[str, bytes], bucket: str | None = None) -> None:
    for key, body in objects.items():
        path = store.data_path / "storage" / (bucket or store.bucket) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def env_file(store: Store, tmp_path: Path) -> Path:
    path = tmp_path / "target.env"
    env = {k: v for k, v in store.env.items() if k != "STORAGE_BUCKETS"}
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


async def run(store: Store, tmp_path: Path, **kwargs) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    settings = store.make_settings()
    status = await migrate(settings, env_file(store, tmp_path), stream=out, report=out, **kwargs)
    return status, out.getvalue()


async def test_copies_everything_verified(target, tmp_path):
    fill_local(target, OBJECTS)
    fill_local(target, {"p/secret.pdf": b"%PDF-1.4 private"}, target.extra_buckets[0])
    buckets = [target.bucket, target.extra_buckets[0]]
    status, output = await run(target, tmp_path, buckets=buckets, concurrency=3)
    assert status == 0, output
    assert "copied 6 objects" in output
    assert "skipped 0 already there, failed 0" in output
    assert "copying: 100%" in output and "6/6 objects" in output  # the progress line
    for key, body in OBJECTS.items():
        stored, _ = target.get(key)
        assert stored == body, key
    assert target.get("images/original/a/b/cd/photo.jpg")[1] == "image/jpeg"
    assert target.get("p/secret.pdf", target.extra_buckets[0])[0] == b"%PDF-1.4 private"


async def test_rerun_skips_what_is_there_and_recopies_what_differs(target, tmp_path):
    fill_local(target, OBJECTS)
    status, _ = await run(target, tmp_path, buckets=[target.bucket])
    assert status == 0
    # Same size, other bytes: only a checksum tells them apart.
    target.put("images/original/x.png", os.urandom(1234))
    status, output = await run(target, tmp_path, buckets=[target.bucket])
    assert status == 0, output
    assert "copied 1 objects" in output
    assert "skipped 4 already there" in output
    assert target.get("images/original/x.png")[0] == OBJECTS["images/original/x.png"]


async def test_dry_run_writes_nothing(target, tmp_path):
    fill_local(target, OBJECTS)
    status, output = await run(target, tmp_path, buckets=[target.bucket], dry_run=True)
    assert status == 0
    assert "dry run: would copy 5 objects, skipped 0" in output
    assert target.keys() == set()


async def test_interrupted_run_resumes(target, tmp_path):
    many = {f"images/{i:02d}.jpg": os.urandom(5000 + i) for i in range(10)}
    fill_local(target, many)
    settings = target.make_settings()
    source = source_storage(settings, [target.bucket])
    storage = create_storage(target_settings(env_file(target, tmp_path), (target.bucket,)))
    await storage.start()
    try:

        class Interrupted(Migration):
            def advance(self, item: Item) -> None:
                super().advance(item)
                if self.done == 3:
                    running.cancel()  # as Ctrl-C would

        first = Interrupted(source, storage, concurrency=1, stream=io.StringIO())
        running = asyncio.create_task(first.run())
        with pytest.raises(asyncio.CancelledError):
            await running
        assert first.summary.copied == 3
        assert len(target.keys()) == 3

        second = Migration(source, storage, concurrency=4, stream=io.StringIO())
        summary = await second.run()
    finally:
        await storage.close()
    assert (summary.copied, summary.skipped, summary.failed) == (7, 3, [])
    for key, body in many.items():
        assert target.get(key)[0] == body


def test_cli_failure_then_rerun(target, tmp_path, data_path):
    fill_local(target, {"ok/1.jpg": b"one", "ok/2.jpg": b"two", "ok/3.jpg": b"three"})
    fill_local(target, {"bad\\name.jpg": b"a key no store may hold"})
    source_env = tmp_path / "source.env"
    source_env.write_text(f"DATA_PATH={data_path}\n")
    argv = [
        sys.executable,
        "-m",
        "proxy",
        "migrate",
        "--env-file",
        str(source_env),
        "--to-env-file",
        str(env_file(target, tmp_path)),
        "--buckets",
        target.bucket,
    ]

    def cli() -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120)

    first = cli()
    assert first.returncode == 1, first.stderr
    # stderr is a pipe, as in a log: whole lines, the final state last and only once.
    progress = first.stderr.splitlines()
    assert progress[-1].startswith("copying: 100%") and progress[-1].endswith("4/4 objects]")
    assert "\r" not in first.stderr and len(progress) == len(set(progress))
    assert "copied 3 objects" in first.stdout
    assert "failed 1" in first.stdout
    assert f"failed: {target.bucket}/bad\\name.jpg: backslash in key" in first.stdout
    assert target.get("ok/3.jpg")[0] == b"three"

    (data_path / "storage" / target.bucket / "bad\\name.jpg").unlink()
    second = cli()
    assert second.returncode == 0, second.stderr
    assert "copied 0 objects" in second.stdout
    assert "skipped 3 already there, failed 0" in second.stdout


async def test_missing_target_bucket_fails_before_copying(target, tmp_path):
    ghost = unique_bucket("ghost")
    fill_local(target, {"a.jpg": b"x"}, ghost)
    status, output = await run(target, tmp_path, buckets=[ghost])
    assert status == 1
    assert f"target: {target.provider}: bucket missing (bucket {ghost}" in output


async def test_unknown_source_bucket_is_refused(target, tmp_path):
    status, output = await run(target, tmp_path, buckets=["no-such-folder"])
    assert status == 2
    assert output.startswith("error: no such bucket folder under ")
