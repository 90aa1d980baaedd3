"""Keyframes (issue 19): clips that end on a picture, go from a first picture to a last, or loop, through
the real diffusers conditioning pipelines with tiny random weights.

Random weights draw noise, so what is checked is what the pipeline is given: the conditions, at which
frame, with which pixels (the pipeline's ``__call__`` is wrapped to record its arguments; it still runs),
and that the clip has the asked length. LTX-Video places a condition by frame (the last is
``num_frames - 1``), LTX-2 by latent frame (the last is ``(num_frames - 1) // 8``); Wan 2.2 TI2V
conditions its first frame only, so it refuses to end on a picture or loop.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import pytest
from PIL import Image

from bot.text import failure_text
from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_spec
from db.store import open_store
from generator.encode import to_uint8
from generator.loader import PipelineCache
from generator.render import (
    Conditioning,
    RenderFailed,
    condition_kwargs,
    condition_pipeline,
    fit_image,
    render,
)
from generator.worker import Worker, WorkerConfig
from tests.tiny_models import preset_entry

TEXT_PIPELINES = {"tiny-ltx": "LTXPipeline", "tiny-ltx2": "LTX2Pipeline"}
CONDITION_PIPELINES = {"tiny-ltx": "LTXConditionPipeline", "tiny-ltx2": "LTX2ConditionPipeline"}
KEYFRAMED = list(CONDITION_PIPELINES)
GONE = "0" * 64 + ".png"  # a picture reference whose picture is in no store


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


@dataclass
class Call:
    kwargs: dict[str, Any]
    output: Any


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[Call]]:
    """``record(class_name)``: a list that gets each call of that diffusers pipeline class from now on,
    its arguments and what it returned. The pipeline runs as it is; its signature stays (wraps)."""

    def start(class_name: str) -> list[Call]:
        cls = getattr(diffusers, class_name)
        original = cls.__call__
        calls: list[Call] = []

        @functools.wraps(original)
        def observed(self: Any, *args: Any, **kwargs: Any) -> Any:
            output = original(self, *args, **kwargs)
            calls.append(Call(kwargs, output))
            return output

        monkeypatch.setattr(cls, "__call__", observed)
        return calls

    return start


def picture(seed: int, width: int = 150, height: int = 100) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def plan_for(catalog: PresetCatalog, model: str, **spec: Any) -> RenderPlan:
    return resolve_spec(JobSpec("waves on rocks", model=model, seed=1, seconds=1, **spec), catalog)


def placed(class_name: str, kwargs: dict[str, Any]) -> list[tuple[int, np.ndarray]]:
    """The conditions an LTX or LTX-2 call was given: (its index, its pixels (n, h, w, 3)), in order."""
    found = []
    for condition in kwargs["conditions"]:
        if class_name == "LTXConditionPipeline":
            media = [condition.image] if condition.image is not None else condition.video
            found.append((condition.frame_index, np.stack([np.asarray(m) for m in media])))
        else:
            frames = np.asarray(condition.frames)
            found.append((condition.index, frames if frames.ndim == 4 else frames[None]))
    return found


def last_index(class_name: str, num_frames: int) -> int:
    """Where each pipeline takes a clip's last frame: LTX-Video by frame, LTX-2 by latent frame."""
    return num_frames - 1 if class_name == "LTXConditionPipeline" else (num_frames - 1) // 8


# ---- what each pipeline is given, without a model -------------------------------------------------


