"""One clip: resolve the spec, take the warm pipeline, run it with a step callback, return frames.

Reads like a diffusers pipeline call, top to bottom. Progress comes from ``callback_on_step_end``; a
cancel raises out of that callback, so the pipeline stops at the next step and skips the VAE decode.

A clip may start from a picture or continue another clip, end on a picture, or loop
(:class:`Conditioning`). Then diffusers' own conditioning pipeline runs, built by ``from_pipe`` from the
warm text-to-video pipeline (one copy of the weights, see generator/loader.py):

- LTX-Video (``LTXPipeline``): ``LTXConditionPipeline``, the picture, or the parent's last
  ``continue_frames`` frames (8k + 1), as the condition at frame 0; an end picture as a keyframe at
  frame ``num_frames - 1`` (8k: its tokens join the sequence at that frame's position).
- LTX-2 (``LTX2Pipeline``): ``LTX2ConditionPipeline`` the same way (it takes multi-frame conditions,
  ``LTX2ImageToVideoPipeline`` only a picture). Its index is a latent frame's: an end picture is a
  keyframe at the last latent frame, ``(num_frames - 1) // 8`` (diffusers' ``index=-1``). It makes the
  sound too.
- Wan 2.2 TI2V (``WanPipeline`` with ``expand_timesteps``): ``WanImageToVideoPipeline`` with the
  picture, or the parent's last frame, as the first frame. It cannot end on a picture: with
  ``expand_timesteps`` diffusers conditions the first latent frame alone and ignores ``last_image``
  (which only Wan 2.1's first-last-frame checkpoints, with their image encoder, take). Wan 2.1's
  text-to-video models take no picture (their image-to-video models are other checkpoints).

A loop ends on its own first frame: the picture it starts from, or, from text, a first frame the model
renders first (one frame, the same prompt and seed, by the text-to-video pipeline: a small fraction of
the clip's work), which the clip then starts from and ends on.

A continuation repeats the frames it is conditioned on at its start; those are dropped, so its frames
(and sound) are only what follows the parent's last frame.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from PIL import Image

from db.failures import failure_message
from db.presets import Preset, PresetCatalog, PresetError
from db.spec import JobSpec, RenderPlan, resolve_spec
from generator.assist import enhanced_plan, length_kwargs
from generator.encode import to_uint8
from generator.loader import UPSAMPLE_PIPELINES, ModelUnavailable, PipelineCache
from generator.mark import mark_frames, mark_text
from generator.styles import Switch, check_server_source

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class RenderCancelled(Exception):
    """The job was cancelled; the pipeline stopped at a step boundary."""


class RenderFailed(Exception):
    """The render could not finish: ``code`` and ``params`` (db.failures) say why in the member's
    language; ``str()`` is the English sentence."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(failure_message(code, params))


@dataclass(frozen=True)
class Conditioning:
    """What a clip starts from and ends on besides its prompt, pictures as uint8 RGB at any size (fitted
    to the plan's size with :func:`fit_image`: cut to its aspect at the centre, never stretched)."""

    image: np.ndarray | None = None  # (h, w, 3): becomes the first frame
    frames: np.ndarray | None = None  # (n, h, w, 3): the parent clip's last frames, to continue from
    end_image: np.ndarray | None = None  # (h, w, 3): becomes the last frame
    # the clip ends on its own first frame: ``image``, or without one a first frame rendered from the prompt
    loop: bool = False

    @property
    def mode(self) -> str:
        """How the clip starts, the preset mode that needs: "text" (from the prompt), "image" or
        "continue"."""
        if self.frames is not None:
            return "continue"
        return "image" if self.image is not None else "text"

    @property
    def modes(self) -> tuple[str, ...]:
        """Every preset mode this needs besides "text": how it starts, then "end" or "loop"."""
        modes = [] if self.mode == "text" else [self.mode]
        if self.end_image is not None:
            modes.append("end")
        if self.loop:
            modes.append("loop")
        return tuple(modes)


@dataclass(frozen=True)
class DraftLatents:
    """A draft's latents, kept on the CPU for its HD version (generator/hd.py): the video's
    un-normalised latents (1, channels, frames, h, w) and its sound's (1, channels, length, mel bins)."""

    video: torch.Tensor
    audio: torch.Tensor | None

    @property
    def nbytes(self) -> int:
        tensors = [self.video] + ([self.audio] if self.audio is not None else [])
        return sum(t.numel() * t.element_size() for t in tensors)


