"""Extend: continue a clip from its last frames and post the whole as one clip under the upload limit.

The parent may be any clip ffmpeg reads, not only one the bot made. Its last ``preset.continue_frames``
frames condition the render; the continuation is then cut and resized to the parent's size, shown at
the parent's frame rate, and joined after it (generator/join.py) with both parts' sound (silence where a
part has none): the parent's own H.264 stream copied where it fits and matches, else the whole encoded
once from the parent's original frames. The CLI (``videobot extend``) and the GPU worker both call
:func:`extend_clip`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from db.presets import Preset, PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_preset, resolve_spec
from generator.clipio import (
    ClipError,
    ClipInfo,
    probe,
    read_audio,
    read_frames,
    shown_as,
    stitch_audio,
)
from generator.encode import DEFAULT_SAMPLE_RATE, DISCORD_DEFAULT_LIMIT, EncodedClip, to_uint8
from generator.join import EncodedPart, Segment, join_clips

if TYPE_CHECKING:
    import os

    from generator.loader import PipelineCache
    from generator.render import CancelFn, ProgressFn

# where the parent cannot be copied, it is decoded to be encoded again: refuse one whose frames alone
# would take more memory
MAX_PARENT_BYTES = 4 * 1024**3
# the stand-in job id the command line gives a continuation (it has no job store)
CLI_PARENT_ID = 0


@dataclass(frozen=True)
class ExtendResult:
    clip: EncodedClip
    plan: RenderPlan  # the continuation's render
    parent: ClipInfo
    parent_frames: int
    new_frames: int  # the continuation's frames at the parent's frame rate
    render_seconds: float  # wall time of the pipeline call
    has_audio: bool
    copied: bool = False  # the parent's video stream is in the clip as it was (not encoded again)

    @property
    def parent_seconds(self) -> float:
        return self.parent_frames / self.parent.fps

    @property
    def new_seconds(self) -> float:
        return self.new_frames / self.parent.fps


def continue_frames(preset: Preset) -> int:
    """How many of the parent's last frames the preset's pipeline is conditioned on."""
    return max(1, int(getattr(preset, "continue_frames", 1)))


def nearest_aspect(sizes: Mapping[str, tuple[int, int]], width: int, height: int) -> str:
    """The aspect among ``sizes`` closest to ``width``×``height`` (so the least is cut away)."""
    wanted = math.log(width / height)
    return min(sizes, key=lambda aspect: abs(math.log(sizes[aspect][0] / sizes[aspect][1]) - wanted))


def _check_can_continue(preset: Preset, catalog: PresetCatalog | None) -> None:
    # checked here too: resolve_spec skips the check for a continuation of job 0 (0 == False)
    if "continue" not in preset.modes:
        able = [p.name for p in (catalog or PresetCatalog.load()) if "continue" in p.modes]
        raise SpecError("no_continue", model=preset.title, choices=", ".join(able) or "–")


def even_size(clip: ClipInfo) -> tuple[int, int]:
    """The size a clip joined after ``clip`` has: its own, cut to even sides (H.264's yuv420p)."""
    return clip.width - clip.width % 2, clip.height - clip.height % 2


def check_parent(parent: ClipInfo, name: str) -> None:
    """Refuse a parent too big to hold in memory (ClipError, one line)."""
    if parent.frames * parent.width * parent.height * 3 > MAX_PARENT_BYTES:
        most = MAX_PARENT_BYTES / (parent.width * parent.height * 3 * parent.fps)
        raise ClipError(
            f"{name} is too long to extend: at {parent.width}x{parent.height} the limit is {most:.0f} s"
        )


def plan_continuation(spec: JobSpec, parent: ClipInfo, catalog: PresetCatalog) -> RenderPlan:
    """``spec`` resolved as a continuation of ``parent``: with no aspect asked for, the model's aspect
    nearest the parent's; ``continues`` the stand-in id if unset. Raises SpecError for a model that cannot
    continue a clip, or for settings out of its range."""
    preset = resolve_preset(spec.model, catalog)
    _check_can_continue(preset, catalog)
    aspect = spec.aspect or nearest_aspect(preset.sizes, parent.width, parent.height)
    continues = CLI_PARENT_ID if spec.continues is None else spec.continues
    return resolve_spec(replace(spec, aspect=aspect, continues=continues, start_image=False), catalog)


def extend_clip(
    parent_path: str | os.PathLike[str],
    spec: JobSpec | RenderPlan,
    out_path: str | os.PathLike[str],
    max_bytes: int = DISCORD_DEFAULT_LIMIT,
    *,
    cache: PipelineCache | None = None,
    catalog: PresetCatalog | None = None,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    end_image: np.ndarray | None = None,
    originals: tuple[Segment, ...] = (),
) -> ExtendResult:
    """Continue the clip at ``parent_path`` as ``spec`` asks and write parent + continuation to
    ``out_path``, at most ``max_bytes``, at the parent's size and frame rate. ``end_image`` (uint8 RGB):
    the continuation ends on it (a story's scene that ends on its proposer's picture). ``originals``:
    where the parent's frames were first encoded (empty: the parent is their first encode), decoded
    if the parent must be encoded again.

    ``spec`` may be a JobSpec (resolved here with :func:`plan_continuation`) or a plan the caller
    resolved. Raises ClipError (the parent is no readable video), SpecError, the render's RenderCancelled
    and RenderFailed, and EncodeError; ``out_path`` is written only on success.
    """
    from generator.render import Conditioning, render  # torch: only once there is work

    parent_path = Path(parent_path)
    parent = probe(parent_path)
    check_parent(parent, parent_path.name)
    if isinstance(spec, RenderPlan):
        _check_can_continue(spec.preset, catalog)
        plan = spec
    else:
        plan = plan_continuation(spec, parent, catalog or PresetCatalog.load())
    tail, _ = read_frames(parent_path, last=continue_frames(plan.preset))
    output = render(
        plan,
        on_progress,
        should_cancel,
        catalog=catalog,
        cache=cache,
        condition=Conditioning(frames=tail, end_image=end_image),
    )
    new_audio = output.audio if plan.spec.audio else None
    sample_rate = (output.sample_rate if new_audio is not None else None) or DEFAULT_SAMPLE_RATE
    size = even_size(parent)
    new = shown_as(to_uint8(output.frames), output.fps, *size, parent.fps)
    parent_audio = read_audio(parent_path, sample_rate) if parent.has_audio else None
    audio = stitch_audio(parent_audio, parent.frames, new_audio, len(new), parent.fps, sample_rate)
    del parent_audio
    joined = join_clips(
        [EncodedPart(parent_path, originals), new],
        out_path,
        max_bytes,
        fps=parent.fps,
        size=size,
        audio=audio,
        sample_rate=sample_rate,
    )
    return ExtendResult(
        clip=joined.clip,
        plan=plan,
        parent=parent,
        parent_frames=joined.frames[0],
        new_frames=joined.frames[1],
        render_seconds=output.seconds,
        has_audio=audio is not None,
        copied=joined.copied[0],
    )
