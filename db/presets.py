"""Model presets: a diffusers pipeline plus the defaults and limits members may choose within.

Presets are data (no torch here): the bot validates and offers choices from them, the generator loads
the pipeline they name. An operator can point a preset at a local folder, change its limits or add new
presets with a JSON file named by ``VIDEOBOT_PRESETS``; a folder given directly as the model may carry a
``videobot.json`` with the same fields.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PRESETS_ENV = "VIDEOBOT_PRESETS"
FOLDER_PRESET_FILE = "videobot.json"

ASPECTS = ("16:9", "9:16", "1:1", "3:2", "2:3")
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
    dtype: str = "bfloat16"
    # extra keyword arguments for the pipeline call (e.g. decode_timestep, max_sequence_length)
    call_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # component overrides at load time: {"vae_dtype": "float32", "flow_shift": 3.0}
    load_options: Mapping[str, Any] = field(default_factory=dict)
    # speed-ups that keep the output (generator/speedups.py): {"attention_backend": "auto", "compile": True}
    speedups: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_SPEEDUPS))
    description: str = ""

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


_LTX_SIZES = {"16:9": (832, 480), "9:16": (480, 832), "1:1": (608, 608), "3:2": (768, 512), "2:3": (512, 768)}
_WAN_480 = {"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624)}
_WAN_720 = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}
_COG = {"3:2": (720, 480)}
_LTX_CALL = {"decode_timestep": 0.03, "decode_noise_scale": 0.025, "max_sequence_length": 128}

BUILTIN_PRESETS: tuple[Preset, ...] = (
    Preset(
        name="ltx-video",
        title="LTX-Video 2B",
        pipeline="LTXPipeline",
        source="Lightricks/LTX-Video",
        sizes=_LTX_SIZES,
        default_aspect="3:2",
        fps=24,
        frame_multiple=8,
        min_frames=25,
        max_frames=257,
        default_frames=121,
        default_steps=40,
        max_steps=100,
        default_guidance=3.0,
        call_kwargs=_LTX_CALL,
        description="Fastest; good motion at 768×512.",
    ),
    Preset(
        name="ltx-video-distilled",
        title="LTX-Video 13B distilled",
        pipeline="LTXConditionPipeline",
        source="Lightricks/LTX-Video-0.9.7-distilled",
        sizes=_LTX_SIZES,
        default_aspect="3:2",
        fps=24,
        frame_multiple=8,
        min_frames=25,
        max_frames=257,
        default_frames=121,
        default_steps=8,
        max_steps=16,
        default_guidance=1.0,
        call_kwargs=_LTX_CALL,
        description="Few steps, no guidance: drafts in seconds.",
    ),
    Preset(
        name="wan-1.3b",
        title="Wan 2.1 1.3B",
        pipeline="WanPipeline",
        source="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        sizes=_WAN_480,
        default_aspect="16:9",
        fps=16,
        frame_multiple=4,
        min_frames=17,
        max_frames=81,
        default_frames=81,
        default_steps=50,
        max_steps=100,
        default_guidance=5.0,
        load_options={"vae_dtype": "float32", "flow_shift": 3.0},
        description="Small Wan model at 480p.",
    ),
    Preset(
        name="wan-14b",
        title="Wan 2.1 14B",
        pipeline="WanPipeline",
        source="Wan-AI/Wan2.1-T2V-14B-Diffusers",
        sizes=_WAN_720,
        default_aspect="16:9",
        fps=16,
        frame_multiple=4,
        min_frames=17,
        max_frames=81,
        default_frames=81,
        default_steps=50,
        max_steps=100,
        default_guidance=5.0,
        load_options={"vae_dtype": "float32", "flow_shift": 5.0},
        description="Best quality at 720p; slowest.",
    ),
    Preset(
        name="cogvideox-2b",
        title="CogVideoX 2B",
        pipeline="CogVideoXPipeline",
        source="THUDM/CogVideoX-2b",
        sizes=_COG,
        default_aspect="3:2",
        fps=8,
        frame_multiple=4,
        min_frames=49,
        max_frames=49,
        default_frames=49,
        default_steps=50,
        max_steps=100,
        default_guidance=6.0,
        dtype="float16",
        call_kwargs={"use_dynamic_cfg": True},
        description="6-second clips at 720×480.",
    ),
    Preset(
        name="cogvideox-5b",
        title="CogVideoX 5B",
        pipeline="CogVideoXPipeline",
        source="THUDM/CogVideoX-5b",
        sizes=_COG,
        default_aspect="3:2",
        fps=8,
        frame_multiple=4,
        min_frames=49,
        max_frames=49,
        default_frames=49,
        default_steps=50,
        max_steps=100,
        default_guidance=6.0,
        call_kwargs={"use_dynamic_cfg": True},
        description="6-second clips at 720×480, more detail than 2B.",
    ),
)

DEFAULT_MODEL = "ltx-video"

_FIELD_NAMES = {f.name for f in fields(Preset)}


def _apply_overrides(base: Preset, overrides: Mapping[str, Any], where: str) -> Preset:
    unknown = set(overrides) - _FIELD_NAMES - {"base"}
    if unknown:
        raise PresetError(f"{where}: unknown preset field(s) {', '.join(sorted(unknown))}")
    values = {k: v for k, v in overrides.items() if k != "base"}
    if "sizes" in values:
        try:
            values["sizes"] = {str(k): (int(v[0]), int(v[1])) for k, v in values["sizes"].items()}
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise PresetError(f"{where}: sizes must map an aspect to [width, height]") from exc
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


def _read_json(path: Path, where: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PresetError(f"{where}: cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise PresetError(f"{where}: {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc


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
            data = _read_json(Path(path), where)
            if not isinstance(data, dict):
                raise PresetError(f"{where}: expected an object of preset name -> fields")
            default = str(data.pop("default", default))
            for name, overrides in data.items():
                if not isinstance(overrides, dict):
                    raise PresetError(f"{where}: preset {name!r} must be an object")
                base_name = str(overrides.get("base", name))
                base = presets.get(base_name)
                if base is None:
                    raise PresetError(f"{where}: preset {name!r} has unknown base {base_name!r}")
                presets[name] = _apply_overrides(base, {**overrides, "name": name}, where)
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
        """A preset for a pipeline folder, based on the first preset with the same pipeline class."""
        where = f"model folder {folder}"
        index = folder / "model_index.json"
        if not index.is_file():
            raise PresetError(f"{where} has no model_index.json (not a diffusers pipeline)")
        class_name = _read_json(index, where).get("_class_name")
        base = next((p for p in self._by_name.values() if p.pipeline == class_name), None)
        if base is None:
            known = ", ".join(sorted({p.pipeline for p in self._by_name.values()}))
            raise PresetError(f"{where}: pipeline {class_name} is not supported (supported: {known})")
        overrides: dict[str, Any] = {"name": str(folder), "title": folder.name, "source": str(folder)}
        extra = folder / FOLDER_PRESET_FILE
        if extra.is_file():
            data = _read_json(extra, where)
            if not isinstance(data, dict):
                raise PresetError(f"{where}: {FOLDER_PRESET_FILE} must be an object")
            overrides.update({k: v for k, v in data.items() if k not in ("name", "source")})
        return _apply_overrides(base, overrides, where)