@dataclass(frozen=True)
class RenderOutput:
    # uint8, (frames, height, width, 3) at the plan's size. For a continuation only the frames after the
    # parent's last one: the plan's frames less one (the continuation starts at the parent's last frame)
    frames: np.ndarray
    plan: RenderPlan
    seconds: float  # wall time of the pipeline call (GPU time for fairness accounting)
    # float32 in [-1, 1], (channels, samples), as long as ``frames`` last; None without sound (a model
    # that makes none, or a spec with audio=False)
    audio: np.ndarray | None = None
    sample_rate: int | None = None
    latents: DraftLatents | None = None  # a draft's, for its HD version

    @property
    def fps(self) -> int:
        return self.plan.fps


_cache: PipelineCache | None = None


def default_cache() -> PipelineCache:
    """The process-wide warm cache (created on first use)."""
    global _cache
    if _cache is None:
        _cache = PipelineCache()
    return _cache


# the diffusers pipeline that conditions a text-to-video pipeline on frames, by the text-to-video class
CONDITION_PIPELINES: dict[str, str] = {
    "LTXPipeline": "LTXConditionPipeline",
    "LTXConditionPipeline": "LTXConditionPipeline",
    "LTX2Pipeline": "LTX2ConditionPipeline",
    "LTX2ConditionPipeline": "LTX2ConditionPipeline",
    "WanPipeline": "WanImageToVideoPipeline",
}
# the conditioning pipelines that take a picture at any frame (a keyframe): a clip may end on one, or loop
KEYFRAME_PIPELINES = frozenset({"LTXConditionPipeline", "LTX2ConditionPipeline"})
UNSUPPORTED_CODES = {"image": "no_image_support", "continue": "no_continue_support"}
# a loop from text first renders its first frame: one frame, the fewest a video pipeline renders
STILL_FRAMES = 1


def condition_pipeline(pipe: Any, modes: Collection[str] = ()) -> str | None:
    """The class name of the pipeline that conditions ``pipe``'s components on frames as ``modes`` (those
    of :attr:`Conditioning.modes`) ask, or None when diffusers has none that can."""
    target = CONDITION_PIPELINES.get(type(pipe).__name__)
    if target == "WanImageToVideoPipeline" and not pipe.config.get("expand_timesteps"):
        return None  # a Wan 2.1 text-to-video transformer takes no image latents
    if target not in KEYFRAME_PIPELINES and {"end", "loop"} & set(modes):
        return None  # Wan 2.2 TI2V: diffusers conditions its first latent frame only (no last_image)
    return target


def unsupported(mode: str, plan: RenderPlan, catalog: PresetCatalog | None = None) -> RenderFailed:
    """The failure for a render that asks ``plan``'s model for ``mode``, which it cannot do."""
    title = plan.preset.title
    if mode in UNSUPPORTED_CODES:
        return RenderFailed(UNSUPPORTED_CODES[mode], model=title)
    try:  # "no_end" and "no_loop" (db.spec) name the models that can
        able = [p.name for p in (catalog or PresetCatalog.load()) if mode in p.modes]
    except (PresetError, OSError, ValueError):
        able = []
    return RenderFailed(f"no_{mode}", model=title, choices=", ".join(able) or "–")


def _rgb(image: np.ndarray, what: str) -> np.ndarray:
    """``image`` as uint8 (h, w, 3): grey gains colour channels, an alpha channel is dropped."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise RenderFailed("unusable_input", reason=f"{what} is not 8-bit RGB ({image.dtype})")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise RenderFailed("unusable_input", reason=f"{what} is no picture (shape {image.shape})")
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return image[:, :, :3]


def fit_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` (uint8, (h, w, 3)) at ``width``×``height``: the largest centred window of the target's
    aspect, resized with a Lanczos filter. Nothing is stretched; what does not fit the aspect is cut."""
    h, w = image.shape[:2]
    if w * height > h * width:  # wider than the target: keep the full height
        crop_h, crop_w = h, max(1, round(h * width / height))
    else:
        crop_h, crop_w = max(1, round(w * height / width)), w
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    window = np.ascontiguousarray(image[top : top + crop_h, left : left + crop_w])
    if window.shape[:2] == (height, width):
        return window
    resized = Image.fromarray(window).resize((width, height), Image.Resampling.LANCZOS)
    return np.array(resized, dtype=np.uint8)