def test_condition_kwargs_put_the_first_and_last_pictures_where_each_pipeline_takes_them() -> None:
    first, last = picture(1, 96, 64), picture(2, 96, 64)
    tail = np.stack([picture(10 + i, 96, 64) for i in range(17)])
    for name in ("LTXConditionPipeline", "LTX2ConditionPipeline"):
        end = last_index(name, 25)
        assert end == (24 if name == "LTXConditionPipeline" else 3)
        cases = [
            (first[None], None, [(0, first)]),  # from a picture: as before
            (None, last, [(end, last)]),  # only the last
            (first[None], last, [(0, first), (end, last)]),  # first to last
            (first[None], first, [(0, first), (end, first)]),  # a loop from a picture
        ]
        for frames, ending, wanted in cases:
            got = placed(name, condition_kwargs(name, frames, ending, num_frames=25))
            assert [i for i, _ in got] == [i for i, _ in wanted], name
            for (_, pixels), (_, expected) in zip(got, wanted, strict=True):
                assert np.array_equal(pixels, expected[None]), name
        # a parent's tail at 0 and a picture as the last of the 25 + 16 frames rendered over it
        got = placed(name, condition_kwargs(name, tail, last, num_frames=41))
        assert [i for i, _ in got] == [0, last_index(name, 41)]
        assert np.array_equal(got[0][1], tail) and np.array_equal(got[1][1], last[None])
        for count in (24, 8, None):  # the last frame must be on the latent grid: k * 8 + 1 frames
            with pytest.raises(ValueError, match=r"k \* 8 \+ 1"):
                condition_kwargs(name, first[None], last, num_frames=count)
    # Wan's image-to-video pipeline: the first frame, and the last for Wan 2.1's first-last-frame models
    wan = condition_kwargs("WanImageToVideoPipeline", first[None], last, num_frames=25, temporal=4)
    assert np.array_equal(np.asarray(wan["image"]), first)
    assert np.array_equal(np.asarray(wan["last_image"]), last)
    assert "last_image" not in condition_kwargs("WanImageToVideoPipeline", first[None])
    with pytest.raises(ValueError, match="first frame"):
        condition_kwargs("WanImageToVideoPipeline", None, last, num_frames=25, temporal=4)


def test_what_a_conditioning_asks_of_a_preset() -> None:
    a = picture(1)
    assert Conditioning().modes == ()
    assert Conditioning(image=a).modes == ("image",)
    assert Conditioning(end_image=a).modes == ("end",)
    assert Conditioning(image=a, end_image=a).modes == ("image", "end")
    assert Conditioning(loop=True).modes == ("loop",) and Conditioning(loop=True).mode == "text"
    assert Conditioning(image=a, loop=True).modes == ("image", "loop")


# ---- real renders with the tiny models --------------------------------------------------------------


@pytest.mark.parametrize("model", KEYFRAMED)
def test_a_clip_ends_on_its_picture_and_goes_from_first_to_last(
    model: str, catalog: PresetCatalog, cache: PipelineCache, record: Callable[[str], list[Call]]
) -> None:
    name = CONDITION_PIPELINES[model]
    calls = record(name)
    first, last = picture(1), picture(2, 80, 120)  # other sizes than the clip's: fitted
    ends = render(
        plan_for(catalog, model, end_image=True),
        catalog=catalog,
        cache=cache,
        condition=Conditioning(end_image=last),
    )
    both = render(
        plan_for(catalog, model, start_image=True, end_image=True),
        catalog=catalog,
        cache=cache,
        condition=Conditioning(image=first, end_image=last),
    )
    plan = both.plan
    n, size = plan.num_frames, (plan.width, plan.height)
    for out in (ends, both):
        assert out.frames.shape == (n, plan.height, plan.width, 3)
    assert len(calls) == 2 and all(call.kwargs["num_frames"] == n for call in calls)
    only_last, first_to_last = (placed(name, call.kwargs) for call in calls)
    assert [i for i, _ in only_last] == [last_index(name, n)]
    assert [i for i, _ in first_to_last] == [0, last_index(name, n)]
    assert np.array_equal(only_last[0][1][0], fit_image(last, *size))
    assert np.array_equal(first_to_last[0][1][0], fit_image(first, *size))
    assert np.array_equal(first_to_last[1][1][0], fit_image(last, *size))
    if model == "tiny-ltx2":  # the sound lasts as long as the clip
        assert both.audio is not None and both.sample_rate is not None
        assert both.audio.shape[1] / both.sample_rate == pytest.approx(n / both.fps, abs=1 / both.fps)


