"""A real `videobot worker` on a real PostgreSQL that goes away for seconds and comes back: the worker
waits it out, says so once, and loses no render."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import JobStore, open_store
from tests.processes import WorkerProcess
from tests.worker.conftest import PausableCluster
from tests.worker.test_worker import submit, wait_for

OUTAGE_S = 6.0


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[JobStore]:
    opened = await open_store(pg_url)
    yield opened
    await opened.close()


async def wait_ready(store: JobStore, worker: WorkerProcess, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w.state == "ready" for w in await store.live_workers()):
            return
        assert worker.process is not None and worker.process.poll() is None, worker.log()
        await asyncio.sleep(0.1)
    raise AssertionError(f"the worker never became ready:\n{worker.log()}")


async def outage(cluster: PausableCluster, seconds: float = OUTAGE_S) -> None:
    await asyncio.to_thread(cluster.pause)
    await asyncio.sleep(seconds)
    await asyncio.to_thread(cluster.resume)


def said_once(log: str) -> None:
    assert log.count("job store unreachable") == 1, log
    assert log.count("job store reachable again") == 1, log


async def test_an_idle_worker_waits_out_an_outage_and_serves_the_next_job(
    store: JobStore, pg_url: str, pausable_pg: PausableCluster, catalog: PresetCatalog, presets_file: Path
) -> None:
    worker = WorkerProcess(pg_url, presets_file)
    worker.start()
    try:
        await wait_ready(store, worker)
        await outage(pausable_pg)
        job = await submit(store, catalog, JobSpec("a cat after the outage", model="tiny-ltx"))
        done = await wait_for(store, job.id, lambda j: j.state in ("done", "failed"), timeout=90)
        assert done.state == "done", (done, worker.log())
        assert worker.process is not None and worker.process.poll() is None, worker.log()
        said_once(worker.log())
    finally:
        worker.stop()


async def test_a_render_finished_during_an_outage_is_stored_once_it_is_over(
    store: JobStore,
    pg_url: str,
    pausable_pg: PausableCluster,
    catalog: PresetCatalog,
    presets_file: Path,
) -> None:
    job = await submit(store, catalog, JobSpec("a storm over the sea", model="tiny-slow", steps=300))
    worker = WorkerProcess(pg_url, presets_file)
    worker.start()
    try:
        running = await wait_for(store, job.id, lambda j: j.state == "running" and j.step >= 1, timeout=120)
        # the database goes away mid-render and stays away after the render ended: storing it waits
        await outage(pausable_pg)
        done = await wait_for(store, job.id, lambda j: j.state in ("done", "failed", "queued"), timeout=90)
        assert done.state == "done", (done, worker.log())
        assert (done.attempts, done.started_at, done.worker_id) == (0, running.started_at, running.worker_id)
        media = await store.get_media(job.id)
        assert media is not None and media.video[4:8] == b"ftyp"
        assert worker.process is not None and worker.process.poll() is None, worker.log()
        said_once(worker.log())
    finally:
        worker.stop()
