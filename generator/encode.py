"""Frames to an mp4 that Discord plays inline, and never over the upload limit.

H.264 (High profile), yuv420p, ``+faststart`` (the index before the data, so playback starts while the
file loads), even dimensions. The bitrate is chosen from the byte limit and the duration; if a clip still
comes out too big, the encoder steps the bitrate down, then the resolution, until it fits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

DISCORD_DEFAULT_LIMIT = 10 * 1024 * 1024
# x264's rate control may overshoot its target a little; aim below the limit
TARGET_FILL = 0.92
# the mp4 container: headers plus an index entry of a few bytes per frame
CONTAINER_BYTES = 4096
CONTAINER_BYTES_PER_FRAME = 32
# below this many bits per pixel a frame is mush: shrink the picture instead of the bitrate
MIN_BITS_PER_PIXEL = 0.03
# never encode better than this (constant rate factor): small clips stay small
QUALITY_CRF = 20
# x264's rate-control buffer, in seconds of the bitrate cap
BUFFER_SECONDS = 0.5
SCALE_STEPS = (1.0, 0.75, 0.5, 0.375, 0.25)
MIN_SIDE = 32
BITRATE_TRIES_PER_SCALE = 3


class EncodeError(RuntimeError):
    """The clip cannot be encoded within the limit."""


@dataclass(frozen=True)
class EncodedClip:
    path: Path
    bytes: int
    width: int
    height: int
    frames: int
    fps: float
    bitrate: int  # the cap the encoder was given, bits per second
    attempts: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline output (floats in [0, 1], or uint8) as uint8 RGB, shape (frames, height, width, 3)."""
    if frames.ndim == 5:  # (batch, frames, h, w, c): the first video
        frames = frames[0]
    if frames.dtype != np.uint8:
        frames = (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames of shape (n, h, w, 3), got {frames.shape}")
    return frames


def even_crop(frames: np.ndarray) -> np.ndarray:
    """Drop a last row/column so both dimensions are even (yuv420p halves them)."""
    h, w = frames.shape[1], frames.shape[2]
    return frames[:, : h - h % 2, : w - w % 2]


def bitrate_for(max_bytes: int, frames: int, fps: float) -> int:
    """Video bits per second that fill ``max_bytes`` for a clip of ``frames`` at ``fps``.

    The rate-control buffer (BUFFER_SECONDS of the rate) may be spent on top of rate × duration."""
    duration = frames / fps
    payload = max_bytes * TARGET_FILL - CONTAINER_BYTES - CONTAINER_BYTES_PER_FRAME * frames
    return max(0, int(payload * 8 / (duration + BUFFER_SECONDS)))


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``width``×``height`` times ``scale``, rounded to even numbers, at least MIN_SIDE."""

    def side(n: int) -> int:
        return max(MIN_SIDE, round(n * scale / 2) * 2)

    return (width, height) if scale == 1.0 else (side(width), side(height))


def encode_attempts(
    width: int, height: int, frames: int, fps: float, max_bytes: int
) -> Iterator[tuple[int, int, int]]:
    """(width, height, bitrate) to try, best first: full size at the bitrate that fills the limit, then
    lower bitrates, then smaller sizes. A bitrate is only tried while it gives a size enough bits."""
    base = bitrate_for(max_bytes, frames, fps)
    for scale in SCALE_STEPS:
        w, h = scaled_size(width, height, scale)
        floor = MIN_BITS_PER_PIXEL * w * h * fps
        rate = float(base)
        for _ in range(BITRATE_TRIES_PER_SCALE):
            if rate < floor:
                break
            yield w, h, int(rate)
            rate *= 0.8
    # last resort: the smallest size at whatever bitrate the limit allows
    w, h = scaled_size(width, height, SCALE_STEPS[-1])
    if base > 0:
        yield w, h, int(base * 0.5)


def _write(path: Path, frames: np.ndarray, fps: float, width: int, height: int, bitrate: int) -> None:
    src_h, src_w = frames.shape[1], frames.shape[2]
    params = [
        "-profile:v", "high",
        "-preset", os.environ.get("VIDEOBOT_X264_PRESET", "medium"),
        "-crf", str(QUALITY_CRF),
        "-maxrate", str(bitrate),
        "-bufsize", str(int(bitrate * BUFFER_SECONDS)),
        "-movflags", "+faststart",
        "-f", "mp4",
    ]  # fmt: skip
    if (width, height) != (src_w, src_h):
        params = ["-vf", f"scale={width}:{height}:flags=area", *params]
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (src_w, src_h),
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=None,
        bitrate=None,
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=params,
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


def encode_mp4(
    frames: np.ndarray, fps: float, out_path: str | os.PathLike[str], max_bytes: int = DISCORD_DEFAULT_LIMIT
) -> EncodedClip:
    """Encode ``frames`` (uint8 or float RGB) to ``out_path``, at most ``max_bytes`` long.

    The file appears at ``out_path`` only once it fits; on failure nothing is left behind.
    """
    if max_bytes <= 0:
        raise EncodeError("the size limit must be positive")
    frames = even_crop(to_uint8(frames))
    count, height, width = frames.shape[0], frames.shape[1], frames.shape[2]
    if count == 0 or width < 2 or height < 2:
        raise EncodeError("there are no frames to encode")
    out = Path(out_path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part.mp4", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    attempts = 0
    try:
        for w, h, rate in encode_attempts(width, height, count, fps, max_bytes):
            attempts += 1
            _write(tmp, frames, fps, w, h, rate)
            size = tmp.stat().st_size
            if size <= max_bytes:
                tmp.chmod(0o644)  # mkstemp makes it private; a clip is for sharing
                os.replace(tmp, out)
                return EncodedClip(out, size, w, h, count, fps, rate, attempts)
            log.info("encode %dx%d at %d b/s gave %d bytes > %d; stepping down", w, h, rate, size, max_bytes)
        raise EncodeError(f"a {count / fps:.1f}-second clip cannot be made smaller than {max_bytes} bytes")
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_poster(frames: np.ndarray, out_path: str | os.PathLike[str]) -> Path:
    """The middle frame as a PNG, for embeds and previews."""
    frames = to_uint8(frames)
    out = Path(out_path)
    Image.fromarray(frames[len(frames) // 2]).save(out, format="PNG", optimize=True)
    return out
