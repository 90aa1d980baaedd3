"""Bridge: a clip rendered between two clips, posted whole as first clip + bridge + second clip.

Both clips may be any clip ffmpeg reads, not only ones the bot made. The bridge is rendered like an
extend of the first clip (conditioned on its last ``preset.continue_frames`` frames, at frame 0) that ends
on the second clip's first frame (a keyframe where the pipeline takes a clip's last frame: LTX-Video's
pixel frame ``num_frames - 1``, LTX-2's last latent frame). The whole has the first clip's size and frame
rate: the bridge and the second clip are cut to its aspect at their centre, resized and shown at its rate
by the nearest frame. Each part keeps its sound (silence where a part has none). Both clips are kept
whole; the seams drop only the bridge's frames that repeat theirs. The CLI (``videobot bridge``) and the
GPU worker both call :func:`bridge_clips`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from db.presets import Preset, PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_preset, resolve_spec
from generator.clipio import (
    ClipInfo,
    fit_frames,
    join_audio,
    probe,
    read_audio,
    read_frames,
    read_segment,
    shown_as,
    shown_count,
)
from generator.encode import DEFAULT_SAMPLE_RATE, DISCORD_DEFAULT_LIMIT, EncodedClip, to_uint8
from generator.extend import CLI_PARENT_ID, check_parent, continue_frames, even_size, nearest_aspect
from generator.join import EncodedPart, JoinResult, Segment, join_clips

if TYPE_CHECKING:
    import os

    from generator.loader import PipelineCache
    from generator.render import CancelFn, ProgressFn


@dataclass(frozen=True)
class BridgeResult:
    clip: EncodedClip
    plan: RenderPlan  # the bridge's render
    first: ClipInfo
    second: ClipInfo
    # frames of each part in the whole, at the first clip's frame rate
    first_frames: int
    bridge_frames: int
    second_frames: int
    render_seconds: float  # wall time of the pipeline call
    has_audio: bool
    copied: tuple[bool, bool] = (False, False)  # each clip's video stream in the whole as it was

    @property
    def first_seconds(self) -> float:
        return self.first_frames / self.first.fps

    @property
    def bridge_seconds(self) -> float:
        return self.bridge_frames / self.first.fps

    @property
    def second_seconds(self) -> float:
        return self.second_frames / self.first.fps


def _check_can_bridge(preset: Preset, catalog: PresetCatalog | None) -> None:
    """SpecError "no_bridge" for a model that cannot bridge two clips (resolve_spec checks a JobSpec;
    this checks a plan the caller resolved)."""
    if "bridge" not in preset.modes:
        able = [p.name for p in (catalog or PresetCatalog.load()) if "bridge" in p.modes]
        raise SpecError("no_bridge", model=preset.title, choices=", ".join(able) or "–")


def check_clips(first: ClipInfo, first_name: str, second: ClipInfo, second_name: str) -> None:
    """Refuse clips too big to hold in memory (ClipError, one line), each as it is decoded and the
    second also as it is shown in the whole (at the first's size and frame rate: a small clip after a
    large one grows)."""
    check_parent(first, first_name)
    check_parent(second, second_name)
    shown = round(second.frames * first.fps / second.fps)
    check_parent(
        replace(second, width=first.width, height=first.height, fps=first.fps, frames=shown), second_name
    )


def plan_bridge(spec: JobSpec, first: ClipInfo, catalog: PresetCatalog) -> RenderPlan:
    """``spec`` resolved as a bridge from the clip ``first`` (to another clip): with no aspect asked for,
    the model's aspect nearest the first clip's; ``continues`` and ``bridges_to`` the command line's
    stand-in id if unset. Raises SpecError for a model that cannot bridge two clips, for pictures or a
    loop, or for settings out of its range."""
    preset = resolve_preset(spec.model, catalog)
    _check_can_bridge(preset, catalog)
    aspect = spec.aspect or nearest_aspect(preset.sizes, first.width, first.height)
    continues = CLI_PARENT_ID if spec.continues is None else spec.continues
    bridges_to = CLI_PARENT_ID if spec.bridges_to is None else spec.bridges_to
    return resolve_spec(replace(spec, aspect=aspect, continues=continues, bridges_to=bridges_to), catalog)


def read_first_frame(path: Path) -> np.ndarray:
    """The clip's first frame, uint8 (height, width, 3), upright (only that frame is decoded)."""
    return read_segment(path, 0, 1)[0][0]