def overlap_frames(available: int, preset: Preset) -> int:
    """How many of a parent's last frames a continuation conditions on: the preset's
    ``continue_frames``, or fewer if the parent has fewer, as k * frame_multiple + 1."""
    wanted = max(1, min(available, preset.continue_frames))
    return (wanted - 1) // preset.frame_multiple * preset.frame_multiple + 1


def conditioning_frames(condition: Conditioning, plan: RenderPlan) -> np.ndarray:
    """The frames a render is conditioned on, uint8 (n, height, width, 3) at the plan's size: the
    picture, or the last frames of the parent (as many as :func:`overlap_frames` says)."""
    if condition.frames is None:
        assert condition.image is not None
        return fit_image(_rgb(condition.image, "the picture"), plan.width, plan.height)[None]
    frames = np.asarray(condition.frames)
    if frames.ndim == 2 or (frames.ndim == 3 and frames.shape[-1] in (1, 3, 4)):
        frames = frames[None]  # one frame
    elif frames.ndim == 3:
        frames = frames[..., None]  # grey frames
    if frames.ndim != 4 or len(frames) == 0:
        raise RenderFailed("unusable_input", reason=f"the clip has no frames (shape {frames.shape})")
    tail = frames[len(frames) - overlap_frames(len(frames), plan.preset) :]
    return np.stack([fit_image(_rgb(f, "the clip"), plan.width, plan.height) for f in tail])


def end_frame(condition: Conditioning, plan: RenderPlan) -> np.ndarray | None:
    """The picture a render ends on, uint8 (height, width, 3) at the plan's size: the end picture, or a
    loop's first picture; None for neither (a loop from text ends on the first frame it renders)."""
    if condition.end_image is not None:
        return fit_image(_rgb(condition.end_image, "the end picture"), plan.width, plan.height)
    if condition.loop and condition.image is not None:
        return conditioning_frames(condition, plan)[0]
    return None


def _image_crf() -> int | None:
    # LTX-2 re-encodes a picture as H.264 (as in training) with PyAV; without it the picture goes as it is
    return None if importlib.util.find_spec("av") is not None else 0


def condition_kwargs(
    class_name: str,
    frames: np.ndarray | None,
    end: np.ndarray | None = None,
    *,
    num_frames: int | None = None,
    temporal: int = 8,
) -> dict[str, Any]:
    """The call arguments that condition a ``class_name`` pipeline on ``frames`` (uint8 (n, h, w, 3) at
    the output size) from frame 0, and on ``end`` (uint8 (h, w, 3)) as the last of the call's
    ``num_frames`` frames (k * ``temporal`` + 1: ``temporal`` frames make a latent frame)."""
    if end is not None and (num_frames is None or num_frames < temporal + 1 or (num_frames - 1) % temporal):
        raise ValueError(f"a last frame needs k * {temporal} + 1 frames (k >= 1), not {num_frames}")
    last = 0 if num_frames is None else num_frames - 1
    if class_name == "LTXConditionPipeline":
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        conditions = []
        if frames is not None:
            pictures = [Image.fromarray(f) for f in frames]
            media = {"image": pictures[0]} if len(pictures) == 1 else {"video": pictures}
            conditions.append(LTXVideoCondition(**media, frame_index=0, strength=1.0))
        if end is not None:  # a keyframe: its tokens join the sequence at the last frame's position
            conditions.append(LTXVideoCondition(image=Image.fromarray(end), frame_index=last, strength=1.0))
        return {"conditions": conditions}
    if class_name == "LTX2ConditionPipeline":
        from diffusers.pipelines.ltx2 import LTX2VideoCondition

        conditions = []
        if frames is not None and len(frames) == 1:
            conditions.append(LTX2VideoCondition(frames=frames[0], index=0, strength=1.0, crf=_image_crf()))
        elif frames is not None:
            conditions.append(LTX2VideoCondition(frames=frames, index=0, strength=1.0))
        if end is not None:  # LTX-2 places a condition by latent frame: the last one
            index = last // temporal
            conditions.append(LTX2VideoCondition(frames=end, index=index, strength=1.0, crf=_image_crf()))
        return {"conditions": conditions}
    if class_name == "WanImageToVideoPipeline":
        if frames is None:
            raise ValueError("Wan's image-to-video pipeline needs a first frame")
        kwargs: dict[str, Any] = {"image": Image.fromarray(frames[-1])}
        if end is not None:  # Wan 2.1's first-last-frame models; Wan 2.2 TI2V ignores it
            kwargs["last_image"] = Image.fromarray(end)
        return kwargs
    raise ValueError(f"no conditioning for {class_name}")


