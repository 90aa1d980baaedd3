"""Speed-ups that leave a clip as it was (up to bf16 noise), applied to a loaded pipeline.

Each is a switch in the preset's ``speedups`` (see db/presets.py); ``VIDEOBOT_SPEEDUPS=off`` turns them
all off, e.g. to compare against stock diffusers or to rule them out when something looks wrong.
They apply on CUDA only unless ``allow_cpu`` is given (the tests do, to check the output is unchanged).

- ``attention_backend``: a diffusers attention backend name, or "auto" for the fastest one installed
  (FlashAttention 3 on Hopper, then FlashAttention 2, then PyTorch's cuDNN and default SDPA).
- ``compile``: ``compile_repeated_blocks`` (regional torch.compile of the transformer blocks: most of
  full compilation's speed for a fraction of its compile time). ``compile_backend`` picks the backend.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import torch

log = logging.getLogger(__name__)

SPEEDUPS_ENV = "VIDEOBOT_SPEEDUPS"
# fastest first on Hopper; FlashAttention needs its package, cuDNN SDPA a CUDA GPU; the CPU has only native
ATTENTION_PREFERENCE = ("_flash_3", "flash", "_native_cudnn", "native")
CPU_ATTENTION = ("native",)


def speedups_enabled() -> bool:
    return os.environ.get(SPEEDUPS_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def set_fastest_attention(model: Any, preference: tuple[str, ...] = ATTENTION_PREFERENCE) -> str | None:
    """Set the first attention backend in ``preference`` this machine can run; its name, or None."""
    for name in preference:
        try:
            model.set_attention_backend(name)
        except (ImportError, RuntimeError, ValueError) as exc:
            log.debug("attention backend %s unavailable: %s", name, exc)
            continue
        return name
    return None


def apply_speedups(
    pipe: Any, options: Mapping[str, Any], device: torch.device, *, allow_cpu: bool = False
) -> list[str]:
    """Apply the preset's speed-ups to ``pipe``; what was applied, for the log and the benchmark."""
    if not speedups_enabled() or (device.type != "cuda" and not allow_cpu):
        return []
    transformer = getattr(pipe, "transformer", None)
    if transformer is None:
        return []
    applied: list[str] = []
    backend = options.get("attention_backend")
    if backend:
        fastest = ATTENTION_PREFERENCE if device.type == "cuda" else CPU_ATTENTION
        preference = fastest if backend == "auto" else (str(backend),)
        chosen = set_fastest_attention(transformer, preference)
        if chosen is not None:
            applied.append(f"attention={chosen}")
    if options.get("compile"):
        compiler = str(options.get("compile_backend", "inductor"))
        transformer.compile_repeated_blocks(fullgraph=True, backend=compiler)
        applied.append(f"compile_repeated_blocks({compiler})")
    return applied
