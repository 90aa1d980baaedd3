"""Rendering through the real diffusers pipelines (tiny, random weights, loaded by from_pretrained)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from generator.encode import encode_mp4
from generator.loader import PipelineCache, module_bytes
from generator.render import RenderCancelled, RenderFailed, render
from tests.mp4probe import probe

CATALOG = PresetCatalog.load(presets_file="")


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


@pytest.fixture(params=["ltx", "wan"])
def model(request: pytest.FixtureRequest, tiny_ltx: Path, tiny_wan: Path) -> Path:
    return tiny_ltx if request.param == "ltx" else tiny_wan


def test_render_makes_the_frames_asked_for(model: Path, cache: PipelineCache, tmp_path: Path) -> None:
    plan = resolve_spec(JobSpec("a cat on a beach", model=str(model), seconds=2, seed=1), CATALOG)
    out = render(plan, cache=cache)
    assert out.frames.dtype == np.uint8
    assert out.frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    clip = encode_mp4(out.frames, out.fps, tmp_path / "clip.mp4")
    facts = probe(clip.path)
    assert facts.frames == plan.num_frames
    assert facts.duration == pytest.approx(plan.num_frames / plan.fps, abs=0.07)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)


def test_same_seed_same_frames_other_seed_other_frames(model: Path, cache: PipelineCache) -> None:
    def frames(seed: int) -> np.ndarray:
        return render(
            JobSpec("waves on rocks", model=str(model), seed=seed), catalog=CATALOG, cache=cache
        ).frames

    first, again, other = frames(7), frames(7), frames(8)
    assert np.array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 1.0


def test_progress_reports_every_step(model: Path, cache: PipelineCache) -> None:
    seen: list[tuple[int, int]] = []
    render(
        JobSpec("a dog", model=str(model), steps=5),
        lambda s, t: seen.append((s, t)),
        catalog=CATALOG,
        cache=cache,
    )
    assert seen == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_cancel_stops_at_the_next_step(model: Path, cache: PipelineCache) -> None:
    steps: list[int] = []
    with pytest.raises(RenderCancelled):
        render(
            JobSpec("a dog", model=str(model), steps=8),
            lambda step, total: steps.append(step),
            lambda: len(steps) >= 3,  # cancelled while step 2 runs
            catalog=CATALOG,
            cache=cache,
        )
    assert steps == [0, 1, 2]


def test_pipelines_stay_warm_and_the_oldest_is_evicted(tiny_ltx: Path, tiny_wan: Path) -> None:
    ltx = CATALOG.resolve(str(tiny_ltx))
    wan = CATALOG.resolve(str(tiny_wan))
    assert ltx is not None and wan is not None
    probe_cache = PipelineCache(device="cpu")
    sizes = sorted([module_bytes(probe_cache.get(ltx)), module_bytes(probe_cache.get(wan))])
    one = sizes[1]
    # room for either tiny model, not both
    cache = PipelineCache(device="cpu", budget_bytes=sizes[1] + sizes[0] // 2)
    first = cache.get(ltx)
    assert cache.get(ltx) is first and cache.loads == 1  # loaded once per process
    cache.get(wan)
    assert cache.loads == 2 and cache.warm() == [str(tiny_wan)]
    assert cache.get(ltx) is not first and cache.loads == 3  # it had been evicted
    big = PipelineCache(device="cpu", budget_bytes=one * 10)
    big.get(ltx), big.get(wan), big.get(ltx)
    assert big.loads == 2 and big.warm() == [str(tiny_wan), str(tiny_ltx)]


def test_a_broken_model_fails_with_a_reason_and_the_next_render_works(
    tiny_ltx: Path, tmp_path: Path, cache: PipelineCache
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_ltx, broken)
    for weights in (broken / "transformer").glob("*.safetensors"):
        weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(RenderFailed, match="not available"):
        render(JobSpec("a cat", model=str(broken)), catalog=CATALOG, cache=cache)
    assert render(JobSpec("a cat", model=str(tiny_ltx)), catalog=CATALOG, cache=cache).frames.size > 0


def test_out_of_memory_fails_with_a_reason_and_the_next_render_works(
    tiny_ltx: Path, tmp_path: Path, cache: PipelineCache
) -> None:
    greedy = tmp_path / "greedy"
    shutil.copytree(tiny_ltx, greedy)
    settings = json.loads((greedy / "videobot.json").read_text())
    # a 200k-token prompt window: the text encoder's attention asks the allocator for terabytes
    settings["call_kwargs"] = {"max_sequence_length": 200_000}
    (greedy / "videobot.json").write_text(json.dumps(settings))
    with pytest.raises(RenderFailed, match="ran out of memory"):
        render(JobSpec("a cat", model=str(greedy)), catalog=CATALOG, cache=cache)
    assert render(JobSpec("a cat", model=str(tiny_ltx)), catalog=CATALOG, cache=cache).frames.size > 0


def test_speedups_keep_the_frames_and_can_be_switched_off(
    tiny_ltx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.speedups import apply_speedups

    base = CATALOG.resolve(str(tiny_ltx))
    assert base is not None
    stock = render(
        JobSpec("a cat", model=str(tiny_ltx), seed=3), catalog=CATALOG, cache=PipelineCache(device="cpu")
    )

    cache = PipelineCache(device="cpu")
    pipe = cache.get(base)
    fast = {"attention_backend": "auto", "compile": True, "compile_backend": "eager"}
    monkeypatch.setenv("VIDEOBOT_SPEEDUPS", "off")
    assert apply_speedups(pipe, fast, cache.device, allow_cpu=True) == []
    monkeypatch.delenv("VIDEOBOT_SPEEDUPS")
    assert apply_speedups(pipe, fast, cache.device) == []  # the CPU keeps stock diffusers by default
    applied = apply_speedups(pipe, fast, cache.device, allow_cpu=True)
    assert applied == ["attention=native", "compile_repeated_blocks(eager)"]
    faster = render(JobSpec("a cat", model=str(tiny_ltx), seed=3), catalog=CATALOG, cache=cache)
    assert np.array_equal(stock.frames, faster.frames)
