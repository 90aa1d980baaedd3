"""A real `videobot worker` is in the registry while torch still loads, so the bot never says none is on."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import Store, WorkerInfo
from tests.processes import WorkerProcess
from tests.worker.test_worker import submit, wait_for

# sitecustomize for the worker process: `import torch` runs only once the gate file exists, so the test
# sees the worker exactly as it is while torch loads (on a slow disk or a cold start: seconds to minutes)
HOLD_TORCH = """
import importlib.machinery
import os
import sys
import time


class GatedLoader(importlib.machinery.SourceFileLoader):
    def exec_module(self, module):
        while not os.path.exists(os.environ["VIDEOBOT_TEST_TORCH_GATE"]):
            time.sleep(0.05)
        super().exec_module(module)


class HoldTorch:
    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = GatedLoader(spec.loader.name, spec.loader.path)
        return spec


sys.meta_path.insert(0, HoldTorch())
"""


async def first_registration(store: Store, worker: WorkerProcess, timeout: float = 30) -> WorkerInfo:
    """The first worker row the store lists, as soon as there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = await store.workers.live_workers()
        if workers:
            return workers[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"the worker never registered:\n{worker.log()}")


async def test_a_worker_is_listed_as_starting_while_torch_loads_and_ready_once_it_claims(
    store: Store, catalog: PresetCatalog, presets_file: Path, tmp_path: Path
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOLD_TORCH)
    gate = tmp_path / "torch-may-load"
    empty_cache = tmp_path / "hf-cache"
    empty_cache.mkdir()
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p),
        "VIDEOBOT_TEST_TORCH_GATE": str(gate),
        "HF_HUB_CACHE": str(empty_cache),  # the built-in hub presets have no weights here
    }
    worker = WorkerProcess(tmp_path / "videobot.db", presets_file, env=env)
    worker.start()
    try:
        starting = await first_registration(store, worker)
        assert starting.state == "starting"
        assert set(starting.models) == {
            "tiny-ltx",
            "tiny-wan",
            "tiny-slow",
            "tiny-ltx2",
            "tiny-wan22",
            "tiny-hd",
        }
        assert "tiny-ltx" in starting.note and "wan-14b" in starting.note
        announced = [line for line in worker.log().splitlines() if " serves: " in line]
        assert len(announced) == 1 and "local folder" in announced[0], worker.log()
        assert "skipped: ltx-video" in announced[0] and "(no weights on this machine)" in announced[0]

        gate.touch()
        job = await submit(store, catalog, JobSpec("a kite over the sea", model="tiny-ltx"))
        await wait_for(store, job.id, lambda j: j.state == "done", timeout=120)
        ready = await store.workers.live_workers()
        assert [(w.worker_id, w.state) for w in ready] == [(starting.worker_id, "ready")]
        assert ready[0].started_at == starting.started_at  # the same row, not a second registration
    finally:
        worker.stop()
