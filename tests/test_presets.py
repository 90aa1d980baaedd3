"""Model presets: the built-in ones, what a clip on each costs, and which preset a model folder runs as."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from db.cost import estimate_gpu_seconds
from db.presets import BUILTIN_PRESETS, BUILTIN_PRESETS_FILE, DEFAULT_MODEL, PresetCatalog, PresetError
from db.spec import JobSpec, SpecError, resolve_spec

BUILTIN = PresetCatalog.load(presets_file="")

_LTX_SIZES = {"16:9": (832, 480), "9:16": (480, 832), "1:1": (608, 608), "3:2": (768, 512), "2:3": (512, 768)}
_LTX_CALL = {"decode_timestep": 0.03, "decode_noise_scale": 0.025, "max_sequence_length": 128}
_COG = {"3:2": (720, 480)}
_HD = {"16:9": (1280, 704), "9:16": (704, 1280), "1:1": (960, 960)}
_LTX2_SIZES = {**_HD, "3:2": (1152, 768), "2:3": (768, 1152)}
_LTX2_CALL = {"spatio_temporal_guidance_blocks": [29], "use_cross_timestep": False}
_LTX2_DISTILLED_CALL = {
    "sigmas": [1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875],
    "stg_scale": 0.0,
    "audio_stg_scale": 0.0,
    "modality_scale": 1.0,
    "audio_modality_scale": 1.0,
    "guidance_rescale": 0.0,
    "audio_guidance_rescale": 0.0,
    "audio_guidance_scale": 1.0,  # LTX2Pipeline defaults it to 7.0, which would keep CFG on
    "use_cross_timestep": False,
}
# LTX-2.3 and 2.5 (diffusers' docs, Lightricks' reference): the full model's guidance stack, STG on block 28
# of its 48, and the cross-modal timestep; their distilled models take the same 8 sigmas with all of it off
_LTX23_CALL = {
    "stg_scale": 1.0,
    "spatio_temporal_guidance_blocks": [28],
    "modality_scale": 3.0,
    "guidance_rescale": 0.7,
    "audio_guidance_scale": 7.0,
    "audio_stg_scale": 1.0,
    "audio_modality_scale": 3.0,
    "audio_guidance_rescale": 0.7,
    "use_cross_timestep": True,
}
_LTX23_DISTILLED_CALL = {**_LTX2_DISTILLED_CALL, "use_cross_timestep": True}
# multiples of 64: the drafts render at half, on the VAE's 32-pixel grid
_LTX_HD_SIZES = {
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "1:1": (1024, 1024),
    "3:2": (1536, 1024),
    "2:3": (1024, 1536),
}

# (pipeline, source, sizes, fps, (min, default, max) frames, (default, max) steps, guidance, dtype,
#  call_kwargs, load_options, seconds_per_unit) as each built-in preset had them when they were code
EXPECTED: dict[str, tuple[Any, ...]] = {
    "ltx-video": (
        "LTXPipeline", "Lightricks/LTX-Video", _LTX_SIZES, 24, (25, 121, 257), (40, 100), 3.0,
        "bfloat16", _LTX_CALL, {}, 1.0e-8,
    ),
    "ltx-video-distilled": (
        "LTXConditionPipeline", "Lightricks/LTX-Video-0.9.7-distilled", _LTX_SIZES, 24, (25, 121, 257),
        (8, 16), 1.0, "bfloat16", _LTX_CALL, {}, 5.0e-8,
    ),
    "ltx-video-cpu": (
        "LTXPipeline", "Lightricks/LTX-Video-0.9.5",
        {"3:2": (384, 256), "16:9": (448, 256), "9:16": (256, 448), "1:1": (320, 320), "2:3": (256, 384)},
        24, (25, 49, 97), (8, 12), 1.0, "bfloat16",
        {"decode_timestep": 0.05, "decode_noise_scale": 0.025, "max_sequence_length": 128}, {}, 1.0e-8,
    ),
    "wan-1.3b": (
        "WanPipeline", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        {"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624)}, 16, (17, 81, 81), (50, 100), 5.0,
        "bfloat16", {}, {"vae_dtype": "float32", "flow_shift": 3.0}, 7.5e-8,
    ),
    "wan-14b": (
        "WanPipeline", "Wan-AI/Wan2.1-T2V-14B-Diffusers",
        {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}, 16, (17, 81, 81), (50, 100), 5.0,
        "bfloat16", {}, {"vae_dtype": "float32", "flow_shift": 5.0}, 7.5e-8 * 4.5,
    ),
    "cogvideox-2b": (
        "CogVideoXPipeline", "THUDM/CogVideoX-2b", _COG, 8, (49, 49, 49), (50, 100), 6.0, "float16",
        {"use_dynamic_cfg": True}, {}, 1.0e-7,
    ),
    "cogvideox-5b": (
        "CogVideoXPipeline", "THUDM/CogVideoX-5b", _COG, 8, (49, 49, 49), (50, 100), 6.0, "bfloat16",
        {"use_dynamic_cfg": True}, {}, 2.0e-7,
    ),
    "ltx-2": (
        "LTX2Pipeline", "Lightricks/LTX-2", _LTX2_SIZES, 24, (25, 121, 241), (40, 60), 3.0, "bfloat16",
        _LTX2_CALL, {"vae_tiling": True}, 2.0e-7,
    ),
    "ltx-2-distilled": (
        "LTX2Pipeline", "rootonchair/LTX-2-19b-distilled", _LTX2_SIZES, 24, (25, 121, 241), (8, 8), 1.0,
        "bfloat16", _LTX2_DISTILLED_CALL, {"vae_tiling": True}, 5.0e-8,
    ),
    "ltx-2.3": (
        "LTX2Pipeline", "diffusers/LTX-2.3-Diffusers", _LTX2_SIZES, 24, (25, 121, 241), (30, 60), 3.0,
        "bfloat16", _LTX23_CALL, {"vae_tiling": True}, 2.3e-7,
    ),
    "ltx-2.3-distilled": (
        "LTX2Pipeline", "diffusers/LTX-2.3-Distilled-Diffusers", _LTX_HD_SIZES, 24, (25, 121, 241), (8, 8),
        1.0, "bfloat16", _LTX23_DISTILLED_CALL, {"vae_tiling": True}, 6.0e-8,
    ),
    "ltx-2.5": (
        "LTX2Pipeline", "Lightricks/LTX-2.5-Diffusers", _LTX_HD_SIZES, 24, (25, 121, 241), (8, 8), 1.0,
        "bfloat16", _LTX23_DISTILLED_CALL, {"vae_tiling": True}, 6.0e-8,
    ),
    "wan-2.2-5b": (
        "WanPipeline", "Wan-AI/Wan2.2-TI2V-5B-Diffusers", _HD, 24, (25, 121, 121), (50, 100), 5.0,
        "bfloat16", {}, {"vae_dtype": "float32"}, 4.0e-8,
    ),
}  # fmt: skip

# (modes, sound, continue_frames, GPU GiB without and with offloading) of each built-in preset
CONDITIONING: dict[str, tuple[Any, ...]] = {
    "ltx-video": (("text", "image", "continue", "end", "loop", "bridge"), False, 17, 20.0, 8.0),
    "ltx-video-distilled": (("text", "image", "continue", "end", "loop", "bridge"), False, 17, 42.0, 10.0),
    "wan-1.3b": (("text",), False, 1, 19.0, 8.2),
    "wan-14b": (("text",), False, 1, 52.0, 20.0),
    "cogvideox-2b": (("text",), False, 1, 18.0, 4.0),
    "cogvideox-5b": (("text",), False, 1, 26.0, 5.0),
    "ltx-2": (("text", "image", "continue", "end", "loop", "bridge"), True, 17, 72.0, 16.0),
    "ltx-2-distilled": (("text", "image", "continue", "end", "loop", "bridge"), True, 17, 68.0, 14.0),
    # 22B transformers in bf16 with a 12B Gemma text encoder (LTX-2.3: Gemma 3, LTX-2.5: Gemma 4): estimates
    "ltx-2.3": (("text", "image", "continue", "end", "loop", "bridge"), True, 17, 80.0, 18.0),
    "ltx-2.3-distilled": (("text", "image", "continue", "end", "loop", "bridge"), True, 17, 74.0, 16.0),
    "ltx-2.5": (("text", "image", "continue", "end", "loop", "bridge"), True, 17, 72.0, 16.0),
    "wan-2.2-5b": (("text", "image", "continue"), False, 1, 36.0, 22.0),
}

# GPU-seconds estimated for each preset's default clip and for 4 steps of its shortest clip, computed
# before the cost rate became a preset field
ESTIMATES = {
    "ltx-video": (22.0316544, 3.393216),
    "ltx-video-distilled": (22.0316544, 4.96608),
    "wan-1.3b": (124.3056, 5.036736),
    "wan-14b": (1262.712, 24.15072),
    "cogvideox-2b": (87.672, 9.77376),
    "cogvideox-5b": (172.344, 16.54752),
    # added with their rates: LTX-2 as 10x LTX-Video's transformer with 4 passes a step (CFG pair, STG,
    # modality guidance), its distilled model with one; Wan 2.2 5B from its public 4090 timing
    "ltx-2": (875.28416, 21.0224),
    "ltx-2-distilled": (46.614208, 7.5056),
    # LTX-2.3 and 2.5: 22B against LTX-2's 19B; the distilled ones' default clip is a 768×512 draft
    "ltx-2.3": (755.345088, 23.72576),
    "ltx-2.3-distilled": (25.83798528, 5.359296),
    # ltx-2.5's duration head picks the length of a clip asked for without one: costed at the longest, 10 s
    "ltx-2.5": (48.48722688, 5.359296),
    "wan-2.2-5b": (221.07104, 6.60448),
}


def _folder(tmp_path: Path, index: Any, settings: Any = None) -> Path:
    """A model folder with the given model_index.json and, unless None, videobot.json contents."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model_index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    if settings is not None:
        text = settings if isinstance(settings, str) else json.dumps(settings)
        (folder / "videobot.json").write_text(text)
    return folder


