import asyncio
import time

from proxy import metrics
from proxy.web.loop_lag import PERIOD, LoopLag


def late_samples(at_least: float) -> float:
    for family in metrics.EVENT_LOOP_LAG.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels["le"] == "+Inf":
                total = sample.value
            if sample.name.endswith("_bucket") and float(sample.labels["le"]) == at_least:
                below = sample.value
    return total - below


async def test_a_stalled_loop_shows_in_the_lag():
    before = late_samples(0.1)
    lag = LoopLag()
    lag.start()
    try:
        await asyncio.sleep(0)  # the watcher has scheduled its wake-up
        time.sleep(PERIOD + 0.3)  # the loop is blocked well past it
        for _ in range(100):
            if late_samples(0.1) > before:
                break
            await asyncio.sleep(0.05)
        assert late_samples(0.1) >= before + 1
    finally:
        await lag.close()
