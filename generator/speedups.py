"""Speed-ups that leave a clip as it was (up to bf16 noise), applied to a loaded pipeline.

Each is a switch in the preset's ``speedups`` (see db/presets.py); ``VIDEOBOT_SPEEDUPS=off`` turns them
all off, e.g. to compare against stock diffusers or to rule them out when something looks wrong.
They apply on CUDA only unless ``allow_cpu`` is given or ``VIDEOBOT_SPEEDUPS=always`` (on every device,
the CPU too: what the tests use to run the GPU path through the loader).

- ``attention_backend``: a diffusers attention backend name, or "auto" for the fastest one that runs
  here (FlashAttention 3 on Hopper, then FlashAttention 2, then PyTorch's cuDNN and default SDPA). Each
  candidate is set and then tried on a small attention call on the device, in the model's dtype: a
  backend whose package is missing, or that cannot run on this GPU or dtype (FlashAttention 3 off Hopper,
  cuDNN attention in float32 or on a CPU), is passed over instead of failing every render. A name this
  diffusers does not know, or that cannot run here, falls back the same way (to the fastest that runs).
  Only the transformer's attention gets the backend: diffusers' ``set_attention_backend`` also makes it
  the process-wide default, which the other components (LTX-2's text connectors, which take a mask) and
  every later pipeline would then use; that default is put back.
  Cross-attention stays on PyTorch's native SDPA whenever another backend is chosen: LTX-Video and LTX-2
  (video and sound alike) mask their cross-attention (text padding) and diffusers' FlashAttention 2/3 and
  Sage backends raise on a mask at the first forward; cross-attention is about 1 % of the transformer's
  FLOPs, self-attention the bulk.
- ``compile``: ``compile_repeated_blocks`` (regional torch.compile of the transformer blocks: most of
  full compilation's speed for a fraction of its compile time). ``compile_backend`` picks the backend.
  A transformer that names no repeated blocks (CogVideoX) gets its blocks compiled one by one all the
  same (the modules of its largest list of same-class blocks); a backend torch does not know is said in
  the log and the model runs uncompiled.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import torch

log = logging.getLogger(__name__)

SPEEDUPS_ENV = "VIDEOBOT_SPEEDUPS"  # "on" (default: on CUDA), "off", or "always" (the CPU too)
# fastest first on Hopper; FlashAttention needs its package, cuDNN SDPA a CUDA GPU and half precision;
# walked on a CPU the list ends on native, the only one of them that runs there
ATTENTION_PREFERENCE = ("_flash_3", "flash", "_native_cudnn", "native")
# takes attention masks on every device (PyTorch picks a kernel that supports the mask)
MASKED_ATTENTION = "native"
PROBE_TOKENS = 64  # the length of the attention call a backend is tried on


def _setting() -> str:
    return os.environ.get(SPEEDUPS_ENV, "on").strip().lower()


def speedups_enabled() -> bool:
    return _setting() not in ("off", "0", "false", "no")


def speedups_everywhere() -> bool:
    """``VIDEOBOT_SPEEDUPS=always``: apply them on every device, the CPU too."""
    return _setting() == "always"


def _attention_processors(model: Any) -> list[Any]:
    """The processors of ``model``'s attention modules that dispatch to a diffusers attention backend."""
    return [
        module.processor
        for module in model.modules()
        if hasattr(getattr(module, "processor", None), "_attention_backend")
    ]


def _probe_shape(model: Any) -> tuple[int, int]:
    """(heads, head dim) of ``model``'s attention, for the probe call."""
    config = getattr(model, "config", None)
    head_dim = getattr(config, "attention_head_dim", None) if config is not None else None
    return 2, head_dim if isinstance(head_dim, int) and head_dim > 0 else 64


def _model_dtype(model: Any) -> torch.dtype:
    for module in model.modules():
        if hasattr(getattr(module, "processor", None), "_attention_backend"):
            for param in module.parameters():
                if param.is_floating_point():
                    return param.dtype
    dtype = getattr(model, "dtype", None)
    return dtype if isinstance(dtype, torch.dtype) else torch.float32


def _model_device(model: Any) -> torch.device:
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration, TypeError):
        return torch.device("cpu")


def try_attention_backend(
    name: str, device: torch.device, dtype: torch.dtype, heads: int, head_dim: int
) -> None:
    """Run one small unmasked attention call (self-attention's) through diffusers' backend ``name`` on
    ``device`` in ``dtype``; raises what the backend raises when it cannot run here."""
    from diffusers.models.attention_dispatch import AttentionBackendName, dispatch_attention_fn

    generator = torch.Generator(device="cpu").manual_seed(0)
    shape = (1, PROBE_TOKENS, heads, head_dim)  # (batch, tokens, heads, head dim), diffusers' layout
    query, key, value = (
        torch.randn(shape, generator=generator).to(device=device, dtype=dtype) for _ in "qkv"
    )
    with torch.no_grad():
        out = dispatch_attention_fn(query, key, value, backend=AttentionBackendName(name))
    if not torch.isfinite(out.float()).all():
        raise RuntimeError(f"attention backend {name} gave non-finite values")


