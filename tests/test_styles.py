"""Styles (issue 20): LoRAs made with peft for the tiny LTX and Wan transformers, loaded into the warm
pipeline by generator/styles.py, hotswapped, taken out of play after each clip, and refused with a reason
when they cannot be used (another model's, a truncated file, a pickle), the worker serving on."""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench import styles as bench
from bench.styles import make_lora
from db.cost import estimate_gpu_seconds
from db.presets import Preset, PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import open_store
from generator.loader import PipelineCache
from generator.render import Conditioning, render
from generator.styles import StyleError, check_source, is_hub_source, style_name
from generator.worker import Worker, WorkerConfig
from tests.test_cli import videobot

GUILD, CHANNEL = 1, 2


@pytest.fixture(scope="module")
def loras(tiny_ltx: Path, tiny_wan: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two LTX styles of one rank, one of another rank, a Wan style, and broken files."""
    folder = tmp_path_factory.mktemp("loras")
    made = {
        "a": make_lora(tiny_ltx, folder / "style-a.safetensors", seed=1),
        "b": make_lora(tiny_ltx, folder / "style-b.safetensors", seed=2),
        "c": make_lora(tiny_ltx, folder / "style-c.safetensors", seed=3, rank=8, alpha=4),
        "wan": make_lora(tiny_wan, folder / "wan-style.safetensors", seed=4),
    }
    data = made["a"].read_bytes()
    truncated = folder / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) - 100])
    made["truncated"] = truncated
    pickled = folder / "pickled.safetensors"
    pickled.write_bytes(pickle.dumps({"transformer.x.lora_A.weight": [1.0, 2.0]}))
    made["pickle"] = pickled
    return made


def tiny(catalog: PresetCatalog) -> Preset:
    preset = catalog.get("tiny-ltx")
    assert preset is not None
    return preset


def frames(
    cache: PipelineCache, catalog: PresetCatalog, *loras: tuple[Path, float], model: str = "tiny-ltx"
) -> np.ndarray:
    spec = JobSpec(
        "a lighthouse at dusk",
        model=model,
        seconds=1,
        steps=2,
        seed=5,
        loras=tuple((str(p), s) for p, s in loras),
    )
    return render(spec, catalog=catalog, cache=cache).frames


def test_a_style_changes_the_clip_and_scale_zero_or_none_is_the_base_model(
    catalog: PresetCatalog, loras: dict[str, Path]
) -> None:
    cache = PipelineCache(device="cpu")
    base = frames(cache, catalog)
    styled = frames(cache, catalog, (loras["a"], 1.0))
    assert np.abs(base.astype(int) - styled.astype(int)).mean() > 1.0
    assert np.array_equal(frames(cache, catalog, (loras["a"], 0.0)), base)
    assert np.array_equal(frames(cache, catalog), base)  # nothing left behind
    half = frames(cache, catalog, (loras["a"], 0.5))
    assert not np.array_equal(half, styled) and not np.array_equal(half, base)
    # two at once: not either alone
    both = frames(cache, catalog, (loras["a"], 1.0), (loras["b"], 1.0))
    assert not np.array_equal(both, styled)
    assert cache.loads == 1


def test_switching_styles_leaves_nothing_behind(catalog: PresetCatalog, loras: dict[str, Path]) -> None:
    """A, B, none, A, C (another rank), A in one cache with one slot, so each new style is hotswapped in
    (C, of a higher rank, is loaded anew): each clip is that of a fresh cache with that style."""
    expected = {name: frames(PipelineCache(device="cpu"), catalog, (loras[name], 0.8)) for name in "abc"}
    expected["none"] = frames(PipelineCache(device="cpu"), catalog)
    cache = PipelineCache(device="cpu", style_slots=1)
    switches = []
    for name in ("a", "b", "none", "a", "c", "a"):
        got = frames(cache, catalog, *([] if name == "none" else [(loras[name], 0.8)]))
        assert np.array_equal(got, expected[name]), name
        styles = next(iter(cache._entries.values())).styles
        if name != "none":
            switches.append((styles.last.loaded, styles.last.swapped))
    assert switches == [(1, 0), (0, 1), (0, 1), (1, 0), (0, 1)]
    assert cache.loads == 1 and len(styles.slots) == 1


def test_a_style_applies_to_the_conditioning_pipeline_too(
    catalog: PresetCatalog, loras: dict[str, Path]
) -> None:
    cache = PipelineCache(device="cpu")
    picture = np.full((64, 64, 3), 120, np.uint8)

    def clip(*styles: tuple[str, float]) -> np.ndarray:
        spec = JobSpec("a boat", model="tiny-ltx", seconds=1, steps=2, seed=3, start_image=True, loras=styles)
        return render(spec, catalog=catalog, cache=cache, condition=Conditioning(image=picture)).frames

    base = clip()
    styled = clip((str(loras["a"]), 1.0))
    assert np.abs(base.astype(int) - styled.astype(int)).mean() > 1.0
    assert np.array_equal(clip(), base)
    assert "LTXConditionPipeline" in cache.derived(tiny(catalog))


def test_a_wan_style_renders_on_wan(catalog: PresetCatalog, loras: dict[str, Path]) -> None:
    cache = PipelineCache(device="cpu")
    base = frames(cache, catalog, model="tiny-wan")
    styled = frames(cache, catalog, (loras["wan"], 1.0), model="tiny-wan")
    assert not np.array_equal(base, styled)


def test_broken_styles_are_refused_with_a_reason(catalog: PresetCatalog, loras: dict[str, Path]) -> None:
    """Another model's LoRA, a truncated file and a pickle named .safetensors: each refused with its reason,
    the pipeline as it was (the base model's clip next, and the good style still works)."""
    cache = PipelineCache(device="cpu")
    base = frames(cache, catalog)
    styled = frames(cache, catalog, (loras["a"], 1.0))
    for name, words in [
        ("wan", "made for another model"),
        ("truncated", "truncated"),
        ("pickle", "not a safetensors file"),
    ]:
        with pytest.raises(StyleError) as caught:  # b is loaded, then the broken one refused
            frames(cache, catalog, (loras["b"], 1.0), (loras[name], 1.0))
        assert caught.value.code == "lora_unusable"
        assert words in caught.value.params["reason"], caught.value
        assert caught.value.params["style"] == loras[name].name
        assert caught.value.params["model"] == tiny(catalog).title
        assert np.array_equal(frames(cache, catalog), base)
    assert np.array_equal(frames(cache, catalog, (loras["a"], 1.0)), styled)


def test_sources_are_checked_before_loading(tmp_path: Path, loras: dict[str, Path]) -> None:
    assert check_source(str(loras["a"])).rank == 4
    for source, code, words in [
        (str(tmp_path / "missing.safetensors"), "lora_unavailable", "no file"),
        (str(loras["a"].with_suffix(".bin")), "lora_unavailable", "no file"),
    ]:
        with pytest.raises(StyleError) as caught:
            check_source(source)
        assert caught.value.code == code and words in str(caught.value)
    renamed = tmp_path / "weights.ckpt"
    renamed.write_bytes(loras["a"].read_bytes())
    with pytest.raises(StyleError, match=r"only \.safetensors"):
        check_source(str(renamed))
    no_lora = tmp_path / "plain.safetensors"
    import torch
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2, 2)}, str(no_lora))
    with pytest.raises(StyleError, match="no LoRA layers"):
        check_source(str(no_lora))
    # a hub id not in the cache, offline
    with pytest.raises(StyleError) as caught:
        check_source("Nobody/nothing-here/style.safetensors", offline=True)
    assert caught.value.code == "lora_unavailable"
    assert style_name("Org/Repo/sub/style.safetensors") == "style.safetensors"
    assert style_name("Org/Repo") == "Org/Repo"
    assert is_hub_source("Org/Repo") and is_hub_source("Org/Repo/a/b.safetensors")
    assert not is_hub_source(str(loras["a"])) and not is_hub_source("Org/Repo/readme.md")


