import asyncio
import os
from pathlib import Path

import pytest

from proxy.cache.flight import Abandon, Committed, Failed, Flight, Handoff, HandoffTaken
from tests.cache.helpers import meta, stream_of


@pytest.mark.parametrize(
    ("written", "size", "asked", "keep"),
    [
        (60, 100, False, True),  # more than half done
        (40, 100, False, False),  # not yet half
        (0, 100, True, True),  # a 304 or a range asked for it
        (0, 10_000, True, False),  # asked, but more than the limit remains
        (6000, 10_000, False, False),  # half done, more than the limit remains
        (0, -1, True, False),  # size unknown
    ],
)
def test_when_an_abandoned_fill_is_finished_anyway(written, size, asked, keep):
    assert Abandon(limit=1000).keep_going(written, size, asked) is keep


async def test_a_committed_flight_hands_every_waiter_its_own_entry(tmp_path):
    path = tmp_path / "body"
    path.write_bytes(b"committed body")
    flight = Flight("k", Abandon(0), tmp_path)
    waiters = [asyncio.create_task(flight.join()) for _ in range(3)]
    await asyncio.sleep(0)
    fd = os.open(path, os.O_RDONLY)
    flight.move(Committed(meta(14), fd=fd, path=path))
    entries = await asyncio.gather(*waiters)
    flight.finish()  # the flight's own descriptor goes; each entry keeps its own
    assert [e.read_all() for e in entries] == [b"committed body"] * 3
    for entry in entries:
        entry.close()


async def test_a_failure_reaches_every_waiter():
    flight = Flight("k", Abandon(0), Path(os.devnull))
    waiters = [asyncio.create_task(flight.join()) for _ in range(3)]
    await asyncio.sleep(0)
    flight.move(Failed(ValueError("store down")))
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)


async def test_an_uncacheable_stream_goes_to_one_waiter_only():
    flight = Flight("k", Abandon(0), Path(os.devnull))
    from proxy.cache.results import Fill

    flight.move(Handoff(Fill(meta(3), stream=stream_of(b"abc"))))
    first = await flight.join()
    assert first.meta.size == 3
    with pytest.raises(HandoffTaken):
        await flight.join()