def _presets_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_builtin_preset_keeps_its_model_and_limits(name: str) -> None:
    preset = BUILTIN.get(name)
    assert preset is not None
    got = (
        preset.pipeline,
        preset.source,
        dict(preset.sizes),
        preset.fps,
        (preset.min_frames, preset.default_frames, preset.max_frames),
        (preset.default_steps, preset.max_steps),
        preset.default_guidance,
        preset.dtype,
        dict(preset.call_kwargs),
        dict(preset.load_options),
        preset.seconds_per_unit,
    )
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", list(CONDITIONING))
def test_each_builtin_preset_says_what_it_starts_from_and_what_gpu_it_needs(name: str) -> None:
    preset = BUILTIN.get(name)
    assert preset is not None
    got = (
        preset.modes,
        preset.audio,
        preset.continue_frames,
        preset.gpu_memory_gb,
        preset.gpu_memory_offload_gb,
    )
    assert got == CONDITIONING[name]
    assert preset.offload == "auto"


def test_ltx2_makes_hd_clips_of_ten_seconds_with_sound_in_one_go() -> None:
    for name in ("ltx-2", "ltx-2-distilled"):
        plan = resolve_spec(JobSpec("a drummer on a rooftop", model=name, seconds=10, seed=1), BUILTIN)
        assert (plan.width, plan.height, plan.fps) == (1280, 704, 24)  # 720p-class: 720 is no multiple of 32
        assert plan.num_frames == 241 and plan.duration == pytest.approx(10, abs=0.05)
        assert plan.preset.audio and {"image", "continue"} <= set(plan.preset.modes)
    with pytest.raises(SpecError, match="1–10 seconds"):
        resolve_spec(JobSpec("cat", model="ltx-2", seconds=12), BUILTIN)


