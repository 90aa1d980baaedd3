"""The job spec: what a member asked for, shared by the bot (which validates and stores it) and the
generator (which renders it). Pure data and pure functions; no I/O beyond reading preset files."""

from __future__ import annotations

import json
import math
import secrets
import unicodedata
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

from db.presets import Preset, PresetCatalog, PresetError

PROMPT_MAX_CHARS = 1000
NEGATIVE_MAX_CHARS = 500
SEED_MAX = 2**32 - 1
FPS_RANGE = (8, 30)
GUIDANCE_RANGE = (1.0, 20.0)
LORAS_MAX = 4  # styles in one clip
DISCORD_UPLOAD_FLOOR = 10 * 1024 * 1024  # the least any Discord server takes: a job without its limit
LORA_SCALE_RANGE = (-2.0, 2.0)  # a LoRA's weight: 0 is none, 1 as trained, past 2 it only breaks
# combining marks kept on one letter: enough for Vietnamese, Devanagari or Thai, not for "zalgo" text
MARKS_PER_BASE = 4
_ALWAYS_INVISIBLE = frozenset("\u200b\u2060\ufeff")  # zero-width space, word joiner, BOM
_JOINERS = frozenset("\u200c\u200d")  # zero-width (non-)joiner: kept only between visible characters
_BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + ["\u200e", "\u200f"]
)
_TAGS = range(0xE0020, 0xE0080)  # the tag characters of flag sequences such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # fillers that show as nothing


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
        "no_hd": "{model} makes no HD versions. Models that do: {choices}.",
        "no_end": "{model} cannot end on a picture. Models that can: {choices}.",
        "no_loop": "{model} cannot make a loop. Models that can: {choices}.",
        "loop_and_end": "A loop ends on its own first frame: it takes no end picture.",
        "no_bridge": "{model} cannot bridge two clips. Models that can: {choices}.",
        "bridge_and_pictures": "A bridge starts on one clip and ends on another: it takes no pictures.",
        "prompt_not_utf8": "The prompt is not valid UTF-8 text; type it again or check its encoding.",
        "negative_not_utf8": "The negative prompt is not valid UTF-8 text; type it again or check it.",
        "not_text": "{field} must be text; you gave {value}.",
        "not_whole_number": "{field} must be a whole number; you gave {value}.",
        "not_a_number": "{field} must be a number; you gave {value}.",
        "bad_lora": "A style is a LoRA file and its scale; {value} is neither.",
        "too_many_loras": "A clip takes at most {limit} styles; you gave {count}.",
        "lora_scale_out_of_range": "A style's scale must be between {low} and {high}; you gave {value}.",
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
    image_ref: str | None = None  # the member's picture in the media store (Store.put_input)
    continues: int | None = None  # the job id of the clip whose last frames it continues (Extend)
    # the job id of the draft it finishes in HD (upsampled and refined, same seed and prompt)
    upscales: int | None = None
    # keyframes: a picture is the last frame (for a job: the one ``end_image_ref`` names in the media
    # store); ``loop``: the clip ends on its own first frame (the picture it starts from, or its first
    # frame as rendered), so it plays seamlessly on repeat
    end_image: bool = False
    end_image_ref: str | None = None
    loop: bool = False
    # a bridge: the job id of the clip it ends on (that clip's first frame), starting on the last frames
    # of the clip it ``continues``; the whole is posted as first clip + bridge + second clip
    bridges_to: int | None = None
    # styles: LoRAs loaded into the model for this clip, each (source: a hub id with an optional file
    # name, or a path on the GPU host; scale); ``style``: the server's style they come from (its id in
    # store.styles, for credits and for marking it broken), None for the command line's --lora
    loras: tuple[tuple[str, float], ...] = ()
    style: int | None = None
    # the style's trigger words, put before the prompt when it is rendered (as its author says)
    trigger: str = ""
    audio: bool = True  # keep the sound of a model that makes it (a server or the CLI may mute it)
    # the bytes the posted clip may have: the upload limit of the server it was asked on (a boosted
    # server's is 50 or 100 MiB); None: Discord's floor of 10 MiB (a job stored before this field)
    upload_limit: int | None = None
    # the model's prompt enhancer rewrites the prompt before the render (a server's setting, recorded
    # when the job is queued); a model that has none renders the prompt as it is
    enhance: bool = False
    # the enhanced prompt to render with instead of ``prompt``, and the prompt it was made from: a reroll
    # of an enhanced clip reuses its text, not enhanced again. A spec whose prompt is no longer that one
    # (a remix of it) renders its own prompt
    enhanced_prompt: str | None = None
    enhanced_from: str | None = None
    # a small visible "AI" mark in the corner of the frames this job renders (a server's setting, recorded
    # when the job is queued; issue 21, the EU AI Act's Article 50); a spec stored before it has none
    mark: bool = False

    @property
    def post_limit(self) -> int:
        """The bytes the posted clip may have: :attr:`upload_limit`, else Discord's floor."""
        return self.upload_limit or DISCORD_UPLOAD_FLOOR

    def reusing(self, enhanced_prompt: str | None) -> JobSpec:
        """This spec rendered with ``enhanced_prompt`` (a clip's stored enhancement), or as it is for None."""
        if enhanced_prompt is None:
            return self
        return replace(self, enhanced_prompt=enhanced_prompt, enhanced_from=self.prompt)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @property
    def rendered_prompt(self) -> str:
        """The prompt the model is given: the enhanced one if any, after the style's trigger words."""
        prompt = self.enhanced_prompt or self.prompt
        return f"{self.trigger} {prompt}" if self.trigger else prompt

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        data = json.loads(text)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if isinstance(known.get("loras"), list):  # JSON has lists; a spec holds tuples
            known["loras"] = tuple(tuple(lora) if isinstance(lora, list) else lora for lora in known["loras"])
        return cls(**known)


