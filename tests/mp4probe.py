"""ffprobe-level facts about an mp4, from the ffmpeg binary that imageio-ffmpeg ships (it has no
ffprobe) and from the file's own box structure."""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np


@dataclass(frozen=True)
class VideoFacts:
    codec: str
    profile: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    size: int
    top_level_boxes: list[str]

    @property
    def faststart(self) -> bool:
        boxes = self.top_level_boxes
        return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")


def top_level_boxes(path: Path) -> list[str]:
    names = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, name = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            names.append(name.decode("latin-1"))
            if size == 0:
                break
            f.seek(size - 8, 1)
    return names


def probe(path: Path) -> VideoFacts:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    stream = re.search(
        r"Stream #0:0.*?: Video: (\w+) \(([^)]*)\).*?, (\w+)\(?.*?, (\d+)x(\d+).*?, ([\d.]+) fps", info
    )
    assert stream, info
    frames, duration = imageio_ffmpeg.count_frames_and_secs(str(path))
    return VideoFacts(
        codec=stream.group(1),
        profile=stream.group(2),
        pix_fmt=stream.group(3),
        width=int(stream.group(4)),
        height=int(stream.group(5)),
        fps=float(stream.group(6)),
        frames=frames,
        duration=duration,
        size=path.stat().st_size,
        top_level_boxes=top_level_boxes(path),
    )


def decode_frames(path: Path) -> np.ndarray:
    """All frames as uint8 RGB, shape (frames, height, width, 3)."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(buf, np.uint8).reshape(height, width, 3) for buf in reader]
    return np.stack(frames)


@dataclass(frozen=True)
class AudioFacts:
    codec: str
    sample_rate: int
    channels: str  # "mono", "stereo", ...
    duration: float  # seconds of decoded sound (the encoder's priming and padding removed)


def audio_facts(path: Path) -> AudioFacts | None:
    """The first sound track, as ffmpeg reads it; None if the file has none."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    stream = re.search(r"Stream #0:\d+.*?: Audio: (\w+).*?, (\d+) Hz, ([\w.()]+)", info)
    if stream is None:
        return None
    samples = decode_audio(path, int(stream.group(2)))
    return AudioFacts(
        codec=stream.group(1),
        sample_rate=int(stream.group(2)),
        channels=stream.group(3),
        duration=samples.shape[-1] / int(stream.group(2)),
    )


def decode_audio(path: Path, sample_rate: int = 48000) -> np.ndarray:
    """The first sound track mixed to mono, float32 samples at ``sample_rate``."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate)]
    raw = subprocess.run([*cmd, "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def make_clip(
    path: Path,
    *,
    size: tuple[int, int] = (256, 160),
    fps: str = "24",
    seconds: float = 2.0,
    tone: float | None = 440.0,
    codec: str = "libx264",
    extra: tuple[str, ...] = (),
) -> Path:
    """A clip a member might bring, made by ffmpeg itself: its moving ``testsrc2`` pattern (smooth
    motion, sharp edges, text) and, unless ``tone`` is None, a sine tone of that many Hz."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    width, height = size
    cmd = [ffmpeg, "-hide_banner", "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if tone is not None:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:duration={seconds}"]
    cmd += ["-c:v", codec, "-pix_fmt", "yuv420p", *extra]
    if tone is not None:
        cmd += ["-c:a", "libopus" if path.suffix == ".webm" else "aac"]
    subprocess.run([*cmd, str(path)], check=True)
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 pictures or clips of the same shape, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    """The frequency (Hz) with the most energy in ``samples``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sample_rate)[int(np.argmax(spectrum))])
