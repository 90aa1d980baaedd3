"""What a bridge costs outside the pipeline call, for two 10-second 1280x720 clips with sound.

    python -m bench.bridge [--small] [--limit-mib 10] [--repeats 3]

The clips are ffmpeg's moving ``testsrc2`` pattern, the second one negated, each with its own sine tone
(H.264 + AAC, made here). In place of a render, a synthetic bridge of the size LTX-Video renders for the
first clip (its 16:9 size, its default frame count less the two seam frames, 24 fps, no sound) stands
between them. The clips are stored as the bot posts them (encoded by generator.encode under the limit).
Steps, each the median of 3 runs, as :func:`generator.bridge.bridge_clips` takes them: read what
conditions the render (the first clip's tail, the second clip's first frame), fit the bridge to the
first clip's size and rate, and join the three with their sound into one mp4 (generator/join.py, which
reads both clips' sound): under the limit (10 MiB), where two clips that each nearly fill it cannot both
be copied and the whole is encoded once from them, and under 50 MiB (a boosted server), where both
clips' streams are copied and only the bridge is encoded. ``--small``: 2-second 320x180 clips and a
small bridge, once (the tests run it).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.extend import REPEATS, continuation, timed
from db.presets import PresetCatalog
from generator.bridge import join_bridge, read_first_frame
from generator.clipio import probe, read_audio, read_frames, shown_as
from generator.encode import DEFAULT_SAMPLE_RATE, encode_mp4
from generator.extend import continue_frames, nearest_aspect
from generator.join import JoinResult
from tests.mp4probe import make_clip

MiB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    clip: tuple[int, int]  # both clips' width, height
    seconds: float  # each clip's length
    bridge_divisor: int  # the bridge at the preset's size divided by this


FULL = Sizes(clip=(1280, 720), seconds=10.0, bridge_divisor=1)
SMALL = Sizes(clip=(320, 180), seconds=2.0, bridge_divisor=4)


def as_posted(path: Path, max_bytes: int) -> Path:
    """The clip at ``path`` as the bot would have posted it: encoded by generator.encode, sound too."""
    frames, fps = read_frames(path)
    out = path.with_name(f"posted-{path.name}")
    encode_mp4(frames, fps, out, max_bytes, audio=read_audio(path, DEFAULT_SAMPLE_RATE))
    return out


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
        # as the bot stores clips: encoded by generator.encode under the limit (their streams can be copied)
        first_path, second_path = (
            as_posted(path, int(limit_mib * MiB)) for path in (first_path, second_path)
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
            return tail, read_first_frame(second_path)

        took, (tail, _) = timed(conditions, repeats)
        rows.append((f"read the conditions ({len(tail)} frames of the first, 1 of the second)", took))
        took, fitted = timed(lambda: shown_as(bridge, preset.fps, width, height, first.fps), repeats)
        rows.append(
            (f"fit the bridge ({len(bridge)} frames of {bridge_w}x{bridge_h} to {width}x{height})", took)
        )
        made: list[float] = []  # MiB of each join
        for name, max_bytes in (
            (f"under {limit_mib:g} MiB", int(limit_mib * MiB)),
            ("under 50 MiB (a boosted server)", 50 * MiB),
        ):

            def join(room: int = max_bytes) -> JoinResult:
                return join_bridge(
                    first_path,
                    first,
                    fitted,
                    None,
                    second_path,
                    second,
                    folder / "joined.mp4",
                    room,
                    DEFAULT_SAMPLE_RATE,
                )

            took, joined = timed(join, repeats)
            clip = joined.clip
            made.append(clip.bytes / MiB)
            how = "both clips copied" if all(joined.copied[0::2]) else "all encoded once"
            rows.append(
                (
                    f"join {clip.frames} frames + sound {name}: {how}, {clip.bytes / MiB:.2f} MiB "
                    f"({clip.attempts} attempt{'s' * (clip.attempts > 1)})",
                    took,
                )
            )
    return rows, made[0]


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
    # the conditions, the fit and the join under the limit: what one bridge costs (not the 50 MiB row)
    print(f"| **total under {args.limit_mib:g} MiB** | **{sum(value for _, value in rows[:3]):.2f}** |")
    print(f"\noutput under the limit: {mib:.2f} MiB")


if __name__ == "__main__":
    main()
