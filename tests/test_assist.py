"""The model helps (generator/assist.py), on the tiny LTX-2.5 loaded through ``from_pretrained``: its
duration head picks a clip's length when none is given, its prompt enhancer rewrites the prompt when
the server asks for it, and a reroll reuses the enhanced prompt instead of enhancing again."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from generator.loader import PipelineCache
from generator.render import RenderCancelled, pipeline_kwargs, render
from tests.tiny_models import HEAD_SECONDS, preset_entry

PROMPT = "a red car driving through a neon city at night"


@pytest.fixture(scope="module")
def catalog(
    tiny_ltx25: Path, tiny_ltx2: Path, tiny_ltx: Path, tmp_path_factory: pytest.TempPathFactory
) -> PresetCatalog:
    """`tiny-25` (9 to 49 frames, 17 by default), `tiny-25-short` (the same model, at most 25 frames),
    `tiny-ltx2` (LTX-2 without a processor: it cannot enhance) and `tiny-ltx` (LTX-Video)."""
    presets = {
        "default": "tiny-25",
        "tiny-25": preset_entry("ltx-2", tiny_ltx25),
        "tiny-25-short": preset_entry("ltx-2", tiny_ltx25, title="Tiny LTX-2.5 short", max_frames=25),
        "tiny-ltx2": preset_entry("ltx-2", tiny_ltx2),
        "tiny-ltx": preset_entry("ltx-video", tiny_ltx),
    }
    path = tmp_path_factory.mktemp("assist") / "presets.json"
    path.write_text(json.dumps(presets))
    return PresetCatalog.load(path)


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache("cpu")


class Enhancements:
    """Each call of a pipeline's own ``enhance_prompt`` (the real method runs), as it was asked."""

    def __init__(self, pipe: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.texts: list[str] = []  # what each call wrote
        self.pipe = pipe
        self.method: Callable[..., list[str]] = pipe.enhance_prompt

        def recorded(*args: Any, **kwargs: Any) -> list[str]:
            self.calls.append(kwargs)
            texts = self.method(*args, **kwargs)
            self.texts.extend(texts)
            return texts

        pipe.enhance_prompt = recorded

    def close(self) -> None:
        del self.pipe.enhance_prompt  # the class's method again


@pytest.fixture
def enhancements(catalog: PresetCatalog, cache: PipelineCache) -> Iterator[Enhancements]:
    preset = catalog.get("tiny-25")
    assert preset is not None
    watched = Enhancements(cache.get(preset))
    yield watched
    watched.close()


def test_without_seconds_the_duration_head_picks_the_length_within_the_presets_bounds(
    catalog: PresetCatalog, cache: PipelineCache
) -> None:
    preset = catalog.get("tiny-25")
    assert preset is not None and preset.duration_head
    plan = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=3), catalog)
    assert plan.auto_length and plan.spec.seconds is None
    # charged as the longest clip the head may choose
    longest = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=3, seconds=49 / 24), catalog)
    assert plan.num_frames == longest.num_frames == 49
    assert estimate_gpu_seconds(plan) == estimate_gpu_seconds(longest)
    # stored and read back (the worker's view of the job), the length is still the model's to choose
    assert resolve_spec(JobSpec.from_json(plan.spec.to_json()), catalog).auto_length

    output = render(plan, cache=cache)
    head_frames = ((round(HEAD_SECONDS * 24) - 1) // 8) * 8 + 1  # 1.5 s snapped down to 8k + 1: 33
    assert len(output.frames) == head_frames != preset.default_frames
    assert output.audio is not None and output.sample_rate is not None
    assert abs(output.audio.shape[1] / output.sample_rate - head_frames / 24) < 0.01  # the sound too

    # a preset that allows at most 25 frames: the head's 1.5 s is clamped to its longest
    short = render(resolve_spec(JobSpec(PROMPT, model="tiny-25-short", seed=3), catalog), cache=cache)
    assert len(short.frames) == 25


def test_with_seconds_given_the_head_is_not_asked(catalog: PresetCatalog, cache: PipelineCache) -> None:
    plan = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=3, seconds=1.0), catalog)
    assert not plan.auto_length and plan.spec.seconds == 1.0
    assert pipeline_kwargs(cache.get(plan.preset), plan)["num_frames"] == 25
    assert len(render(plan, cache=cache).frames) == 25  # not the head's 33
    # an extend continues at the preset's default length: the head is for new clips
    extend = resolve_spec(JobSpec(PROMPT, model="tiny-25", continues=1), catalog)
    assert not extend.auto_length and extend.num_frames == 17


