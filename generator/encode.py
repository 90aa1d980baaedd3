"""Frames to an mp4 that Discord plays inline, and never over the upload limit.

H.264 (High profile), yuv420p, ``+faststart`` (the index before the data, so playback starts while the
file loads), even dimensions. Every clip of one size and frame rate has the same stream headers (SPS and
PPS: a level fixed by size and rate, x264's ``stitchable``), so a later join can copy its stream as it is
(generator/join.py). The bitrate is chosen from the byte limit and the duration; if a clip still
comes out too big, the encoder steps the bitrate down, then the resolution, until it fits.

Sound, when given, is an AAC track (ffmpeg's native encoder) in the same file, exactly as long as the
picture. The limit covers both: the sound is encoded first, at a bitrate that takes at most a fifth of
the limit (128, 64 or 32 kb/s), and the picture gets what is left.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from db.spec import DISCORD_UPLOAD_FLOOR

log = logging.getLogger(__name__)

DISCORD_DEFAULT_LIMIT = DISCORD_UPLOAD_FLOOR
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
# the sound track: best first; a bitrate is chosen while its bytes stay within AUDIO_SHARE of the limit
AUDIO_BITRATES = (128_000, 64_000, 32_000)
AUDIO_SHARE = 0.2
DEFAULT_SAMPLE_RATE = 48_000
# the rates an AAC stream can carry; another is resampled to DEFAULT_SAMPLE_RATE
AAC_SAMPLE_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
)
# H.264 levels (Annex A): level_idc, macroblocks per second, macroblocks per frame. From 4.1 up: every
# phone and browser that plays 1080p plays 4.1, and a level chosen by size and rate alone (never by the
# bitrate, as x264's automatic one is) gives two encodes of one size and rate the same headers
H264_LEVELS = (
    (41, 245_760, 8_192),
    (42, 522_240, 8_704),
    (50, 589_824, 22_080),
    (51, 983_040, 36_864),
    (52, 2_073_600, 36_864),
    (60, 4_177_920, 139_264),
    (61, 8_355_840, 139_264),
    (62, 16_711_680, 139_264),
)


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
    audio_bitrate: int | None = None  # the sound track's bits per second; None: no sound

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


def audio_bitrate_for(max_bytes: int, seconds: float) -> int:
    """The best of AUDIO_BITRATES whose bytes take at most AUDIO_SHARE of ``max_bytes``; else the lowest."""
    for rate in AUDIO_BITRATES:
        if rate * seconds / 8 <= max_bytes * AUDIO_SHARE:
            return rate
    return AUDIO_BITRATES[-1]


def fit_audio(audio: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """``audio`` as float32 (channels, samples) in [-1, 1], cut or padded with silence to ``seconds``.

    A 1-D array is one channel; more than two channels are mixed down to stereo."""
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[None]
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError(f"expected audio of shape (channels, samples), got {samples.shape}")
    if samples.shape[0] > 2:
        samples = np.stack([samples[0::2].mean(axis=0), samples[1::2].mean(axis=0)])
    samples = np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    wanted = round(seconds * sample_rate)
    if samples.shape[1] >= wanted:
        return np.ascontiguousarray(samples[:, :wanted])
    return np.pad(samples, ((0, 0), (0, wanted - samples.shape[1])))


def write_audio(path: Path, audio: np.ndarray, sample_rate: int, bitrate: int) -> None:
    """``audio`` (float32 (channels, samples)) as an AAC track in an mp4 at ``path``."""
    channels = audio.shape[0]
    out_rate = sample_rate if sample_rate in AAC_SAMPLE_RATES else DEFAULT_SAMPLE_RATE
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "-",
        "-c:a", "aac", "-b:a", str(bitrate), "-ar", str(out_rate), "-f", "mp4", str(path),
    ]  # fmt: skip
    done = subprocess.run(cmd, input=audio.T.astype("<f4").tobytes(), capture_output=True)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise EncodeError(f"the sound could not be encoded: {reason[-1] if reason else done.returncode}")


def h264_level(width: int, height: int, fps: float) -> int:
    """The lowest level_idc of H264_LEVELS whose frame size and macroblock rate hold ``width``×``height``
    at ``fps`` (the highest if none does)."""
    across, down = math.ceil(width / 16), math.ceil(height / 16)
    for level, per_second, per_frame in H264_LEVELS:
        # Annex A also bounds each side: at most sqrt(8 × frame size) macroblocks
        side_fits = max(across, down) ** 2 <= 8 * per_frame
        if across * down <= per_frame and side_fits and across * down * fps <= per_second:
            return level
    return H264_LEVELS[-1][0]


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


def write_video(
    path: Path,
    frames: np.ndarray,
    fps: float,
    width: int,
    height: int,
    bitrate: int,
    audio_path: Path | None = None,
    *,
    level: int | None = None,
    stitchable: bool = True,
) -> None:
    """``frames`` as H.264 at ``width``×``height`` (scaled if they differ) in an mp4 at ``path``.

    ``level`` (level_idc; default :func:`h264_level`) and ``stitchable`` decide the stream headers: a
    join that copies another stream asks for that stream's."""
    src_h, src_w = frames.shape[1], frames.shape[2]
    params = [
        "-profile:v", "high",
        "-level", str(level or h264_level(width, height, fps)),
        *(["-x264-params", "stitchable=1"] if stitchable else []),
        "-preset", os.environ.get("VIDEOBOT_X264_PRESET", "medium"),
        "-crf", str(QUALITY_CRF),
        "-maxrate", str(bitrate),
        "-bufsize", str(int(bitrate * BUFFER_SECONDS)),
        "-movflags", "+faststart",
        # RGB to yuv420p: average each 2x2 block's colour (the default bicubic rings on sharp edges,
        # which costs a re-encoded parent about 3 dB)
        "-sws_flags", "area+accurate_rnd",
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
        # an AAC track already encoded to its own file: copied in beside the picture
        audio_path=None if audio_path is None else str(audio_path),
        audio_codec=None if audio_path is None else "copy",
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


def encode_mp4(
    frames: np.ndarray,
    fps: float,
    out_path: str | os.PathLike[str],
    max_bytes: int = DISCORD_DEFAULT_LIMIT,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> EncodedClip:
    """Encode ``frames`` (uint8 or float RGB) to ``out_path``, at most ``max_bytes`` long.

    ``audio`` (float32 (channels, samples) in [-1, 1], at ``sample_rate``, 48 kHz if not given) becomes
    an AAC track as long as the picture: longer sound is cut, shorter is padded with silence.
    The file appears at ``out_path`` only once it fits; on failure nothing is left behind.
    """
    if max_bytes <= 0:
        raise EncodeError("the size limit must be positive")
    frames = even_crop(to_uint8(frames))
    count, height, width = frames.shape[0], frames.shape[1], frames.shape[2]
    if count == 0 or width < 2 or height < 2:
        raise EncodeError("there are no frames to encode")
    rate_hz = sample_rate or DEFAULT_SAMPLE_RATE
    if rate_hz <= 0:
        raise EncodeError("the sample rate must be positive")
    sound = None if audio is None else fit_audio(audio, rate_hz, count / fps)
    out = Path(out_path)
    temps: list[Path] = []

    def temp(suffix: str) -> Path:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent)
        os.close(fd)
        temps.append(Path(name))
        return temps[-1]

    attempts = 0
    try:
        tmp = temp(".part.mp4")
        sound_path = None if sound is None else temp(".part.m4a")
        # with sound: its bitrate comes off the limit first; lower ones only if no picture fits
        audio_rates: list[int | None] = [None]
        if sound is not None:
            first = AUDIO_BITRATES.index(audio_bitrate_for(max_bytes, count / fps))
            audio_rates = list(AUDIO_BITRATES[first:])
        for audio_rate in audio_rates:
            video_bytes = max_bytes
            if sound is not None and sound_path is not None and audio_rate is not None:
                write_audio(sound_path, sound, rate_hz, audio_rate)
                video_bytes = max_bytes - sound_path.stat().st_size
            for w, h, rate in encode_attempts(width, height, count, fps, video_bytes):
                attempts += 1
                write_video(tmp, frames, fps, w, h, rate, sound_path if audio_rate is not None else None)
                size = tmp.stat().st_size
                if size <= max_bytes:
                    tmp.chmod(0o644)  # mkstemp makes it private; a clip is for sharing
                    os.replace(tmp, out)
                    return EncodedClip(out, size, w, h, count, fps, rate, attempts, audio_rate)
                log.info(
                    "encode %dx%d at %d b/s (sound %s b/s) gave %d bytes > %d; stepping down",
                    w, h, rate, audio_rate, size, max_bytes,
                )  # fmt: skip
        raise EncodeError(f"a {count / fps:.1f}-second clip cannot be made smaller than {max_bytes} bytes")
    finally:
        for path in temps:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def write_poster(frames: np.ndarray, out_path: str | os.PathLike[str]) -> Path:
    """The middle frame as a PNG, for embeds and previews."""
    frames = to_uint8(frames)
    out = Path(out_path)
    Image.fromarray(frames[len(frames) // 2]).save(out, format="PNG", optimize=True)
    return out
