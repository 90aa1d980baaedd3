"""The model helps: its duration head picks a clip's length, its prompt enhancer rewrites the prompt.

Both are parts of diffusers' LTX-2 pipelines (``LTX2Pipeline`` and the conditioning pipeline built
from it with ``from_pipe``); other pipelines have neither, and a spec that asks for them renders as
it would without.

- Duration head (LTX-2.5's optional ``duration_head``): a clip asked for without a length
  (``RenderPlan.auto_length``) is rendered with ``num_frames=None`` and the preset's bounds in
  seconds; the head predicts the length from the prompt and the pipeline snaps it to 8k + 1 frames.
  A preset that claims a head its pipeline lacks renders the preset's default length.
- Prompt enhancer (``enhance_prompt``): a spec with ``enhance`` (the server's setting) is rewritten
  before the render, so the text is known, stored with the clip and reused by a reroll. LTX-2.5 has a
  dedicated ``prompt_enhancer``; LTX-2.0/2.3 use their Gemma 3 text encoder with diffusers' text-to-video
  system prompt. Either needs the pipeline's ``processor`` (chat template). Only clips made from text
  are enhanced: a caption written without seeing the picture (or the clip continued) could contradict it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from db.spec import RenderPlan, clean_prompt, has_visible_text

log = logging.getLogger(__name__)


def length_kwargs(pipe: Any, plan: RenderPlan) -> dict[str, Any]:
    """The call's length arguments when the model chooses the length (``plan.auto_length``): no frame
    count and the preset's bounds in seconds, or the preset's default length for a pipeline without a
    duration head. Nothing otherwise (the plan's ``num_frames`` stands)."""
    if not plan.auto_length:
        return {}
    preset = plan.preset
    accepted = inspect.signature(pipe.__call__).parameters
    if getattr(pipe, "duration_head", None) is None or "min_seconds" not in accepted:
        log.warning("%s has no duration head: rendering its default length", preset.title)
        return {"num_frames": preset.frames_for(preset.default_frames / plan.fps, plan.fps)}
    return {
        "num_frames": None,
        "min_seconds": preset.min_frames / plan.fps,
        "max_seconds": preset.max_frames / plan.fps,
    }


def can_enhance(pipe: Any) -> bool:
    """Whether ``pipe`` can rewrite a prompt: an LTX-2 pipeline with a processor and a Gemma that
    generates text (its dedicated ``prompt_enhancer``, else its text encoder)."""
    if not callable(getattr(pipe, "enhance_prompt", None)) or getattr(pipe, "processor", None) is None:
        return False
    enhancer = getattr(pipe, "prompt_enhancer", None) or getattr(pipe, "text_encoder", None)
    return callable(getattr(enhancer, "generate", None))


def system_prompt(pipe: Any) -> str:
    """diffusers' text-to-video system prompt for the pipeline's enhancer: LTX-2.5's for a dedicated
    ``prompt_enhancer`` (Gemma 4), LTX-2.0/2.3's for the Gemma 3 text encoder."""
    from diffusers.pipelines.ltx2.utils import LTX2_5_T2V_DEFAULT_SYSTEM_PROMPT, T2V_DEFAULT_SYSTEM_PROMPT

    if getattr(pipe, "prompt_enhancer", None) is not None:
        return LTX2_5_T2V_DEFAULT_SYSTEM_PROMPT
    return T2V_DEFAULT_SYSTEM_PROMPT


def _generation_kwargs(pipe: Any, should_cancel: Callable[[], bool] | None) -> dict[str, Any]:
    """diffusers' decoding settings for the pipeline's enhancer, stopping at the next token on a cancel."""
    from diffusers.pipelines.ltx2.utils import (
        GEMMA3_PROMPT_ENHANCEMENT_CONFIG,
        GEMMA4_PROMPT_ENHANCEMENT_CONFIG,
    )
    from transformers import StoppingCriteria, StoppingCriteriaList

    dedicated = getattr(pipe, "prompt_enhancer", None) is not None
    config = GEMMA4_PROMPT_ENHANCEMENT_CONFIG if dedicated else GEMMA3_PROMPT_ENHANCEMENT_CONFIG
    kwargs = dict(config.generation_kwargs)
    if should_cancel is not None:
        cancelled = should_cancel

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **_: Any) -> torch.Tensor:
                stop = cancelled()
                return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

        kwargs["stopping_criteria"] = StoppingCriteriaList([Cancelled()])
    return kwargs


def enhanced_plan(
    pipe: Any, plan: RenderPlan, mode: str, should_cancel: Callable[[], bool] | None = None
) -> RenderPlan:
    """``plan`` with its prompt rewritten by the model's prompt enhancer (``spec.enhanced_prompt``),
    when the spec asks for it, has no enhanced prompt yet (a reroll reuses its parent's), the clip is
    made from text and the pipeline can; else ``plan`` as it is. The enhancer's text is cleaned as a
    member's prompt is; an empty one leaves the prompt as it was."""
    spec = plan.spec
    if not spec.enhance or spec.enhanced_prompt is not None or mode != "text" or not can_enhance(pipe):
        return plan
    max_new_tokens = plan.preset.call_kwargs.get("prompt_max_new_tokens")
    texts = pipe.enhance_prompt(
        prompt=spec.prompt,
        system_prompt=system_prompt(pipe),
        max_new_tokens=max_new_tokens if isinstance(max_new_tokens, int) else None,
        seed=int(spec.seed or 0),
        generation_kwargs=_generation_kwargs(pipe, should_cancel),
    )
    text = clean_prompt(texts[0]) if texts else ""
    if not has_visible_text(text):
        log.warning("%s's prompt enhancer wrote nothing: rendering the prompt as it is", plan.preset.title)
        return plan
    log.info("prompt enhanced: %d characters from %d", len(text), len(spec.prompt))
    return replace(plan, spec=spec.reusing(text))
