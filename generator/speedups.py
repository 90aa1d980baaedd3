"""Speed-ups that leave a clip as it was (up to bf16 noise), applied to a loaded pipeline.

Each is a switch in the preset's ``speedups`` (see db/presets.py); ``VIDEOBOT_SPEEDUPS=off`` turns them
all off, e.g. to compare against stock diffusers or to rule them out when something looks wrong.
They apply on CUDA only unless ``allow_cpu`` is given (the tests do, to check the output is unchanged).

- ``attention_backend``: a diffusers attention backend name, or "auto" for the fastest one installed
  (FlashAttention 3 on Hopper, then FlashAttention 2, then PyTorch's cuDNN and default SDPA).
  Cross-attention stays on PyTorch's native SDPA whenever another backend is chosen: LTX-Video and LTX-2
  (video and sound alike) mask their cross-attention (text padding) and diffusers' FlashAttention 2/3 and
  Sage backends raise on a mask at the first forward; cross-attention is about 1 % of the transformer's
  FLOPs, self-attention the bulk.
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
# takes attention masks on every device (PyTorch picks a kernel that supports the mask)
MASKED_ATTENTION = "native"


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


def _is_cross_attention(name: str, module: Any) -> bool:
    # "attn2" in LTX-Video and Wan; LTX-2 adds "audio_attn2", the sound's (masked) text cross-attention
    return name.rsplit(".", 1)[-1].endswith("attn2") or bool(getattr(module, "is_cross_attention", False))


def keep_cross_attention_native(model: Any, chosen: str) -> int:
    """Put ``model``'s cross-attention modules back on native SDPA if ``chosen`` is another backend;
    how many were changed. Text-padding masks go to cross-attention only."""
    if chosen == MASKED_ATTENTION:
        return 0
    from diffusers.models.attention_dispatch import AttentionBackendName

    native = AttentionBackendName(MASKED_ATTENTION)
    changed = 0
    for name, module in model.named_modules():
        processor = getattr(module, "processor", None)
        if (
            processor is not None
            and hasattr(processor, "_attention_backend")
            and _is_cross_attention(name, module)
        ):
            processor._attention_backend = native
            changed += 1
    return changed


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
            kept = keep_cross_attention_native(transformer, chosen)
            applied.append(f"attention={chosen}" + (f" (cross-attention {MASKED_ATTENTION})" if kept else ""))
    if options.get("compile"):
        compiler = str(options.get("compile_backend", "inductor"))
        transformer.compile_repeated_blocks(fullgraph=True, backend=compiler)
        applied.append(f"compile_repeated_blocks({compiler})")
    return applied
