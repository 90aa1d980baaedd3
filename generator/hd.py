"""HD: a draft finished at full size, LTX's two-stage recipe.

A preset with an ``upsampler`` renders its clips as drafts at half its size (db/presets.py). Its HD
version upsamples the draft's latents 2x with the preset's latent upsampler (``LTX2LatentUpsamplePipeline``)
and refines them in a few steps (the preset's ``refine_kwargs``: LTX's distilled recipe re-noises to
sigma 0.909 and takes 3 steps), with the draft's prompt and seed. Both stages come from the warm
text-to-video pipeline by ``from_pipe`` (generator/loader.py): one copy of the weights per worker.

Where the draft's latents are still at hand (the worker that rendered it keeps the last few), they are
upsampled as they are, and the sound is refined with the picture. Otherwise (another worker, a restart,
``videobot hd`` of any clip) the draft's frames are encoded by the VAE, and the draft's own sound is kept.
The HD clip has the draft's frames, frame rate and length; a draft whose frame count the pipeline does not
take (k * 8 + 1) is padded with its last frame for the render and cut back after.
The CLI (``videobot hd``) and the GPU worker both call :func:`hd_clip`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from db.presets import PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_preset, resolve_spec
from generator.clipio import ClipInfo, fit_frames, probe, read_audio, read_frames
from generator.encode import DEFAULT_SAMPLE_RATE, DISCORD_DEFAULT_LIMIT, EncodedClip, encode_mp4
from generator.extend import check_parent, nearest_aspect
from generator.mark import mark_frames, mark_text

if TYPE_CHECKING:
    import os

    from generator.loader import PipelineCache
    from generator.render import CancelFn, DraftLatents, ProgressFn, RenderOutput

# the stand-in job id the command line gives the clip it finishes (it has no job store)
CLI_DRAFT_ID = 0


@dataclass(frozen=True)
class HDResult:
    clip: EncodedClip
    plan: RenderPlan
    draft: ClipInfo
    render_seconds: float  # wall time of the two pipeline calls
    from_latents: bool  # the draft's own latents were upsampled (else its frames were encoded)
    has_audio: bool


def padded_frames(count: int, multiple: int) -> int:
    """The least k * ``multiple`` + 1 frames that hold ``count``."""
    return max(0, -(-(count - 1) // multiple)) * multiple + 1


def plan_hd(spec: JobSpec, draft: ClipInfo, catalog: PresetCatalog) -> RenderPlan:
    """``spec`` resolved as the HD version of ``draft``: with no aspect asked for, the model's aspect
    nearest the draft's; ``upscales`` the stand-in id if unset. Raises SpecError for a model that makes
    no HD versions."""
    preset = resolve_preset(spec.model, catalog)
    aspect = spec.aspect or nearest_aspect(preset.sizes, draft.width, draft.height)
    upscales = CLI_DRAFT_ID if spec.upscales is None else spec.upscales
    seconds = min(max(draft.duration, preset.min_seconds), preset.max_seconds)
    return resolve_spec(
        replace(spec, aspect=aspect, upscales=upscales, seconds=seconds, continues=None, start_image=False),
        catalog,
    )


def check_length(draft: ClipInfo, plan: RenderPlan) -> None:
    """Refuse a draft longer than the model renders in one go (SpecError, in the member's words)."""
    if padded_frames(draft.frames, plan.preset.frame_multiple) > plan.preset.max_frames:
        raise SpecError(
            "seconds_out_of_range",
            model=plan.preset.title,
            low=f"{plan.preset.min_seconds:.1f}",
            high=f"{plan.preset.max_seconds:.1f}",
            value=f"{draft.duration:.1f}",
        )


def upscale(
    plan: RenderPlan,
    *,
    fps: float,
    frames: np.ndarray | None = None,
    latents: DraftLatents | None = None,
    cache: PipelineCache | None = None,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> RenderOutput:
    """The HD frames (and sound, from latents) of a draft given as its ``latents`` or as its ``frames``
    (uint8 (n, h, w, 3), any size: fitted to the plan's draft size). Raises RenderCancelled and
    RenderFailed as :func:`generator.render.render` does."""
    import torch

    from generator.encode import to_uint8
    from generator.loader import REFINE, UPSAMPLE, ModelUnavailable
    from generator.render import (
        RenderCancelled,
        RenderFailed,
        RenderOutput,
        default_cache,
        output_sound,
        pipeline_errors,
        pipeline_kwargs,
        seeded_noise,
        styles_in_play,
    )

    if (frames is None) == (latents is None):
        raise ValueError("give a draft's frames or its latents")
    preset = plan.preset
    cache = cache or default_cache()
    width, height = preset.draft_size(plan.spec.aspect or preset.default_aspect)
    multiple = preset.frame_multiple
    if latents is not None:
        count = (latents.video.shape[2] - 1) * multiple + 1
    else:
        assert frames is not None
        count = len(frames)
    rendered = padded_frames(count, multiple)
    total = preset.refine_steps + 1  # the upsample, then the refine steps

    def cancelled() -> bool:
        return should_cancel is not None and should_cancel()

    def step_end(_pipe: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if cancelled():
            raise RenderCancelled()
        if on_progress is not None:
            on_progress(step + 2, total)
        return tensors

    if cancelled():
        raise RenderCancelled()
    if on_progress is not None:
        on_progress(0, total)
    generator = seeded_noise(plan)
    started = time.perf_counter()
    try:
        upsampler = cache.get(preset, UPSAMPLE)  # loads the preset's pipeline first if need be
    except ModelUnavailable as exc:
        raise RenderFailed("model_unavailable", model=preset.title) from exc
    with pipeline_errors(plan), torch.inference_mode():
        if latents is not None:
            upsampled = upsampler(
                latents=latents.video, latents_normalized=False, output_type="latent", return_dict=False
            )[0]
        else:
            assert frames is not None
            from PIL import Image

            fitted = fit_frames(np.asarray(frames), width, height)
            fitted = np.concatenate([fitted, np.repeat(fitted[-1:], rendered - count, axis=0)])
            upsampled = upsampler(
                video=[Image.fromarray(f) for f in fitted],
                width=width,
                height=height,
                num_frames=rendered,
                generator=generator,
                output_type="latent",
                return_dict=False,
            )[0]
    if cancelled():
        raise RenderCancelled()
    if on_progress is not None:
        on_progress(1, total)
    try:
        refine = cache.get(preset, REFINE)
    except ModelUnavailable as exc:
        raise RenderFailed("model_unavailable", model=preset.title) from exc
    kwargs = {
        **pipeline_kwargs(refine, replace(plan, num_frames=rendered)),
        "frame_rate": fps,
        **preset.refine_kwargs,
        "latents": upsampled,
    }
    if latents is not None and latents.audio is not None:
        kwargs["audio_latents"] = latents.audio
    # refined with the draft's styles: the HD version looks as its draft does
    with styles_in_play(cache, plan), pipeline_errors(plan), torch.inference_mode():
        output = refine(**kwargs, generator=generator, callback_on_step_end=step_end)
    elapsed = time.perf_counter() - started
    hd = to_uint8(np.asarray(output.frames))[:count]
    if plan.spec.mark:  # every HD frame is new: the AI mark (issue 21), crisp at the HD size
        hd = mark_frames(hd, mark_text(plan.locale), in_place=True)
    audio, sample_rate = (None, None)
    if "audio_latents" in kwargs:  # the sound refined with the picture; else the draft's is kept
        audio, sample_rate = output_sound(output, refine, replace(plan, fps=round(fps)), 0, count)
    return RenderOutput(frames=hd, plan=plan, seconds=elapsed, audio=audio, sample_rate=sample_rate)


def hd_clip(
    draft_path: str | os.PathLike[str],
    spec: JobSpec | RenderPlan,
    out_path: str | os.PathLike[str],
    max_bytes: int = DISCORD_DEFAULT_LIMIT,
    *,
    latents: DraftLatents | None = None,
    cache: PipelineCache | None = None,
    catalog: PresetCatalog | None = None,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> HDResult:
    """Finish the clip at ``draft_path`` in HD as ``spec`` asks (its model, prompt and seed) and write
    it to ``out_path``, at most ``max_bytes``, with the draft's frame count, frame rate and sound.

    ``latents`` are the draft's own when the caller still has them. Raises ClipError (the draft is no
    readable video), SpecError, the render's RenderCancelled and RenderFailed, and EncodeError;
    ``out_path`` is written only on success."""
    draft_path = Path(draft_path)
    draft = probe(draft_path)
    check_parent(draft, draft_path.name)
    plan = spec if isinstance(spec, RenderPlan) else plan_hd(spec, draft, catalog or PresetCatalog.load())
    if not plan.preset.has_hd:
        able = [p.name for p in (catalog or PresetCatalog.load()) if p.has_hd]
        raise SpecError("no_hd", model=plan.preset.title, choices=", ".join(able) or "–")
    check_length(draft, plan)
    if latents is not None and (latents.video.shape[2] - 1) * plan.preset.frame_multiple + 1 < draft.frames:
        latents = None  # not this clip's (an extend of it grew longer): its frames are encoded
    frames = None if latents is not None else read_frames(draft_path)[0]
    output = upscale(
        plan,
        fps=draft.fps,
        frames=frames,
        latents=latents,
        cache=cache,
        on_progress=on_progress,
        should_cancel=should_cancel,
    )
    del frames
    audio, sample_rate = output.audio, output.sample_rate
    if not plan.spec.audio:
        audio = None
    elif audio is None and draft.has_audio:
        sample_rate = DEFAULT_SAMPLE_RATE
        audio = read_audio(draft_path, sample_rate)
    clip = encode_mp4(
        output.frames,
        draft.fps,
        out_path,
        max_bytes,
        audio=audio,
        sample_rate=sample_rate if audio is not None else None,
    )
    return HDResult(
        clip=clip,
        plan=plan,
        draft=draft,
        render_seconds=output.seconds,
        from_latents=latents is not None,
        has_audio=audio is not None,
    )