async def test_the_worker_fails_a_broken_style_marks_it_and_serves_on(
    catalog: PresetCatalog, loras: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the operator's folder of styles: a server's style may name files on the GPU host only in it
    monkeypatch.setenv("VIDEOBOT_LORA_DIR", str(loras["a"].parent))
    store = await open_store(str(tmp_path / "videobot.db"))
    try:
        cache = PipelineCache(device="cpu")
        worker = Worker(
            store,
            catalog,
            cache,
            WorkerConfig(worker_id="w1", models=tuple(catalog.names()), progress_interval_s=0.05),
        )
        preset = tiny(catalog)

        async def run(spec: JobSpec) -> tuple[str, str | None, dict[str, object]]:
            plan = resolve_spec(spec, catalog)
            job = await store.jobs.enqueue(GUILD, CHANNEL, 3, plan.spec, estimate_gpu_seconds(plan))
            await worker.run(asyncio.Event(), max_jobs=1)
            ended = await store.jobs.get(job.id)
            assert ended is not None
            return ended.state, ended.error_code, dict(ended.error_params)

        ok = await store.styles.add(
            GUILD, "ink", str(loras["a"]), preset="tiny-ltx", family=preset.family, created_by=9
        )
        spec = JobSpec("a fox", model="tiny-ltx", seconds=1, steps=1, seed=1)
        state, _, _ = await run(replace(spec, loras=((ok.source, 1.0),), style=ok.id))
        assert state == "done"
        for n, name in enumerate(("wan", "truncated", "pickle")):
            style = await store.styles.add(
                GUILD, f"broken-{n}", str(loras[name]), preset="tiny-ltx", family=preset.family, created_by=9
            )
            styled = JobSpec(
                "a fox",
                model="tiny-ltx",
                seconds=1,
                steps=1,
                seed=1,
                loras=((style.source, 1.0),),
                style=style.id,
            )
            state, code, params = await run(styled)
            assert (state, code) == ("failed", "lora_unusable")
            assert params["style"] == loras[name].name and params["model"] == preset.title
            marked = await store.styles.get(style.id)
            assert marked is not None and marked.broken_code == "lora_unusable"
            assert marked.broken_params["reason"] == params["reason"]
            # the next job renders
            state, _, _ = await run(spec)
            assert state == "done"
        # a file elsewhere on the host: refused before it is looked at, and the style marked broken
        (tmp_path / "elsewhere.safetensors").write_bytes(loras["a"].read_bytes())
        outside = await store.styles.add(
            GUILD, "outside", str(tmp_path / "elsewhere.safetensors"), preset="tiny-ltx",
            family=preset.family, created_by=9,
        )  # fmt: skip
        state, code, params = await run(replace(spec, loras=((outside.source, 1.0),), style=outside.id))
        assert (state, code) == ("failed", "lora_unavailable") and "VIDEOBOT_LORA_DIR" in str(
            params["reason"]
        )
        marked = await store.styles.get(outside.id)
        assert marked is not None and marked.broken_code == "lora_unavailable"
        # the command line's --lora (no server style) may name any file
        state, _, _ = await run(replace(spec, loras=((outside.source, 1.0),)))
        assert state == "done"
        assert cache.loads == 1
        still = await store.styles.get(ok.id)
        assert still is not None and not still.broken
    finally:
        await store.close()


def test_generate_with_a_style_and_with_a_broken_one(
    tiny_ltx: Path, loras: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "clip.mp4"
    args = ["generate", "a cat", "-o", str(out), "--model", str(tiny_ltx), "--seconds", "1", "--steps", "2"]
    result = videobot(*args, "--lora", f"{loras['a']}:0.7")
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0
    out.unlink()
    for name in ("truncated", "pickle"):
        result = videobot(*args, "--lora", str(loras[name]))
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert loras[name].name in result.stderr
        assert not out.exists()
    result = videobot(*args, "--lora", f"{loras['wan']}:1")  # found out once the model is loaded
    assert result.returncode == 2
    assert "made for another model" in result.stderr
    assert not out.exists()


def test_the_styles_bench_times_each_switch(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--small"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| switch")]
    assert len(rows) == 4
    assert all(float(row.rstrip(" |").rsplit("| ", 1)[1]) >= 0 for row in rows)


def test_a_servers_style_names_files_on_the_gpu_host_only_in_the_operators_folder(tmp_path: Path) -> None:
    from generator.styles import check_server_source

    folder = tmp_path / "styles"
    folder.mkdir()
    check_server_source("someone/clay-lora")  # hub ids are fine
    check_server_source("someone/clay-lora/clay.safetensors")
    for source in ("/etc/ssh/ssh_host_key.safetensors", "../../x.safetensors", "~/x.safetensors"):
        with pytest.raises(StyleError) as refused:
            check_server_source(source, lora_dir="")  # no folder: no files at all
        assert refused.value.code == "lora_unavailable" and "VIDEOBOT_LORA_DIR" in str(refused.value)
    check_server_source(str(folder / "clay.safetensors"), lora_dir=str(folder))
    for source in (str(tmp_path / "elsewhere.safetensors"), f"{folder}/../elsewhere.safetensors"):
        with pytest.raises(StyleError):
            check_server_source(source, lora_dir=str(folder))


def test_a_hub_style_is_fetched_once_and_one_too_big_is_refused_before_a_byte_of_it(
    loras: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    import generator.styles as styles
    from tests.hub_fake import FakeHub

    repo = tmp_path / "clay"
    repo.mkdir()
    (repo / "clay.safetensors").write_bytes(loras["a"].read_bytes())
    (repo / "README.md").write_text("A claymation style.")
    cache = tmp_path / "hf-cache"
    with FakeHub({"someone/clay": repo}) as hub:
        # huggingface_hub reads HF_ENDPOINT when it is imported: point it at the stand-in hub
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)
        template = hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        monkeypatch.setattr(huggingface_hub.constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        got = styles.resolve_lora("someone/clay", offline=False, cache_dir=cache)  # its one .safetensors
        assert got.read_bytes() == loras["a"].read_bytes()
        assert styles.resolve_lora("someone/clay", offline=True, cache_dir=cache) == got  # cached
        assert hub.fetched("someone/clay").count("clay.safetensors") == 1

        monkeypatch.setattr(styles, "LORA_BYTES_MAX", 1000)  # a style this file is too big to be
        hub.requests.clear()
        with pytest.raises(StyleError) as refused:
            styles.resolve_lora("someone/clay/clay.safetensors", offline=False, cache_dir=tmp_path / "other")
        assert refused.value.code == "lora_unusable" and "GiB" in str(refused.value)
        assert hub.fetched("someone/clay") == []  # refused from the listing, nothing fetched