@dataclass(frozen=True)
class RenderPlan:
    """A resolved spec: exactly what the pipeline is called with."""

    spec: JobSpec  # with every field filled in
    preset: Preset
    width: int
    height: int
    num_frames: int  # with auto_length the most the model may choose (the cost is estimated at that)
    fps: int
    # the model's duration head chooses the length within the preset's bounds (no seconds were given):
    # ``spec.seconds`` stays None and the clip has as many frames as the pipeline returns
    auto_length: bool = False
    # the language of the member the job is for (``Job.locale``): the words of its AI mark (``spec.mark``)
    locale: str = "en-US"

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def _fmt(value: float) -> str:
    return f"{value:g}"


def clean_prompt(text: str) -> str:
    """``text`` as one line a member can see: control characters, bidi controls and zero-width
    characters removed (a zero-width joiner stays inside an emoji or a word), line breaks and tabs as
    spaces, runs of spaces as one, and at most :data:`MARKS_PER_BASE` combining marks on a letter.

    Text without any of these comes back unchanged."""
    kept: list[str] = []
    marks = 0
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch.isspace() or category in ("Zl", "Zp"):
            kept.append(ch if category == "Zs" else " ")
            marks = 0
            continue
        if category == "Cc" or ch in _ALWAYS_INVISIBLE or ch in _BIDI_CONTROLS:
            continue
        if ch in _JOINERS:
            after = text[i + 1] if i + 1 < len(text) else " "
            base = next((c for c in reversed(kept) if unicodedata.category(c) not in ("Mn", "Me")), " ")
            if _visible(base) and _visible(after):  # 👨‍👩‍👧, ❤️‍🔥, or a word that needs it
                kept.append(ch)
            continue
        if ord(ch) in _TAGS:
            if kept and (kept[-1] == "\U0001f3f4" or ord(kept[-1]) in _TAGS):
                kept.append(ch)
            continue
        if category in ("Mn", "Me"):
            if not kept or marks >= MARKS_PER_BASE:
                continue
            marks += 1
        else:
            marks = 0
        kept.append(ch)
    return _collapse_spaces("".join(kept))


def _visible(ch: str) -> bool:
    """Whether ``ch`` shows as something on its own (a letter, digit, symbol or punctuation)."""
    return not ch.isspace() and ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _INVISIBLE


