"""What Extend costs outside the pipeline call, for a 10-second 1280x720 parent with sound.

    python -m bench.extend

The parent is ffmpeg's moving ``testsrc2`` pattern with a sine tone (H.264 + AAC, made here). In place
of a render, a synthetic continuation of the size LTX-Video renders for it (its 16:9 size, its default
frame count, 24 fps) is stitched after it. Steps, each the median of 3 runs: read the parent's tail (what
conditions the render), read the whole parent and its sound, stitch, and encode the whole under 10 MiB.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from db.presets import PresetCatalog
from generator.clipio import probe, read_audio, read_frames, stitch
from generator.encode import DEFAULT_SAMPLE_RATE, DISCORD_DEFAULT_LIMIT, encode_mp4
from generator.extend import continue_frames, nearest_aspect
from tests.mp4probe import make_clip

T = TypeVar("T")
REPEATS = 3


def continuation(frames: int, height: int, width: int) -> np.ndarray:
    """Smooth motion, as a model renders it."""
    x = np.linspace(0, 1, width, dtype=np.float32)[None, None, :, None]
    y = np.linspace(0, 1, height, dtype=np.float32)[None, :, None, None]
    t = np.arange(frames, dtype=np.float32)[:, None, None, None]
    wave = np.sin(x * 9 + y * 5 + t * 0.15) * 0.5 + 0.5
    return (wave * np.array([255, 170, 80], dtype=np.float32)).astype(np.uint8)


def timed(step: Callable[[], T], repeats: int = REPEATS) -> tuple[float, T]:
    """The median wall time of ``repeats`` runs of ``step``, and what it returned."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    preset = PresetCatalog.load(presets_file="").get("ltx-video")
    assert preset is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parent = make_clip(folder / "parent.mp4", size=(1280, 720), fps="24", seconds=10, tone=440)
        info = probe(parent)
        width, height = preset.sizes[nearest_aspect(preset.sizes, info.width, info.height)]
        new = continuation(preset.default_frames, height, width)
        tail_count = continue_frames(preset)

        def read_tail() -> np.ndarray:
            probe(parent)
            return read_frames(parent, last=tail_count)[0]

        def read_parent() -> tuple[np.ndarray, np.ndarray | None]:
            return read_frames(parent)[0], read_audio(parent, DEFAULT_SAMPLE_RATE)

        rows: list[tuple[str, float]] = []
        seconds, tail = timed(read_tail)
        rows.append((f"read the tail ({len(tail)} frames, seeking near the end)", seconds))
        seconds, (frames, audio) = timed(read_parent)
        rows.append((f"read the parent ({len(frames)} frames and its sound)", seconds))
        seconds, (whole, sound) = timed(
            lambda: stitch(frames, info.fps, audio, new, preset.fps, None, DEFAULT_SAMPLE_RATE)
        )
        rows.append((f"stitch ({len(new)} frames of {width}x{height} cut and resized to 1280x720)", seconds))
        seconds, clip = timed(
            lambda: encode_mp4(
                whole, info.fps, folder / "longer.mp4", DISCORD_DEFAULT_LIMIT, audio=sound, sample_rate=48000
            )
        )
        rows.append(
            (
                f"encode {clip.frames} frames + sound under 10 MiB "
                f"({clip.bytes / 2**20:.2f} MiB, {clip.attempts} attempt{'s' * (clip.attempts > 1)})",
                seconds,
            )
        )
    print(
        f"## Extend overhead outside the pipeline: a {info.duration:.0f}-s {info.width}x{info.height} parent "
        f"with sound + {len(new) / preset.fps:.1f} s of {preset.title} (median of {REPEATS})\n"
    )
    print("| step | seconds |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} |")
    print(f"| **total** | **{sum(value for _, value in rows):.2f}** |")


if __name__ == "__main__":
    main()
