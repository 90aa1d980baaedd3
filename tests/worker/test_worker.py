"""The GPU worker against the real job store (SQLite file) and the tiny real pipelines."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Job, Store
from generator.loader import PipelineCache
from generator.worker import Worker, WorkerConfig
from tests.mp4probe import probe
from tests.processes import WorkerProcess

GUILD, CHANNEL, USER = 1001, 2002, 3003


def make_worker(store: Store, catalog: PresetCatalog, cache: PipelineCache, **config: object) -> Worker:
    settings = {"worker_id": "w1", "models": tuple(catalog.names()), "progress_interval_s": 0.05, **config}
    return Worker(store, catalog, cache, WorkerConfig(**settings))  # type: ignore[arg-type]


async def submit(store: Store, catalog: PresetCatalog, spec: JobSpec, user: int = USER) -> Job:
    plan = resolve_spec(spec, catalog)
    return await store.jobs.enqueue(GUILD, CHANNEL, user, plan.spec, estimate_gpu_seconds(plan))


async def wait_for(store: Store, job_id: int, predicate: object, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await store.jobs.get(job_id)
        if job is not None and predicate(job):  # type: ignore[operator]
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached the expected state: {await store.jobs.get(job_id)}")


async def test_a_queued_job_becomes_a_stored_clip(
    store: Store, catalog: PresetCatalog, cache: PipelineCache, tmp_path: Path
) -> None:
    job = await submit(store, catalog, JobSpec("a cat on a beach", model="tiny-wan", seconds=2, seed=5))
    worker = make_worker(store, catalog, cache)
    await worker.run(asyncio.Event(), max_jobs=1)

    done = await store.jobs.get(job.id)
    assert done is not None and done.state == "done", done
    assert (done.width, done.height, done.frames) == (64, 32, 33)
    assert done.step == done.total_steps == 2  # progress reached the last step
    media = await store.jobs.get_media(job.id)
    assert media is not None
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(media.video)
    facts = probe(clip)
    assert (facts.codec, facts.pix_fmt, facts.faststart, facts.frames) == ("h264", "yuv420p", True, 33)
    assert done.video_bytes is not None
    assert facts.size == done.video_bytes <= 10 * 1024 * 1024
    assert media.poster[:8] == b"\x89PNG\r\n\x1a\n"
    assert done.gpu_seconds is not None and done.gpu_seconds > 0


async def test_progress_is_written_while_rendering_and_cancel_stops_it(
    store: Store, catalog: PresetCatalog, cache: PipelineCache
) -> None:
    slow = await submit(store, catalog, JobSpec("a long storm", model="tiny-slow"))
    after = await submit(store, catalog, JobSpec("a quick cat", model="tiny-ltx"), user=USER + 1)
    worker = make_worker(store, catalog, cache)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop, max_jobs=2))

    midway = await wait_for(store, slow.id, lambda j: j.state == "running" and j.step >= 3)
    assert midway.total_steps == 100_000 and midway.worker_id == "w1"
    assert await store.jobs.cancel(slow.id, USER)
    # the worker sees the cancel at its next heartbeat, stops, and takes the next job
    await wait_for(store, after.id, lambda j: j.state == "done")
    await asyncio.wait_for(running, 30)
    cancelled = await store.jobs.get(slow.id)
    assert cancelled is not None and cancelled.state == "cancelled"
    assert cancelled.step < 100_000 and await store.jobs.get_media(slow.id) is None


async def test_a_failing_render_fails_only_that_job(
    store: Store, catalog: PresetCatalog, cache: PipelineCache, tmp_path: Path
) -> None:
    greedy = await submit(store, catalog, JobSpec("a cat", model="tiny-ltx"))
    good = await submit(store, catalog, JobSpec("a dog", model="tiny-ltx"), user=USER + 1)
    # the worker's catalog has a broken tiny-ltx: the text encoder asks for terabytes
    base = catalog.get("tiny-ltx")
    assert base is not None
    from dataclasses import replace

    broken = PresetCatalog([replace(base, call_kwargs={"max_sequence_length": 200_000})], default="tiny-ltx")
    await make_worker(store, broken, cache).run(asyncio.Event(), max_jobs=1)
    failed = await store.jobs.get(greedy.id)
    assert failed is not None and failed.state == "failed"
    assert failed.error_code == "out_of_memory"
    assert failed.error is not None and "ran out of memory" in failed.error
    await make_worker(store, catalog, cache).run(asyncio.Event(), max_jobs=1)
    ok = await store.jobs.get(good.id)
    assert ok is not None and ok.state == "done"


async def test_sigterm_hands_the_running_job_back_and_exits(
    store: Store, catalog: PresetCatalog, presets_file: Path, tmp_path: Path
) -> None:
    job = await submit(store, catalog, JobSpec("a long storm", model="tiny-slow"))
    worker = WorkerProcess(tmp_path / "videobot.db", presets_file)
    worker.start()
    assert worker.process is not None
    try:
        await wait_for(store, job.id, lambda j: j.state == "running" and j.step >= 2)
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0, worker.log()
    finally:
        worker.stop()
    back = await store.jobs.get(job.id)
    assert back is not None and back.state == "queued"
    assert back.attempts == 0  # a clean hand-back is not held against the job
    assert await store.workers.live_workers() == []
