"""Which presets a worker offers: only those it can load here (folders and caches built in tmp_path)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from db.presets import PresetCatalog
from db.store import Store
from generator.availability import NoWeights, check_presets, heartbeat_while_starting, servable_presets

BUILTINS = ("ltx-video", "ltx-video-distilled", "wan-1.3b", "wan-14b", "cogvideox-2b", "cogvideox-5b")


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts from an empty Hugging Face cache, whatever this machine has downloaded."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def pipeline_folder(folder: Path, index: str = '{"_class_name": "LTXPipeline"}') -> Path:
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text(index)
    return folder


def cache_pipeline(hub_cache: Path, repo_id: str) -> None:
    """Lay out ``repo_id`` in a hub cache as `hf download` does: a snapshot and refs/main naming it."""
    repo = hub_cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")


def catalog_with(tmp_path: Path, sources: dict[str, str]) -> PresetCatalog:
    """The built-in presets plus ``name -> source`` presets, from a presets file as an operator writes it."""
    presets = {name: {"base": "ltx-video", "source": source} for name, source in sources.items()}
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(presets))
    return PresetCatalog.load(path)


def test_a_local_folder_with_a_model_index_is_served_and_the_rest_skipped(tmp_path: Path) -> None:
    folder = pipeline_folder(tmp_path / "models" / "ltx")
    empty = tmp_path / "models" / "empty"
    empty.mkdir()
    broken = pipeline_folder(tmp_path / "models" / "broken", index="{not json")
    catalog = catalog_with(
        tmp_path,
        {"mine": str(folder), "empty": str(empty), "broken": str(broken), "gone": str(tmp_path / "gone")},
    )
    found = check_presets(catalog, None, offline=False)
    assert found.served == [("mine", f"local folder {folder}")]
    skipped = dict(found.skipped)
    assert skipped["empty"] == f"no model_index.json in {empty}"
    assert skipped["broken"] == f"unreadable model_index.json in {broken}"
    assert skipped["gone"] == f"no folder {tmp_path / 'gone'}"
    assert all(skipped[name] == "no weights on this machine" for name in BUILTINS)


def test_a_hub_pipeline_in_the_hugging_face_cache_is_served(tmp_path: Path, empty_hub_cache: Path) -> None:
    cache_pipeline(empty_hub_cache, "Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    catalog = catalog_with(tmp_path, {})
    assert servable_presets(catalog, None, offline=True) == [("wan-1.3b", "in the Hugging Face cache")]


def test_the_cache_under_hf_home_counts_when_hf_hub_cache_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    cache_pipeline(tmp_path / "hf-home" / "hub", "THUDM/CogVideoX-2b")
    assert servable_presets(catalog_with(tmp_path, {}), None, offline=False) == [
        ("cogvideox-2b", "in the Hugging Face cache")
    ]


@pytest.mark.parametrize("offline", [False, True])
def test_a_first_start_with_nothing_on_disk_serves_the_default_preset_once_fetched(
    tmp_path: Path, offline: bool
) -> None:
    found = check_presets(catalog_with(tmp_path, {}), None, offline=offline, gpu_gb=None)
    how = "waiting for its weights" if offline else "fetching its weights"
    assert found.served == [("ltx-video", f"first start: {how}")]
    assert found.fetch == ("ltx-video",)
    assert "ltx-video" not in dict(found.skipped) and "wan-14b" in dict(found.skipped)


def test_with_nothing_on_disk_and_a_default_that_cannot_be_fetched_the_worker_says_how_to_fix_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "presets.json"
    path.write_text(
        json.dumps({"default": "mine", "mine": {"base": "ltx-video", "source": str(tmp_path / "gone")}})
    )
    with pytest.raises(NoWeights, match="no preset has weights on this machine") as refused:
        servable_presets(PresetCatalog.load(path), None, offline=False)
    assert "VIDEOBOT_PRESETS" in str(refused.value) and "--models" in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("offline", [False, True])
def test_a_named_preset_missing_here_is_served_once_fetched(tmp_path: Path, offline: bool) -> None:
    folder = pipeline_folder(tmp_path / "ltx")
    catalog = catalog_with(tmp_path, {"mine": str(folder)})
    found = check_presets(catalog, ["wan-14b", "mine"], offline=offline, gpu_gb=None)
    how = "waiting for its weights" if offline else "fetching"
    assert found.served == [("wan-14b", f"named with --models; {how}"), ("mine", f"local folder {folder}")]
    assert found.fetch == ("wan-14b",)


def test_a_named_preset_whose_folder_is_missing_is_refused_even_online(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, {"mine": str(tmp_path / "gone")})
    with pytest.raises(NoWeights, match="no weights for mine: no folder"):
        servable_presets(catalog, ["mine"], offline=False)


def test_an_unknown_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown model preset\(s\): sora"):
        servable_presets(catalog_with(tmp_path, {}), ["sora"], offline=False)


def test_the_summary_says_what_is_served_and_skipped_in_one_short_line(
    tmp_path: Path, empty_hub_cache: Path
) -> None:
    folder = pipeline_folder(tmp_path / "ltx")
    cache_pipeline(empty_hub_cache, "Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    catalog = catalog_with(tmp_path, {"mine": str(folder), "mine-slow": str(folder)})
    summary = check_presets(catalog, None, offline=False).summary()
    assert summary == (
        f"serves: wan-1.3b (in the Hugging Face cache), mine, mine-slow (local folder {folder}); "
        "skipped: ltx-video, ltx-video-distilled, ltx-video-cpu, wan-14b, cogvideox-2b, cogvideox-5b, ltx-2, "
        "ltx-2-distilled, ltx-2.3, ltx-2.3-distilled, ltx-2.5, wan-2.2-5b "
        "(no weights on this machine)"
    )


async def test_a_worker_that_loads_for_long_stays_listed_as_starting(store: Store) -> None:
    await store.workers.register_worker("w1", "host", "cpu", ["tiny-ltx"], state="starting")
    beating = asyncio.create_task(heartbeat_while_starting(store, "w1", interval_s=0.05))
    try:
        await asyncio.sleep(0.6)
        # the bot forgets workers not seen for max_age_s: here far less time than the worker has loaded
        live = await store.workers.live_workers(max_age_s=0.3)
        assert [(w.worker_id, w.state) for w in live] == [("w1", "starting")]
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
