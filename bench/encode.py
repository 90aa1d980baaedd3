"""Encoder throughput and the render overhead around the pipeline call.

    python -m bench.encode

1. Encode throughput: 121 frames at 768x512 (LTX-Video's default clip) into the 10 MiB Discord limit,
   for smooth motion and for noise (every pixel changes: the worst case for the size limit).
2. Render overhead for a tiny model: everything render + encode + poster spend outside the pipeline
   call (warm cache lookup, argument building, frame conversion, encoding, poster).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from generator.encode import DISCORD_DEFAULT_LIMIT, encode_mp4, write_poster


def smooth_clip(frames: int = 121, height: int = 512, width: int = 768) -> np.ndarray:
    x = np.linspace(0, 1, width, dtype=np.float32)[None, None, :, None]
    y = np.linspace(0, 1, height, dtype=np.float32)[None, :, None, None]
    t = np.arange(frames, dtype=np.float32)[:, None, None, None]
    wave = np.sin(x * 9 + y * 5 + t * 0.15) * 0.5 + 0.5
    return (wave * np.array([255, 170, 80], dtype=np.float32)).astype(np.uint8)


def noise_clip(frames: int = 121, height: int = 512, width: int = 768) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def time_encode(frames: np.ndarray, repeats: int, out_dir: Path) -> tuple[float, int, int]:
    times, size, attempts = [], 0, 0
    for _ in range(repeats):
        started = time.perf_counter()
        clip = encode_mp4(frames, 24, out_dir / "bench.mp4", DISCORD_DEFAULT_LIMIT)
        times.append(time.perf_counter() - started)
        size, attempts = clip.bytes, clip.attempts
    return statistics.median(times), size, attempts


def encode_table(out_dir: Path) -> None:
    print("## Encode: 121 frames, 768x512, 24 fps, limit 10 MiB (median of 3)\n")
    print("| content | seconds | frames/s | size MiB | attempts |")
    print("|---|---|---|---|---|")
    for name, frames in (("smooth motion", smooth_clip()), ("noise (worst case)", noise_clip())):
        seconds, size, attempts = time_encode(frames, 3, out_dir)
        print(f"| {name} | {seconds:.2f} | {len(frames) / seconds:.0f} | {size / 2**20:.2f} | {attempts} |")


def overhead_table(out_dir: Path) -> None:
    from db.presets import PresetCatalog
    from db.spec import JobSpec, resolve_spec
    from generator.loader import PipelineCache
    from generator.render import render
    from tests.tiny_models import build_tiny_ltx

    model = build_tiny_ltx(out_dir / "tiny-ltx")
    plan = resolve_spec(JobSpec("a cat", model=str(model), seed=1), PresetCatalog.load(presets_file=""))
    cache = PipelineCache(device="cpu")
    render(plan, cache=cache)  # load once: the worker keeps pipelines warm
    rows = []
    for _ in range(10):
        t0 = time.perf_counter()
        cache.get(plan.preset)
        t1 = time.perf_counter()
        out = render(plan, cache=cache)
        t2 = time.perf_counter()
        encode_mp4(out.frames, out.fps, out_dir / "tiny.mp4")
        t3 = time.perf_counter()
        write_poster(out.frames, out_dir / "tiny.png")
        t4 = time.perf_counter()
        rows.append((t1 - t0, (t2 - t1) - out.seconds, t3 - t2, t4 - t3, out.seconds))
    med = [statistics.median(col) * 1000 for col in zip(*rows, strict=True)]
    print(
        f"\n## Overhead around the pipeline call, tiny LTX ({plan.width}x{plan.height}, "
        f"{plan.num_frames} frames), median of 10, ms\n"
    )
    print("| warm cache lookup | render() around the call | encode | poster | overhead | pipeline call |")
    print("|---|---|---|---|---|---|")
    cells = [f"{med[0]:.2f}", *(f"{v:.1f}" for v in (med[1], med[2], med[3], sum(med[:4]), med[4]))]
    print("| " + " | ".join(cells) + " |")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        encode_table(Path(tmp))
        overhead_table(Path(tmp))


if __name__ == "__main__":
    main()
