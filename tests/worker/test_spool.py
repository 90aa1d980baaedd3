"""A finished render outlives the worker that made it: a worker that dies while encoding or storing
costs the seconds of the encode, not the minutes of the render, when the job is claimed again here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Store
from generator import spool
from generator.loader import PipelineCache
from tests.worker.test_worker import make_worker, submit


def test_a_kept_render_reads_back_whole_with_its_sound(tmp_path: Path, catalog: PresetCatalog) -> None:
    plan = resolve_spec(JobSpec("a kite", model="tiny-ltx"), catalog)
    frames = np.random.default_rng(1).integers(0, 255, (9, plan.height, plan.width, 3), dtype=np.uint8)
    audio = np.linspace(-1, 1, 2 * 4800, dtype=np.float32).reshape(2, 4800)
    key = spool.job_key(plan.spec.to_json(), 7, 1.5)
    assert spool.keep(tmp_path, 3, key, frames, 12.5, audio, 48000) is not None
    kept = spool.take(tmp_path, 3, key, plan)
    assert kept is not None and kept.seconds == 12.5 and kept.sample_rate == 48000
    assert (
        np.array_equal(kept.frames, frames) and kept.audio is not None and np.array_equal(kept.audio, audio)
    )
    assert spool.take(tmp_path, 3, spool.job_key(plan.spec.to_json(), 8, 1.5), plan) is None  # another job
    assert [p.name for p in tmp_path.iterdir()] == [f"3-{key}.npz"]  # no partial file left behind


def test_a_render_that_does_not_fit_or_is_cut_short_is_removed_not_used(
    tmp_path: Path, catalog: PresetCatalog
) -> None:
    plan = resolve_spec(JobSpec("a kite", model="tiny-ltx"), catalog)
    key = "0123456789abcdef"
    wrong = np.zeros((4, plan.height + 8, plan.width, 3), dtype=np.uint8)
    spool.keep(tmp_path, 1, key, wrong, 1.0)
    assert spool.take(tmp_path, 1, key, plan) is None and not spool.path_for(tmp_path, 1, key).exists()
    spool.path_for(tmp_path, 2, key).write_bytes(b"PK\x03\x04 cut short by a full disk")
    assert spool.take(tmp_path, 2, key, plan) is None and not spool.path_for(tmp_path, 2, key).exists()


def test_at_start_partial_files_of_dead_writers_and_day_old_renders_go(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead_partial = tmp_path / f".5-0123456789abcdef.{gone.pid}.part"
    live_partial = tmp_path / f".6-0123456789abcdef.{os.getppid()}.part"  # a writer still at work
    old, fresh = tmp_path / "7-0123456789abcdef.npz", tmp_path / "8-0123456789abcdef.npz"
    for path in (dead_partial, live_partial, old, fresh):
        path.write_bytes(b"x")
    day_ago = time.time() - spool.STALE_S - 60
    os.utime(old, (day_ago, day_ago))
    assert sorted(spool.remove_stale(tmp_path)) == sorted([dead_partial, old])
    assert live_partial.exists() and fresh.exists()


async def test_a_render_left_by_a_dead_worker_is_encoded_by_the_next_without_rendering_again(
    store: Store, catalog: PresetCatalog, cache: PipelineCache, tmp_path: Path
) -> None:
    kept_in = tmp_path / "rendered"
    job = await submit(store, catalog, JobSpec("a lighthouse at dusk", model="tiny-ltx", seed=3))
    first = make_worker(store, catalog, cache, worker_id="w1", spool_dir=str(kept_in))
    claimed = await store.jobs.claim_next("w1", ["tiny-ltx"], 10.0)
    assert claimed is not None
    output = await first.render_job(claimed, asyncio.Event())
    assert output is not None
    await first.keep_render(claimed, output)  # what deliver does alongside the encode …
    await store.jobs.heartbeat(claimed.id, "w1", step=1, total_steps=1, lease_s=10.0, rendered=True)
    assert await store.jobs.release_dead_worker("w1") == [job.id]  # … when the worker is killed right then

    second = make_worker(store, catalog, cache, worker_id="w2", spool_dir=str(kept_in))
    await second.run(asyncio.Event(), max_jobs=1)
    done = await store.jobs.get(job.id)
    assert done is not None and done.state == "done" and done.attempts == 0, done
    assert second.renders_kept == 1 and second.render_seconds < output.seconds / 2
    assert done.gpu_seconds == output.seconds  # the member's GPU time is the render's, counted once
    media = await store.jobs.get_media(job.id)
    assert media is not None and media.video[4:8] == b"ftyp"
    assert list(kept_in.iterdir()) == []  # stored: the kept render is gone


async def test_renders_kept_for_jobs_that_ended_elsewhere_are_removed_at_start(
    store: Store, catalog: PresetCatalog, cache: PipelineCache, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "rendered"
    job = await submit(store, catalog, JobSpec("a boat", model="tiny-ltx"))
    plan = resolve_spec(job.spec, catalog)
    key = spool.job_key(job.spec.to_json(), job.guild_id, job.created_at)
    spool.keep(tmp_path, job.id, key, np.zeros((2, plan.height, plan.width, 3), np.uint8), 1.0)
    spool.keep(tmp_path, 999, key, np.zeros((2, plan.height, plan.width, 3), np.uint8), 1.0)  # not ours
    await store.jobs.cancel(job.id, job.user_id)
    worker = make_worker(store, catalog, cache, spool_dir=str(tmp_path))
    await worker.run(asyncio.Event(), max_jobs=0)
    assert [p.name for p in tmp_path.iterdir()] == [f"999-{key}.npz"]