def test_the_newest_ltx_drafts_at_768x512_and_finishes_in_hd_at_twice_that() -> None:
    for name in ("ltx-2.3-distilled", "ltx-2.5"):
        preset = BUILTIN.get(name)
        assert preset is not None and preset.has_hd
        assert preset.default_aspect == "3:2"
        assert (preset.draft_size("3:2"), preset.sizes["3:2"]) == ((768, 512), (1536, 1024))
        assert all(w % 64 == 0 and h % 64 == 0 for w, h in preset.sizes.values())
        draft = resolve_spec(JobSpec("a drummer on a rooftop", model=name, seconds=10, seed=1), BUILTIN)
        assert (draft.width, draft.height, draft.num_frames, draft.spec.steps) == (768, 512, 241, 8)
        # the refine stage: LTX's last 3 distilled sigmas, the upsampled latents noised to the first
        assert dict(preset.refine_kwargs) == {"sigmas": [0.909375, 0.725, 0.421875], "noise_scale": 0.909375}
        assert preset.refine_steps == 3
    without = [p.name for p in BUILTIN if not p.has_hd]
    assert "ltx-2.3" in without and "ltx-2" in without  # a full model's HD step needs a LoRA: none yet


def test_each_hd_preset_names_where_its_upsampler_is() -> None:
    where = {p.name: p.upsampler_location for p in BUILTIN if p.upsampler}
    assert where == {
        # no diffusers-format LTX-2.3 upsampler is published by Lightricks or diffusers: dg845's conversion
        "ltx-2.3-distilled": ("dg845/LTX-2.3-Spatial-Upsampler-Diffusers", "latent_upsampler"),
        "ltx-2.5": ("Lightricks/LTX-2.5-Diffusers", "latent_upsampler"),  # a folder of its own repository
    }