def join_bridge(
    first_path: Path,
    first: ClipInfo,
    bridge: np.ndarray,
    bridge_audio: np.ndarray | None,
    second_path: Path,
    second: ClipInfo,
    out_path: str | os.PathLike[str],
    max_bytes: int,
    sample_rate: int,
    *,
    first_originals: tuple[Segment, ...] = (),
    second_originals: tuple[Segment, ...] = (),
) -> JoinResult:
    """First clip + ``bridge`` (uint8 frames at the whole's size and frame rate, ``bridge_audio`` its
    sound) + second clip as one mp4 of at most ``max_bytes`` (generator/join.py): each clip's own stream
    copied where it fits and matches, else everything encoded once from the clips' original frames
    (``*_originals``: where they were first encoded). Each part's sound lasts as long as its picture."""
    fps = first.fps
    second_count = shown_count(second.frames, second.fps, fps)
    audio = join_audio(
        [_sound(first_path, first, sample_rate), bridge_audio, _sound(second_path, second, sample_rate)],
        [first.frames, len(bridge), second_count],
        fps,
        sample_rate,
    )
    return join_clips(
        [EncodedPart(first_path, first_originals), bridge, EncodedPart(second_path, second_originals)],
        out_path,
        max_bytes,
        fps=fps,
        size=even_size(first),
        audio=audio,
        sample_rate=sample_rate,
    )


def bridge_clips(
    first_path: str | os.PathLike[str],
    second_path: str | os.PathLike[str],
    spec: JobSpec | RenderPlan,
    out_path: str | os.PathLike[str],
    max_bytes: int = DISCORD_DEFAULT_LIMIT,
    *,
    cache: PipelineCache | None = None,
    catalog: PresetCatalog | None = None,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    first_originals: tuple[Segment, ...] = (),
    second_originals: tuple[Segment, ...] = (),
) -> BridgeResult:
    """Render the bridge ``spec`` asks for from the clip at ``first_path`` to the one at ``second_path``
    and write first + bridge + second to ``out_path``, at most ``max_bytes``, at the first clip's size and
    frame rate.

    ``spec`` may be a JobSpec (resolved here with :func:`plan_bridge`) or a plan the caller resolved.
    ``*_originals``: where each clip's frames were first encoded, decoded if it must be encoded again.
    Raises ClipError (a clip is no readable video, or too big), SpecError, the render's RenderCancelled
    and RenderFailed, and EncodeError; ``out_path`` is written only on success.
    """
    from generator.render import Conditioning, render  # torch: only once there is work

    first_path, second_path = Path(first_path), Path(second_path)
    first, second = probe(first_path), probe(second_path)
    check_clips(first, first_path.name, second, second_path.name)
    if isinstance(spec, RenderPlan):
        _check_can_bridge(spec.preset, catalog)
        plan = spec
    else:
        plan = plan_bridge(spec, first, catalog or PresetCatalog.load())
    width, height = first.width, first.height
    tail, _ = read_frames(first_path, last=continue_frames(plan.preset))
    # the picture the bridge ends on: the second clip's first frame as the whole shows it
    end = fit_frames(read_first_frame(second_path)[None], width, height)[0]
    output = render(
        plan,
        on_progress,
        should_cancel,
        catalog=catalog,
        cache=cache,
        condition=Conditioning(frames=tail, end_image=end),
    )
    # The seams, as extend's: the render already dropped the frames it was conditioned on at its start
    # (the first clip's tail), so its first frame is the one after the first clip's last. Its last frame
    # is the second clip's first frame again (the keyframe): that duplicate is dropped here, the bridge's
    # rendering of it rather than the clip's own, so both clips stay whole. Its sound goes with it.
    bridge = to_uint8(output.frames[:-1])
    bridge_audio = output.audio if plan.spec.audio else None
    sample_rate = (output.sample_rate if bridge_audio is not None else None) or DEFAULT_SAMPLE_RATE
    if bridge_audio is not None:
        bridge_audio = bridge_audio[:, : round(len(bridge) / plan.fps * sample_rate)]
    render_seconds = output.seconds
    del output
    shown = shown_as(bridge, plan.fps, *even_size(first), first.fps)
    del bridge
    joined = join_bridge(
        first_path,
        first,
        shown,
        bridge_audio,
        second_path,
        second,
        out_path,
        max_bytes,
        sample_rate,
        first_originals=first_originals,
        second_originals=second_originals,
    )
    first_frames, bridge_frames, second_frames = joined.frames
    return BridgeResult(
        clip=joined.clip,
        plan=plan,
        first=first,
        second=second,
        first_frames=first_frames,
        bridge_frames=bridge_frames,
        second_frames=second_frames,
        render_seconds=render_seconds,
        has_audio=joined.clip.audio_bitrate is not None,
        copied=(joined.copied[0], joined.copied[2]),
    )


def _sound(path: Path, info: ClipInfo, sample_rate: int) -> np.ndarray | None:
    return read_audio(path, sample_rate) if info.has_audio else None
