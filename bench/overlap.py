"""How busy the worker keeps its GPU while jobs wait: the pipeline's running time over the wall time
of a backlog, with encoding and storing overlapped with the next render (the default) and without.

    python -m bench.overlap [--jobs 12]

On this CPU-only machine the "GPU" is the CPU that also encodes, so overlap competes for the same two
cores; on a GPU host rendering and encoding use different hardware and the gain is larger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import open_store
from generator.loader import PipelineCache
from generator.worker import Worker, WorkerConfig
from tests.tiny_models import build_tiny_ltx, preset_entry


async def busy_fraction(
    tmp: Path, catalog: PresetCatalog, cache: PipelineCache, jobs: int, overlap: bool
) -> float:
    store = await open_store(str(tmp / f"overlap-{overlap}.db"))
    try:
        await store.settings.update_settings(1, max_queued_per_user=1000, daily_clips_per_user=1000)
        for i in range(jobs):
            plan = resolve_spec(JobSpec(f"clip {i}", model="bench"), catalog)
            await store.jobs.enqueue(1, 1, 1 + i % 4, plan.spec, estimate_gpu_seconds(plan))
        worker = Worker(
            store, catalog, cache, WorkerConfig("bench", ("bench",), idle_wait_s=0.1, overlap=overlap)
        )
        started = time.perf_counter()
        await worker.run(asyncio.Event(), max_jobs=jobs)
        wall = time.perf_counter() - started
        assert worker.completed == jobs
        return worker.render_seconds / wall
    finally:
        await store.close()


async def main(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = build_tiny_ltx(tmp / "tiny-ltx")
        preset = preset_entry(
            "ltx-video",
            model,
            sizes={"3:2": [384, 256]},
            default_aspect="3:2",
            default_frames=121,
            default_steps=12,
            max_steps=50,
        )
        presets = tmp / "presets.json"
        presets.write_text(json.dumps({"default": "bench", "bench": preset}))
        catalog = PresetCatalog.load(presets)
        cache = PipelineCache(device="cpu")
        await busy_fraction(tmp, catalog, cache, 1, True)  # load the pipeline once
        print(f"## GPU busy fraction over a backlog of {jobs} clips (384x256, 121 frames, tiny LTX on CPU)\n")
        print("| encoding | busy fraction |")
        print("|---|---|")
        for overlap in (False, True):
            fraction = await busy_fraction(tmp, catalog, cache, jobs, overlap)
            how = "overlapped with the next render" if overlap else "after each render"
            print(f"| {how} | {fraction:.1%} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=12)
    asyncio.run(main(parser.parse_args().jobs))