def output_sound(
    output: Any, pipe: Any, plan: RenderPlan, skip_frames: int, frames: int
) -> tuple[np.ndarray | None, int | None]:
    """The output's sound as float32 (channels, samples) in [-1, 1] for the kept frames (those after the
    first ``skip_frames``), and its sample rate; (None, None) without sound or when the spec mutes it."""
    audio = getattr(output, "audio", None)
    if audio is None or not plan.spec.audio or not plan.preset.audio:
        return None, None
    # the vocoder's rate: the audio VAE's (pipe.audio_sampling_rate) is that of its mel spectrogram
    rate = int(pipe.vocoder.config.output_sampling_rate)
    wave = audio[0]  # (channels, samples) of the first (only) video
    wave = wave.float().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave, np.float32)
    wave = np.atleast_2d(wave).astype(np.float32)
    start = round(skip_frames / plan.fps * rate)
    length = round(frames / plan.fps * rate)
    wave = wave[:, start : start + length]
    if wave.shape[1] < length:  # the vocoder's last few milliseconds: silence
        wave = np.pad(wave, ((0, 0), (0, length - wave.shape[1])))
    return np.clip(wave, -1.0, 1.0), rate


def keeps_latents(pipe: Any, plan: RenderPlan) -> bool:
    """Whether this render is a draft whose latents are kept for its HD version: a preset with an
    upsampler, on an LTX-2 pipeline whose VAE decodes without a timestep (the draft is then decoded
    here, exactly as the pipeline would)."""
    vae = getattr(pipe, "vae", None)
    return (
        plan.preset.has_hd
        and plan.spec.upscales is None
        and type(pipe).__name__ in UPSAMPLE_PIPELINES
        and vae is not None
        and not vae.config.get("timestep_conditioning", False)
    )


@dataclass(frozen=True)
class _Decoded:
    frames: Any
    audio: Any


def decode_latents(pipe: Any, video: torch.Tensor, audio: torch.Tensor | None) -> _Decoded:
    """What an LTX-2 pipeline returns for ``output_type="np"``, from what it returned for "latent": the
    video VAE's frames, and the audio VAE's mel spectrogram through the vocoder."""
    frames = pipe.vae.decode(video.to(pipe.vae.dtype), None, return_dict=False)[0]
    frames = pipe.video_processor.postprocess_video(frames, output_type="np")
    wave = None
    if audio is not None:
        mel = pipe.audio_vae.decode(audio.to(pipe.audio_vae.dtype), return_dict=False)[0]
        wave = pipe.vocoder(mel)
    return _Decoded(frames, wave)


def pipeline_kwargs(pipe: Any, plan: RenderPlan) -> dict[str, Any]:
    """The call's keyword arguments, keeping only those this pipeline's ``__call__`` accepts."""
    spec = plan.spec
    wanted: dict[str, Any] = {
        "prompt": spec.rendered_prompt,  # the model's enhancement, when it made one; a style's trigger first
        "negative_prompt": spec.negative_prompt or None,
        "width": plan.width,
        "height": plan.height,
        "num_frames": plan.num_frames,
        "frame_rate": plan.fps,
        "num_inference_steps": spec.steps,
        "guidance_scale": spec.guidance,
        "output_type": "np",
        **plan.preset.call_kwargs,
        **length_kwargs(pipe, plan),  # the model's duration head chooses the length, when it may
    }
    accepted = inspect.signature(pipe.__call__).parameters
    return {k: v for k, v in wanted.items() if k in accepted}


def _is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc).lower()
    # CUDA raises OutOfMemoryError; the CPU allocator a RuntimeError "can't allocate memory"
    return isinstance(exc, torch.OutOfMemoryError | MemoryError) or any(
        words in text for words in ("out of memory", "can't allocate memory")
    )


@contextmanager
def pipeline_errors(plan: RenderPlan) -> Iterator[None]:
    """A pipeline's failure as the member reads it: RenderFailed "out_of_memory" (the GPU's cache is
    emptied for the next job) or "pipeline_error"; a cancel goes through."""
    try:
        yield
    except RenderCancelled:
        raise
    except Exception as exc:
        if _is_out_of_memory(exc):
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            log.warning("out of memory rendering %s", plan.spec.model)
            raise RenderFailed("out_of_memory") from exc
        log.exception("pipeline %s failed", plan.preset.pipeline)
        raise RenderFailed("pipeline_error", error=type(exc).__name__) from exc


