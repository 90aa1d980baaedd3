"""A real `videobot worker` on a real PostgreSQL that goes away for seconds and comes back, or on a
SQLite store whose disk fills up: the worker waits it out, says so once, and loses no render."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import CapExceeded, Store, open_store, store_unavailable
from tests.processes import WorkerProcess
from tests.tmpfs import fill, small_disk
from tests.worker.conftest import PausableCluster
from tests.worker.test_worker import GUILD, USER, submit, wait_for

OUTAGE_S = 6.0


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[Store]:
    opened = await open_store(pg_url)
    yield opened
    await opened.close()


async def wait_ready(store: Store, worker: WorkerProcess, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w.state == "ready" for w in await store.workers.live_workers()):
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
    store: Store, pg_url: str, pausable_pg: PausableCluster, catalog: PresetCatalog, presets_file: Path
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
    store: Store,
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
        media = await store.jobs.get_media(job.id)
        assert media is not None and media.video[4:8] == b"ftyp"
        assert worker.process is not None and worker.process.poll() is None, worker.log()
        said_once(worker.log())
    finally:
        worker.stop()


async def test_a_clip_that_meets_a_full_disk_is_kept_and_stored_once_there_is_room(
    tmp_path: Path, catalog: PresetCatalog, presets_file: Path
) -> None:
    """SQLite and its media folder on one small disk that fills up while a clip renders: the worker
    keeps the clip until the disk has room again, then the job is done with it (not failed, not
    rendered twice), and no half-written file is left in the media folder."""
    with small_disk(tmp_path / "disk", "8m") as disk:
        database = disk / "videobot.db"
        store = await open_store(str(database))
        worker = WorkerProcess(database, presets_file, env={"TMPDIR": str(tmp_path)})
        filler = disk / "filler"
        try:
            job = await submit(store, catalog, JobSpec("a storm over the sea", model="tiny-slow", steps=60))
            worker.start()
            running = await wait_for(
                store, job.id, lambda j: j.state == "running" and j.step >= 1, timeout=120
            )
            await asyncio.to_thread(fill, filler)
            # the render (about a second) ends while the disk is full, for less than a lease
            await asyncio.sleep(OUTAGE_S)
            held = await store.jobs.get(job.id)
            assert held is not None and held.state == "running", (held, worker.log())
            filler.unlink()
            done = await wait_for(
                store, job.id, lambda j: j.state in ("done", "failed", "queued"), timeout=90
            )
            assert done.state == "done", (done, worker.log())
            assert (done.attempts, done.started_at) == (0, running.started_at)
            media = await store.jobs.get_media(job.id)
            assert media is not None and media.video[4:8] == b"ftyp"
            assert not [p.name for p in (disk / "media").iterdir() if p.name.endswith(".tmp")]
            assert worker.process is not None and worker.process.poll() is None, worker.log()
        finally:
            filler.unlink(missing_ok=True)
            worker.stop()
            await store.close()


async def test_while_postgres_is_away_every_member_call_fails_as_unavailable_and_refusals_do_not(
    store: Store, pausable_pg: PausableCluster, catalog: PresetCatalog
) -> None:
    """What /video and the other commands meet during an outage is recognised as one (the member is
    told to try again in a minute), and a refusal of the store is not mistaken for one."""
    await store.settings.update_settings(GUILD, max_queued_per_user=1)
    await submit(store, catalog, JobSpec("the one clip allowed", model="tiny-ltx"))
    with pytest.raises(CapExceeded) as refused:
        await submit(store, catalog, JobSpec("one too many", model="tiny-ltx"))
    assert not store_unavailable(refused.value)
    await asyncio.to_thread(pausable_pg.pause)
    try:
        calls = {
            "settings": lambda: store.settings.get_settings(GUILD),
            "workers": lambda: store.workers.live_workers(),
            "enqueue": lambda: submit(store, catalog, JobSpec("during", model="tiny-ltx"), user=USER + 1),
            "position": lambda: store.jobs.queue_position(1),
            "vote": lambda: store.votes.vote(1, USER + 2, 1),
        }
        for name, call in calls.items():
            with pytest.raises(Exception) as raised:  # whichever the backend raises
                await asyncio.wait_for(call(), 30)
            assert store_unavailable(raised.value), (name, repr(raised.value))
    finally:
        await asyncio.to_thread(pausable_pg.resume)
    assert (await store.settings.get_settings(GUILD)).max_queued_per_user == 1  # and it works again


async def test_an_outage_is_logged_once_and_no_wake_up_is_missed_before_listening_again(
    store: Store, pg_url: str, pausable_pg: PausableCluster, catalog: PresetCatalog,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A worker waiting for work during and right after an outage: its process log says once that the
    wake-ups were lost (not once per try, nor a traceback per reconnect of the pool), and a job queued
    after the database is back wakes it at once, before the listening connection is back."""
    caplog.set_level(logging.DEBUG)
    await outage(pausable_pg, OUTAGE_S)
    other = await open_store(pg_url)
    try:
        assert store._db._listener is None  # type: ignore[attr-defined]  # still backing off
        await submit(other, catalog, JobSpec("a job right after the outage", model="tiny-ltx"))
        started = time.monotonic()
        assert await store.jobs.wait_for_work(5.0)
        assert time.monotonic() - started < 2.0
    finally:
        await other.close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    said = [r.getMessage() for r in warnings if r.name == "db.postgres"]
    assert sum("was lost" in line for line in said) == 1, said
    assert sum("listening again failed" in line for line in said) <= 1, said  # not once per try
    assert not [r for r in warnings if r.name.startswith("asyncpg")], [r.getMessage() for r in warnings]
