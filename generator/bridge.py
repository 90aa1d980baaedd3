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

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import imageio_ffmpeg
import numpy as np

from db.presets import Preset, PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_preset, resolve_spec
from generator.clipio import (
    ClipError,
    ClipInfo,
    fit_frames,
    probe,
    read_audio,
    read_frames,
    resample_frames,
)
from generator.encode import DEFAULT_SAMPLE_RATE, DISCORD_DEFAULT_LIMIT, EncodedClip, encode_mp4, fit_audio
from generator.extend import CLI_PARENT_ID, check_parent, continue_frames, nearest_aspect

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

    @property
    def first_seconds(self) -> float:
        return self.first_frames / self.first.fps

    @property
    def bridge_seconds(self) -> float:
        return self.bridge_frames / self.first.fps

    @property
    def second_seconds(self) -> float:
        return self.second_frames / self.first.fps


@dataclass(frozen=True)
class Part:
    """One stretch of the whole, ready to be joined: its frames at the whole's size and frame rate and
    its sound at the whole's sample rate (None: silent)."""

    frames: np.ndarray  # uint8 (n, height, width, 3)
    audio: np.ndarray | None  # float32 (channels, samples)
    # the file whose picture these frames are, every frame unchanged (a join may copy its stream instead
    # of encoding it again); None for frames that were rendered, resized or resampled here
    source: Path | None = None


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


def read_first_frame(path: Path, info: ClipInfo) -> np.ndarray:
    """The clip's first frame, uint8 (height, width, 3), upright (only that frame is decoded)."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
        "-map", "0:v:0", "-an", "-sn", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True)
    size = info.width * info.height * 3
    if done.returncode != 0 or len(done.stdout) < size:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise ClipError(f"{path.name} cannot be decoded ({reason[-1] if reason else 'no frame'})")
    return np.frombuffer(done.stdout[:size], np.uint8).reshape(info.height, info.width, 3).copy()


def shown_as(frames: np.ndarray, fps: float, width: int, height: int, new_fps: float) -> np.ndarray:
    """``frames`` at ``fps`` as the whole shows them: at ``width``×``height`` (cut to that aspect at the
    centre, then resized) and ``new_fps`` (the nearest frame, lasting as long as before)."""
    if new_fps < fps:  # fewer frames: drop them before resizing
        return fit_frames(resample_frames(frames, fps, new_fps), width, height)
    return resample_frames(fit_frames(frames, width, height), fps, new_fps)


def join_parts(
    parts: Sequence[Part],
    fps: float,
    sample_rate: int,
    out_path: str | os.PathLike[str],
    max_bytes: int,
) -> EncodedClip:
    """``parts`` one after another as one mp4 at ``out_path``, at most ``max_bytes``: every frame
    encoded again (H.264), with each part's sound lasting exactly as long as its picture (silence for a
    part without any; mono and stereo make stereo), and no sound if no part has any."""
    frames = np.concatenate([part.frames for part in parts])
    sounds = [part.audio for part in parts]
    audio: np.ndarray | None = None
    if any(sound is not None for sound in sounds):
        channels = max(np.atleast_2d(sound).shape[0] for sound in sounds if sound is not None)
        # each part's samples end where its last frame does, rounded once per seam (no drift)
        ends = np.cumsum([len(part.frames) for part in parts]) * sample_rate / fps
        bounds = [0, *(round(end) for end in ends)]
        pieces = []
        for sound, start, end in zip(sounds, bounds[:-1], bounds[1:], strict=True):
            if sound is None:
                pieces.append(np.zeros((channels, end - start), np.float32))
                continue
            piece = fit_audio(sound, sample_rate, (end - start) / sample_rate)
            if piece.shape[0] != channels:  # mono among stereo
                piece = np.repeat(piece[:1], channels, axis=0)
            pieces.append(piece)
        audio = np.concatenate(pieces, axis=1)
    return encode_mp4(frames, fps, out_path, max_bytes, audio=audio, sample_rate=sample_rate)


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
) -> BridgeResult:
    """Render the bridge ``spec`` asks for from the clip at ``first_path`` to the one at ``second_path``
    and write first + bridge + second to ``out_path``, at most ``max_bytes``, at the first clip's size and
    frame rate.

    ``spec`` may be a JobSpec (resolved here with :func:`plan_bridge`) or a plan the caller resolved.
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
    end = fit_frames(read_first_frame(second_path, second)[None], width, height)[0]
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
    bridge = output.frames[:-1]
    bridge_audio = output.audio if plan.spec.audio else None
    sample_rate = (output.sample_rate if bridge_audio is not None else None) or DEFAULT_SAMPLE_RATE
    if bridge_audio is not None:
        bridge_audio = bridge_audio[:, : round(len(bridge) / plan.fps * sample_rate)]
    parts = [
        Part(read_frames(first_path)[0], _sound(first_path, first, sample_rate), first_path),
        Part(shown_as(bridge, plan.fps, width, height, first.fps), bridge_audio),
    ]
    render_seconds = output.seconds
    del output, bridge
    second_frames, second_fps = read_frames(second_path)
    unchanged = (second.width, second.height) == (width, height) and second_fps == first.fps
    parts.append(
        Part(
            shown_as(second_frames, second_fps, width, height, first.fps),
            _sound(second_path, second, sample_rate),
            second_path if unchanged else None,
        )
    )
    del second_frames
    clip = join_parts(parts, first.fps, sample_rate, out_path, max_bytes)
    counts = [len(part.frames) for part in parts]
    return BridgeResult(
        clip=clip,
        plan=plan,
        first=first,
        second=second,
        first_frames=counts[0],
        bridge_frames=counts[1],
        second_frames=counts[2],
        render_seconds=render_seconds,
        has_audio=clip.audio_bitrate is not None,
    )


def _sound(path: Path, info: ClipInfo, sample_rate: int) -> np.ndarray | None:
    return read_audio(path, sample_rate) if info.has_audio else None