@pytest.mark.parametrize("model", KEYFRAMED)
def test_a_loop_from_a_picture_ends_on_that_picture(
    model: str, catalog: PresetCatalog, cache: PipelineCache, record: Callable[[str], list[Call]]
) -> None:
    name = CONDITION_PIPELINES[model]
    calls, text_calls = record(name), record(TEXT_PIPELINES[model])
    start = picture(3)
    out = render(
        plan_for(catalog, model, start_image=True, loop=True),
        catalog=catalog,
        cache=cache,
        condition=Conditioning(image=start, loop=True),
    )
    plan = out.plan
    assert out.frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    assert text_calls == [] and len(calls) == 1  # nothing rendered first: the picture is the first frame
    got = placed(name, calls[0].kwargs)
    assert [i for i, _ in got] == [0, last_index(name, plan.num_frames)]
    fitted = fit_image(start, plan.width, plan.height)
    assert np.array_equal(got[0][1][0], fitted) and np.array_equal(got[1][1][0], fitted)


@pytest.mark.parametrize("model", KEYFRAMED)
def test_a_loop_from_text_renders_its_first_frame_then_starts_and_ends_on_it(
    model: str, catalog: PresetCatalog, cache: PipelineCache, record: Callable[[str], list[Call]]
) -> None:
    name = CONDITION_PIPELINES[model]
    calls, text_calls = record(name), record(TEXT_PIPELINES[model])
    seen: list[tuple[int, int]] = []
    out = render(
        plan_for(catalog, model, loop=True, steps=2),
        lambda step, total: seen.append((step, total)),
        catalog=catalog,
        cache=cache,
        condition=Conditioning(loop=True),
    )
    plan = out.plan
    assert out.frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    # first one frame from the prompt, with the same prompt and seed …
    assert len(text_calls) == 1 and text_calls[0].kwargs["num_frames"] == 1
    assert text_calls[0].kwargs["prompt"] == plan.spec.prompt
    still = to_uint8(np.asarray(text_calls[0].output.frames))
    assert still.shape == (1, plan.height, plan.width, 3)
    # … then the clip, which starts from that frame and ends on it
    assert len(calls) == 1 and calls[0].kwargs["num_frames"] == plan.num_frames
    got = placed(name, calls[0].kwargs)
    assert [i for i, _ in got] == [0, last_index(name, plan.num_frames)]
    assert np.array_equal(got[0][1], still) and np.array_equal(got[1][1], still)
    # progress runs over both calls' steps, once
    assert seen == [(step, 4) for step in range(5)]


def test_a_bridge_needs_a_model_that_bridges_and_takes_no_pictures(catalog: PresetCatalog) -> None:
    bridge = JobSpec("between", continues=1, bridges_to=2, seconds=1)
    plan = resolve_spec(replace(bridge, model="tiny-ltx"), catalog)
    assert plan.spec.bridges_to == 2 and plan.spec.continues == 1 and not plan.auto_length
    with pytest.raises(SpecError) as refused:
        resolve_spec(replace(bridge, model="tiny-wan22"), catalog)
    assert refused.value.code == "no_bridge" and "tiny-ltx" in refused.value.params["choices"]
    for asked in ({"end_image": True}, {"loop": True}, {"start_image": True}, {"continues": None}):
        with pytest.raises(SpecError) as refused:
            resolve_spec(replace(bridge, model="tiny-ltx", **asked), catalog)
        assert refused.value.code == "bridge_and_pictures"


