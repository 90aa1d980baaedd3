"""What an HD version costs outside the pipeline calls, for a 10-second draft with sound.

    python -m bench.hd [--model ltx-2.5] [--seconds 10] [--limit-mib 10 50]

The draft is ffmpeg's moving ``testsrc2`` pattern with a sine tone (H.264 + AAC, made here) at the
preset's draft size (768x512 for ``ltx-2.5``'s 3:2), as a worker gets it when the draft's latents are
gone (another worker drew it, or it restarted): its frames are read, fitted to the draft size and padded
to the frame count the pipeline takes, and its sound is read, to be kept. In place of the two pipeline
calls (upsample, refine), the draft at the preset's size (1536x1024) with grain of its own stands in.
Then the HD clip is encoded with the sound under each upload limit (10 MiB: Discord's floor; 50 MiB: a
server at boost level 2). Each step is the median of 3 runs.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.extend import REPEATS, timed
from db.presets import PresetCatalog
from generator.clipio import fit_frames, probe, read_audio, read_frames
from generator.encode import DEFAULT_SAMPLE_RATE, encode_mp4
from generator.hd import padded_frames
from tests.mp4probe import make_clip

MiB = 1024 * 1024


def hd_frames(draft: np.ndarray, height: int, width: int, seed: int = 0) -> np.ndarray:
    """What a refine stage gives for ``draft``: the draft at twice its size with fine detail of its own
    (film-like grain), which costs an encoder what a real HD clip costs, not a smooth pattern's few bits."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(draft), height, width, 3), dtype=np.uint8)
    for t, frame in enumerate(draft):  # frame by frame: a 10-s HD clip is 1.1 GB of uint8
        big = np.repeat(np.repeat(frame, height // frame.shape[0], axis=0), width // frame.shape[1], axis=1)
        grain = rng.normal(0.0, 6.0, size=big.shape[:2])[..., None]
        out[t] = np.clip(big + grain, 0, 255).astype(np.uint8)
    return out


def run(
    model: str, seconds: float, limits_mib: list[float], repeats: int = REPEATS
) -> list[tuple[str, float]]:
    """The table's rows: (step, seconds)."""
    preset = PresetCatalog.load(presets_file="").resolve(model)
    assert preset is not None and preset.has_hd, f"{model} makes no HD versions"
    aspect = preset.default_aspect
    width, height = preset.draft_size(aspect)
    hd_width, hd_height = preset.sizes[aspect]
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        draft = make_clip(folder / "draft.mp4", size=(width, height), fps=str(preset.fps), seconds=seconds)
        info = probe(draft)
        count = padded_frames(info.frames, preset.frame_multiple)

        def read_draft() -> np.ndarray:
            frames = fit_frames(read_frames(draft)[0], width, height)
            return np.concatenate([frames, np.repeat(frames[-1:], count - len(frames), axis=0)])

        took, frames = timed(read_draft, repeats)
        hd = hd_frames(frames[: info.frames], hd_height, hd_width)
        rows.append(
            (f"read the draft ({info.frames} frames of {width}x{height}, padded to {len(frames)})", took)
        )
        took, sound = timed(lambda: read_audio(draft, DEFAULT_SAMPLE_RATE), repeats)
        rows.append(("read its sound (kept as it is)", took))
        del frames
        for limit in limits_mib:
            took, clip = timed(
                lambda limit=limit: encode_mp4(  # type: ignore[misc]
                    hd,
                    info.fps,
                    folder / "hd.mp4",
                    int(limit * MiB),
                    audio=sound,
                    sample_rate=DEFAULT_SAMPLE_RATE,
                ),
                repeats,
            )
            rows.append(
                (
                    f"encode {clip.frames} frames of {clip.width}x{clip.height} + sound under {limit:g} MiB "
                    f"({clip.bytes / MiB:.2f} MiB, {clip.attempts} attempt{'s' * (clip.attempts > 1)})",
                    took,
                )
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ltx-2.5", help="a preset with a latent upsampler")
    parser.add_argument("--seconds", type=float, default=10.0, help="the draft's length")
    parser.add_argument("--limit-mib", type=float, nargs="+", default=[10.0, 50.0], help="upload limits")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    rows = run(args.model, args.seconds, args.limit_mib, args.repeats)
    print(
        f"## HD overhead outside the pipeline: a {args.seconds:g}-s draft of {args.model} with sound "
        f"(median of {args.repeats})\n"
    )
    print("| step | seconds |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