def _scheduled(kwargs: dict[str, Any], steps: int) -> tuple[dict[str, Any], int]:
    """``kwargs`` with a distilled model's fixed schedule cut to ``steps`` (evenly spaced sigmas from
    it), and the steps the call takes."""
    sigmas = kwargs.get("sigmas")
    if sigmas is None:
        return kwargs, steps
    if 0 < steps < len(sigmas):
        sigmas = [sigmas[i] for i in np.linspace(0, len(sigmas) - 1, steps).round().astype(int)]
    return {**kwargs, "sigmas": sigmas}, len(sigmas)


def fixed_length(plan: RenderPlan) -> RenderPlan:
    """``plan`` at its preset's default length when the model was to choose it: a clip that ends on a
    picture must know where its last frame is."""
    if not plan.auto_length:
        return plan
    preset = plan.preset
    frames = preset.frames_for(preset.default_frames / plan.fps, plan.fps)
    return replace(plan, num_frames=frames, auto_length=False)


def use_styles(cache: PipelineCache, plan: RenderPlan) -> Switch:
    """Put the plan's styles (LoRAs) in play on its preset's warm pipeline (none: the base model). A
    server's style may name files on this host only in the operator's folder. Raises StyleError."""
    if plan.spec.style is not None:
        for source, _ in plan.spec.loras:
            check_server_source(source)
    return cache.use_styles(plan.preset, plan.spec.loras)


@contextmanager
def styles_in_play(cache: PipelineCache, plan: RenderPlan) -> Iterator[None]:
    """The plan's styles in play for a pipeline call, and out of it again afterwards."""
    try:
        use_styles(cache, plan)
        yield
    finally:
        if plan.spec.loras:
            cache.clear_styles(plan.preset)  # the next clip starts from the base model


def render(
    spec: JobSpec | RenderPlan,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    *,
    catalog: PresetCatalog | None = None,
    cache: PipelineCache | None = None,
    condition: Conditioning | None = None,
) -> RenderOutput:
    """Render ``spec`` to frames (and sound, for a model that makes it), from ``condition`` if given,
    with the spec's styles (LoRAs), which are out of play again when it returns. Raises
    RenderCancelled, RenderFailed, StyleError (generator/styles.py) for a style that cannot be used, or
    SpecError for bad input."""
    plan = spec if isinstance(spec, RenderPlan) else resolve_spec(spec, catalog or PresetCatalog.load())
    cache = cache or default_cache()
    try:
        return _render(plan, on_progress, should_cancel, catalog, cache, condition)
    finally:
        if plan.spec.loras:
            cache.clear_styles(plan.preset)  # the next clip starts from the base model


