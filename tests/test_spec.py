"""The job spec: every bad input a member can give is refused with a reason; defaults are filled in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from db.presets import PresetCatalog, PresetError
from db.spec import JobSpec, SpecError, resolve_spec


@pytest.fixture(scope="module")
def catalog() -> PresetCatalog:
    return PresetCatalog.load(presets_file="")


def test_defaults_give_the_presets_default_clip(catalog: PresetCatalog) -> None:
    plan = resolve_spec(JobSpec("a cat on a beach"), catalog)
    assert plan.spec.model == "ltx-video"
    assert (plan.width, plan.height, plan.num_frames, plan.fps) == (768, 512, 121, 24)
    assert plan.spec.steps == 40 and plan.spec.guidance == 3.0 and plan.spec.aspect == "3:2"
    assert plan.spec.seed is not None and 0 <= plan.spec.seed < 2**32


def test_resolved_spec_survives_storage_and_renders_the_same(catalog: PresetCatalog) -> None:
    plan = resolve_spec(JobSpec("  a cat  ", seconds=3, aspect="9:16", model="wan-1.3b"), catalog)
    again = resolve_spec(JobSpec.from_json(plan.spec.to_json()), catalog)
    assert again == plan
    assert plan.spec.prompt == "a cat"
    assert (plan.width, plan.height) == (480, 832)
    assert plan.num_frames == 49  # 3 s at 16 fps, snapped to 4k + 1


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        (JobSpec("   "), "prompt_empty", "empty"),
        (JobSpec("x" * 1001), "prompt_too_long", "1001 characters"),
        (JobSpec("cat", negative_prompt="y" * 501), "negative_too_long", "limit is 500"),
        (JobSpec("cat", model="sora"), "unknown_model", "ltx-video"),
        (JobSpec("cat", model="cogvideox-2b", aspect="16:9"), "unknown_aspect", "3:2"),
        (JobSpec("cat", aspect="4:3"), "unknown_aspect", "16:9"),
        (JobSpec("cat", seconds=30), "seconds_out_of_range", "you asked for 30"),
        (JobSpec("cat", seconds=0), "seconds_out_of_range", "seconds"),
        (JobSpec("cat", seconds=float("nan")), "seconds_out_of_range", "seconds"),
        (JobSpec("cat", steps=0), "steps_out_of_range", "1–100"),
        (JobSpec("cat", model="ltx-video-distilled", steps=40), "steps_out_of_range", "1–16"),
        (JobSpec("cat", guidance=50), "guidance_out_of_range", "50"),
        (JobSpec("cat", fps=120), "fps_out_of_range", "120"),
        (JobSpec("cat", seed=-1), "seed_out_of_range", "4294967295"),
        (JobSpec("cat", seed=2**32), "seed_out_of_range", "4294967296"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    catalog: PresetCatalog, spec: JobSpec, code: str, words: str
) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_spec(spec, catalog)
    assert caught.value.code == code
    assert words in str(caught.value)
    assert len(str(caught.value)) < 300  # one sentence, even listing all 13 built-in presets


def test_seconds_snap_to_frame_counts_the_pipeline_accepts(catalog: PresetCatalog) -> None:
    ltx = catalog.get("ltx-video")
    assert ltx is not None
    for seconds in (1, 2.5, 5, 7.3, 10):
        frames = ltx.frames_for(seconds)
        assert (frames - 1) % 8 == 0
        assert abs(frames / 24 - seconds) <= 4 / 24
    # the shortest and longest a member may ask for are accepted
    assert resolve_spec(JobSpec("cat", seconds=1), catalog).num_frames == 25
    assert resolve_spec(JobSpec("cat", seconds=10.7), catalog).num_frames == 257
    assert resolve_spec(JobSpec("cat", model="cogvideox-5b", seconds=6), catalog).num_frames == 49


def test_presets_file_points_a_preset_at_a_folder_and_adds_one(tmp_path: Path) -> None:
    presets = tmp_path / "presets.json"
    presets.write_text(
        json.dumps(
            {
                "default": "draft",
                "ltx-video": {"source": "/models/ltx"},
                "draft": {
                    "base": "ltx-video",
                    "title": "Draft",
                    "default_steps": 10,
                    "sizes": {"1:1": [256, 256]},
                    "default_aspect": "1:1",
                },
            }
        )
    )
    catalog = PresetCatalog.load(presets)
    assert catalog.get("ltx-video").source == "/models/ltx"  # type: ignore[union-attr]
    plan = resolve_spec(JobSpec("cat"), catalog)
    assert (plan.spec.model, plan.spec.steps, plan.width) == ("draft", 10, 256)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ('{"ltx-video": {"colour": "red"}}', "unknown preset field"),
        ('{"mine": {"base": "nope"}}', "unknown base"),
        ('{"ltx-video": {"sizes": {"3:2": [255, 256]}}}', "even"),
        ('{"default": "nope"}', "not a preset"),
        ('{"default": 3}', "default must be a preset name"),
        ('{"ltx-video": {"fps": "fast"}}', "fps must be a whole number"),
        ('{"ltx-video": {"default_steps": true}}', "default_steps must be a whole number"),
        ('{"ltx-video": {"seconds_per_unit": "cheap"}}', "seconds_per_unit must be a number"),
        ('{"ltx-video": {"seconds_per_unit": 0}}', "seconds_per_unit must be positive"),
        ('{"ltx-video": {"load_options": "fast"}}', "load_options must be an object"),
        ('{"mine": {"base": ["ltx-video"]}}', "base that is no preset name"),
        ('{"mine": {"title": "Mine"}}', "names no base to derive from"),
    ],
)
def test_a_broken_presets_file_is_reported(tmp_path: Path, content: str, words: str) -> None:
    presets = tmp_path / "presets.json"
    presets.write_text(content)
    with pytest.raises(PresetError, match=words):
        PresetCatalog.load(presets)


def test_a_pipeline_folder_is_a_model(catalog: PresetCatalog, tiny_wan: Path) -> None:
    plan = resolve_spec(JobSpec("cat", model=str(tiny_wan)), catalog)
    assert plan.preset.pipeline == "WanPipeline"
    assert plan.preset.source == str(tiny_wan)
    assert (plan.width, plan.height) == (64, 32)  # from the folder's videobot.json


def test_a_folder_that_is_no_pipeline_is_refused(catalog: PresetCatalog, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_spec(JobSpec("cat", model=str(tmp_path)), catalog)
    assert caught.value.code == "bad_model_folder"
    assert "model_index.json" in str(caught.value)


def test_a_preset_that_cannot_continue_or_start_from_a_picture_says_so(catalog: PresetCatalog) -> None:
    for spec, code in (
        (JobSpec(prompt="more", model="wan-1.3b", continues=0), "no_continue"),
        (JobSpec(prompt="more", model="wan-1.3b", continues=12), "no_continue"),
        (JobSpec(prompt="move", model="wan-1.3b", start_image=True), "no_image"),
        (JobSpec(prompt="both", start_image=True, continues=3), "image_and_continue"),
    ):
        with pytest.raises(SpecError) as refused:
            resolve_spec(spec, catalog)
        assert refused.value.code == code
