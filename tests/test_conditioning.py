"""Clips that build on a picture or on another clip, and clips with sound, through the real diffusers
conditioning pipelines (tiny random weights, built by from_pipe from the loaded text-to-video pipeline).

Random weights reproduce nothing, so no test here asks a frame to look like the picture; what holds is
what the pipelines do by construction: the conditioning decides the clip (same input and seed, same
clip; other input, other clip), Wan 2.2's first frame is the picture's alone, and a continuation uses
exactly the parent's last ``continue_frames`` frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from db.presets import PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_spec
from generator.loader import PipelineCache, derive_pipeline, module_bytes
from generator.render import Conditioning, RenderCancelled, RenderFailed, RenderOutput, fit_image, render
from tests.tiny_models import preset_entry

CONDITIONED = ["tiny-ltx", "tiny-ltx2", "tiny-wan22"]


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


def picture(seed: int, width: int = 150, height: int = 100) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def clip(seed: int, frames: int = 30, width: int = 80, height: int = 50) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def plan_for(catalog: PresetCatalog, model: str, seed: int = 1, **spec: object) -> RenderPlan:
    return resolve_spec(JobSpec("waves on rocks", model=model, seed=seed, seconds=1, **spec), catalog)  # type: ignore[arg-type]


def run(
    catalog: PresetCatalog, cache: PipelineCache, model: str, condition: Conditioning, seed: int = 1
) -> RenderOutput:
    return render(plan_for(catalog, model, seed), catalog=catalog, cache=cache, condition=condition)


def differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def disc(width: int, height: int, radius: int) -> np.ndarray:
    """A white disc of ``radius`` at the centre of a black ``width``×``height`` picture, with a red bar
    down the left and a blue bar down the right edge."""
    y, x = np.mgrid[:height, :width]
    image = np.zeros((height, width, 3), np.uint8)
    image[(x - width / 2 + 0.5) ** 2 + (y - height / 2 + 0.5) ** 2 <= radius**2] = 255
    image[:, :10] = (255, 0, 0)
    image[:, -10:] = (0, 0, 255)
    return image


def extent(image: np.ndarray) -> tuple[int, int]:
    """Width and height of the white region."""
    white = (image.astype(int).min(axis=2) > 127).nonzero()
    return int(np.ptp(white[1])) + 1, int(np.ptp(white[0])) + 1


def test_fitting_a_wide_picture_to_a_square_cuts_the_sides_and_keeps_a_circle_round() -> None:
    wide = disc(200, 100, radius=40)  # 2:1
    square = fit_image(wide, 64, 64)
    assert square.shape == (64, 64, 3) and square.dtype == np.uint8
    width, height = extent(square)
    assert abs(width - height) <= 1  # squeezing the 2:1 picture would make it twice as tall as wide
    assert width == pytest.approx(80 * 64 / 100, abs=2)  # the centre 100×100 scaled to 64×64
    # the bars at the sides were cut away with the rest of the sides, not squeezed in
    edges = np.concatenate([square[:, :3], square[:, -3:]])
    assert edges[..., 0].max() < 60 and edges[..., 2].max() < 60

    tall = fit_image(disc(100, 300, radius=20), 128, 72)  # 1:3 to 16:9: cut top and bottom
    assert tall.shape == (72, 128, 3)
    width, height = extent(tall)
    assert abs(width - height) <= 1 and width == pytest.approx(40 * 128 / 100, abs=2)
    same_aspect = fit_image(wide, 100, 50)  # only resized
    assert abs(extent(same_aspect)[0] - extent(same_aspect)[1]) <= 1 and extent(same_aspect)[0] == 40


@pytest.mark.parametrize("model", CONDITIONED)
def test_the_same_picture_and_seed_give_the_same_clip_another_picture_another(
    model: str, catalog: PresetCatalog, cache: PipelineCache
) -> None:
    first = run(catalog, cache, model, Conditioning(image=picture(1)))
    again = run(catalog, cache, model, Conditioning(image=picture(1)))
    other = run(catalog, cache, model, Conditioning(image=picture(2)))
    plan = first.plan
    assert first.frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    assert np.array_equal(first.frames, again.frames)
    assert differ(first.frames, other.frames) > 0.5


def test_a_wan22_clip_starts_from_its_picture_whatever_the_seed_and_prompt(
    catalog: PresetCatalog, cache: PipelineCache
) -> None:
    start = Conditioning(image=picture(3))
    one = run(catalog, cache, "tiny-wan22", start, seed=1)
    two = render(
        resolve_spec(JobSpec("a dragon over mountains", model="tiny-wan22", seed=2, seconds=1), catalog),
        catalog=catalog,
        cache=cache,
        condition=start,
    )
    assert np.array_equal(one.frames[0], two.frames[0])  # the picture, through the VAE
    assert differ(one.frames[1:], two.frames[1:]) > 0.5  # the rest follows seed and prompt
    other = run(catalog, cache, "tiny-wan22", Conditioning(image=picture(4)), seed=1)
    assert differ(one.frames[0], other.frames[0]) > 0.5


@pytest.mark.parametrize("model", CONDITIONED)
def test_a_continuation_is_only_the_frames_after_the_parents_last(
    model: str, catalog: PresetCatalog, cache: PipelineCache
) -> None:
    out = run(catalog, cache, model, Conditioning(frames=clip(1)))  # a parent of another size
    plan = out.plan
    # the continuation starts at the parent's last frame; that frame and those before it are dropped
    assert out.frames.shape == (plan.num_frames - 1, plan.height, plan.width, 3)


@pytest.mark.parametrize("model", CONDITIONED)
def test_a_continuation_follows_exactly_the_parents_last_continue_frames(
    model: str, catalog: PresetCatalog, cache: PipelineCache
) -> None:
    preset = catalog.get(model)
    assert preset is not None
    tail = preset.continue_frames
    parent = clip(5)
    earlier_differs = parent.copy()
    earlier_differs[: len(parent) - tail] = clip(6)[: len(parent) - tail]
    tail_differs = parent.copy()  # in the first of the frames it should condition on
    tail_differs[len(parent) - tail] = clip(7)[0]
    base = run(catalog, cache, model, Conditioning(frames=parent))
    assert np.array_equal(
        base.frames, run(catalog, cache, model, Conditioning(frames=earlier_differs)).frames
    )
    assert differ(base.frames, run(catalog, cache, model, Conditioning(frames=tail_differs)).frames) > 0.5


def test_continuing_a_plain_ltx_folder_builds_the_condition_pipeline_on_the_same_weights(
    catalog: PresetCatalog, tiny_ltx: Path
) -> None:
    cache = PipelineCache(device="cpu")
    preset = catalog.get("tiny-ltx")
    assert preset is not None and json.loads((tiny_ltx / "model_index.json").read_text())["_class_name"] == (
        "LTXPipeline"
    )
    text = render(plan_for(catalog, "tiny-ltx"), catalog=catalog, cache=cache)
    parent = cache.get(preset)
    size = module_bytes(parent)
    more = run(catalog, cache, "tiny-ltx", Conditioning(frames=text.frames))
    derived = cache.derived(preset)
    assert list(derived) == ["LTXConditionPipeline"]
    condition = derived["LTXConditionPipeline"]
    assert type(condition).__name__ == "LTXConditionPipeline"
    for name in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(condition, name) is getattr(parent, name), name  # one copy of the weights
    assert cache.loads == 1 and module_bytes(parent) == size
    assert more.frames.shape[0] == text.plan.num_frames - 1
    run(catalog, cache, "tiny-ltx", Conditioning(image=text.frames[-1]))
    assert cache.get(preset, "LTXConditionPipeline") is condition  # built once, kept warm


def test_evicting_a_model_evicts_the_pipelines_built_from_it(
    catalog: PresetCatalog, tiny_ltx: Path, tiny_wan: Path
) -> None:
    ltx, wan = catalog.get("tiny-ltx"), catalog.get("tiny-wan")
    assert ltx is not None and wan is not None
    probe = PipelineCache(device="cpu")
    sizes = sorted([module_bytes(probe.get(ltx)), module_bytes(probe.get(wan))])
    cache = PipelineCache(device="cpu", budget_bytes=sizes[1] + sizes[0] // 2)  # room for one
    cache.get(ltx, "LTXConditionPipeline")
    assert list(cache.derived(ltx)) == ["LTXConditionPipeline"]
    cache.get(wan)
    assert cache.warm() == [str(tiny_wan)] and cache.derived(ltx) == {}


def test_deriving_a_pipeline_copies_and_casts_no_weight(tiny_wan22: Path) -> None:
    from diffusers import WanPipeline

    # bf16 as on a GPU, with the layers transformers and diffusers keep in float32
    parent = WanPipeline.from_pretrained(str(tiny_wan22), dtype=torch.bfloat16)
    before = {
        (name, key): (tensor.dtype, tensor.data_ptr())
        for name, component in parent.components.items()
        if isinstance(component, torch.nn.Module)
        for key, tensor in component.state_dict().items()
    }
    assert {dtype for dtype, _ in before.values()} == {torch.bfloat16, torch.float32}
    derived = derive_pipeline(parent, "WanImageToVideoPipeline")
    assert type(derived).__name__ == "WanImageToVideoPipeline" and derived.config.expand_timesteps
    after = {
        (name, key): (tensor.dtype, tensor.data_ptr())
        for name, component in derived.components.items()
        if isinstance(component, torch.nn.Module)
        for key, tensor in component.state_dict().items()
    }
    assert after == before


def test_ltx2_sound_lasts_as_long_as_its_clip(catalog: PresetCatalog, cache: PipelineCache) -> None:
    for condition in (Conditioning(), Conditioning(image=picture(1)), Conditioning(frames=clip(1))):
        out = run(catalog, cache, "tiny-ltx2", condition)
        assert out.audio is not None and out.sample_rate is not None, condition.mode
        assert out.audio.dtype == np.float32 and out.audio.ndim == 2 and out.audio.shape[0] in (1, 2)
        assert out.audio.shape[1] / out.sample_rate == pytest.approx(
            len(out.frames) / out.fps, abs=1 / out.fps
        )
        assert 0 < np.abs(out.audio).max() <= 1.0


def test_a_muted_spec_and_a_silent_model_give_no_sound(catalog: PresetCatalog, cache: PipelineCache) -> None:
    muted = render(plan_for(catalog, "tiny-ltx2", audio=False), catalog=catalog, cache=cache)
    assert muted.audio is None and muted.sample_rate is None and muted.frames.size > 0
    silent = render(plan_for(catalog, "tiny-wan22"), catalog=catalog, cache=cache)
    assert silent.audio is None and silent.sample_rate is None


def test_a_text_only_model_refuses_a_picture_or_a_clip_with_a_reason(
    catalog: PresetCatalog, cache: PipelineCache
) -> None:
    with pytest.raises(SpecError) as refused:
        resolve_spec(JobSpec("a cat", model="tiny-wan", start_image=True), catalog)
    assert refused.value.code == "no_image" and "tiny-ltx2" in str(refused.value)
    plan = plan_for(catalog, "tiny-wan")  # resolved before the presets changed, say
    for condition, code in (
        (Conditioning(image=picture(1)), "no_image_support"),
        (Conditioning(frames=clip(1)), "no_continue_support"),
        (Conditioning(image=picture(1), frames=clip(1)), "image_and_continue"),
    ):
        with pytest.raises(RenderFailed) as failed:
            render(plan, catalog=catalog, cache=cache, condition=condition)
        assert failed.value.code == code
    assert "cannot start from a picture" in str(RenderFailed("no_image_support", model="Tiny Wan"))


def test_a_preset_claiming_pictures_its_model_cannot_take_fails_with_a_reason(
    tiny_wan: Path, tmp_path: Path, cache: PipelineCache
) -> None:
    # Wan 2.1's text-to-video transformer takes no image latents, whatever a presets file says
    presets = tmp_path / "presets.json"
    presets.write_text(
        json.dumps({"wan-claims": preset_entry("wan-1.3b", tiny_wan, modes=["text", "image"])})
    )
    catalog = PresetCatalog.load(presets)
    plan = resolve_spec(JobSpec("a cat", model="wan-claims", start_image=True, seconds=1), catalog)
    with pytest.raises(RenderFailed) as failed:
        render(plan, catalog=catalog, cache=cache, condition=Conditioning(image=picture(1)))
    assert failed.value.code == "no_image_support"
    assert render(plan, catalog=catalog, cache=cache).frames.size > 0  # the model still renders text


def test_a_picture_that_is_no_picture_fails_with_a_reason(
    catalog: PresetCatalog, cache: PipelineCache
) -> None:
    for bad in (
        np.zeros((10, 10, 3), np.float32),
        np.zeros((4,), np.uint8),
        np.zeros((0, 8, 8, 3), np.uint8),
    ):
        condition = Conditioning(frames=bad) if bad.ndim == 4 else Conditioning(image=bad)
        with pytest.raises(RenderFailed) as failed:
            run(catalog, cache, "tiny-ltx", condition)
        assert failed.value.code == "unusable_input"
    grey_with_alpha = run(
        catalog, cache, "tiny-ltx", Conditioning(image=picture(1)[:, :, :1].repeat(4, axis=2))
    )
    grey = run(catalog, cache, "tiny-ltx", Conditioning(image=picture(1)[:, :, 0]))
    assert np.array_equal(grey.frames, grey_with_alpha.frames)


def test_a_conditioned_render_reports_progress_and_stops_when_cancelled(
    catalog: PresetCatalog, cache: PipelineCache
) -> None:
    seen: list[int] = []
    render(
        plan_for(catalog, "tiny-ltx2", steps=3),
        lambda step, total: seen.append(step),
        catalog=catalog,
        cache=cache,
        condition=Conditioning(frames=clip(1)),
    )
    assert seen == [0, 1, 2, 3]
    steps: list[int] = []
    with pytest.raises(RenderCancelled):
        render(
            plan_for(catalog, "tiny-wan22", steps=6),
            lambda step, total: steps.append(step),
            lambda: len(steps) >= 2,
            catalog=catalog,
            cache=cache,
            condition=Conditioning(image=picture(1)),
        )
    assert steps == [0, 1]
