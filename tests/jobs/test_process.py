"""One supervised render process: started, handed jobs, and killed when a job goes wrong."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from proxy.converter.args import FrameArgs
from proxy.converter.refs import Position
from proxy.errors import (
    GatewayTimeout,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from proxy.jobs.pool import child_environment
from proxy.jobs.process import JobFailed, JobResult, RenderProcess
from proxy.jobs.protocol import Job, RangedSource
from proxy.sniff import sniff
from tests.converter.media import frame_index, mean_grey, video
from tests.jobs.helpers import CRASH, EAT, LIMITS, SPIN, held, image, preview_job

MIB = 1 << 20


@pytest.fixture
async def process():
    process = RenderProcess(256 * MIB, child_environment(os.environ))
    await process.start()
    yield process
    await process.kill()


async def test_a_started_process_renders_jobs_one_after_another(process, tmp_path):
    assert process.alive and process.pid not in (0, os.getpid())
    for width in (40, 60):
        result = await process.run(preview_job(tmp_path, image(), width=width), 30, None)
        assert result.format == "jpeg" and result.file is None
        assert sniff(result.body).format == "jpeg" and result.size == len(result.body)
    assert process.jobs == 2 and process.alive


async def test_kill_ends_the_process_and_may_be_repeated(process):
    pid = process.pid
    await process.kill()
    assert not process.alive and process.pid == pid
    await process.kill()
    assert not os.path.exists(f"/proc/{pid}")  # killed and reaped: no zombie left


async def test_a_refused_source_keeps_the_process(process, tmp_path):
    with pytest.raises(JobFailed) as failed:
        await process.run(preview_job(tmp_path, b"not an image at all"), 30, None)
    assert failed.value.outcome == "refused"
    assert isinstance(failed.value.error, UnsupportedMediaType)
    assert process.alive
    result = await process.run(preview_job(tmp_path, image()), 30, None)
    assert sniff(result.body).format == "jpeg"


@pytest.mark.parametrize(
    ("source", "outcome", "error", "words"),
    [
        (CRASH, "crash", Unprocessable, "decoder crashed"),
        (SPIN, "timeout", GatewayTimeout, "longer than 0.5s"),
        (EAT, "memory", Unprocessable, "needs more than 256 MiB"),
    ],
    ids=["crash", "spin", "eat"],
)
async def test_a_job_that_goes_wrong_costs_its_process(
    process, tmp_path, source, outcome, error, words
):
    with pytest.raises(JobFailed) as failed:
        await process.run(preview_job(tmp_path, source), 0.5 if source == SPIN else 30, None)
    assert failed.value.outcome == outcome
    assert isinstance(failed.value.error, error) and words in str(failed.value.error)
    assert not process.alive


async def run_held(process: RenderProcess, tmp_path: Path, gate: Path) -> asyncio.Task[JobResult]:
    """A job the render process holds until `gate` exists, once it has been handed over."""
    running = asyncio.create_task(process.run(preview_job(tmp_path, held(gate)), 30, None))
    for _ in range(2000):
        if process.jobs == 1:
            return running
        await asyncio.sleep(0.005)
    raise AssertionError("the job never reached the process")


async def test_a_sigterm_to_the_process_group_does_not_crash_a_render(process, tmp_path):
    # A control-group stop signals every process; the server drains, so the render it waits
    # for must finish rather than die.
    gate = tmp_path / "gate"
    running = await run_held(process, tmp_path, gate)
    for signum in (signal.SIGTERM, signal.SIGINT):
        os.kill(process.pid, signum)
    gate.touch()
    result = await running
    assert result.format == "jpeg" and process.alive


async def test_a_job_nobody_waits_for_any_more_kills_its_process(process, tmp_path):
    gate = tmp_path / "never"
    running = await run_held(process, tmp_path, gate)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert not process.alive


async def test_a_process_that_cannot_start_is_a_503(tmp_path):
    broken = RenderProcess(256 * MIB, {"PYTHONHOME": str(tmp_path / "no-python-here")})
    with pytest.raises(ServiceUnavailable, match="cannot start"):
        await broken.start()
    assert not broken.alive


async def test_a_ranged_source_is_read_through_the_server(process, tmp_path):
    body = video("mp4", "mpeg4", frames=30)
    asked: list[tuple[int, int]] = []

    async def fetch(start: int, end: int) -> bytes:
        asked.append((start, end))
        return body[start : end + 1]

    args = FrameArgs(Position("f", 12), 0, "png", LIMITS)
    job = Job("videoframe", RangedSource(len(body), "v.mp4"), args, tmp_path / "o", "b/v.mp4")
    result = await process.run(job, 30, fetch)
    assert result.format == "png" and frame_index(mean_grey(result.body)) == 12
    assert asked and all(0 <= start <= end < len(body) for start, end in asked)
    assert process.alive


def _maps(pid: int) -> str:
    with open(f"/proc/{pid}/maps") as f:
        return f.read()


def _address_limits(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/limits") as f:
        line = next(line for line in f if line.startswith("Max address space"))
    soft, hard = line.split()[3:5]
    return int(soft), int(hard)


async def test_the_video_decoder_is_loaded_by_the_first_job_that_needs_it(process, tmp_path):
    await process.run(preview_job(tmp_path, image()), 30, None)
    assert "libavcodec" not in _maps(process.pid)  # previews alone never load FFmpeg
    soft, hard = _address_limits(process.pid)
    assert soft < hard
    body = video("mp4", "mpeg4", frames=3)

    async def fetch(start: int, end: int) -> bytes:
        return body[start : end + 1]

    args = FrameArgs(Position("f", 1), 0, "png", LIMITS)
    job = Job("videoframe", RangedSource(len(body), "v.mp4"), args, tmp_path / "o", "b/v.mp4")
    assert (await process.run(job, 30, fetch)).format == "png"
    assert "libavcodec" in _maps(process.pid)
    # The ceiling grew by what the import mapped, within the room kept for it, no further.
    widened, same_hard = _address_limits(process.pid)
    assert soft < widened <= hard and same_hard == hard


async def test_a_ranged_read_the_store_fails_is_the_jobs_failure_not_the_processes(
    process, tmp_path
):
    body = video("mp4", "mpeg4", frames=10)

    async def fetch(start: int, end: int) -> bytes:
        raise NotFound("the object went away")

    args = FrameArgs(Position("f", 1), 0, "png", LIMITS)
    job = Job("videoframe", RangedSource(len(body), "v.mp4"), args, tmp_path / "o", "b/v.mp4")
    with pytest.raises(JobFailed) as failed:
        await process.run(job, 30, fetch)
    assert failed.value.outcome == "refused" and failed.value.error.status == 422
    assert process.alive


async def test_what_the_decoder_said_reaches_the_server_log_with_the_source(
    process, tmp_path, caplog
):
    truncated = image()[:-2000]  # a JPEG cut short: libvips complains, then gives up
    with (
        caplog.at_level(logging.WARNING, logger="proxy.render"),
        pytest.raises(JobFailed) as failed,
    ):
        await process.run(preview_job(tmp_path, truncated, name="abc/cut.jpg"), 30, None)
    assert failed.value.outcome == "refused" and process.alive
    lines = [r for r in caplog.records if r.name == "proxy.render"]
    assert lines and all(r.getMessage().startswith("abc/cut.jpg: ") for r in lines)
    assert all(r.levelno in (logging.WARNING, logging.ERROR) for r in lines)