def set_fastest_attention(
    model: Any,
    preference: tuple[str, ...] = ATTENTION_PREFERENCE,
    *,
    device: torch.device | None = None,
) -> str | None:
    """Give ``model``'s attention the first backend in ``preference`` that runs on ``device`` (default:
    where the model is) in the model's dtype; its name, or None: none runs, or the model's attention
    processors call PyTorch's SDPA themselves (CogVideoX), so there is nothing to set.

    diffusers' process-wide default backend is left as it was, so only ``model`` uses the choice."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    processors = _attention_processors(model)
    if not processors:
        return None
    where = device if device is not None else _model_device(model)
    dtype = _model_dtype(model)
    heads, head_dim = _probe_shape(model)
    before = [processor._attention_backend for processor in processors]
    default = _AttentionBackendRegistry._active_backend
    try:
        for name in preference:
            try:
                model.set_attention_backend(name)
                try_attention_backend(name, where, dtype, heads, head_dim)
            except Exception as exc:  # a missing package, no kernel for this GPU or dtype, an unknown name
                log.debug("attention backend %s unavailable on %s (%s): %s", name, where, dtype, exc)
                for processor, backend in zip(processors, before, strict=True):
                    processor._attention_backend = backend
                continue
            return name
        return None
    finally:
        _AttentionBackendRegistry.set_active_backend(default)


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


def repeated_blocks(model: Any) -> list[torch.nn.Module]:
    """The blocks regional compilation compiles: those of the classes ``model`` names in
    ``_repeated_blocks``, else the modules of its largest ``ModuleList`` of two or more blocks of one class
    (CogVideoX names none)."""
    names = getattr(model, "_repeated_blocks", None)
    if names:
        return [module for module in model.modules() if type(module).__name__ in names]
    best: list[torch.nn.Module] = []
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) > max(1, len(best)):
            blocks = list(module)
            if len({type(block) for block in blocks}) == 1:
                best = blocks
    return best


def compile_blocks(model: Any, backend: str) -> int:
    """Regional compilation of ``model`` with torch.compile's ``backend``: each repeated block compiled
    (``fullgraph``); how many blocks."""
    blocks = repeated_blocks(model)
    if getattr(model, "_repeated_blocks", None) and blocks:
        model.compile_repeated_blocks(fullgraph=True, backend=backend)
    else:
        for block in blocks:
            block.compile(fullgraph=True, backend=backend)
    return len(blocks)


def apply_speedups(
    pipe: Any, options: Mapping[str, Any], device: torch.device, *, allow_cpu: bool = False
) -> list[str]:
    """Apply the preset's speed-ups to ``pipe``; what was applied, for the log and the benchmark."""
    on_device = device.type == "cuda" or allow_cpu or speedups_everywhere()
    if not speedups_enabled() or not on_device:
        return []
    transformer = getattr(pipe, "transformer", None)
    if transformer is None:
        return []
    applied: list[str] = []
    backend = options.get("attention_backend")
    if backend:
        wanted = str(backend).strip().lower()
        # a named backend that cannot run here falls back to the fastest one that can
        preference = ATTENTION_PREFERENCE if wanted == "auto" else (wanted, *ATTENTION_PREFERENCE)
        chosen = set_fastest_attention(transformer, tuple(dict.fromkeys(preference)), device=device)
        if chosen is not None:
            kept = keep_cross_attention_native(transformer, chosen)
            text = f"attention={chosen}" + (f" (cross-attention {MASKED_ATTENTION})" if kept else "")
            if wanted not in ("auto", chosen):
                log.warning("attention backend %r cannot run here; using %s", backend, chosen)
                text += f" ({backend} unavailable)"
            applied.append(text)
    if options.get("compile"):
        compiler = str(options.get("compile_backend", "inductor"))
        try:
            blocks = compile_blocks(transformer, compiler)
        except Exception as exc:  # an unknown backend: the model runs as it is rather than not at all
            log.warning("not compiling %s with %r: %s", type(transformer).__name__, compiler, exc)
            applied.append(f"no compile ({compiler}: {type(exc).__name__})")
        else:
            if blocks:
                applied.append(f"compile_repeated_blocks({compiler})")
            else:
                log.warning("not compiling %s: no repeated blocks found", type(transformer).__name__)
    return applied
