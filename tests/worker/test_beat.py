"""The heartbeat beside a render always stops when the render ends. On Python 3.11 a cancel that lands
just as a heartbeat's store call returns can be lost (CPython gh-86296, in asyncio.wait_for); a beat
that then runs on renews the job's lease for ever, and the worker, waiting for it, never claims again
while no other worker may take the job (bench/scale.py saw 1 wedge in about 300 to 700 clips)."""

from __future__ import annotations

import asyncio
import contextlib

from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import Store
from generator.loader import PipelineCache
from generator.worker import _Beat, _Progress
from tests.worker.test_worker import make_worker, submit


async def test_the_heartbeat_stops_whenever_the_work_ends(
    store: Store, catalog: PresetCatalog, cache: PipelineCache
) -> None:
    worker = make_worker(store, catalog, cache, progress_interval_s=0.001)
    job = await submit(store, catalog, JobSpec("a lighthouse", model="ltx-video"))
    claimed = await store.jobs.claim_next("w1", ["ltx-video"], 60)
    assert claimed is not None and claimed.id == job.id
    for i in range(120):  # the work ends at every point of the beat's cycle
        beat = worker._beat(claimed, _Progress(20), None)
        for _ in range(i % 9):
            await asyncio.sleep(0)
        async with asyncio.timeout(5):  # not wait_for, which is what loses cancels
            await beat.stop()
        assert beat.task.done()


async def test_a_beat_stops_even_when_a_cancel_is_lost() -> None:
    ticks = 0

    async def keep_alive(halt: asyncio.Event) -> None:
        nonlocal ticks
        while not halt.is_set():
            ticks += 1
            # what asyncio.wait_for did when the call it waited on returned at that moment
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.001)

    beat = _Beat(keep_alive)
    await asyncio.sleep(0.01)
    async with asyncio.timeout(5):
        await beat.stop()
    assert beat.task.done() and ticks > 1
