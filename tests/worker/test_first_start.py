"""A worker's first start on a machine with no weights: it fetches the default preset's pipeline from
the hub (a stand-in on loopback, ``HF_ENDPOINT``), only the files that pipeline loads, says the size
first, and serves it; a second start fetches nothing; a start killed halfway resumes; offline it says
in one line what to run, and members hear that a worker is starting."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.submit import workers_note
from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import Store
from tests.hub_fake import FakeHub
from tests.processes import WorkerProcess
from tests.tiny_models import save_ltx_single_file, tiny_ltx_transformer
from tests.worker.test_startup import first_registration
from tests.worker.test_worker import submit, wait_for

# a worker without a GPU fetches the CPU draft preset: the pipeline of its source, less the transformer,
# and the distilled transformer's single file from the other repository (served here by the stand-in)
PRESET = "ltx-video-cpu"
REPO = "Lightricks/LTX-Video-0.9.5"
SINGLE_REPO = "Lightricks/LTX-Video"
SINGLE_FILE = "ltxv-2b-0.9.6-distilled-04-25.safetensors"
# what LTXPipeline loads from the tiny pipeline (tests/tiny_models.py), and the small files at the root;
# of the transformer only its config, since its weights come from the single file
PIPELINE_FILES = {
    "model_index.json",
    "videobot.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/tokenizer.json",
    "tokenizer/tokenizer_config.json",
    "transformer/config.json",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
}
# what the real repositories also hold, which no worker needs: single-file checkpoints of every
# release, pickled copies, the model card's media
NOT_NEEDED = {
    "ltx-video-2b-v0.9.safetensors": 2_000_000,
    "transformer/diffusion_pytorch_model.bin": 60_000,
    "media/trailer.gif": 300_000,
}


@pytest.fixture(scope="module")
def hub_repos(tmp_path_factory: pytest.TempPathFactory, tiny_ltx: Path) -> dict[str, Path]:
    """The tiny LTX pipeline laid out as the CPU preset's hub repository, and its distilled
    transformer (other weights than the pipeline's own) as a single file in the other, each with
    what else the real ones hold."""
    root = tmp_path_factory.mktemp("hub")
    pipeline = root / "LTX-Video-0.9.5"
    shutil.copytree(tiny_ltx, pipeline)
    single = root / "LTX-Video"
    single.mkdir()
    save_ltx_single_file(tiny_ltx_transformer(seed=7), single / SINGLE_FILE)
    for repo in (pipeline, single):
        for path, size in NOT_NEEDED.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_bytes(os.urandom(size))
    return {REPO: pipeline, SINGLE_REPO: single}


@pytest.fixture
def hub(hub_repos: dict[str, Path]) -> Iterator[FakeHub]:
    with FakeHub(dict(hub_repos)) as running:
        yield running


@pytest.fixture
def first_start_presets(tmp_path: Path, tiny_ltx: Path) -> Path:
    """The built-in presets, the CPU preset's clip made tiny (its sources stay on the hub)."""
    small = json.loads((tiny_ltx / "videobot.json").read_text())
    for field in ("base", "title", "cpu"):
        small.pop(field)
    path = tmp_path / "presets.json"
    path.write_text(json.dumps({PRESET: small}))
    return path


def fetched_bytes(hub: FakeHub) -> int:
    return (
        sum((hub.repos[REPO] / f).stat().st_size for f in PIPELINE_FILES)
        + (hub.repos[SINGLE_REPO] / SINGLE_FILE).stat().st_size
    )


def hub_env(hub: FakeHub, cache: Path, **extra: str) -> dict[str, str]:
    return {
        "HF_ENDPOINT": hub.url,
        "HF_HUB_CACHE": str(cache),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_TOKEN": "",
        "HF_HUB_OFFLINE": "0",
        **extra,
    }


async def start_and_render(store: Store, db: Path, presets: Path, env: dict[str, str], prompt: str) -> str:
    """A worker started again on the store at ``db`` renders one clip of the preset; its log."""
    worker = WorkerProcess(db, presets, env=env)
    worker.start()
    try:
        job = await submit(store, PresetCatalog.load(presets), JobSpec(prompt, model=PRESET, seed=3))
        await wait_for(store, job.id, lambda j: j.state == "done", timeout=120)
        return worker.log()
    finally:
        worker.stop()


async def test_a_first_start_fetches_only_the_default_pipeline_says_the_size_first_and_serves_it(
    store: Store, hub: FakeHub, first_start_presets: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "hf-cache"
    catalog = PresetCatalog.load(first_start_presets)
    worker = WorkerProcess(tmp_path / "videobot.db", first_start_presets, env=hub_env(hub, cache))
    worker.start()
    try:
        starting = await first_registration(store, worker, timeout=60)
        assert starting.state == "starting" and starting.models == (PRESET,)
        job = await submit(store, catalog, JobSpec("a kite over the sea", model=PRESET, seed=3))
        await wait_for(store, job.id, lambda j: j.state == "done", timeout=120)
        log = worker.log()
    finally:
        worker.stop()
    assert set(hub.fetched(REPO)) == PIPELINE_FILES
    assert hub.fetched(SINGLE_REPO) == [SINGLE_FILE]
    assert hub.bytes_sent() == fetched_bytes(hub)  # each file once, nothing of the rest
    lines = log.splitlines()
    said = [i for i, line in enumerate(lines) if line.startswith(f"{PRESET}: fetching ")]
    ready = [i for i, line in enumerate(lines) if line.startswith(f"{PRESET}: weights ready")]
    assert len(said) == 1 and len(ready) == 1 and said[0] < ready[0], log
    size = f"{fetched_bytes(hub) / 1000:.0f} kB"
    files = len(PIPELINE_FILES) + 1
    assert f"fetching {size} of {REPO} and {SINGLE_REPO} ({files} files" in lines[said[0]], lines[said[0]]
    assert "this worker renders on the CPU: a clip takes minutes, not seconds" in log

    # the second start finds everything in the cache and fetches nothing
    before = len(hub.fetched())
    db, env = tmp_path / "videobot.db", hub_env(hub, cache)
    second_log = await start_and_render(store, db, first_start_presets, env, "the kite lands")
    assert hub.fetched()[before:] == []
    assert "fetching" not in second_log, second_log


def partial_bytes(cache: Path) -> int:
    """Bytes of files fetched halfway (blobs/<etag>.incomplete)."""
    return sum(f.stat().st_size for f in cache.rglob("*.incomplete"))


async def test_a_fetch_killed_halfway_resumes_where_it_stopped(
    store: Store, hub: FakeHub, first_start_presets: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "hf-cache"
    hub.bytes_per_second = 60_000  # the VAE's 430 kB take about 7 s
    worker = WorkerProcess(tmp_path / "videobot.db", first_start_presets, env=hub_env(hub, cache))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while partial_bytes(cache) < 100_000:
            assert time.monotonic() < deadline, f"no partial download appeared:\n{worker.log()}"
            await asyncio.sleep(0.05)
        kept = partial_bytes(cache)
        worker.kill()
        assert "weights ready" not in worker.log()
    finally:
        worker.stop()
    assert kept >= 100_000
    hub.bytes_per_second = None
    before = len(hub.requests)
    db, env = tmp_path / "videobot.db", hub_env(hub, cache)
    log = await start_and_render(store, db, first_start_presets, env, "a kite over the sea")
    resumed = [r for r in hub.requests[before:] if r.method == "GET:file" and r.range_start > 0]
    assert resumed, f"no file was resumed:\n{log}"
    assert sum(r.range_start for r in resumed) >= 100_000  # what the killed start had, not fetched again
    assert partial_bytes(cache) == 0


async def test_offline_the_worker_says_in_one_line_what_to_run_and_members_hear_it_is_starting(
    store: Store, hub: FakeHub, first_start_presets: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "hf-cache"
    env = hub_env(hub, cache, HF_HUB_OFFLINE="1")
    worker = WorkerProcess(tmp_path / "videobot.db", first_start_presets, env=env)
    worker.start()
    try:
        starting = await first_registration(store, worker, timeout=60)
        assert starting.state == "starting" and starting.models == (PRESET,)
        deadline = time.monotonic() + 30
        while "videobot download" not in worker.log():
            assert time.monotonic() < deadline, worker.log()
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # time for a second line, which must not come
        assert worker.process is not None and worker.process.poll() is None, worker.log()
        told = [line for line in worker.log().splitlines() if "videobot download" in line]
        assert told == [
            f"{PRESET} (LTX-Video 2B distilled, CPU draft) has no weights here and HF_HUB_OFFLINE=1 forbids "
            f"fetching them: fetch them with `videobot download {PRESET}` (about 28 GB, into {cache}); this "
            "worker starts once they are there"
        ]
        assert "Traceback" not in worker.log()
        workers = await store.workers.live_workers()
        assert workers_note(workers, "en-US") == (
            "\nA GPU worker is starting; your clip begins as soon as it is ready."
        )
        assert hub.requests == []  # offline means offline

        # the command it named, run where the hub can be reached, and the waiting worker starts
        fetched = subprocess.run(
            [sys.executable, "-m", "videobot", "download", PRESET],
            env={**os.environ, "VIDEOBOT_PRESETS": str(first_start_presets), **hub_env(hub, cache)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert fetched.returncode == 0, fetched.stderr
        assert f"{PRESET}: weights ready" in fetched.stderr
        catalog = PresetCatalog.load(first_start_presets)
        job = await submit(store, catalog, JobSpec("a kite over the sea", model=PRESET, seed=3))
        await wait_for(store, job.id, lambda j: j.state == "done", timeout=120)
    finally:
        worker.stop()
