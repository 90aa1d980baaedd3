"""Model presets: a diffusers pipeline plus the defaults and limits members may choose within.

Presets are data (no torch here): the bot validates and offers choices from them, the generator loads
the pipeline they name. The built-in ones are ``presets.json`` beside this module; an operator can point a
preset at a local folder, change its limits or add new presets with a JSON file of the same form named by
``VIDEOBOT_PRESETS`` (an entry with ``"base": NAME`` gives only what differs from that preset); a folder
given directly as the model may carry a ``videobot.json`` with the same fields and the ``base`` it runs as.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_origin, get_type_hints

PRESETS_ENV = "VIDEOBOT_PRESETS"
FOLDER_PRESET_FILE = "videobot.json"

ASPECTS = ("16:9", "9:16", "1:1", "3:2", "2:3")
# "end": ends on a picture; "loop": ends on its own first frame; "bridge": joins two clips (a transition
# from the first one's last frames to the second one's first frame)
MODES = ("text", "image", "continue", "end", "loop", "bridge")
OFFLOAD_KINDS = ("auto", "none", "model", "group")
UPSAMPLER_SUBFOLDER = "latent_upsampler"  # where an LTX repository keeps its latent upsampler
DEFAULT_SPEEDUPS: Mapping[str, Any] = {"attention_backend": "auto", "compile": True}


class PresetError(ValueError):
    """A preset file or model folder that cannot be used."""


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    pipeline: str  # diffusers pipeline class name, e.g. "LTXPipeline"
    source: str  # hub id or local folder that from_pretrained reads
    sizes: Mapping[str, tuple[int, int]]  # aspect -> (width, height)
    default_aspect: str
    fps: int
    frame_multiple: int  # the pipeline takes k * frame_multiple + 1 frames
    min_frames: int
    max_frames: int
    default_frames: int
    default_steps: int
    max_steps: int
    default_guidance: float
    # GPU-seconds per step × frame × pixel on one H100-class GPU with guidance (db/cost.py), from public
    # timings: LTX-Video 2B renders 40 steps of 121 frames at 768×512 in about 20 s, so 1e-8
    seconds_per_unit: float
    dtype: str = "bfloat16"
    # extra keyword arguments for the pipeline call (e.g. decode_timestep, max_sequence_length)
    call_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # component overrides at load time: {"vae_dtype": "float32", "flow_shift": 3.0}
    load_options: Mapping[str, Any] = field(default_factory=dict)
    # speed-ups that keep the output (generator/speedups.py): {"attention_backend": "auto", "compile": True}
    speedups: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_SPEEDUPS))
    description: str = ""
    # what a render may start from: "text", "image" (its first frame), "continue" (a clip's last frames)
    modes: tuple[str, ...] = ("text",)
    audio: bool = False  # the model makes a synchronized sound track
    # how many of a parent clip's last frames a continuation is conditioned on (k * frame_multiple + 1);
    # the continuation repeats them and the generator drops them again
    continue_frames: int = 1
    # GPU memory (GiB) the default clip takes in the preset's dtype: all of it on the GPU, and the least
    # with diffusers' offloading (group offload); 0 means not known. On CUDA a worker skips a preset that
    # does not fit even with offloading and offloads one that does not fit without (generator/loader.py)
    gpu_memory_gb: float = 0.0
    gpu_memory_offload_gb: float = 0.0
    # "auto" (offload only when gpu_memory_gb does not fit), "none", "model" (whole components move to the
    # GPU in turn) or "group" (layers stream to the GPU as they run: least memory, slowest)
    offload: str = "auto"
    # GB (10^9 bytes) a worker fetches from the hub for this preset's pipeline (generator/weights.py),
    # from the repository's file list; 0 when not known. Said where it cannot be asked (offline)
    download_gb: float = 0.0
    # made for a worker without a GPU (small, few steps): a CPU worker serves only such presets unless
    # the operator names others with --models
    cpu: bool = False
    # a transformer in its original single-file layout that replaces the source's: "Org/Repo/file.safetensors"
    # on the hub, or a local file; loaded with diffusers' from_single_file and the source's config
    transformer_file: str = ""
    # a latent upsampler (LTX's two-stage recipe: draft at half size, upsample the latents 2x, refine in
    # a few steps): a hub repository ("Org/Repo", or "Org/Repo/subfolder"), a local folder, or a subfolder
    # of the source ("latent_upsampler"). A preset with one renders drafts at half its sizes and offers HD
    upsampler: str = ""
    # the refine (second stage) call's keyword arguments over call_kwargs, e.g. the distilled recipe's
    # {"sigmas": [0.909375, 0.725, 0.421875], "noise_scale": 0.909375}
    refine_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # the hub repository is gated: its license must be accepted on the hub and HF_TOKEN set
    gated: bool = False
    # the pipeline has a duration head (LTX-2.5's ``duration_head``): a clip asked for without a length
    # gets the one it predicts from the prompt, within min_frames..max_frames (charged at max_frames)
    duration_head: bool = False
    # which styles (LoRAs) fit it: presets of one family share a transformer's architecture, so a LoRA
    # trained on one loads into the others; empty: its own family (its name). A preset derived from
    # another with other weights (a new source or transformer_file) starts a family of its own unless it
    # names one
    lora_family: str = ""

    @property
    def family(self) -> str:
        """The family of styles (LoRAs) that fit this preset."""
        return self.lora_family or self.name

    @property
    def has_hd(self) -> bool:
        """Whether clips of this preset are drafts that can be finished in HD."""
        return bool(self.upsampler)

    @property
    def upsampler_location(self) -> tuple[str, str | None] | None:
        """Where ``from_pretrained`` reads the upsampler: (hub id or folder, subfolder or None); None
        without one. A bare name is a subfolder of the source; "Org/Repo" is a hub repository of an
        upsample pipeline (its ``latent_upsampler`` subfolder); "Org/Repo/sub" names the subfolder; a
        local folder is read as it is, or its ``latent_upsampler`` subfolder when it has one."""
        name = self.upsampler
        if not name:
            return None
        folder = Path(name)
        if folder.is_dir():
            return (name, None) if (folder / "config.json").is_file() else (name, UPSAMPLER_SUBFOLDER)
        if "/" not in name:
            return (self.source, name)
        org, _, rest = name.partition("/")
        repo, _, sub = rest.partition("/")
        return (f"{org}/{repo}", sub or UPSAMPLER_SUBFOLDER)

    @property
    def refine_steps(self) -> int:
        """The refine stage's steps: its sigmas, else its own step count, else 3 (LTX's recipe)."""
        sigmas = self.refine_kwargs.get("sigmas")
        if isinstance(sigmas, list | tuple) and sigmas:
            return len(sigmas)
        steps = self.refine_kwargs.get("num_inference_steps")
        return int(steps) if isinstance(steps, int) and steps > 0 else 3

    def draft_size(self, aspect: str) -> tuple[int, int]:
        """The size a clip of ``aspect`` is rendered at: half the preset's size when it has an upsampler
        (the HD size is then the preset's), else the preset's."""
        width, height = self.sizes[aspect]
        return (width // 2, height // 2) if self.upsampler else (width, height)

    @property
    def transformer_hub_file(self) -> tuple[str, str] | None:
        """(repo id, file name) of a ``transformer_file`` on the hub; None for none or a local file."""
        if not self.transformer_file or Path(self.transformer_file).is_file():
            return None
        org, _, rest = self.transformer_file.partition("/")
        repo, _, filename = rest.partition("/")
        return (f"{org}/{repo}", filename) if org and repo and filename else None

    @property
    def min_seconds(self) -> float:
        return self.min_frames / self.fps

    @property
    def max_seconds(self) -> float:
        return self.max_frames / self.fps

    @property
    def default_seconds(self) -> float:
        return round(self.default_frames / self.fps, 1)

    @property
    def is_local(self) -> bool:
        return Path(self.source).is_dir()

    def frames_for(self, seconds: float, fps: int | None = None) -> int:
        """The frame count the pipeline accepts that is nearest to ``seconds`` at ``fps``."""
        rate = fps or self.fps
        wanted = max(1, round(seconds * rate))
        k = round((wanted - 1) / self.frame_multiple)
        frames = k * self.frame_multiple + 1
        lowest = self.min_frames
        highest = self.max_frames
        return min(max(frames, lowest), highest)


BUILTIN_PRESETS_FILE = Path(__file__).with_name("presets.json")

_FIELDS = fields(Preset)
_FIELD_NAMES = {f.name for f in _FIELDS}
_REQUIRED_FIELDS = [f.name for f in _FIELDS if f.default is MISSING and f.default_factory is MISSING]
# what each field holds in JSON, read from the annotations so that a new field is checked too
_FIELD_KINDS: dict[str, Any] = {
    name: get_origin(hint) or hint for name, hint in get_type_hints(Preset).items()
}
_KIND_WORDS: dict[Any, str] = {
    bool: "true or false",
    tuple: "a list of strings",
    int: "a whole number",
    float: "a number",
    str: "a string",
    Mapping: "an object",
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _sizes(value: Any, where: str) -> dict[str, tuple[int, int]]:
    def is_pair(size: Any) -> bool:
        return (
            isinstance(size, list | tuple)
            and len(size) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in size)
        )

    if isinstance(value, Mapping) and all(isinstance(k, str) and is_pair(v) for k, v in value.items()):
        return {aspect: (size[0], size[1]) for aspect, size in value.items()}
    raise PresetError(f"{where}: sizes must map an aspect to [width, height] (got {_shown(value)})")


def _typed(name: str, value: Any, where: str) -> Any:
    """``value`` as the field ``name`` holds it; a value of the wrong JSON type is a PresetError."""
    if name == "sizes":
        return _sizes(value, where)
    kind = _FIELD_KINDS[name]
    number = isinstance(value, int | float) and not isinstance(value, bool)  # JSON true is no number
    if kind is int and number and isinstance(value, int):
        return value
    if kind is float and number and math.isfinite(value):
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    if kind is Mapping and isinstance(value, Mapping):
        return dict(value)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is tuple and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PresetError(f"{where}: {name} must be {_KIND_WORDS[kind]} (got {_shown(value)})")


def _apply_overrides(base: Preset | None, overrides: Mapping[str, Any], where: str) -> Preset:
    """``base`` changed by ``overrides`` (fields as JSON gives them); with no base they give every field."""
    unknown = set(overrides) - _FIELD_NAMES - {"base"}
    if unknown:
        raise PresetError(f"{where}: unknown preset field(s) {', '.join(sorted(unknown))}")
    values = {k: _typed(k, v, where) for k, v in overrides.items() if k != "base"}
    if base is None:
        missing = [name for name in _REQUIRED_FIELDS if name not in values]
        if missing:
            raise PresetError(
                f"{where}: preset {values.get('name')!r} names no base to derive from and lacks "
                f"{', '.join(missing)}"
            )
        preset = Preset(**values)
    else:
        if "lora_family" not in values and ({"source", "transformer_file"} & set(values)):
            values["lora_family"] = ""  # other weights: the base's styles need not fit them
        preset = replace(base, **values)
    _check_preset(preset, where)
    return preset


def _check_preset(preset: Preset, where: str) -> None:
    if not preset.sizes:
        raise PresetError(f"{where}: preset {preset.name!r} has no sizes")
    if preset.default_aspect not in preset.sizes:
        raise PresetError(f"{where}: default_aspect {preset.default_aspect!r} is not among its sizes")
    for aspect, (w, h) in preset.sizes.items():
        if w <= 0 or h <= 0 or w % 2 or h % 2:
            raise PresetError(f"{where}: size {w}x{h} for {aspect} must be positive and even")
    if not (1 <= preset.min_frames <= preset.default_frames <= preset.max_frames):
        raise PresetError(f"{where}: frames need 1 <= min_frames <= default_frames <= max_frames")
    if not (1 <= preset.default_steps <= preset.max_steps):
        raise PresetError(f"{where}: steps need 1 <= default_steps <= max_steps")
    if preset.fps <= 0 or preset.frame_multiple <= 0:
        raise PresetError(f"{where}: fps and frame_multiple must be positive")
    if preset.seconds_per_unit <= 0:
        raise PresetError(f"{where}: seconds_per_unit must be positive")
    unknown_modes = set(preset.modes) - set(MODES)
    if "text" not in preset.modes or unknown_modes:
        raise PresetError(f'{where}: modes must include "text" and may add {", ".join(MODES[1:])}')
    if preset.continue_frames < 1 or (preset.continue_frames - 1) % preset.frame_multiple:
        raise PresetError(
            f"{where}: continue_frames must be k * frame_multiple + 1 ({preset.frame_multiple}k + 1), "
            f"got {preset.continue_frames}"
        )
    if preset.offload not in OFFLOAD_KINDS:
        raise PresetError(f"{where}: offload must be one of {', '.join(OFFLOAD_KINDS)}")
    if preset.gpu_memory_gb < 0 or preset.gpu_memory_offload_gb < 0:
        raise PresetError(f"{where}: GPU memory figures cannot be negative")
    if preset.transformer_file and not preset.transformer_file.endswith(".safetensors"):
        raise PresetError(f"{where}: transformer_file must be a .safetensors file (nothing else is loaded)")
    if preset.upsampler:
        odd = [f"{w}x{h}" for w, h in preset.sizes.values() if w % 64 or h % 64]
        if odd:
            # the half-size draft must land on the VAE's 32-pixel grid
            sizes = ", ".join(odd)
            raise PresetError(f"{where}: with an upsampler every size must be a multiple of 64 ({sizes})")
    if preset.gpu_memory_gb and preset.gpu_memory_offload_gb > preset.gpu_memory_gb:
        raise PresetError(f"{where}: gpu_memory_offload_gb cannot exceed gpu_memory_gb")


def _read_json(path: Path, where: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PresetError(f"{where}: cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise PresetError(f"{where}: {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc


def _derive_presets(
    data: Any, where: str, presets: Mapping[str, Preset]
) -> tuple[dict[str, Preset], str | None]:
    """``presets`` changed and extended by a presets file's contents, and the default it names, if any.

    Each entry, in order, derives from its ``base``, else changes the preset of its own name, else is a
    new preset that gives every field.
    """
    if not isinstance(data, dict):
        raise PresetError(f"{where}: expected an object of preset name -> fields")
    derived = dict(presets)
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise PresetError(f"{where}: default must be a preset name (got {_shown(default)})")
    for name, overrides in data.items():
        if name == "default":
            continue
        if not isinstance(overrides, dict):
            raise PresetError(f"{where}: preset {name!r} must be an object")
        base_name = overrides.get("base", name)
        if not isinstance(base_name, str):
            raise PresetError(f"{where}: preset {name!r} has a base that is no preset name")
        base = derived.get(base_name)
        if base is None and "base" in overrides:
            raise PresetError(f"{where}: preset {name!r} has unknown base {base_name!r}")
        derived[name] = _apply_overrides(base, {**overrides, "name": name}, where)
    return derived, default


def _builtin_presets() -> tuple[tuple[Preset, ...], str]:
    where = f"built-in presets {BUILTIN_PRESETS_FILE}"
    presets, default = _derive_presets(_read_json(BUILTIN_PRESETS_FILE, where), where, {})
    return tuple(presets.values()), default or next(iter(presets))


BUILTIN_PRESETS, DEFAULT_MODEL = _builtin_presets()


class PresetCatalog:
    """The presets this installation offers, by name."""

    def __init__(self, presets: tuple[Preset, ...] | list[Preset], default: str = DEFAULT_MODEL) -> None:
        self._by_name = {p.name: p for p in presets}
        self.default = default if default in self._by_name else next(iter(self._by_name))

    @classmethod
    def load(cls, presets_file: str | os.PathLike[str] | None = None) -> PresetCatalog:
        """The built-in presets, changed and extended by the operator's presets file, if any."""
        path = presets_file if presets_file is not None else os.environ.get(PRESETS_ENV) or None
        presets = {p.name: p for p in BUILTIN_PRESETS}
        default = DEFAULT_MODEL
        if path:
            where = f"presets file {path}"
            presets, named = _derive_presets(_read_json(Path(path), where), where, presets)
            default = named if named is not None else default
        if default not in presets:
            raise PresetError(f"default model {default!r} is not a preset")
        return cls(list(presets.values()), default)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Preset]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Preset | None:
        return self._by_name.get(name)

    def resolve(self, model: str | None) -> Preset | None:
        """The preset for a name, or for a local pipeline folder; None if neither."""
        if not model:
            return self._by_name[self.default]
        preset = self._by_name.get(str(model))
        if preset is not None:
            return preset
        if Path(model).is_dir():
            return self.from_folder(Path(model))
        return None

    def from_folder(self, folder: Path) -> Preset:
        """A preset for a pipeline folder: the ``base`` its videobot.json names, or the only preset with
        the folder's pipeline class, changed by the other fields of its videobot.json."""
        where = f"model folder {folder}"
        index = folder / "model_index.json"
        if not index.is_file():
            raise PresetError(f"{where} has no model_index.json (not a diffusers pipeline)")
        meta = _read_json(index, where)
        class_name = meta.get("_class_name") if isinstance(meta, dict) else None
        if not isinstance(class_name, str):
            raise PresetError(f"{where}: model_index.json names no pipeline class (_class_name)")
        candidates = [p.name for p in self._by_name.values() if p.pipeline == class_name]
        if not candidates:
            known = ", ".join(sorted({p.pipeline for p in self._by_name.values()}))
            raise PresetError(f"{where}: pipeline {class_name} is not supported (supported: {known})")
        settings: dict[str, Any] = {}
        extra = folder / FOLDER_PRESET_FILE
        if extra.is_file():
            settings = _read_json(extra, where)
            if not isinstance(settings, dict):
                raise PresetError(f"{where}: {FOLDER_PRESET_FILE} must be an object")
        base = self._by_name[self._folder_base(settings.get("base"), class_name, candidates, where)]
        overrides: dict[str, Any] = {"title": folder.name}
        overrides.update({k: v for k, v in settings.items() if k not in ("name", "source", "base")})
        overrides.update(name=str(folder), source=str(folder))
        return _apply_overrides(base, overrides, where)

    def _folder_base(self, named: Any, class_name: str, candidates: list[str], where: str) -> str:
        """The preset a folder runs as: the one its videobot.json names, else the only one for its class."""
        choices = ", ".join(candidates)
        if named is None:
            # a folder holds a whole pipeline: not what a preset that swaps in a single-file transformer runs
            whole = [name for name in candidates if not self._by_name[name].transformer_file]
            if len(whole) == 1:
                return whole[0]
            raise PresetError(
                f'{where}: several presets run {class_name} ({choices}); add {{"base": "<one of them>"}} '
                f"to its {FOLDER_PRESET_FILE}"
            )
        if not isinstance(named, str) or named not in self._by_name:
            raise PresetError(
                f"{where}: {FOLDER_PRESET_FILE} names unknown base {_shown(named)}; choose one of: {choices}"
            )
        if named not in candidates:
            raise PresetError(
                f"{where}: base {named!r} runs {self._by_name[named].pipeline}, not the folder's "
                f"{class_name}; choose one of: {choices}"
            )
        return named
