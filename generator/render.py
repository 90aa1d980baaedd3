"""One clip: resolve the spec, take the warm pipeline, run it with a step callback, return frames.

Reads like a diffusers pipeline call, top to bottom. Progress comes from ``callback_on_step_end``; a
cancel raises out of that callback, so the pipeline stops at the next step and skips the VAE decode.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from db.failures import failure_message
from db.presets import PresetCatalog
from db.spec import JobSpec, RenderPlan, resolve_spec
from generator.encode import to_uint8
from generator.loader import ModelUnavailable, PipelineCache

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class RenderCancelled(Exception):
    """The job was cancelled; the pipeline stopped at a step boundary."""


class RenderFailed(Exception):
    """The render could not finish: ``code`` and ``params`` (db.failures) say why in the member's
    language; ``str()`` is the English sentence."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(failure_message(code, params))


@dataclass(frozen=True)
class RenderOutput:
    frames: np.ndarray  # uint8, (frames, height, width, 3)
    plan: RenderPlan
    seconds: float  # wall time of the pipeline call (GPU time for fairness accounting)

    @property
    def fps(self) -> int:
        return self.plan.fps


_cache: PipelineCache | None = None


def default_cache() -> PipelineCache:
    """The process-wide warm cache (created on first use)."""
    global _cache
    if _cache is None:
        _cache = PipelineCache()
    return _cache


def pipeline_kwargs(pipe: Any, plan: RenderPlan) -> dict[str, Any]:
    """The call's keyword arguments, keeping only those this pipeline's ``__call__`` accepts."""
    spec = plan.spec
    wanted: dict[str, Any] = {
        "prompt": spec.prompt,
        "negative_prompt": spec.negative_prompt or None,
        "width": plan.width,
        "height": plan.height,
        "num_frames": plan.num_frames,
        "frame_rate": plan.fps,
        "num_inference_steps": spec.steps,
        "guidance_scale": spec.guidance,
        "output_type": "np",
        **plan.preset.call_kwargs,
    }
    accepted = inspect.signature(pipe.__call__).parameters
    return {k: v for k, v in wanted.items() if k in accepted}


def _is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc).lower()
    # CUDA raises OutOfMemoryError; the CPU allocator a RuntimeError "can't allocate memory"
    return isinstance(exc, torch.OutOfMemoryError | MemoryError) or any(
        words in text for words in ("out of memory", "can't allocate memory")
    )


def render(
    spec: JobSpec | RenderPlan,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    *,
    catalog: PresetCatalog | None = None,
    cache: PipelineCache | None = None,
) -> RenderOutput:
    """Render ``spec`` to frames. Raises RenderCancelled, RenderFailed, or SpecError for bad input."""
    plan = spec if isinstance(spec, RenderPlan) else resolve_spec(spec, catalog or PresetCatalog.load())
    cache = cache or default_cache()
    try:
        pipe = cache.get(plan.preset)
    except ModelUnavailable as exc:
        raise RenderFailed("model_unavailable", model=plan.preset.title) from exc

    total = plan.spec.steps or 0

    def step_end(_pipe: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if should_cancel is not None and should_cancel():
            raise RenderCancelled()
        if on_progress is not None:
            on_progress(step + 1, total)
        return tensors

    if should_cancel is not None and should_cancel():
        raise RenderCancelled()
    if on_progress is not None:
        on_progress(0, total)
    # a CPU generator gives the same noise for a seed on every device
    generator = torch.Generator(device="cpu").manual_seed(int(plan.spec.seed or 0))
    started = time.perf_counter()
    try:
        with torch.inference_mode():
            output = pipe(**pipeline_kwargs(pipe, plan), generator=generator, callback_on_step_end=step_end)
    except RenderCancelled:
        raise
    except Exception as exc:
        if _is_out_of_memory(exc):
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            log.warning("out of memory rendering %s", plan.spec.model)
            raise RenderFailed("out_of_memory") from exc
        log.exception("pipeline %s failed", plan.preset.pipeline)
        raise RenderFailed("pipeline_error", error=type(exc).__name__) from exc
    elapsed = time.perf_counter() - started
    frames = to_uint8(np.asarray(output.frames))
    return RenderOutput(frames=frames, plan=plan, seconds=elapsed)