_INVISIBLE = frozenset({"Mn", "Me", "Cf", "Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _collapse_spaces(text: str) -> str:
    """Trimmed, with each run of two or more spaces as one " " (a single space, even U+3000, is kept)."""
    words: list[str] = []
    run = ""
    for ch in text:
        if ch.isspace():
            run += ch
            continue
        if run and words:
            words.append(run if len(run) == 1 else " ")
        run = ""
        words.append(ch)
    return "".join(words)


def has_visible_text(text: str) -> bool:
    """Whether any character of ``text`` shows as something (not only marks, spaces or fillers)."""
    return any(_visible(ch) for ch in text)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were no UTF-8 (argv, a broken form)
        return False
    return True


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _check_types(spec: JobSpec) -> None:
    """Each field of the kind it holds, as a presets file, the job store or a web form may get it
    wrong: text is text, a number is a number, and true is no number."""

    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    for name in (
        "prompt",
        "negative_prompt",
        "aspect",
        "model",
        "image_ref",
        "end_image_ref",
        "enhanced_prompt",
        "enhanced_from",
    ):
        value = getattr(spec, name)
        if not isinstance(value, str) and not (value is None and name not in ("prompt", "negative_prompt")):
            raise SpecError("not_text", field=name, value=_shown(value))
    for name in ("seed", "steps", "fps", "continues", "upscales", "bridges_to", "style"):
        value = getattr(spec, name)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)):
            raise SpecError("not_whole_number", field=name, value=_shown(value))
    for name in ("seconds", "guidance"):
        value = getattr(spec, name)
        if value is not None and not number(value):
            raise SpecError("not_a_number", field=name, value=_shown(value))
    if not isinstance(spec.trigger, str):
        raise SpecError("not_text", field="trigger", value=_shown(spec.trigger))
    if not isinstance(spec.loras, tuple | list):
        raise SpecError("bad_lora", value=_shown(spec.loras))
    for lora in spec.loras:
        if not (
            isinstance(lora, tuple | list) and len(lora) == 2 and isinstance(lora[0], str) and number(lora[1])
        ):
            raise SpecError("bad_lora", value=_shown(lora))


def _check_number(value: float, low: float, high: float, code: str, **params: Any) -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise SpecError(code, low=_fmt(low), high=_fmt(high), value=_fmt(value), **params)


def resolve_preset(model: str | None, catalog: PresetCatalog) -> Preset:
    try:
        preset = catalog.resolve(model)
    except PresetError as exc:
        raise SpecError("bad_model_folder", reason=str(exc)) from exc
    except (OSError, ValueError):  # no path the file system takes (too long, a NUL byte): no folder
        preset = None
    if preset is None:
        shown = model if model is None or len(model) <= 40 else model[:39] + "…"
        raise SpecError("unknown_model", model=shown, choices=", ".join(catalog.names()))
    return preset


