"""Rendering through the real diffusers pipelines (tiny, random weights, loaded by from_pretrained)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from generator.encode import encode_mp4
from generator.loader import GIB, PipelineCache, choose_offload, module_bytes, offload_kind
from generator.render import RenderCancelled, RenderFailed, render
from tests.mp4probe import audio_facts, probe

CATALOG = PresetCatalog.load(presets_file="")


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


@pytest.fixture(params=["ltx", "wan", "ltx2", "wan22"])
def model(
    request: pytest.FixtureRequest, tiny_ltx: Path, tiny_wan: Path, tiny_ltx2: Path, tiny_wan22: Path
) -> Path:
    return {"ltx": tiny_ltx, "wan": tiny_wan, "ltx2": tiny_ltx2, "wan22": tiny_wan22}[request.param]


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


def test_the_same_seed_decodes_the_same_whatever_drew_from_torchs_generator_before(
    cache: PipelineCache, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.tiny_models import build_tiny_ltx

    noisy = build_tiny_ltx(tmp_path_factory.mktemp("models") / "tiny-ltx-noisy", decoder_noise=True)
    spec = JobSpec("waves on rocks", model=str(noisy), seed=7)
    first = render(spec, catalog=CATALOG, cache=cache).frames
    torch.manual_seed(1234)
    torch.randn(1000)  # as loading a style does: peft initialises the adapters from torch's generator
    again = render(spec, catalog=CATALOG, cache=cache).frames
    assert np.array_equal(first, again)  # a reroll's seed is the clip's seed, whatever ran before


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


def test_an_ltx2_clip_plays_with_its_sound(tiny_ltx2: Path, cache: PipelineCache, tmp_path: Path) -> None:
    plan = resolve_spec(JobSpec("rain on a tin roof", model=str(tiny_ltx2), seconds=2, seed=1), CATALOG)
    out = render(plan, cache=cache)
    assert out.audio is not None and out.sample_rate is not None
    clip = encode_mp4(
        out.frames, out.fps, tmp_path / "clip.mp4", audio=out.audio, sample_rate=out.sample_rate
    )
    sound = audio_facts(clip.path)
    assert sound is not None and sound.codec == "aac"
    assert sound.duration == pytest.approx(plan.num_frames / plan.fps, abs=0.05)
    assert probe(clip.path).frames == plan.num_frames


def test_a_model_too_big_for_the_gpu_is_offloaded_and_the_cpu_never_offloads(tiny_ltx: Path) -> None:
    ltx2 = CATALOG.get("ltx-2")
    assert ltx2 is not None
    # LTX-2 in bf16: about 61 GiB of weights, the 19B transformer (35 GiB) the largest
    weights, largest = 61 * GIB, 35 * GIB
    assert offload_kind(ltx2, weights, largest, 80 * GIB) == "none"  # an H100 holds it all
    assert offload_kind(ltx2, weights, largest, 48 * GIB) == "model"  # one component at a time
    assert offload_kind(ltx2, weights, largest, 24 * GIB) == "group"  # only streamed layers fit
    assert offload_kind(replace(ltx2, offload="model"), weights, largest, 80 * GIB) == "model"
    assert offload_kind(replace(ltx2, gpu_memory_gb=0.0), weights, largest, 24 * GIB) == "none"  # unknown
    tiny = CATALOG.resolve(str(tiny_ltx))
    assert tiny is not None
    cpu = PipelineCache(device="cpu")
    pipe = cpu.get(replace(tiny, offload="group"))
    assert choose_offload(replace(tiny, offload="group"), pipe, cpu.device) == "none"
    assert pipe.device.type == "cpu"


def test_a_distilled_schedule_runs_the_steps_asked_for_and_reports_them(
    tiny_ltx2: Path, cache: PipelineCache, tmp_path: Path
) -> None:
    from tests.tiny_models import preset_entry

    distilled = CATALOG.get("ltx-2-distilled")
    assert distilled is not None and len(distilled.call_kwargs["sigmas"]) == distilled.max_steps == 8
    tiny = json.loads((tiny_ltx2 / "videobot.json").read_text())
    presets = tmp_path / "presets.json"
    entry = preset_entry(
        "ltx-2-distilled",
        tiny_ltx2,
        call_kwargs={**distilled.call_kwargs, **tiny["call_kwargs"]},
        default_steps=8,
        max_steps=8,
    )
    presets.write_text(json.dumps({"tiny-distilled": entry}))
    catalog = PresetCatalog.load(presets)

    def progress(steps: int | None) -> list[tuple[int, int]]:
        seen: list[tuple[int, int]] = []
        spec = JobSpec("a cat", model="tiny-distilled", steps=steps, seconds=1)
        render(spec, lambda step, total: seen.append((step, total)), catalog=catalog, cache=cache)
        return seen

    assert progress(None) == [(step, 8) for step in range(9)]  # the whole distilled schedule
    assert progress(3) == [(0, 3), (1, 3), (2, 3), (3, 3)]  # three of its sigmas


def test_ltx2s_masked_cross_attention_stays_on_native_attention_for_video_and_sound(tiny_ltx2: Path) -> None:
    from diffusers.models.attention_dispatch import AttentionBackendName

    from generator.speedups import keep_cross_attention_native

    preset = CATALOG.resolve(str(tiny_ltx2))
    assert preset is not None
    transformer = PipelineCache(device="cpu").get(preset).transformer
    # FlashAttention raises on the text-padding mask these take; the self-attention may use it
    assert keep_cross_attention_native(transformer, "flash") == 2
    backends = {
        name.rsplit(".", 1)[-1]: module.processor._attention_backend
        for name, module in transformer.named_modules()
        if hasattr(module, "processor")
    }
    assert backends["attn2"] == backends["audio_attn2"] == AttentionBackendName("native")
    assert backends["attn1"] != AttentionBackendName("native")
