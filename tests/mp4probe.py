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
