"""Workers that die: a SIGKILLed worker's job is claimed again within seconds, a worker whose host keeps
failing jobs pauses instead of failing the queue, and a dead worker's temp folders are removed."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import Store, open_store
from generator.loader import PipelineCache
from generator.processes import pid_space
from generator.worker import remove_leftovers
from tests.processes import WorkerProcess
from tests.tmpfs import fill, small_disk
from tests.worker.test_worker import make_worker, submit, wait_for
from videobot.run import WORKER_ID_FILE_ENV, release_dead_worker


async def test_a_killed_workers_job_is_claimed_again_within_ten_seconds(
    store: Store,
    catalog: PresetCatalog,
    presets_file: Path,
    tmp_path: Path,
) -> None:
    database = tmp_path / "videobot.db"
    job = await submit(store, catalog, JobSpec("a long storm", model="tiny-slow"))
    id_file = tmp_path / "first.id"
    first = WorkerProcess(database, presets_file, env={WORKER_ID_FILE_ENV: str(id_file)})
    second = WorkerProcess(database, presets_file)
    first.start()
    try:
        await wait_for(store, job.id, lambda j: j.state == "running" and j.step >= 1, timeout=120)
        second.start()
        deadline = time.monotonic() + 120
        while len([w for w in await store.workers.live_workers() if w.state == "ready"]) < 2:
            assert time.monotonic() < deadline, second.log()
            await asyncio.sleep(0.1)
        first.kill()
        killed_at = time.monotonic()
        # what `videobot run` does when it sees a worker child exit
        assert await asyncio.to_thread(release_dead_worker, str(database), id_file.read_text()) == [job.id]
        again = await wait_for(
            store, job.id, lambda j: j.state == "running" and j.worker_id != first_id(id_file), timeout=10
        )
        assert time.monotonic() - killed_at <= 10
        assert again.attempts == 1
    finally:
        first.stop()
        second.stop()


def first_id(id_file: Path) -> str:
    return id_file.read_text().strip()


async def test_a_worker_whose_host_keeps_failing_jobs_pauses_and_leaves_the_rest_queued(
    tmp_path: Path,
    catalog: PresetCatalog,
    cache: PipelineCache,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder's parent should be")  # fails for root too
    broken = await open_store(str(tmp_path / "videobot.db"), media_dir=blocker / "media")
    try:
        jobs = [
            await submit(broken, catalog, JobSpec(f"a cat {i}", model="tiny-ltx"), user=10 + i)
            for i in range(5)
        ]
        worker = make_worker(broken, catalog, cache, pause_s=300.0)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 120
        while not any(w.state == "paused" for w in await broken.workers.live_workers()):
            assert time.monotonic() < deadline and not running.done()
            await asyncio.sleep(0.1)
        states = [(await broken.jobs.get(j.id)).state for j in jobs]  # type: ignore[union-attr]
        assert states.count("failed") == 3 and states.count("queued") == 2, states
        (paused,) = await broken.workers.live_workers()
        assert "store_failed" in paused.note and "3 jobs in a row" in paused.note
        stop.set()
        await asyncio.wait_for(running, 30)
    finally:
        await broken.close()


def test_temp_folders_of_dead_workers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    gone = tmp_path / f"videobot-{dead_pid}-7-abc"
    (gone / "frames").mkdir(parents=True)
    (gone / ".clip.mp4.x1.part.mp4").write_bytes(b"half a clip")
    mine = tmp_path / f"videobot-{os.getpid()}-8-def"
    mine.mkdir()
    other = tmp_path / "videobot-pg-xyz"  # not a worker's
    other.mkdir()
    assert remove_leftovers(tmp_path) == [gone]
    assert not gone.exists() and mine.exists() and other.exists()


async def test_a_starting_worker_releases_dead_predecessors_here_but_not_a_namesake_hosts_workers(
    store: Store, catalog: PresetCatalog, cache: PipelineCache
) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid, host = int(dead.stdout), socket.gethostname()
    here, elsewhere = pid_space(), "another-boot-of-another-machine:4026531836"
    assert here is not None
    await store.workers.register_worker("dead-here", host, "cpu", ["tiny-ltx"], pid=dead_pid, pid_space=here)
    await store.workers.register_worker(
        "namesake", host, "cpu", ["tiny-ltx"], pid=dead_pid, pid_space=elsewhere
    )
    ours = await submit(store, catalog, JobSpec("a storm", model="tiny-ltx"), user=1)
    theirs = await submit(store, catalog, JobSpec("a calm", model="tiny-ltx"), user=2)
    assert (await store.jobs.claim_next("dead-here", ["tiny-ltx"], 60.0)).id == ours.id  # type: ignore[union-attr]
    assert (await store.jobs.claim_next("namesake", ["tiny-ltx"], 60.0)).id == theirs.id  # type: ignore[union-attr]

    await make_worker(store, catalog, cache, worker_id="successor").run(asyncio.Event(), max_jobs=0)
    assert (await store.jobs.get(ours.id)).state == "queued"  # type: ignore[union-attr]
    # a machine with the same host name: its pid is not ours to judge; its lease still runs
    assert (await store.jobs.get(theirs.id)).state == "running"  # type: ignore[union-attr]
    assert [w.worker_id for w in await store.workers.workers_on_host(host)] == ["namesake"]


async def test_a_full_temp_disk_is_waited_out_with_the_render_kept_and_the_clip_stored(
    store: Store,
    catalog: PresetCatalog,
    cache: PipelineCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with small_disk(tmp_path / "small-temp", "2m") as temp:
        monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the worker encodes
        filler = temp / "filler"
        fill(filler)
        job = await submit(store, catalog, JobSpec("a kite over a full disk", model="tiny-ltx"))
        worker = make_worker(store, catalog, cache, retry_first_s=0.05, retry_max_s=0.2)
        caplog.set_level(logging.WARNING, logger="generator.worker")
        running = asyncio.create_task(worker.run(asyncio.Event(), max_jobs=1))
        try:
            await wait_until_logged(caplog, "disk is full")
            assert (await store.jobs.get(job.id)).state == "running"  # type: ignore[union-attr]
            filler.unlink()  # the operator frees some space
            await asyncio.wait_for(running, 60)
        finally:
            running.cancel()
    done = await store.jobs.get(job.id)
    assert done is not None and done.state == "done" and done.attempts == 0, done
    assert worker.render_seconds > 0 and caplog.text.count("disk is full") == 1


async def wait_until_logged(caplog: pytest.LogCaptureFixture, words: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while words not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        await asyncio.sleep(0.05)