def test_only_ltx_2_5_is_marked_gated() -> None:
    assert [p.name for p in BUILTIN if p.gated] == ["ltx-2.5"]


def test_the_distilled_ltx_presets_run_one_transformer_pass_a_step_and_the_full_one_four() -> None:
    """LTX2Pipeline's defaults are the full model's guidance stack (CFG, STG, modality isolation, for
    video and for sound): a distilled preset must switch every one of them off, or it runs 3x slower."""
    import diffusers

    from bench import gpu

    flops = gpu.transformer_flops(gpu.FULL["ltx-2"], 14080, 126)
    pipe = type("LTX2Pipeline", (), {"__call__": diffusers.LTX2Pipeline.__call__})()
    passes = {}
    for name in ("ltx-2", "ltx-2-distilled", "ltx-2.3", "ltx-2.3-distilled", "ltx-2.5"):
        preset = BUILTIN.get(name)
        assert preset is not None
        kwargs = {"guidance_scale": preset.default_guidance, **preset.call_kwargs}
        passes[name] = gpu.forward_passes(pipe, kwargs, flops)[1]
    full = "CFG x2 + STG x1 + modality isolation x1"
    assert passes == {
        "ltx-2": full,
        "ltx-2-distilled": "x1",
        "ltx-2.3": full,
        "ltx-2.3-distilled": "x1",
        "ltx-2.5": "x1",
    }


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (
            {"continue_frames": 10},
            "continue_frames must be k \\* frame_multiple \\+ 1 \\(8k \\+ 1\\), got 10",
        ),
        ({"offload": "disk"}, "offload must be one of auto, none, model, group"),
        ({"gpu_memory_gb": 10, "gpu_memory_offload_gb": 12}, "gpu_memory_offload_gb cannot exceed"),
        ({"gpu_memory_gb": -1}, "cannot be negative"),
        ({"modes": ["text", "sound"]}, 'modes must include "text"'),
        ({"audio": "yes"}, "audio must be true or false"),
    ],
)
def test_a_preset_with_impossible_conditioning_or_memory_settings_is_refused(
    tmp_path: Path, settings: dict[str, Any], words: str
) -> None:
    folder = _folder(tmp_path, {"_class_name": "LTXPipeline"}, settings)
    with pytest.raises(PresetError, match=words):
        BUILTIN.resolve(str(folder))


def test_on_a_gpu_a_preset_too_big_even_offloaded_is_skipped_with_the_reason(tmp_path: Path) -> None:
    from generator.availability import NoWeights, check_presets

    small = _folder(tmp_path, {"_class_name": "LTXPipeline"})
    presets = _presets_file(
        tmp_path,
        {
            "hd": {"base": "ltx-2", "source": str(small)},  # needs 16 GiB even offloaded
            "sd": {"base": "ltx-video", "source": str(small)},  # 8 GiB
        },
    )
    catalog = PresetCatalog.load(presets)
    on_12 = check_presets(catalog, None, offline=True, gpu_gb=12.0)
    assert "sd" in on_12.names() and "hd" not in on_12.names()
    assert ("hd", "needs 16 GiB of GPU memory even with offloading; this GPU has 12 GiB") in on_12.skipped
    assert {"hd", "sd"} <= set(check_presets(catalog, None, offline=True, gpu_gb=24.0).names())
    assert {"hd", "sd"} <= set(check_presets(catalog, None, offline=True, gpu_gb=None).names())  # a CPU
    with pytest.raises(NoWeights, match="hd cannot run here: it needs 16 GiB"):
        check_presets(catalog, ["hd", "sd"], offline=True, gpu_gb=12.0)


