"""Seconds per clip and peak memory of the CPU draft preset (``ltx-video-cpu``) on this machine's CPU.

    python -m bench.cpu [--dir /var/tmp/videobot-cpu-bench] [--steps 8] [--small]

A worker without a GPU renders ``ltx-video-cpu``: LTX-Video 2B distilled (a single-file transformer) over
the pipeline of ``Lightricks/LTX-Video-0.9.5`` (T5-XXL, the VAE), 49 frames at 384x256 in 8 steps without
guidance. No weights can be downloaded here, so the bench builds that pipeline at full size with random
weights (the configs of bench/gpu.py) and writes it as the hub holds it: the T5-XXL encoder in float32
shards (the repository keeps it in float32: 19 GB), the VAE in float32, the transformer as one bfloat16
safetensors file in the original layout. Then a fresh process loads it through the worker's own path
(``generator.loader.PipelineCache``: ``from_single_file`` for the transformer, weights kept in bfloat16,
computed in float32) and renders the preset's default clip with ``generator.render.render``.

It prints the seconds to load, to encode the prompt, per transformer step, to decode, for the whole clip,
and the render process's peak resident memory (``ru_maxrss``). The build (about 5 minutes, 30 GB of disk)
is kept in ``--dir`` for the next run. Speed does not depend on the values of the weights.

``--small`` runs the same code on the tiny test configs in seconds (tests/test_cpu_bench.py keeps it
from rotting).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PRESET = "ltx-video-cpu"
DONE_MARK = "built.json"
SHARD_BYTES = 5 * 1000**3  # as the T5 shards of the LTX-Video repositories (4.99, 5, 4.87, 4.19 GB)


def _save_fp32_shards(model: Any, folder: Path, prefix: str = "model") -> None:
    """``model``'s weights in float32 safetensors shards of at most SHARD_BYTES with their index, as
    transformers writes them, cast one tensor at a time (a bfloat16 model never exists in float32)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    groups: list[list[str]] = [[]]
    size = 0
    seen: set[int] = set()
    for key, tensor in state.items():
        if tensor.data_ptr() in seen:  # tied weights (T5's shared embedding) are written once
            continue
        seen.add(tensor.data_ptr())
        nbytes = tensor.numel() * 4
        if groups[-1] and size + nbytes > SHARD_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(key)
        size += nbytes
    weight_map = {}
    for number, keys in enumerate(groups, start=1):
        name = f"{prefix}-{number:05d}-of-{len(groups):05d}.safetensors"
        save_file({k: state[k].to(torch.float32).contiguous() for k in keys}, str(folder / name))
        weight_map.update({k: name for k in keys})
        gc.collect()
    index = {
        "metadata": {"total_size": sum(state[k].numel() * 4 for k in weight_map)},
        "weight_map": weight_map,
    }
    (folder / f"{prefix}.safetensors.index.json").write_text(json.dumps(index, indent=2))
    model.config.save_pretrained(str(folder))


