"""What a bridge costs outside the pipeline call, for two 10-second 1280x720 clips with sound.

    python -m bench.bridge [--small] [--limit-mib 10] [--repeats 3]

The clips are ffmpeg's moving ``testsrc2`` pattern, the second one negated, each with its own sine tone
(H.264 + AAC, made here). In place of a render, a synthetic bridge of the size LTX-Video renders for the
first clip (its 16:9 size, its default frame count less the two seam frames, 24 fps, no sound) stands
between them. Steps, each the median of 3 runs, as :func:`generator.bridge.bridge_clips` takes them:
read what conditions the render (the first clip's tail, the second clip's first frame), read each clip
and its sound, fit the bridge and the second clip to the first clip's size and rate, and join the three
(sound too) into one mp4 under 10 MiB. ``--small``: 2-second 320x180 clips and a small bridge, once (the
tests run it).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.extend import REPEATS, continuation, timed
from db.presets import PresetCatalog
from generator.bridge import Part, join_parts, read_first_frame, shown_as
from generator.clipio import probe, read_audio, read_frames
from generator.encode import DEFAULT_SAMPLE_RATE
from generator.extend import continue_frames, nearest_aspect
from tests.mp4probe import make_clip

MiB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    clip: tuple[int, int]  # both clips' width, height
    seconds: float  # each clip's length
    bridge_divisor: int  # the bridge at the preset's size divided by this


FULL = Sizes(clip=(1280, 720), seconds=10.0, bridge_divisor=1)
SMALL = Sizes(clip=(320, 180), seconds=2.0, bridge_divisor=4)


def run(sizes: Sizes, limit_mib: float, repeats: int = REPEATS) -> tuple[list[tuple[str, float]], float]:
    """The table's rows, (step, seconds), and the size of the joined clip in MiB."""
    preset = PresetCatalog.load(presets_file="").get("ltx-video")
    assert preset is not None
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        width, height = sizes.clip
        first_path = make_clip(
            folder / "first.mp4", size=sizes.clip, fps="24", seconds=sizes.seconds, tone=440
        )
        second_path = make_clip(
            folder / "second.mp4",
            size=sizes.clip,
            fps="24",
            seconds=sizes.seconds,
            tone=660,
            extra=("-vf", "negate"),
        )
        first, second = probe(first_path), probe(second_path)
        bridge_w, bridge_h = preset.sizes[nearest_aspect(preset.sizes, width, height)]
        bridge_w, bridge_h = bridge_w // sizes.bridge_divisor, bridge_h // sizes.bridge_divisor
        # the render gives its frames after the first clip's last; the last, the keyframe, is dropped
        frames = preset.default_frames // sizes.bridge_divisor // 8 * 8 + 1
        bridge = continuation(frames - 2, bridge_h, bridge_w)

        def conditions() -> tuple[np.ndarray, np.ndarray]:
            probe(first_path), probe(second_path)
            tail = read_frames(first_path, last=continue_frames(preset))[0]
            return tail, read_first_frame(second_path, second)

        took, (tail, _) = timed(conditions, repeats)
        rows.append((f"read the conditions ({len(tail)} frames of the first, 1 of the second)", took))

        def read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
            return read_frames(path)[0], read_audio(path, DEFAULT_SAMPLE_RATE)

        took, (first_frames, first_sound) = timed(lambda: read(first_path), repeats)
        rows.append((f"read the first clip ({len(first_frames)} frames and its sound)", took))
        took, (second_frames, second_sound) = timed(lambda: read(second_path), repeats)
        rows.append((f"read the second clip ({len(second_frames)} frames and its sound)", took))
        took, fitted = timed(lambda: shown_as(bridge, preset.fps, width, height, first.fps), repeats)
        rows.append(
            (f"fit the bridge ({len(bridge)} frames of {bridge_w}x{bridge_h} to {width}x{height})", took)
        )
        took, second_shown = timed(
            lambda: shown_as(second_frames, second.fps, width, height, first.fps), repeats
        )
        rows.append(("fit the second clip (same size and rate: a copy)", took))
        parts = [
            Part(first_frames, first_sound, first_path),
            Part(fitted, None),
            Part(second_shown, second_sound, second_path),
        ]
        took, clip = timed(
            lambda: join_parts(
                parts, first.fps, DEFAULT_SAMPLE_RATE, folder / "joined.mp4", int(limit_mib * MiB)
            ),
            repeats,
        )
        rows.append(
            (
                f"join and encode {clip.frames} frames + sound under {limit_mib:g} MiB "
                f"({clip.attempts} attempt{'s' * (clip.attempts > 1)})",
                took,
            )
        )
    return rows, clip.bytes / MiB


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="2-s 320x180 clips, once: a quick check")
    parser.add_argument("--limit-mib", type=float, default=10.0, help="the upload limit")
    parser.add_argument("--repeats", type=int, help=f"runs of each step (default {REPEATS}; 1 with --small)")
    args = parser.parse_args(argv)
    sizes = SMALL if args.small else FULL
    repeats = args.repeats or (1 if args.small else REPEATS)
    rows, mib = run(sizes, args.limit_mib, repeats)
    width, height = sizes.clip
    print(
        f"## Bridge overhead outside the pipeline: two {sizes.seconds:g}-s {width}x{height} clips with "
        f"sound and a bridge of LTX-Video's size (median of {repeats})\n"
    )
    print("| step | seconds |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} |")
    print(f"| **total** | **{sum(value for _, value in rows):.2f}** |")
    print(f"\noutput: {mib:.2f} MiB")


if __name__ == "__main__":
    main()