def test_wan22_neither_ends_on_a_picture_nor_loops(
    catalog: PresetCatalog,
    cache: PipelineCache,
    tiny_wan22: Path,
    tmp_path: Path,
    record: Callable[[str], list[Call]],
) -> None:
    for spec, code in (
        (JobSpec("a cat", model="tiny-wan22", end_image=True), "no_end"),
        (JobSpec("a cat", model="tiny-wan22", loop=True), "no_loop"),
    ):
        with pytest.raises(SpecError) as refused:
            resolve_spec(spec, catalog)
        assert refused.value.code == code
        assert {"tiny-ltx", "tiny-ltx2"} <= set(refused.value.params["choices"].split(", "))
        assert "tiny-wan22" not in refused.value.params["choices"]
    # a presets file that claims it anyway: diffusers' Wan 2.2 image-to-video ignores a last image
    presets = tmp_path / "presets.json"
    modes = ["text", "image", "continue", "end", "loop"]
    presets.write_text(json.dumps({"wan-claims": preset_entry("wan-2.2-5b", tiny_wan22, modes=modes)}))
    claims = PresetCatalog.load(presets)
    preset = claims.get("wan-claims")
    assert preset is not None
    pipe = cache.get(preset)
    assert condition_pipeline(pipe, ("image",)) == "WanImageToVideoPipeline"
    assert condition_pipeline(pipe, ("image", "end")) is None and condition_pipeline(pipe, ("loop",)) is None
    calls = record("WanImageToVideoPipeline")
    plan = resolve_spec(JobSpec("a cat", model="wan-claims", seconds=1, start_image=True), claims)
    for condition, code in (
        (Conditioning(image=picture(1), end_image=picture(2)), "no_end"),
        (Conditioning(image=picture(1), loop=True), "no_loop"),
        (Conditioning(loop=True), "no_loop"),
    ):
        with pytest.raises(RenderFailed) as failed:
            render(plan, catalog=claims, cache=cache, condition=condition)
        able = [p.name for p in claims if code.removeprefix("no_") in p.modes]  # built-ins and wan-claims
        assert failed.value.code == code and failed.value.params["choices"] == ", ".join(able)
        assert "cannot" in str(failed.value)
    assert calls == []  # refused before the pipeline ran


def test_a_loop_takes_no_end_picture_and_no_clip_to_continue(
    catalog: PresetCatalog, cache: PipelineCache
) -> None:
    plan = plan_for(catalog, "tiny-ltx")
    clip = np.zeros((9, 64, 96, 3), np.uint8)
    for condition, code in (
        (Conditioning(image=picture(1), end_image=picture(2), loop=True), "loop_and_end"),
        (Conditioning(frames=clip, loop=True), "unusable_input"),
    ):
        with pytest.raises(RenderFailed) as failed:
            render(plan, catalog=catalog, cache=cache, condition=condition)
        assert failed.value.code == code


# ---- the worker reads both pictures from the media store -----------------------------------------------


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_the_worker_renders_from_the_stored_first_and_last_pictures(
    catalog: PresetCatalog, cache: PipelineCache, tmp_path: Path, record: Callable[[str], list[Call]]
) -> None:
    calls = record("LTXConditionPipeline")
    store = await open_store(str(tmp_path / "videobot.db"))
    try:
        first, last = picture(5), picture(6, 64, 64)
        refs = [await store.jobs.put_input(png(image), "png") for image in (first, last)]
        specs = [
            JobSpec("a wave", model="tiny-ltx", seconds=1, seed=2, start_image=True, image_ref=refs[0],
                    end_image=True, end_image_ref=refs[1]),
            JobSpec("a wave", model="tiny-ltx", seconds=1, seed=2, end_image=True, end_image_ref=GONE),
        ]  # fmt: skip
        jobs = []
        for user, spec in enumerate(specs, start=3):  # two members: neither waits for the other's clip
            plan = resolve_spec(spec, catalog)
            jobs.append(await store.jobs.enqueue(1, 2, user, plan.spec, estimate_gpu_seconds(plan)))
        config = WorkerConfig(worker_id="w1", models=tuple(catalog.names()), progress_interval_s=0.05)
        await Worker(store, catalog, cache, config).run(asyncio.Event(), max_jobs=2)
        done, missing = [await store.jobs.get(job.id) for job in jobs]
        assert done is not None and done.state == "done", done
        assert done.frames == 25
        assert missing is not None and missing.state == "failed" and missing.error_code == "end_input_missing"
        assert "ends on is no longer stored" in failure_text(missing, "en-US")  # what its member reads
        assert len(calls) == 1  # the job whose end picture is gone never reached the pipeline
        got = placed("LTXConditionPipeline", calls[0].kwargs)
        assert [i for i, _ in got] == [0, 24]
        assert np.array_equal(got[0][1][0], fit_image(first, 96, 64))
        assert np.array_equal(got[1][1][0], fit_image(last, 96, 64))
    finally:
        await store.close()
