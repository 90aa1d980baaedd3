"""Reading clips back: what a video file holds, its frames and its sound, and one clip after another.

Any file the bundled ffmpeg decodes works (H.264 or H.265 in mp4 or mov, VP9 or AV1 in webm, a phone's
rotated portrait clip), not only the bot's own. Each helper runs the ffmpeg binary that imageio-ffmpeg
ships in a subprocess; there is no ffprobe, so :func:`probe` reads what ``ffmpeg -i`` prints.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import imageio_ffmpeg
import numpy as np
from PIL import Image

# ffmpeg prints rounded rates; these are the NTSC ones it rounds
_NTSC_RATES = {
    "23.98": 24000 / 1001,
    "29.97": 30000 / 1001,
    "47.95": 48000 / 1001,
    "59.94": 60000 / 1001,
    "119.88": 120000 / 1001,
}
# demuxers of single pictures: ffmpeg reads a PNG as a one-frame "video"
_PICTURE_FORMATS = re.compile(r"_pipe\b|\bimage2\b")
# seek this many seconds before the wanted tail, so a timestamp off by a little still gives every frame
_SEEK_MARGIN_SECONDS = 1.0


class ClipError(ValueError):
    """A file that is not a video this machine can read; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class ClipInfo:
    width: int  # as the clip plays (a rotated phone clip's sides are swapped)
    height: int
    fps: float
    frames: int
    duration: float  # seconds of picture
    has_audio: bool


def _ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg gave no reason"


def _fps(text: str) -> float | None:
    match = re.search(r", ([\d.]+)(k?) fps", text) or re.search(r", ([\d.]+)(k?) tbr", text)
    if not match:
        return None
    if match.group(1) in _NTSC_RATES and not match.group(2):
        return _NTSC_RATES[match.group(1)]
    value = float(match.group(1)) * (1000 if match.group(2) else 1)
    return value if math.isfinite(value) and value > 0 else None


def _video_stream(info: str) -> str | None:
    """The first video stream's line of ``ffmpeg -i`` output with its side data, skipping cover art."""
    blocks = re.split(r"\n(?=\s*Stream #)", info)
    for block in blocks:
        first = block.strip().splitlines()[0] if block.strip() else ""
        if re.match(r"Stream #\d+:\d+.*: Video: ", first) and "(attached pic)" not in first:
            return block
    return None


def probe(path: str | Path) -> ClipInfo:
    """Size, rate, length and whether there is sound. Raises :class:`ClipError` for anything that is not
    a video ffmpeg can decode (a missing file, text, a picture, sound alone)."""
    path = Path(path)
    if not path.is_file():
        raise ClipError(f"{path} does not exist" if not path.exists() else f"{path} is not a file")
    info = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    ).stderr
    header = re.search(r"Input #0, ([^\n]*?), from ", info)
    if header is None:
        reason = _last_line(info).removeprefix("Error opening input files: ")
        raise ClipError(f"{path.name} is not a video ffmpeg can read ({reason[:1].lower()}{reason[1:]})")
    if _PICTURE_FORMATS.search(header.group(1)):
        raise ClipError(f"{path.name} is a picture, not a video")
    stream = _video_stream(info)
    if stream is None:
        raise ClipError(f"{path.name} has no picture (no video stream)")
    first_line = stream.strip().splitlines()[0]
    size = re.search(r", (\d+)x(\d+)", first_line)
    fps = _fps(first_line)
    if size is None or fps is None:
        raise ClipError(f"{path.name}: ffmpeg cannot tell the video's size and frame rate")
    width, height = int(size.group(1)), int(size.group(2))
    rotation = re.search(r"rotation of (-?[\d.]+) degrees", stream)
    if rotation and round(float(rotation.group(1))) % 180 == 90:
        width, height = height, width  # ffmpeg turns the picture upright as it decodes
    frames = _count_frames(path)
    if frames < 2:
        raise ClipError(f"{path.name} has {frames} frame{'s' if frames != 1 else ''}; a video needs more")
    has_audio = re.search(r"Stream #\d+:\d+.*: Audio: ", info) is not None
    return ClipInfo(width, height, fps, frames, frames / fps, has_audio)


