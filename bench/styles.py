"""What switching styles (LoRAs) costs on a warm pipeline, on the CPU.

    python -m bench.styles [--small] [--repeats 20]

An LTX-Video pipeline of random weights (the tests' tiny one with ``--small``; else a transformer of 8
blocks at 1024 wide, the rest tiny) and two LoRAs made with peft on its attention and feed-forward layers
(rank 32; 4 with ``--small``). Each row is the median time of one switch between the two, alternating:

- hotswap: one slot (generator.styles.StyleSlots), so each switch copies the other LoRA's weights into
  the loaded adapter in place (diffusers' ``load_lora_weights(..., hotswap=True)``), what a worker does
  when a new style comes and its slots are full; a compiled transformer is not recompiled;
- unload and load: ``unload_lora_weights`` then ``load_lora_weights`` of the other LoRA and
  ``set_adapters``, the plain way (a compiled transformer would be recompiled);
- kept loaded: both LoRAs in slots (4 kept), so a switch only sets which adapter is active;
- to no style: the adapters disabled (the base model), and back.

The file checks (header, layer names and shapes) are in the first two rows, as in a worker.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diffusers
import torch

from generator.styles import StyleSlots, check_fits, check_source

REPEATS = 20
TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2")


def make_lora(
    pipeline_folder: Path,
    out: Path,
    *,
    seed: int,
    rank: int = 4,
    alpha: int | None = None,
    strength: float = 0.5,
) -> Path:
    """A LoRA for the transformer of the diffusers pipeline in ``pipeline_folder``, made with peft
    (``LoraConfig`` on its attention and feed-forward layers, random lora_A and lora_B of ``seed`` scaled
    by ``strength``, so it changes the output), saved with the pipeline's ``save_lora_weights`` at ``out``
    (diffusers' format: ``transformer.<module>.lora_A.weight``, the LoRA's config in the header)."""
    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model

    index = json.loads((pipeline_folder / "model_index.json").read_text())
    pipeline_cls = getattr(diffusers, index["_class_name"])
    transformer_cls = getattr(diffusers, index["transformer"][1])
    transformer = transformer_cls.from_pretrained(pipeline_folder / "transformer")
    config = LoraConfig(
        r=rank, lora_alpha=int(alpha or rank), target_modules=list(TARGETS), init_lora_weights=False
    )
    torch.manual_seed(seed)
    inject_adapter_in_model(config, transformer)
    with torch.no_grad():
        for name, param in transformer.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn_like(param) * strength)
    layers = get_peft_model_state_dict(transformer)
    metadata = config.to_dict()
    metadata["target_modules"] = sorted(metadata["target_modules"])  # a set: not JSON
    pipeline_cls.save_lora_weights(
        out.parent,
        transformer_lora_layers=layers,
        weight_name=out.name,
        transformer_lora_adapter_metadata=metadata,
    )
    return out


def build_model(folder: Path, small: bool) -> Path:
    """The tests' tiny LTX-Video pipeline; without ``small`` its transformer 8 blocks at 1024 wide."""
    from tests.tiny_models import TEXT_DIM, build_tiny_ltx

    build_tiny_ltx(folder)
    if not small:
        torch.manual_seed(1)
        transformer = diffusers.LTXVideoTransformer3DModel(
            in_channels=8,
            out_channels=8,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=16,
            attention_head_dim=64,
            cross_attention_dim=1024,
            num_layers=8,
            caption_channels=TEXT_DIM,
        )
        transformer.save_pretrained(folder / "transformer")
    return folder


def timed(switch: Callable[[int], Any], repeats: int) -> float:
    """The median seconds of ``switch(i)`` for i = 1 … repeats (a warm-up call first)."""
    switch(0)
    times = []
    for i in range(1, repeats + 1):
        started = time.perf_counter()
        switch(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(small: bool, repeats: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory(prefix="bench-styles-") as tmp:
        folder = build_model(Path(tmp) / "model", small)
        rank = 4 if small else 32
        loras = [
            str(make_lora(folder, Path(tmp) / f"style-{n}.safetensors", seed=n, rank=rank)) for n in range(2)
        ]
        pipe = diffusers.LTXPipeline.from_pretrained(folder)
        rows = []

        def styled(slots: StyleSlots) -> Callable[[int], Any]:
            return lambda i: slots.apply(pipe, [(loras[i % 2], 1.0)], "bench")

        one = StyleSlots(slots=1)
        rows.append(("hotswap (one slot)", timed(styled(one), repeats)))
        assert one.last.swapped == 1
        one.clear(pipe)
        pipe.unload_lora_weights()

        def reload(i: int) -> None:
            lora = check_source(loras[i % 2])
            check_fits(pipe, lora, loras[i % 2], "bench")
            pipe.unload_lora_weights()
            pipe.load_lora_weights(loras[i % 2], adapter_name="style", use_safetensors=True)
            pipe.set_adapters(["style"], [1.0])

        rows.append(("unload and load", timed(reload, repeats)))
        pipe.unload_lora_weights()
        kept = StyleSlots(slots=4)
        rows.append(("kept loaded (4 slots)", timed(styled(kept), repeats)))
        assert kept.last.kept == 1

        def none_and_back(i: int) -> None:
            kept.apply(pipe, [] if i % 2 else [(loras[0], 1.0)], "bench")

        rows.append(("to no style and back", timed(none_and_back, repeats)))
        return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the tests' tiny model, few repeats")
    parser.add_argument(
        "--repeats", type=int, help=f"switches timed per row (default {REPEATS}; 3 with --small)"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.small else REPEATS)
    torch.set_grad_enabled(False)
    rows = run(args.small, repeats)
    model = "the tiny LTX-Video, rank-4 LoRAs" if args.small else "LTX-Video 8×1024 blocks, rank-32 LoRAs"
    print(f"## Switching styles on a warm pipeline, CPU ({model}, median of {repeats})\n")
    print("| switch | ms |")
    print("|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.1f} |")


if __name__ == "__main__":
    main()
