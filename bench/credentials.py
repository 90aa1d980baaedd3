"""What C2PA content credentials cost a clip: signing and verifying time, and the bytes they add.

    python -m bench.credentials [--small] [--runs 5]

For a 10-s 1280×720 clip at 24 fps with sound (ffmpeg's testsrc2 pattern and a sine tone, encoded as the
encoder does for Discord's 10 MiB), median of ``--runs``:

1. signing a clip made from text (no ingredients), in place, as ``videobot generate`` does;
2. signing an extend of it (the signed clip as a component: its manifest travels inside the new one);
3. verifying each (``read_credentials``: the signature, the BMFF hash of the whole file, the chain up to
   the installation's root, the ingredients' manifests).

``--small`` does the same for a 2-s 256×160 clip (what the test suite runs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from db.credentials import ClipFacts, Ingredient, ensure_keys, read_credentials, sign_clip
from tests.mp4probe import make_clip

FACTS = ClipFacts(
    model="ltx-video",
    model_title="LTX-Video 2B",
    pipeline="LTXPipeline",
    source="Lightricks/LTX-Video",
    server="a bench server",
    authors=("a member of a bench server",),
)


def measure(size: tuple[int, int], seconds: float, runs: int, folder: Path) -> list[tuple[str, ...]]:
    keys = ensure_keys(folder / "keys")
    # a clip as the encoder would post it: H.264 at about the rate that fills 10 MiB in 10 s
    plain = make_clip(
        folder / "plain.mp4", size=size, fps="24", seconds=seconds, extra=("-b:v", "7M", "-maxrate", "7M",
        "-bufsize", "3.5M"),
    )  # fmt: skip
    rows: list[tuple[str, ...]] = []
    parent = folder / "parent.mp4"
    for name, ingredients in (("from text", ()), ("extend of a signed clip", (Ingredient(parent),))):
        sign_times, verify_times, added = [], [], 0
        for i in range(runs):
            target = folder / f"clip-{i}.mp4"
            shutil.copyfile(plain, target)
            facts = ClipFacts(**{**FACTS.__dict__, "ingredients": ingredients})
            result = sign_clip(target, target, facts, keys)
            sign_times.append(result.seconds)
            added = result.bytes_added
            began = time.perf_counter()
            verdict = read_credentials(target, keys.root_pem)
            verify_times.append(time.perf_counter() - began)
            assert verdict.status == "valid", verdict
        if not ingredients:
            shutil.copyfile(folder / "clip-0.mp4", parent)
        rows.append(
            (
                name,
                f"{plain.stat().st_size / 2**20:.2f}",
                f"{added:,}",
                f"{statistics.median(sign_times) * 1000:.0f}",
                f"{statistics.median(verify_times) * 1000:.0f}",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a 2-s 256x160 clip instead of 10 s at 1280x720")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median is shown)")
    args = parser.parse_args(argv)
    size, seconds = ((256, 160), 2.0) if args.small else ((1280, 720), 10.0)
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(size, seconds, args.runs, Path(tmp))
    print(
        f"## Content credentials: a {seconds:g}-s {size[0]}×{size[1]} clip with sound "
        f"(median of {args.runs})\n"
    )
    print("| clip | clip MiB | bytes added | sign ms | verify ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
