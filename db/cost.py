"""How many GPU-seconds a clip will take, before it runs: the fair queue charges members by this.

The store corrects each estimate with the real GPU time when the job ends, so this only has to be
about right and proportional: work grows with steps × frames × pixels.
"""

from __future__ import annotations

from db.spec import RenderPlan

# seconds per (step × frame × pixel) on one H100-class GPU, with guidance, from public timings
SECONDS_PER_UNIT: dict[str, float] = {
    "LTXPipeline": 1.0e-8,  # LTX-Video 2B: 40 steps, 121 frames, 768x512 in ~20 s
    "LTXConditionPipeline": 5.0e-8,  # 13B
    "WanPipeline": 7.5e-8,  # 1.3B at 480p; the 14B preset is scaled by its size below
    "CogVideoXPipeline": 1.0e-7,
}
LARGE_MODEL_FACTOR = {"wan-14b": 4.5, "cogvideox-5b": 2.0}
FIXED_SECONDS = 3.0  # text encoding, VAE decode, encoding the mp4


def estimate_gpu_seconds(plan: RenderPlan) -> float:
    spec = plan.spec
    work = (spec.steps or 1) * plan.num_frames * plan.width * plan.height
    per_unit = SECONDS_PER_UNIT.get(plan.preset.pipeline, 1.0e-7)
    factor = LARGE_MODEL_FACTOR.get(plan.preset.name, 1.0)
    return FIXED_SECONDS + work * per_unit * factor