def test_the_builtin_presets_are_offered_in_order_with_ltx_video_first() -> None:
    assert BUILTIN.names() == list(EXPECTED)
    assert [p.name for p in BUILTIN_PRESETS] == list(EXPECTED)
    assert DEFAULT_MODEL == BUILTIN.default == "ltx-video"


def test_larger_builtin_models_give_only_what_differs_from_their_base() -> None:
    data = json.loads(BUILTIN_PRESETS_FILE.read_text(encoding="utf-8"))
    bases = {name: entry.get("base") for name, entry in data.items() if name != "default"}
    assert bases == {
        "ltx-video": None,
        "ltx-video-distilled": "ltx-video",
        "ltx-video-cpu": "ltx-video",
        "wan-1.3b": None,
        "wan-14b": "wan-1.3b",
        "cogvideox-2b": None,
        "cogvideox-5b": "cogvideox-2b",
        "ltx-2": None,
        "ltx-2-distilled": "ltx-2",
        "ltx-2.3": "ltx-2",
        "ltx-2.3-distilled": "ltx-2.3",
        "ltx-2.5": "ltx-2.3-distilled",
        "wan-2.2-5b": None,
    }
    assert "fps" not in data["wan-14b"] and "sizes" not in data["ltx-video-distilled"]


def test_the_builtin_file_read_as_an_operators_presets_file_changes_nothing() -> None:
    assert list(PresetCatalog.load(BUILTIN_PRESETS_FILE)) == list(BUILTIN)


@pytest.mark.parametrize("name", list(ESTIMATES))
def test_builtin_estimates_stay_what_they_were(name: str) -> None:
    preset = BUILTIN.get(name)
    assert preset is not None
    default_clip = resolve_spec(JobSpec("cat", model=name, seed=1), BUILTIN)
    short_clip = resolve_spec(
        JobSpec("cat", model=name, seed=1, steps=4, seconds=preset.min_seconds), BUILTIN
    )
    estimates = (estimate_gpu_seconds(default_clip), estimate_gpu_seconds(short_clip))
    assert estimates == pytest.approx(ESTIMATES[name], rel=1e-12)


def test_a_preset_derived_from_wan_14b_costs_what_wan_14b_costs(tmp_path: Path) -> None:
    presets = _presets_file(tmp_path, {"wan-big": {"base": "wan-14b", "title": "Our Wan", "max_steps": 60}})
    catalog = PresetCatalog.load(presets)
    mine = resolve_spec(JobSpec("cat", model="wan-big", seed=1, steps=30), catalog)
    theirs = resolve_spec(JobSpec("cat", model="wan-14b", seed=1, steps=30), catalog)
    assert estimate_gpu_seconds(mine) == estimate_gpu_seconds(theirs)
    assert estimate_gpu_seconds(mine) > 4 * estimate_gpu_seconds(
        resolve_spec(JobSpec("cat", model="wan-1.3b", seed=1, steps=30, aspect="1:1"), catalog)
    )


def test_an_operator_sets_a_presets_cost_rate(tmp_path: Path) -> None:
    presets = _presets_file(tmp_path, {"ltx-video": {"seconds_per_unit": 2}})
    preset = PresetCatalog.load(presets).get("ltx-video")
    assert preset is not None
    assert preset.seconds_per_unit == 2.0 and isinstance(preset.seconds_per_unit, float)


def test_an_operator_adds_a_preset_with_no_base_by_giving_every_field(tmp_path: Path) -> None:
    data = json.loads(BUILTIN_PRESETS_FILE.read_text(encoding="utf-8"))
    presets = _presets_file(tmp_path, {"my-cog": {**data["cogvideox-2b"], "title": "My Cog"}})
    preset = PresetCatalog.load(presets).get("my-cog")
    assert preset is not None
    assert (preset.title, preset.pipeline, preset.fps) == ("My Cog", "CogVideoXPipeline", 8)
    incomplete = _presets_file(tmp_path, {"my-cog": {"title": "My Cog", "pipeline": "CogVideoXPipeline"}})
    with pytest.raises(PresetError, match="names no base to derive from and lacks source, sizes"):
        PresetCatalog.load(incomplete)


