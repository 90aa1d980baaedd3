"""The job spec: what a member asked for, shared by the bot (which validates and stores it) and the
generator (which renders it). Pure data and pure functions; no I/O beyond reading preset files."""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

from db.presets import Preset, PresetCatalog, PresetError

PROMPT_MAX_CHARS = 1000
NEGATIVE_MAX_CHARS = 500
SEED_MAX = 2**32 - 1
FPS_RANGE = (8, 30)
GUIDANCE_RANGE = (1.0, 20.0)


class SpecError(ValueError):
    """Input a member can fix. ``code`` and ``params`` let the bot say it in the member's language;
    ``str()`` is the English sentence."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "prompt_empty": "The prompt is empty: describe the clip you want.",
        "prompt_too_long": "The prompt is {length} characters long; the limit is {limit}.",
        "negative_too_long": "The negative prompt is {length} characters long; the limit is {limit}.",
        "unknown_model": "There is no model called “{model}”. Choose one of: {choices}.",
        "bad_model_folder": "The model folder cannot be used: {reason}",
        "unknown_aspect": "{model} does not render {aspect}. Choose one of: {choices}.",
        "seconds_out_of_range": "{model} makes clips of {low}–{high} seconds; you asked for {value}.",
        "steps_out_of_range": "{model} takes 1–{high} steps; you asked for {value}.",
        "guidance_out_of_range": "Guidance must be between {low} and {high}; you asked for {value}.",
        "fps_out_of_range": "Frame rate must be between {low} and {high} fps; you asked for {value}.",
        "seed_out_of_range": "The seed must be a whole number from 0 to {high}; you gave {value}.",
        "no_image": "{model} cannot start from a picture. Models that can: {choices}.",
        "no_continue": "{model} cannot continue a clip. Models that can: {choices}.",
        "image_and_continue": "A clip either starts from a picture or continues a clip, not both.",
    }

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(self.MESSAGES[code].format(**params))


@dataclass(frozen=True)
class JobSpec:
    """A render request. ``None`` means "the model's default"; :func:`resolve_spec` fills them in."""

    prompt: str
    negative_prompt: str = ""
    seconds: float | None = None
    aspect: str | None = None
    model: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    fps: int | None = None
    start_image: bool = False  # a picture is the first frame (for a job: the one ``image_ref`` names)
    image_ref: str | None = None  # the member's picture in the media store (JobStore.put_input)
    continues: int | None = None  # the job id of the clip whose last frames it continues (Extend)
    audio: bool = True  # keep the sound of a model that makes it (a server or the CLI may mute it)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        data = json.loads(text)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class RenderPlan:
    """A resolved spec: exactly what the pipeline is called with."""

    spec: JobSpec  # with every field filled in
    preset: Preset
    width: int
    height: int
    num_frames: int
    fps: int

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def _fmt(value: float) -> str:
    return f"{value:g}"


def _check_number(value: float, low: float, high: float, code: str, **params: Any) -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise SpecError(code, low=_fmt(low), high=_fmt(high), value=_fmt(value), **params)


def resolve_preset(model: str | None, catalog: PresetCatalog) -> Preset:
    try:
        preset = catalog.resolve(model)
    except PresetError as exc:
        raise SpecError("bad_model_folder", reason=str(exc)) from exc
    if preset is None:
        raise SpecError("unknown_model", model=model, choices=", ".join(catalog.names()))
    return preset


def resolve_spec(spec: JobSpec, catalog: PresetCatalog, seed: int | None = None) -> RenderPlan:
    """Validate ``spec`` against its model's limits and fill in every default.

    A missing seed becomes ``seed`` if given, else a random one, so the stored job can be rerendered.
    Raises :class:`SpecError` with a reason a member understands.
    """
    prompt = spec.prompt.strip()
    if not prompt:
        raise SpecError("prompt_empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise SpecError("prompt_too_long", length=len(prompt), limit=PROMPT_MAX_CHARS)
    negative = spec.negative_prompt.strip()
    if len(negative) > NEGATIVE_MAX_CHARS:
        raise SpecError("negative_too_long", length=len(negative), limit=NEGATIVE_MAX_CHARS)

    preset = resolve_preset(spec.model, catalog)
    title = preset.title
    if spec.start_image and spec.continues is not None:
        raise SpecError("image_and_continue")
    for wanted, mode, code in (
        (spec.start_image, "image", "no_image"),
        (spec.continues is not None, "continue", "no_continue"),  # job 0 is the CLI's parent
    ):
        if wanted and mode not in preset.modes:
            able = [p.name for p in catalog if mode in p.modes]
            raise SpecError(code, model=title, choices=", ".join(able) or "–")

    aspect = spec.aspect or preset.default_aspect
    if aspect not in preset.sizes:
        raise SpecError("unknown_aspect", model=title, aspect=aspect, choices=", ".join(preset.sizes))

    fps = preset.fps if spec.fps is None else spec.fps
    _check_number(fps, *FPS_RANGE, "fps_out_of_range")

    seconds = preset.default_frames / fps if spec.seconds is None else spec.seconds
    low, high = preset.min_frames / fps, preset.max_frames / fps
    # the pipeline takes k * frame_multiple + 1 frames: accept what snaps into range ("1 s" for 17 frames)
    slack = preset.frame_multiple / 2
    frames_wanted = seconds * fps if math.isfinite(seconds) else -1.0
    if not preset.min_frames - slack <= frames_wanted <= preset.max_frames + slack:
        raise SpecError(
            "seconds_out_of_range",
            model=title,
            low=_fmt(round(low, 1)),
            high=_fmt(round(high, 1)),
            value=_fmt(seconds),
        )

    steps = preset.default_steps if spec.steps is None else spec.steps
    if not 1 <= steps <= preset.max_steps:
        raise SpecError("steps_out_of_range", model=title, high=preset.max_steps, value=steps)

    guidance = preset.default_guidance if spec.guidance is None else spec.guidance
    _check_number(guidance, *GUIDANCE_RANGE, "guidance_out_of_range")

    if spec.seed is not None:
        chosen_seed = spec.seed
    elif seed is not None:
        chosen_seed = seed
    else:
        chosen_seed = secrets.randbelow(SEED_MAX + 1)
    if not 0 <= chosen_seed <= SEED_MAX:
        raise SpecError("seed_out_of_range", high=SEED_MAX, value=chosen_seed)

    resolved = replace(
        spec,
        prompt=prompt,
        negative_prompt=negative,
        seconds=seconds,
        aspect=aspect,
        model=spec.model or catalog.default,
        seed=chosen_seed,
        steps=steps,
        guidance=guidance,
        fps=fps,
    )
    width, height = preset.sizes[aspect]
    return RenderPlan(
        spec=resolved,
        preset=preset,
        width=width,
        height=height,
        num_frames=preset.frames_for(seconds, fps),
        fps=fps,
    )