def _count_frames(path: Path) -> int:
    """The video stream's frame count, from its packets (nothing is decoded: fast for a long clip)."""
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy"]
    done = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True, errors="replace")
    counts = re.findall(r"frame=\s*(\d+)", done.stderr)
    if done.returncode != 0 or not counts:
        raise ClipError(f"{path.name} cannot be read ({_last_line(done.stderr)})")
    return int(counts[-1])


def _read_into(pipe: io.BufferedIOBase, frame: np.ndarray) -> bool:
    """Fill ``frame`` from ``pipe``; False at the end of the stream (a partial frame is dropped)."""
    view, got = frame.data.cast("B"), 0
    while got < len(view):
        n = pipe.readinto(view[got:])
        if not n:
            return False
        got += n
    return True


def _decode(
    path: Path, info: ClipInfo, start: float | None, keep: int | None, frames_filter: str | None = None
) -> np.ndarray:
    """Decoded RGB frames from ``start`` seconds (exact to the frame); with ``keep``, only the last
    ``keep`` of them, in a ring of that many frames while the rest stream past. ``frames_filter``: an
    ffmpeg video filter the decoded frames pass through."""
    seek = [] if start is None or start <= 0 else ["-ss", f"{start:.6f}"]
    filters = [] if frames_filter is None else ["-vf", frames_filter]
    cmd = [
        _ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", *seek, "-i", str(path),
        "-map", "0:v:0", "-an", "-sn", "-fps_mode", "passthrough", *filters,
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    shape = (info.height, info.width, 3)
    # frames go straight into one array (sized from the packet count), not into a list to be stacked
    frames = np.empty((max(1, keep or info.frames), *shape), np.uint8)
    count = 0
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty ffmpeg cannot block on it
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors) as proc:
            pipe = cast(io.BufferedIOBase, proc.stdout)
            try:
                while True:
                    if keep is None and count == len(frames):  # more frames than packets: grow
                        frames = np.concatenate([frames, np.empty((len(frames) // 4 + 1, *shape), np.uint8)])
                    if not _read_into(pipe, frames[count % len(frames)]):
                        break
                    count += 1
            finally:
                pipe.close()
        errors.seek(0)
        reason = errors.read().decode(errors="replace")
    if proc.returncode != 0:
        raise ClipError(f"{path.name} cannot be decoded ({_last_line(reason)})")
    if keep is not None and count > keep:
        return np.roll(frames, -(count % keep), axis=0)  # the ring, oldest first
    return frames[:count]


def read_frames(path: str | Path, *, last: int | None = None) -> tuple[np.ndarray, float]:
    """The clip's frames as uint8 (n, height, width, 3) and its frame rate.

    ``last=n``: only the last ``n`` frames (all of them if the clip is shorter). ffmpeg seeks close to
    the end, and no more than ``n`` frames are held while the rest stream past."""
    path = Path(path)
    info = probe(path)
    if last is not None and last < 1:
        raise ValueError("last must be at least 1")
    frames: np.ndarray | None = None
    if last is not None and last < info.frames:
        start = (info.frames - last) / info.fps - _SEEK_MARGIN_SECONDS
        if start > 0:
            frames = _decode(path, info, start, last)
        if frames is None or len(frames) < last:  # no seek, or one that landed late: from the start
            frames = _decode(path, info, None, last)
    else:
        frames = _decode(path, info, None, None)
    if len(frames) == 0:
        raise ClipError(f"{path.name} has no frames ffmpeg can decode")
    return frames, info.fps


def read_segment(path: str | Path, start: int, count: int) -> tuple[np.ndarray, float]:
    """Frames ``[start, start + count)`` of the clip (fewer where it ends sooner) and its frame rate."""
    path = Path(path)
    info = probe(path)
    if start < 0 or count < 1:
        raise ValueError("a segment starts at frame 0 or later and has at least one frame")
    # counted in decoded frames, not timestamps: exact whatever the clip's timing
    frames = _decode(path, info, None, count, f"trim=start_frame={start}:end_frame={start + count}")
    if len(frames) == 0:
        raise ClipError(f"{path.name} has no frames from frame {start} on")
    return frames, info.fps


def _channels(info: str) -> int:
    match = re.search(r"Stream #\d+:\d+.*: Audio: [^\n]*?, \d+ Hz, ([^,\n]+)", info)
    layout = match.group(1).strip() if match else "stereo"
    if layout == "mono":
        return 1
    count = re.fullmatch(r"(\d+) channels", layout)
    return 1 if count and int(count.group(1)) == 1 else 2  # stereo, or more mixed down to stereo


def read_audio(path: str | Path, sample_rate: int = 48000) -> np.ndarray | None:
    """The first sound track as float32 (channels, samples) at ``sample_rate`` (mono stays mono, more than
    two channels are mixed down to stereo); None for a clip without sound."""
    path = Path(path)
    if not path.is_file():
        raise ClipError(f"{path} does not exist")
    info = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    ).stderr
    if re.search(r"Stream #\d+:\d+.*: Audio: ", info) is None:
        return None
    channels = _channels(info)
    cmd = [
        _ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
        "-map", "0:a:0", "-vn", "-sn", "-ac", str(channels), "-ar", str(sample_rate),
        "-f", "f32le", "-",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True)
    if done.returncode != 0:
        raise ClipError(f"the sound of {path.name} cannot be decoded ({_last_line(done.stderr.decode())})")
    samples = np.frombuffer(done.stdout, dtype="<f4")
    samples = samples[: len(samples) - len(samples) % channels]
    return np.ascontiguousarray(samples.reshape(-1, channels).T.astype(np.float32))


def fit_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frames`` at ``width``×``height`` without distortion: the centre cut to that aspect, then resized."""
    h, w = frames.shape[1], frames.shape[2]
    if (w, h) == (width, height):
        return frames
    target = Fraction(width, height)
    if Fraction(w, h) > target:  # too wide: cut the sides
        crop_w, crop_h = max(1, round(h * target)), h
    else:  # too tall: cut the top and bottom
        crop_w, crop_h = w, max(1, round(w / target))
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    cropped = frames[:, top : top + crop_h, left : left + crop_w]
    if (crop_w, crop_h) == (width, height):
        return np.ascontiguousarray(cropped)
    out = np.empty((len(frames), height, width, 3), dtype=np.uint8)

    def resize(i: int) -> None:  # Pillow lets go of the GIL while it resizes: one frame per thread
        image = Image.fromarray(np.ascontiguousarray(cropped[i]))
        out[i] = np.asarray(image.resize((width, height), Image.Resampling.LANCZOS))

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        list(pool.map(resize, range(len(frames))))
    return out


def _resample_index(count: int, fps: float, new_fps: float) -> np.ndarray:
    """Which of ``count`` frames at ``fps`` each frame at ``new_fps`` shows, lasting as long as before:
    the one on screen at the middle of its interval."""
    if math.isclose(fps, new_fps, rel_tol=1e-6) or count == 0:
        return np.arange(count)
    index = np.floor((np.arange(max(1, round(count * new_fps / fps))) + 0.5) * fps / new_fps)
    return np.minimum(index.astype(np.int64), count - 1)


def resample_frames(frames: np.ndarray, fps: float, new_fps: float) -> np.ndarray:
    """``frames`` at ``fps`` shown at ``new_fps`` by the nearest frame, lasting as long as before."""
    return frames[_resample_index(len(frames), fps, new_fps)]


def shown_as(frames: np.ndarray, fps: float, width: int, height: int, new_fps: float) -> np.ndarray:
    """``frames`` at ``fps`` as a clip of ``width``×``height`` at ``new_fps`` shows them: cut and resized
    (:func:`fit_frames`) and shown by the nearest frame (:func:`resample_frames`)."""
    if new_fps < fps:  # fewer frames: drop them before resizing
        return fit_frames(resample_frames(frames, fps, new_fps), width, height)
    return resample_frames(fit_frames(frames, width, height), fps, new_fps)


def _as_channels(audio: np.ndarray | None, channels: int, samples: int) -> np.ndarray:
    """``audio`` with ``channels`` channels, cut or padded with silence to ``samples``; silence for None."""
    if audio is None:
        return np.zeros((channels, samples), dtype=np.float32)
    sound = np.asarray(audio, dtype=np.float32)
    if sound.ndim == 1:
        sound = sound[None]
    if sound.shape[0] != channels:
        sound = np.repeat(sound[:1], channels, axis=0) if sound.shape[0] == 1 else sound[:channels]
    if sound.shape[1] >= samples:
        return sound[:, :samples]
    return np.pad(sound, ((0, 0), (0, samples - sound.shape[1])))


def stitch(
    parent_frames: np.ndarray,
    parent_fps: float,
    parent_audio: np.ndarray | None,
    new_frames: np.ndarray,
    new_fps: float,
    new_audio: np.ndarray | None,
    sample_rate: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The parent followed by its continuation, as one clip at the parent's size and frame rate.

    The continuation is cut to the parent's aspect at its centre and resized (nothing is stretched),
    and shown at the parent's rate by the nearest frame, so it lasts as long as it was rendered. The sound
    of each part (both at ``sample_rate``) lasts exactly as long as its picture; a part without sound is
    silent, and there is no sound only if neither part has any."""
    height, width = parent_frames.shape[1], parent_frames.shape[2]
    index = _resample_index(len(new_frames), new_fps, parent_fps)
    frames = np.empty((len(parent_frames) + len(index), height, width, 3), np.uint8)
    frames[: len(parent_frames)] = parent_frames
    np.take(fit_frames(new_frames, width, height), index, axis=0, out=frames[len(parent_frames) :])
    audio = stitch_audio(parent_audio, len(parent_frames), new_audio, len(index), parent_fps, sample_rate)
    return frames, audio


def stitch_audio(
    parent_audio: np.ndarray | None,
    parent_frames: int,
    new_audio: np.ndarray | None,
    new_frames: int,
    fps: float,
    sample_rate: int,
) -> np.ndarray | None:
    """The sound of :func:`stitch`'s clip: each part's (at ``sample_rate``) lasting exactly as long as its
    ``*_frames`` at ``fps``, silence for a part without any; None if neither part has sound."""
    return join_audio([parent_audio, new_audio], [parent_frames, new_frames], fps, sample_rate)


def join_audio(
    sounds: Sequence[np.ndarray | None], frames: Sequence[int], fps: float, sample_rate: int
) -> np.ndarray | None:
    """The sound of parts played one after another: each part's (at ``sample_rate``) lasting exactly as
    long as its ``frames`` at ``fps`` (cut, or padded with silence; silence for a part without any), the
    seams rounded once each so nothing drifts; None if no part has sound. Mono and stereo make stereo."""
    if all(sound is None for sound in sounds):
        return None
    channels = max(np.atleast_2d(sound).shape[0] for sound in sounds if sound is not None)
    ends = [round(end / fps * sample_rate) for end in itertools.accumulate(frames)]
    starts = [0, *ends[:-1]]
    pieces = [
        _as_channels(sound, channels, end - start)
        for sound, start, end in zip(sounds, starts, ends, strict=True)
    ]
    return np.concatenate(pieces, axis=1)


def shown_count(count: int, fps: float, new_fps: float) -> int:
    """How many frames ``count`` frames at ``fps`` become at ``new_fps`` (:func:`resample_frames`)."""
    return len(_resample_index(count, fps, new_fps))