def test_an_enhanced_prompt_is_rendered_and_kept_and_a_reroll_reuses_it(
    catalog: PresetCatalog, cache: PipelineCache, enhancements: Enhancements
) -> None:
    from diffusers.pipelines.ltx2.utils import T2V_DEFAULT_SYSTEM_PROMPT

    plan = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=5, seconds=1.0, enhance=True), catalog)
    output = render(plan, cache=cache)
    enhanced = output.plan.spec.enhanced_prompt
    assert enhanced and enhanced.strip() and enhanced != PROMPT  # random weights: gibberish, but its own
    assert output.plan.spec.prompt == PROMPT and output.plan.spec.enhanced_from == PROMPT
    assert len(enhancements.calls) == 1
    call = enhancements.calls[0]
    # the Gemma 3 text encoder enhances, with diffusers' text-to-video system prompt
    assert call["prompt"] == PROMPT and call["system_prompt"] == T2V_DEFAULT_SYSTEM_PROMPT
    pipe = cache.get(plan.preset)
    assert pipeline_kwargs(pipe, output.plan)["prompt"] == enhanced  # what the pipeline renders
    assert len(output.frames) == 25

    # a reroll: the enhanced prompt it carries is rendered as it is, not enhanced again
    reroll = resolve_spec(replace(plan.spec.reusing(enhanced), seed=None), catalog)
    assert reroll.spec.enhanced_prompt == enhanced and reroll.spec.seed != plan.spec.seed
    rerolled = render(reroll, cache=cache)
    assert len(enhancements.calls) == 1  # the first render's; not the reroll's
    assert rerolled.plan.spec.enhanced_prompt == enhanced
    assert pipeline_kwargs(pipe, rerolled.plan)["prompt"] == enhanced

    # a remix of that reroll (a new prompt) does not render the old prompt's enhancement: it asks anew
    remix = resolve_spec(replace(reroll.spec, prompt="a dragon flying over mountains"), catalog)
    assert remix.spec.enhanced_prompt is None and remix.spec.enhance
    assert pipeline_kwargs(pipe, remix)["prompt"] == "a dragon flying over mountains"


def test_without_the_setting_the_pipeline_is_not_asked_to_enhance(
    catalog: PresetCatalog, cache: PipelineCache, enhancements: Enhancements
) -> None:
    plan = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=5, seconds=1.0), catalog)
    output = render(plan, cache=cache)
    assert enhancements.calls == []
    assert output.plan.spec.enhanced_prompt is None
    kwargs = pipeline_kwargs(cache.get(plan.preset), output.plan)
    assert kwargs["prompt"] == PROMPT and not kwargs.get("enable_prompt_enhancement")


def test_a_cancel_stops_the_enhancer_at_the_next_word(
    catalog: PresetCatalog, cache: PipelineCache, enhancements: Enhancements
) -> None:
    plan = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=5, seconds=1.0, enhance=True), catalog)
    with pytest.raises(RenderCancelled):
        render(plan, cache=cache, should_cancel=lambda: True)
    assert len(enhancements.texts) == 1
    tokenizer = cache.get(plan.preset).processor.tokenizer
    # the one token it wrote (two when read back: a word's start mark), not the 24 it writes when left alone
    assert len(tokenizer(enhancements.texts[0], add_special_tokens=False).input_ids) <= 2


@pytest.mark.parametrize("model", ["tiny-ltx2", "tiny-ltx"])
def test_a_model_that_cannot_enhance_renders_the_members_prompt(
    catalog: PresetCatalog, cache: PipelineCache, model: str
) -> None:
    plan = resolve_spec(JobSpec(PROMPT, model=model, seed=5, enhance=True), catalog)
    output = render(plan, cache=cache)
    assert output.plan.spec.enhanced_prompt is None and len(output.frames) == plan.num_frames
    assert not plan.auto_length  # neither has a duration head: the preset's default length


def test_a_picture_clip_is_not_enhanced(catalog: PresetCatalog, cache: PipelineCache) -> None:
    import numpy as np

    from generator.render import Conditioning

    plan = resolve_spec(JobSpec(PROMPT, model="tiny-25", seed=5, seconds=1.0, enhance=True), catalog)
    picture = np.full((64, 64, 3), 200, dtype=np.uint8)
    output = render(plan, cache=cache, condition=Conditioning(image=picture))
    assert output.plan.spec.enhanced_prompt is None
