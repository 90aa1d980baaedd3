"""How many GPU-seconds a clip will take, before it runs: the fair queue charges members by this.

The store corrects each estimate with the real GPU time when the job ends, so this only has to be
about right and proportional: work grows with steps × frames × pixels, at each preset's
``seconds_per_unit``.
"""

from __future__ import annotations

from db.spec import RenderPlan

FIXED_SECONDS = 3.0  # text encoding, VAE decode, encoding the mp4
# a style (LoRA) adds low-rank products to the transformer's layers: a few per cent of its work each,
# and loading or swapping its weights in
LORA_WORK_SHARE = 0.05
LORA_SWAP_SECONDS = 1.0


def estimate_gpu_seconds(plan: RenderPlan) -> float:
    spec = plan.spec
    work = (spec.steps or 1) * plan.num_frames * plan.width * plan.height
    # the preset's own rate, so that a preset derived from a large model costs what that model does
    seconds = work * plan.preset.seconds_per_unit
    styles = len(spec.loras)
    return FIXED_SECONDS + seconds * (1 + LORA_WORK_SHARE * styles) + LORA_SWAP_SECONDS * styles