def build(folder: Path, small: bool) -> None:
    """The CPU draft's pipeline at full size (or the tiny test size), written as the hub holds it."""
    import diffusers
    import torch

    from bench.gpu import FULL, SMALL, materialize
    from tests.tiny_models import save_ltx_single_file, train_tokenizer

    arch = (SMALL if small else FULL)["ltx-video"]
    pipeline = folder / "pipeline"
    pipeline.mkdir(parents=True, exist_ok=True)
    cpu = torch.device("cpu")
    started = time.perf_counter()
    text = materialize(lambda: arch.text_class(arch.text_config_class(**arch.text)), cpu, torch.bfloat16)
    _save_fp32_shards(text, pipeline / "text_encoder")
    del text
    gc.collect()
    print(f"text encoder written ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    vae: Any = materialize(lambda: diffusers.AutoencoderKLLTXVideo(**arch.vae), cpu, torch.float32)
    vae.save_pretrained(str(pipeline / "vae"))
    del vae
    transformer: Any = materialize(
        lambda: diffusers.LTXVideoTransformer3DModel(**arch.transformer), cpu, torch.bfloat16
    )
    transformer.save_config(str(pipeline / "transformer"))  # its config is read; its weights come next
    save_ltx_single_file(transformer, folder / "transformer.safetensors")
    del transformer
    gc.collect()
    train_tokenizer().save_pretrained(str(pipeline / "tokenizer"))
    getattr(diffusers, arch.scheduler_class)(**arch.scheduler).save_pretrained(str(pipeline / "scheduler"))
    index = {
        "_class_name": "LTXPipeline",
        "_diffusers_version": diffusers.__version__,
        "scheduler": ["diffusers", arch.scheduler_class],
        "text_encoder": ["transformers", arch.text_class.__name__],
        "tokenizer": ["transformers", "T5Tokenizer"],
        "transformer": ["diffusers", "LTXVideoTransformer3DModel"],
        "vae": ["diffusers", "AutoencoderKLLTXVideo"],
    }
    (pipeline / "model_index.json").write_text(json.dumps(index, indent=2))
    (folder / DONE_MARK).write_text(json.dumps({"small": small}))
    print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


class AnonPeak:
    """The peak of the process's anonymous memory (RssAnon: what must fit in RAM), sampled every 50 ms
    in a thread. VmHWM also counts the pages of weight files mapped while loading, which the kernel
    drops under pressure, so it overstates what a machine needs."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.sample()

    def sample(self) -> None:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                self.peak_kib = max(self.peak_kib, int(line.split()[1]))

    def gib(self) -> float:
        self.sample()
        return round(self.peak_kib / 1024**2, 2)


def peak_gib() -> float:
    """The process's peak resident memory so far (VmHWM), GiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024**2, 2)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)


@contextmanager
def timed(
    module: Any,
    into: list[float],
    peaks: dict[str, float],
    name: str,
    anon: AnonPeak | None = None,
    anon_peaks: dict[str, float] | None = None,
) -> Iterator[None]:
    """Seconds each call of ``module``'s forward takes, appended to ``into``."""
    starts: list[float] = []

    def after(*_: Any) -> None:
        into.append(time.perf_counter() - starts.pop())
        peaks[name] = peak_gib()
        if anon is not None and anon_peaks is not None:
            anon_peaks[name] = anon.gib()

    pre = module.register_forward_pre_hook(lambda *_: starts.append(time.perf_counter()))
    post = module.register_forward_hook(after)
    try:
        yield
    finally:
        pre.remove()
        post.remove()


def render_once(folder: Path, steps: int, small: bool) -> dict[str, Any]:
    """Load the built pipeline through the worker's path and render the preset's default clip."""
    from db.presets import PresetCatalog
    from db.spec import JobSpec, resolve_spec
    from generator.loader import PipelineCache, cpu_computes_bfloat16
    from generator.render import render

    overrides: dict[str, Any] = {
        "source": str(folder / "pipeline"),
        "transformer_file": str(folder / "transformer.safetensors"),
    }
    if small:
        overrides.update(sizes={"3:2": [96, 64]}, default_aspect="3:2", default_frames=25)
        overrides["call_kwargs"] = {
            "decode_timestep": 0.05,
            "decode_noise_scale": 0.025,
            "max_sequence_length": 16,
        }
    presets = folder / "presets.json"
    presets.write_text(json.dumps({PRESET: overrides}))
    catalog = PresetCatalog.load(presets)
    plan = resolve_spec(
        JobSpec("a red fox running through fresh snow, golden hour", model=PRESET, steps=steps, seed=1),
        catalog,
    )
    cache = PipelineCache(device="cpu")
    anon = AnonPeak()
    started = time.perf_counter()
    pipe = cache.get(plan.preset)
    loaded = time.perf_counter() - started
    peaks = {"load": peak_gib()}
    anon_peaks = {"load": anon.gib()}
    encode: list[float] = []
    step: list[float] = []
    decode: list[float] = []
    with (
        timed(pipe.text_encoder, encode, peaks, "encode", anon, anon_peaks),
        timed(pipe.transformer, step, peaks, "steps", anon, anon_peaks),
        timed(pipe.vae.decoder, decode, peaks, "decode", anon, anon_peaks),
    ):
        started = time.perf_counter()
        out = render(plan, cache=cache)
        whole = time.perf_counter() - started
    return {
        "clip": f"{plan.width}x{plan.height}, {plan.num_frames} frames, {len(step)} steps",
        "threads": __import__("torch").get_num_threads(),
        "load_s": round(loaded, 2),
        "encode_s": round(sum(encode), 2),
        "step_s": round(sum(step) / max(1, len(step)), 2),
        "decode_s": round(sum(decode), 2),
        "clip_s": round(whole, 2),
        "frames": list(out.frames.shape),
        "compute": "bfloat16" if cpu_computes_bfloat16() else "float32",
        "peak_rss_gib_after": peaks,
        "peak_anon_gib_after": anon_peaks,
        "peak_rss_gib": peak_gib(),
        "peak_anon_gib": anon.gib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp/videobot-cpu-bench"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--small", action="store_true", help="the tiny test configs: seconds, not minutes")
    parser.add_argument("--render-only", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.render_only:
        print(json.dumps(render_once(args.dir, args.steps, args.small)))
        return 0
    mark = args.dir / DONE_MARK
    if not mark.is_file() or json.loads(mark.read_text()).get("small") != args.small:
        build(args.dir, args.small)
    # a fresh process: its peak memory is the render's, as a worker's would be
    child = [
        sys.executable,
        "-m",
        "bench.cpu",
        "--render-only",
        "--dir",
        str(args.dir),
        "--steps",
        str(args.steps),
    ]
    done = subprocess.run(
        [*child, *(["--small"] if args.small else [])], capture_output=True, text=True, env={**os.environ}
    )
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        return done.returncode
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key, value in result.items():
        print(f"{key:>14}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