def test_a_wan_14b_folder_that_names_its_base_gets_the_14b_defaults(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"_class_name": "WanPipeline"}, {"base": "wan-14b", "default_steps": 30})
    preset = BUILTIN.resolve(str(folder))
    assert preset is not None
    assert preset.sizes["16:9"] == (1280, 720)
    assert preset.load_options["flow_shift"] == 5.0
    assert (preset.source, preset.title, preset.default_steps) == (str(folder), "model", 30)
    wan_14b = BUILTIN.get("wan-14b")
    assert wan_14b is not None and preset.seconds_per_unit == wan_14b.seconds_per_unit


def test_a_folder_whose_pipeline_only_one_preset_runs_needs_no_base(tmp_path: Path) -> None:
    preset = BUILTIN.resolve(str(_folder(tmp_path, {"_class_name": "LTXPipeline"})))
    assert preset is not None
    assert (preset.pipeline, preset.sizes["3:2"], preset.default_steps) == ("LTXPipeline", (768, 512), 40)


def test_a_folder_several_presets_could_run_is_asked_to_name_its_base(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"_class_name": "WanPipeline"}, {"default_steps": 30})
    with pytest.raises(PresetError) as caught:
        BUILTIN.from_folder(folder)
    message = str(caught.value)
    assert '{"base": ' in message and "videobot.json" in message
    assert "wan-1.3b, wan-14b" in message


@pytest.mark.parametrize(
    ("base", "words"),
    [
        ("wan-7b", 'unknown base "wan-7b"; choose one of: wan-1.3b, wan-14b'),
        ("ltx-video", "base 'ltx-video' runs LTXPipeline, not the folder's WanPipeline; choose one of: wan"),
    ],
)
def test_a_folder_base_that_does_not_fit_is_refused_with_the_choices(
    tmp_path: Path, base: str, words: str
) -> None:
    folder = _folder(tmp_path, {"_class_name": "WanPipeline"}, {"base": base})
    with pytest.raises(PresetError, match=words):
        BUILTIN.from_folder(folder)


@pytest.mark.parametrize(
    ("index", "settings", "words"),
    [
        ("[1, 2]", None, "names no pipeline class"),
        ("{}", None, "names no pipeline class"),
        ({"_class_name": ["LTXPipeline"]}, None, "names no pipeline class"),
        ({"_class_name": "SoraPipeline"}, None, "SoraPipeline is not supported"),
        ({"_class_name": "LTXPipeline"}, "[]", "videobot.json must be an object"),
        ({"_class_name": "LTXPipeline"}, "{oops", "not valid JSON"),
        ({"_class_name": "LTXPipeline"}, {"fps": "fast"}, 'fps must be a whole number \\(got "fast"\\)'),
        ({"_class_name": "LTXPipeline"}, {"sizes": 3}, "sizes must map an aspect to \\[width, height\\]"),
        ({"_class_name": "LTXPipeline"}, {"sizes": {"1:1": [64, "64"]}}, "sizes must map an aspect"),
        ({"_class_name": "LTXPipeline"}, {"default_steps": 2.5}, "default_steps must be a whole number"),
        ({"_class_name": "LTXPipeline"}, {"max_steps": True}, "max_steps must be a whole number"),
        ({"_class_name": "LTXPipeline"}, {"default_guidance": "high"}, "default_guidance must be a number"),
        ({"_class_name": "LTXPipeline"}, {"title": 5}, "title must be a string"),
        ({"_class_name": "LTXPipeline"}, {"call_kwargs": [1]}, "call_kwargs must be an object"),
        ({"_class_name": "LTXPipeline"}, {"base": 3}, "unknown base 3"),
        ({"_class_name": "LTXPipeline"}, {"colour": "red"}, "unknown preset field"),
    ],
)
def test_a_hostile_model_folder_is_refused_with_a_one_line_reason(
    tmp_path: Path, index: Any, settings: Any, words: str
) -> None:
    folder = _folder(tmp_path, index, settings)
    with pytest.raises(PresetError, match=words) as caught:
        BUILTIN.resolve(str(folder))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300