def _render(
    plan: RenderPlan,
    on_progress: ProgressFn | None,
    should_cancel: CancelFn | None,
    catalog: PresetCatalog | None,
    cache: PipelineCache,
    condition: Conditioning | None,
) -> RenderOutput:
    condition = condition or Conditioning()
    if condition.image is not None and condition.frames is not None:
        raise RenderFailed("image_and_continue")
    if condition.loop and condition.end_image is not None:
        raise RenderFailed("loop_and_end")
    if condition.loop and condition.frames is not None:
        raise RenderFailed("unusable_input", reason="a continuation cannot loop back to its first frame")
    modes = condition.modes
    for mode in modes:
        if mode not in plan.preset.modes:
            raise unsupported(mode, plan, catalog)
    start = conditioning_frames(condition, plan) if condition.mode != "text" else None
    end = end_frame(condition, plan)
    if condition.loop or end is not None:
        plan = fixed_length(plan)
    try:
        pipe = cache.get(plan.preset)
    except ModelUnavailable as exc:
        raise RenderFailed("model_unavailable", model=plan.preset.title) from exc
    # the styles live in the transformer, which the conditioning pipelines share; none: the base model
    switch = use_styles(cache, plan)
    if switch.loaded or switch.swapped:
        log.info("%s: styles loaded %d, hotswapped %d", plan.preset.title, switch.loaded, switch.swapped)
    text_pipe = pipe  # a loop from text renders its first frame with it
    variant: str | None = None
    if modes:
        variant = condition_pipeline(pipe, modes)
        try:
            if variant is None:
                raise ModelUnavailable(f"{type(pipe).__name__} has no conditioning pipeline for {modes}")
            pipe = cache.get(plan.preset, variant)
        except ModelUnavailable as exc:  # e.g. a folder preset that claims a mode its model lacks
            mode = next((m for m in modes if condition_pipeline(text_pipe, (m,)) is None), modes[0])
            log.warning("%s cannot %s: %s", plan.preset.title, mode, exc)
            raise unsupported(mode, plan, catalog) from exc
    # the clip comes from the prompt alone (a loop from text too): the model may enhance the prompt
    from_text = start is None and end is None
    enhancing = time.perf_counter()  # the model's prompt enhancer, when asked: the text is known before
    with pipeline_errors(plan), torch.inference_mode():
        plan = enhanced_plan(
            text_pipe if from_text else pipe, plan, "text" if from_text else modes[0], should_cancel
        )
    enhancing = time.perf_counter() - enhancing
    steps = plan.spec.steps or 0
    kwargs, total = _scheduled(pipeline_kwargs(pipe, plan), steps)
    still: dict[str, Any] | None = None  # a loop from text: the call that renders its first frame
    done = 0  # steps of that call, before the clip's
    if condition.loop and start is None:
        still, done = _scheduled(
            {**pipeline_kwargs(text_pipe, plan), "num_frames": STILL_FRAMES, "output_type": "np"}, steps
        )
    skip = 0
    if condition.mode == "continue":
        # the continuation starts with the parent's last frames again: render those on top
        assert start is not None
        skip = len(start)
        kwargs["num_frames"] = plan.num_frames + skip - 1
    steps_in_all = done + total

    def step_end_after(before: int) -> Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]:
        def step_end(_pipe: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            if should_cancel is not None and should_cancel():
                raise RenderCancelled()
            if on_progress is not None:
                on_progress(before + step + 1, steps_in_all)
            return tensors

        return step_end

    if should_cancel is not None and should_cancel():
        raise RenderCancelled()
    if on_progress is not None:
        on_progress(0, steps_in_all)
    started = time.perf_counter()
    if still is not None:
        with pipeline_errors(plan), torch.inference_mode():
            first = text_pipe(**still, generator=seeded_noise(plan), callback_on_step_end=step_end_after(0))
        start = to_uint8(np.asarray(first.frames))[:1]  # (1, height, width, 3)
        end = start[0]
    if variant is not None:
        temporal = int(getattr(pipe, "vae_temporal_compression_ratio", plan.preset.frame_multiple))
        # the call's frames: where the last is (None: the model chooses the length of a clip from a picture)
        num_frames = kwargs.get("num_frames")
        kwargs.update(condition_kwargs(variant, start, end, num_frames=num_frames, temporal=temporal))
    draft = skip == 0 and keeps_latents(pipe, plan)
    if draft:
        kwargs["output_type"] = "latent"
    latents: DraftLatents | None = None
    with pipeline_errors(plan), torch.inference_mode():
        output = pipe(**kwargs, generator=seeded_noise(plan), callback_on_step_end=step_end_after(done))
        if draft:  # the latents are kept for the HD version; the clip is decoded from them
            latents = DraftLatents(
                output.frames.detach().cpu(),
                output.audio.detach().cpu() if isinstance(output.audio, torch.Tensor) else None,
            )
            output = decode_latents(pipe, output.frames, getattr(output, "audio", None))
    elapsed = time.perf_counter() - started + enhancing
    frames = to_uint8(np.asarray(output.frames))[skip:]
    if plan.spec.mark:  # the AI mark (issue 21) on the frames this render made, in the member's language
        frames = mark_frames(frames, mark_text(plan.locale), in_place=True)
    audio, sample_rate = output_sound(output, pipe, plan, skip, len(frames))
    return RenderOutput(
        frames=frames, plan=plan, seconds=elapsed, audio=audio, sample_rate=sample_rate, latents=latents
    )


def seeded_noise(plan: RenderPlan) -> torch.Generator:
    """The pipeline's generator for the plan's seed (a CPU generator gives the same noise on every
    device). torch's global generators are seeded too: LTX-Video's VAE draws its decoder noise from them,
    not from the pipeline's, and loading a LoRA (peft initialises its adapters) draws from them as well,
    so without this the same seed would decode differently after a style was loaded."""
    seed = int(plan.spec.seed or 0)
    torch.manual_seed(seed)
    return torch.Generator(device="cpu").manual_seed(seed)