def resolve_spec(
    spec: JobSpec, catalog: PresetCatalog, seed: int | None = None, *, locale: str = "en-US"
) -> RenderPlan:
    """Validate ``spec`` against its model's limits and fill in every default.

    A missing seed becomes ``seed`` if given, else a random one, so the stored job can be rerendered.
    ``locale``: the language of the member the job is for (the words of its AI mark).
    Raises :class:`SpecError` with a reason a member understands.
    """
    _check_types(spec)
    if not _is_utf8(spec.prompt):
        raise SpecError("prompt_not_utf8")
    if not _is_utf8(spec.negative_prompt):
        raise SpecError("negative_not_utf8")
    prompt = clean_prompt(spec.prompt)
    if not has_visible_text(prompt):
        raise SpecError("prompt_empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise SpecError("prompt_too_long", length=len(prompt), limit=PROMPT_MAX_CHARS)
    negative = clean_prompt(spec.negative_prompt)
    if not has_visible_text(negative):
        negative = ""
    if len(negative) > NEGATIVE_MAX_CHARS:
        raise SpecError("negative_too_long", length=len(negative), limit=NEGATIVE_MAX_CHARS)

    preset = resolve_preset(spec.model, catalog)
    title = preset.title
    bridge = spec.bridges_to is not None
    if bridge and (spec.start_image or spec.end_image or spec.loop or spec.continues is None):
        raise SpecError("bridge_and_pictures")
    if spec.start_image and spec.continues is not None:
        raise SpecError("image_and_continue")
    if spec.loop and spec.end_image:
        raise SpecError("loop_and_end")
    for wanted, mode, code in (
        (spec.start_image, "image", "no_image"),
        (spec.continues is not None, "continue", "no_continue"),  # job 0 is the CLI's parent
        (spec.end_image, "end", "no_end"),
        (spec.loop, "loop", "no_loop"),
        (bridge, "bridge", "no_bridge"),
    ):
        if wanted and mode not in preset.modes:
            able = [p.name for p in catalog if mode in p.modes]
            raise SpecError(code, model=title, choices=", ".join(able) or "–")

    aspect = spec.aspect or preset.default_aspect
    if aspect not in preset.sizes:
        raise SpecError("unknown_aspect", model=title, aspect=aspect, choices=", ".join(preset.sizes))

    fps = preset.fps if spec.fps is None else spec.fps
    _check_number(fps, *FPS_RANGE, "fps_out_of_range")

    # no length given: a model with a duration head chooses it (not for an extend or an HD version)
    # (nor for a clip that ends on a picture or loops: its last frame's place must be known)
    auto_length = (
        spec.seconds is None
        and preset.duration_head
        and spec.continues is None
        and spec.upscales is None
        and not spec.end_image
        and not spec.loop
        and preset.min_frames < preset.max_frames
    )
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

    if spec.upscales is not None and not preset.has_hd:
        able = [p.name for p in catalog if p.has_hd]
        raise SpecError("no_hd", model=title, choices=", ".join(able) or "–")

    steps = preset.default_steps if spec.steps is None else spec.steps
    if not 1 <= steps <= preset.max_steps:
        raise SpecError("steps_out_of_range", model=title, high=preset.max_steps, value=steps)
    if spec.upscales is not None:
        steps = preset.refine_steps  # HD refines the draft in the preset's own few steps

    guidance = preset.default_guidance if spec.guidance is None else spec.guidance
    _check_number(guidance, *GUIDANCE_RANGE, "guidance_out_of_range")

    if len(spec.loras) > LORAS_MAX:
        raise SpecError("too_many_loras", limit=LORAS_MAX, count=len(spec.loras))
    for _, scale in spec.loras:
        _check_number(scale, *LORA_SCALE_RANGE, "lora_scale_out_of_range")

    if spec.seed is not None:
        chosen_seed = spec.seed
    elif seed is not None:
        chosen_seed = seed
    else:
        chosen_seed = secrets.randbelow(SEED_MAX + 1)
    if not 0 <= chosen_seed <= SEED_MAX:
        raise SpecError("seed_out_of_range", high=SEED_MAX, value=chosen_seed)

    enhanced = _enhanced_prompt(spec, prompt)
    resolved = replace(
        spec,
        prompt=prompt,
        negative_prompt=negative,
        seconds=None if auto_length else seconds,
        aspect=aspect,
        model=spec.model or catalog.default,
        seed=chosen_seed,
        steps=steps,
        guidance=guidance,
        fps=fps,
        enhanced_prompt=enhanced,
        enhanced_from=prompt if enhanced is not None else None,
        loras=tuple((str(source), float(scale)) for source, scale in spec.loras),
        trigger=clean_prompt(spec.trigger),
    )
    # a preset with an upsampler renders drafts at half its size; its HD versions at its size
    width, height = preset.sizes[aspect] if spec.upscales is not None else preset.draft_size(aspect)
    return RenderPlan(
        spec=resolved,
        preset=preset,
        width=width,
        height=height,
        num_frames=preset.max_frames if auto_length else preset.frames_for(seconds, fps),
        fps=fps,
        auto_length=auto_length,
        locale=locale,
    )


def _enhanced_prompt(spec: JobSpec, prompt: str) -> str | None:
    """The spec's enhanced prompt, cleaned, while it is still the enhancement of ``prompt`` (the
    cleaned prompt); None when there is none or it was made from another prompt."""
    text, source = spec.enhanced_prompt, spec.enhanced_from
    if text is None or source is None or not _is_utf8(text) or not _is_utf8(source):
        return None
    if clean_prompt(source) != prompt:
        return None
    text = clean_prompt(text)
    return text if has_visible_text(text) else None
