"""bench/gpu.py on the CPU with its scaled-down configs: the GPU benchmark cannot rot unnoticed."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import diffusers
import pytest
import torch
from accelerate import init_empty_weights

from bench import gpu

PRESETS = ["ltx-video", "wan-1.3b", "ltx-2", "ltx-2-distilled", "wan-2.2-5b"]


@pytest.fixture(scope="module")
def report() -> gpu.Report:
    return gpu.run(PRESETS, small=True, steps=3, warmup_steps=2, log=lambda _: None)


def _row(report: gpu.Report, preset: str, path: str) -> gpu.Row:
    return next(r for r in report.rows if r.preset == preset and r.path == path)


def test_both_paths_render_the_requested_frames_and_time_every_part(report: gpu.Report) -> None:
    for preset in PRESETS:
        clip = report.clips[preset]
        assert clip.frames == gpu.SMALL[preset].clip["frames"]
        for path in ("stock", "project"):
            row = _row(report, preset, path)
            assert row.frames == clip.frames
            assert row.step_s > 0 and row.clip_s > 0 and row.first_call_s is not None
            assert row.prepare_s is not None and row.decode_s is not None and row.decode_s > 0
            assert row.tflops is not None and row.tflops > 0
            assert row.peak_gib is None  # CPU: no CUDA memory figures


def test_the_project_path_applies_its_speedups_and_keeps_the_frames(report: gpu.Report) -> None:
    for preset in PRESETS:
        project = _row(report, preset, "project")
        assert "compile_repeated_blocks(eager)" in project.note
        assert "attention=native" in project.note
        # same seed, float32, native attention, eager compile: only float reordering may differ
        assert project.max_diff is not None and project.max_diff <= 1e-4


def test_the_table_has_a_row_per_preset_and_path_and_marks_cache_estimates(report: gpu.Report) -> None:
    table = gpu.markdown_table(report)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    paths = {(cells[0], cells[1]) for cells in (line.strip("| ").split(" | ") for line in rows)}
    for preset in PRESETS:
        assert {(preset, "stock"), (preset, "project")} <= paths
        assert (preset, "project + First-Block Cache") in paths
        if hasattr(diffusers, "MagCacheConfig"):
            assert (preset, "project + MagCache") in paths
    estimates = [r for r in report.rows if r.estimated]
    assert estimates and all("ESTIMATE" in r.note and r.tflops is None for r in estimates)
    # half the steps computed: faster than the project path, not faster than half of its steps
    for r in estimates:
        project = _row(report, r.preset, "project")
        assert 0.5 * project.step_s <= r.step_s + 1e-12 < project.step_s
    assert "ESTIMATES" in table and report.card in table


def test_write_results_appends_a_dated_section(report: gpu.Report, tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# header\n")
    gpu.write_results(report, results)
    text = results.read_text()
    assert text.startswith("# header\n") and f"· {report.card}" in text and "| ltx-video | stock |" in text


def test_flop_formula_scales_linearly_in_layers_and_quadratically_in_attention() -> None:
    arch = gpu.FULL["ltx-video"]
    deeper = replace(arch, transformer={**arch.transformer, "num_layers": 56})
    base, double = gpu.transformer_flops(arch, 6144), gpu.transformer_flops(deeper, 6144)
    assert double.total - double.io == pytest.approx(2 * (base.total - base.io))
    assert double.io == base.io
    longer = gpu.transformer_flops(arch, 2 * 6144)
    assert longer.self_attention == pytest.approx(4 * base.self_attention)
    assert longer.linear == pytest.approx(2 * base.linear)


def test_ltx_flops_at_the_default_clip_match_the_design_figure() -> None:
    arch = gpu.FULL["ltx-video"]
    clip = gpu.preset_clip(next(p for p in gpu.BUILTIN_PRESETS if p.name == "ltx-video"), arch)
    tokens = gpu.video_tokens(arch, clip.width, clip.height, clip.frames)
    assert (clip.width, clip.height, clip.frames, clip.steps) == (768, 512, 121, 40)
    assert tokens == 16 * 16 * 24  # 121 frames -> 16 latent frames; 512/32 x 768/32
    assert gpu.transformer_flops(arch, tokens).total == pytest.approx(29e12, rel=0.03)  # design.md
    wan = gpu.FULL["wan-1.3b"]
    assert gpu.video_tokens(wan, 832, 480, 81) == 21 * 30 * 52


@pytest.mark.parametrize("preset", ["ltx-video", "wan-1.3b", "wan-2.2-5b"])
def test_full_configs_build_and_the_formula_counts_their_block_weights(preset: str) -> None:
    arch = gpu.FULL[preset]
    with init_empty_weights(include_buffers=False):
        transformer = getattr(diffusers, arch.transformer_class)(**arch.transformer)
        getattr(diffusers, arch.vae_class)(**arch.vae)
    params = sum(p.numel() for p in transformer.parameters())
    expected = {"ltx-video": 1.92e9, "wan-1.3b": 1.42e9, "wan-2.2-5b": 5.00e9}[preset]
    assert params == pytest.approx(expected, rel=0.02)
    # per video token, a block's matmuls are 2 FLOPs per weight of every Linear that sees video tokens
    # (all but cross-attention K and V, which see the text tokens)
    block = transformer.transformer_blocks[0] if preset == "ltx-video" else transformer.blocks[0]
    video_weights = sum(
        m.weight.numel()
        for name, m in block.named_modules()
        if isinstance(m, torch.nn.Linear) and name not in ("attn2.to_k", "attn2.to_v")
    )
    one_layer = replace(arch, transformer={**arch.transformer, "num_layers": 1})
    assert gpu.transformer_flops(one_layer, 1000).linear == pytest.approx(2 * video_weights * 1000)


def test_materialize_gives_finite_weights_the_right_dtypes_and_tied_embeddings() -> None:
    arch = gpu.SMALL["wan-1.3b"]
    transformer: Any = gpu.materialize(
        lambda: diffusers.WanTransformer3DModel(**arch.transformer), torch.device("cpu"), torch.bfloat16
    )
    for name, param in transformer.named_parameters():
        assert torch.isfinite(param.float()).all(), name
        keep = any(part in name.split(".") for part in diffusers.WanTransformer3DModel._keep_in_fp32_modules)
        assert param.dtype == (torch.float32 if keep else torch.bfloat16), name
    # RoPE tables are buffers computed at construction: restored, not left as empty memory
    reference = diffusers.WanTransformer3DModel(**arch.transformer)
    assert torch.equal(transformer.rope.freqs_cos, reference.rope.freqs_cos)
    text: Any = gpu.materialize(
        lambda: arch.text_class(arch.text_config_class(**arch.text)), torch.device("cpu"), torch.float32
    )
    assert text.shared.weight is text.encoder.embed_tokens.weight
    assert text.shared.weight.std().item() == pytest.approx(gpu.INIT_STD, rel=0.2)


def test_mask_free_attention_backends_leave_cross_attention_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """LTX-Video masks its cross-attention; FlashAttention 2/3 raise on a mask at the first forward, so a
    fast backend serves self-attention only (generator/speedups.py). PyTorch's own flash kernel
    ("_native_flash") runs on a CPU and refuses masks the same way: the real thing, no GPU needed."""
    from diffusers.models import attention_dispatch

    from generator.speedups import apply_speedups, keep_cross_attention_native

    arch = gpu.SMALL["ltx-video"]
    torch.manual_seed(0)
    transformer = diffusers.LTXVideoTransformer3DModel(**arch.transformer).eval()
    inputs = {
        "hidden_states": torch.randn(2, 2 * 2 * 3, arch.transformer["in_channels"]),
        "encoder_hidden_states": torch.randn(2, 5, arch.transformer["caption_channels"]),
        "timestep": torch.tensor([500.0, 500.0]),
        "encoder_attention_mask": torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]),
        "num_frames": 2,
        "height": 2,
        "width": 3,
        "return_dict": False,
    }
    with torch.no_grad():
        reference = transformer(**inputs)[0]
    # set_attention_backend also changes diffusers' process-wide default: restore it afterwards
    registry = attention_dispatch._AttentionBackendRegistry
    monkeypatch.setattr(registry, "_active_backend", registry._active_backend)
    transformer.set_attention_backend("_native_flash")
    with pytest.raises(ValueError, match="attn_mask"), torch.no_grad():
        transformer(**inputs)
    layers = arch.transformer["num_layers"]
    assert keep_cross_attention_native(transformer, "_native_flash") == layers
    with torch.no_grad():  # another kernel for the self-attention, the same numbers up to float32 rounding
        torch.testing.assert_close(transformer(**inputs)[0], reference, rtol=1e-4, atol=1e-5)

    transformer.set_attention_backend("native")
    pipe = type("Pipe", (), {"transformer": transformer})()
    cpu = torch.device("cpu")
    applied = apply_speedups(pipe, {"attention_backend": "_native_flash"}, cpu, allow_cpu=True)
    assert applied == ["attention=_native_flash (cross-attention native)"]
    flash, native = (attention_dispatch.AttentionBackendName(name) for name in ("_native_flash", "native"))
    backends = {
        (b.attn1.processor._attention_backend, b.attn2.processor._attention_backend)
        for b in transformer.transformer_blocks
    }
    assert backends == {(flash, native)}
    assert keep_cross_attention_native(transformer, "native") == 0


def test_new_presets_render_real_frames_and_sound_paths(report: gpu.Report) -> None:
    """LTX-2 runs its audio branch, connectors and vocoder; the distilled preset takes evenly spaced
    sigmas from its fixed schedule for the timed steps (3 of its 8)."""
    assert report.steps_run["ltx-2-distilled"] == 3
    for preset in ("ltx-2", "ltx-2-distilled", "wan-2.2-5b"):
        stock = _row(report, preset, "stock")
        assert stock.frames == report.clips[preset].frames
    assert report.passes["ltx-2"] == "CFG x2 + STG x1 + modality isolation x1"
    assert report.passes["wan-2.2-5b"] == "CFG x2"
    assert report.passes["ltx-2-distilled"] == "x1"  # no guidance of any kind: one forward a step
    table = gpu.markdown_table(report)
    assert "- ltx-2: 96×64" in table and "audio-video attention" in table


def test_ltx2_and_wan22_default_clips_and_their_token_counts() -> None:
    for preset, steps in (("ltx-2", 40), ("ltx-2-distilled", 8), ("wan-2.2-5b", 50)):
        arch = gpu.FULL[preset]
        clip = gpu.preset_clip(next(p for p in gpu.BUILTIN_PRESETS if p.name == preset), arch)
        assert (clip.width, clip.height, clip.frames, clip.fps, clip.steps) == (1280, 704, 121, 24, steps)
    ltx2 = gpu.FULL["ltx-2"]
    assert gpu.video_tokens(ltx2, 1280, 704, 121) == 16 * 22 * 40  # 32x spatial, 8x temporal, patch 1
    assert gpu.audio_tokens(ltx2, 121, 24) == 126  # 121/24 s x 25 audio latents a second
    assert gpu.audio_tokens(gpu.FULL["wan-2.2-5b"], 121, 24) == 0
    wan22 = gpu.FULL["wan-2.2-5b"]
    assert gpu.video_tokens(wan22, 1280, 704, 121) == 31 * 22 * 40  # 16x VAE, then 2x2 patches
    f = gpu.transformer_flops(ltx2, 14080, 126)
    assert f.total == pytest.approx(537e12, rel=0.01)
    assert f.isolated == pytest.approx(490e12, rel=0.01)
    assert gpu.transformer_flops(wan22, 27280).total == pytest.approx(517e12, rel=0.01)


def test_forward_passes_follow_the_ltx2_guidance_switches() -> None:
    f = gpu.transformer_flops(gpu.FULL["ltx-2"], 14080, 126)
    pipe = type("LTX2Pipeline", (), {"__call__": diffusers.LTX2Pipeline.__call__})()
    ltx2 = next(p for p in gpu.BUILTIN_PRESETS if p.name == "ltx-2")
    total, what = gpu.forward_passes(pipe, {"guidance_scale": 3.0, **ltx2.call_kwargs}, f)
    assert (
        total == pytest.approx(3 * f.total + f.isolated) and what == "CFG x2 + STG x1 + modality isolation x1"
    )
    # the distilled preset turns guidance (audio's too: LTX2Pipeline defaults it to 7.0), STG and
    # modality isolation off: one forward a step
    distilled = next(p for p in gpu.BUILTIN_PRESETS if p.name == "ltx-2-distilled")
    total, what = gpu.forward_passes(pipe, {"guidance_scale": 1.0, **distilled.call_kwargs}, f)
    assert (total, what) == (pytest.approx(f.total), "x1")
    on = {"guidance_scale": 1.0, **distilled.call_kwargs, "audio_guidance_scale": 7.0}
    assert gpu.forward_passes(pipe, on, f) == (pytest.approx(2 * f.total), "CFG x2")
    wan = type("WanPipeline", (), {"__call__": diffusers.WanPipeline.__call__})()
    assert gpu.forward_passes(wan, {"guidance_scale": 5.0}, f)[0] == pytest.approx(2 * f.total)


def test_ltx2_flops_scale_with_layers_and_tokens() -> None:
    arch = gpu.FULL["ltx-2"]
    deeper = replace(arch, transformer={**arch.transformer, "num_layers": 96})
    base, double = gpu.transformer_flops(arch, 14080, 126), gpu.transformer_flops(deeper, 14080, 126)
    assert double.total - double.io == pytest.approx(2 * (base.total - base.io))
    assert double.io == base.io
    longer = gpu.transformer_flops(arch, 2 * 14080, 126)
    video_self = 48 * 4 * 14080**2 * 4096
    assert longer.self_attention - base.self_attention == pytest.approx(3 * video_self)
    assert longer.av_attention == pytest.approx(2 * base.av_attention)
    silent = gpu.transformer_flops(arch, 14080, 0)
    assert silent.av_attention == 0 and silent.self_attention == pytest.approx(video_self)


def test_ltx2_full_config_counts_19b_and_the_formula_counts_its_block_weights() -> None:
    arch = gpu.FULL["ltx-2"]
    with init_empty_weights(include_buffers=False):
        transformer: Any = diffusers.LTX2VideoTransformer3DModel(**arch.transformer)
        vae = diffusers.AutoencoderKLLTX2Video(**arch.vae)
        text: Any = arch.text_class(arch.text_config_class(**arch.text))
        parts = {name: cls(**cfg) for name, (cls, cfg) in arch.components.items()}
    text.tie_weights()  # as materialize leaves it: lm_head is the embedding

    def count(model: torch.nn.Module) -> int:
        return sum(p.numel() for p in model.parameters())

    assert count(transformer) == pytest.approx(18.88e9, rel=0.01)  # "LTX-2 19B"
    assert count(text) == pytest.approx(12.19e9, rel=0.01)  # Gemma 3 12B with its vision tower
    assert count(parts["connectors"]) == pytest.approx(1.43e9, rel=0.01)
    assert count(vae) == pytest.approx(1.22e9, rel=0.02)
    assert count(parts["audio_vae"]) + count(parts["vocoder"]) < 0.2e9
    # per layer: 2 FLOPs per weight per token for each Linear, by the tokens it sees
    block = transformer.transformer_blocks[0]
    text_kv = {"attn2.to_k", "attn2.to_v", "audio_attn2.to_k", "audio_attn2.to_v"}
    audio_side = (
        "audio_attn1.",
        "audio_attn2.",
        "audio_ff.",
        "audio_to_video_attn.to_k",
        "audio_to_video_attn.to_v",
        "video_to_audio_attn.to_q",
        "video_to_audio_attn.to_out",
    )
    n, m = 1000, 50
    expected = 0
    for name, module in block.named_modules():
        if not isinstance(module, torch.nn.Linear) or name in text_kv or "gate_logits" in name:
            continue
        expected += 2 * module.weight.numel() * (m if name.startswith(audio_side) else n)
    one_layer = replace(arch, transformer={**arch.transformer, "num_layers": 1})
    assert gpu.transformer_flops(one_layer, n, m).linear == pytest.approx(expected)


def test_smoke_renders_one_finite_clip_per_family_through_the_worker_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bench.gpu --smoke --small`: one short clip per preset family on the CPU, through
    generator.render.render and the worker's warm cache holding the bench's pipeline, speed-ups on."""
    results = tmp_path / "RESULTS.md"
    results.write_text("# header\n")
    gpu.main(["--smoke", "--small", "--results", str(results)])
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    cells = [line.strip("| ").split(" | ") for line in rows]
    assert [c[0] for c in cells] == list(gpu.SMOKE_FAMILIES)
    assert [c[1] for c in cells] == list(gpu.SMOKE_FAMILIES.values())
    for c in cells:
        clip, speedups, peak, output, result = c[2], c[4], c[7], c[9], c[10]
        assert output.startswith("finite") and result == "ok", c
        assert clip.endswith(f"frames, {gpu.SMOKE_STEPS} steps")
        assert "compile_repeated_blocks(eager)" in speedups
        # CogVideoX's attention calls PyTorch's SDPA itself: no diffusers backend to choose
        assert ("attention=native" in speedups) == (c[1] != "cogvideox-2b")
        assert peak == "n/a on cpu"
    sound = dict(zip([c[1] for c in cells], [c[9] for c in cells], strict=True))
    assert sound["ltx-2"] == "finite + sound" and sound["wan-1.3b"] == "finite"
    text = results.read_text()
    assert text.startswith("# header\n") and "· smoke" in text and "| CogVideoX | cogvideox-2b |" in text


def test_a_failing_family_is_a_row_with_its_error_not_the_end_of_the_smoke_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOBOT_SPEEDUPS", "off")  # stock diffusers: the row after the failure, quickly
    # LTX-2.5 has no scaled-down architecture here: its family fails before it renders
    report = gpu.run_smoke({"Nonexistent": "ltx-2.5", "Wan 2.1": "wan-1.3b"}, small=True, log=lambda _: None)
    failed, passed = report.rows
    assert not failed.ok and failed.error.startswith("KeyError") and failed.finite is None
    assert passed.ok and passed.finite is True
    assert "FAILED: KeyError" in gpu.smoke_table(report)


def test_cogvideox_full_config_counts_its_published_size_and_its_joint_attention_flops() -> None:
    arch = gpu.FULL["cogvideox-2b"]
    with init_empty_weights(include_buffers=False):
        transformer = diffusers.CogVideoXTransformer3DModel(**arch.transformer)
    assert sum(p.numel() for p in transformer.parameters()) == pytest.approx(1.69e9, rel=0.01)
    tokens = gpu.video_tokens(arch, 720, 480, 49)
    assert tokens == 13 * 30 * 45  # 8x spatial and 4x temporal compression, 2x2 patches
    f = gpu.transformer_flops(arch, tokens)
    # the text tokens join the video tokens: one attention over 17,776 tokens, no cross-attention
    joint = tokens + 226
    assert f.self_attention == pytest.approx(30 * 4 * joint**2 * 1920) and f.cross_attention == 0


def test_hd_times_draft_hd_and_one_shot_stock_and_project_through_the_worker_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bench.gpu --hd --small`: LTX-2.3 distilled's draft through generator.render.render, its
    HD version through generator.hd.upscale (the bench's random-weight upsampler in the worker's cache),
    and the one-shot HD clip, stock and then the project's, on one pipeline; the table as a reader sees it."""
    results = tmp_path / "RESULTS.md"
    results.write_text("# header\n")
    gpu.main(["--hd", "--small", "--write-results", "--results", str(results)])
    out = capsys.readouterr().out
    table = out[out.index("Draft, HD and one-shot HD") :]
    lines = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    cells = {(c[1], c[2]): c for c in (line.strip("| ").split(" | ") for line in lines)}
    paths = ("stock", "project")
    assert len(lines) == 6 and set(cells) == {(p, s) for p in paths for s in gpu.HD_STAGES}

    def size(c: list[str]) -> tuple[int, int]:
        width, height = c[3].split("×")
        return int(width), int(height)

    clip = gpu.SMALL["ltx-2.3-distilled"].clip
    for c in cells.values():
        assert c[0] == "ltx-2.3-distilled"
        seconds = float(c[6])
        assert math.isfinite(seconds) and seconds > 0, c
        assert c[7] != "–" and c[8] == "n/a on cpu" and c[9] == "finite", c
        assert "FAILED" not in c[11]
    for path in paths:
        draft, hd, one_shot = (cells[(path, stage)] for stage in gpu.HD_STAGES)
        width, height = size(draft)
        # the draft at half the preset's size; its HD version and the one-shot clip at twice the draft's
        assert (width, height) == (clip["width"] // 2, clip["height"] // 2)
        assert size(hd) == size(one_shot) == (2 * width, 2 * height)
        assert draft[4] == hd[4] == one_shot[4] == str(clip["frames"])
        # the one-shot clip in the draft's sigmas; HD in the refine's 3
        assert draft[5] == one_shot[5] == str(clip["steps"]) and hd[5] == "upsample + 3"
    for stage in gpu.HD_STAGES:
        project = cells[("project", stage)]
        assert "compile_repeated_blocks(eager)" in project[11] and "attention=native" in project[11]
        # same seed, float32, native attention, eager compile: at most one 8-bit level apart
        assert float(project[10]) <= 1 / 255
    assert "not judged here: scaled-down models (--small)" in table
    text = results.read_text()
    assert text.startswith("# header\n") and "· HD" in text and "| ltx-2.3-distilled | project | hd |" in text


def test_hd_goals_are_judged_on_the_project_path_of_a_cuda_card() -> None:
    def row(path: str, stage: str, seconds: float) -> gpu.HDRow:
        width, height = (768, 512) if stage == "draft" else (1536, 1024)
        return gpu.HDRow("ltx-2.3-distilled", path, stage, width, height, 121, 8, seconds=seconds)

    rows = [row("stock", "draft", 9.0), row("stock", "hd", 40.0), row("project", "draft", 4.2)]
    rows += [row("project", "hd", 21.0), row("project", "one-shot", 30.0)]
    report = gpu.HDReport(
        "NVIDIA H100 80GB HBM3", "cuda", False, rows, {"ltx-2.3-distilled": "121 frames"}, 90
    )
    line = gpu.hd_goals(report)
    assert "on NVIDIA H100 80GB HBM3, project path: NOT met." in line
    assert "768×512 draft 4.2 s (< 6 s): met" in line and "1536×1024 hd 21.0 s (< 20 s): NOT met" in line
    rows[3].seconds = 19.5
    assert "project path: met." in gpu.hd_goals(report)
    rows[3].error, rows[3].seconds = "OutOfMemoryError: CUDA out of memory", math.nan
    assert "NOT met" in gpu.hd_goals(report) and "hd: no figure" in gpu.hd_goals(report)
    assert gpu.hd_goals(report) in gpu.hd_table(report)


def test_hd_upsampler_configs_are_ltx2s_real_ones() -> None:
    """LTX-2.3's latent upsampler (what ltx-2.3-distilled names): 0.50 B, a convolution and a pixel shuffle
    instead of LTX-2.0's rational resampler (docs/notes/ltx-draft-hd.md §1)."""
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel

    config = gpu.FULL["ltx-2.3-distilled"].upsampler
    assert config["use_rational_resampler"] is False and gpu.FULL["ltx-2"].upsampler["use_rational_resampler"]
    with init_empty_weights(include_buffers=False):
        upsampler = LTX2LatentUpsamplerModel(**config)
    assert sum(p.numel() for p in upsampler.parameters()) == pytest.approx(0.498e9, rel=0.01)
    assert config["in_channels"] == gpu.FULL["ltx-2.3-distilled"].vae["latent_channels"]
    assert (
        gpu.SMALL["ltx-2.3-distilled"].upsampler["in_channels"]
        == gpu.SMALL["ltx-2.3-distilled"].vae["latent_channels"]
    )
    assert "ltx-2.5" not in gpu.FULL  # its configs are unconfirmed: --hd leaves it out


def test_styles_times_six_clips_through_the_worker_path_and_a_hotswap_does_not_recompile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bench.gpu --styles --small` (issue 20): on the compiled default preset (compile backend
    "eager": torch._dynamo guards as with inductor), no style, A, A, B, B, no style through
    generator.render.render and the worker's cache with one style slot; the table as a reader sees it."""
    from bench import gpu_styles

    results = tmp_path / "RESULTS.md"
    results.write_text("# header\n")
    gpu.main(["--styles", "--small", "--write-results", "--results", str(results)])
    out = capsys.readouterr().out
    table = out[out.index("Styles (LoRAs) on the compiled default preset") :]
    lines = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    cells = [line.strip("| ").split(" | ") for line in lines]
    assert [c[0] for c in cells] == ["1", "2", "3", "4", "5", "6"]
    assert [(c[1], c[2]) for c in cells] == [(clip, style or "–") for clip, style in gpu_styles.SEQUENCE]
    for c in cells:
        seconds, per_step, estimate = float(c[4]), float(c[6]), float(c[8])
        assert math.isfinite(seconds) and seconds > 0 and per_step > 0 and estimate > seconds, c
        assert c[9] == "n/a on cpu" and "FAILED" not in c[12], c
    slot = [c[3] for c in cells]
    assert slot[:5] == [
        "none loaded",
        "loaded into a slot",
        "kept (already loaded)",
        "hotswapped",
        "kept (already loaded)",
    ]
    assert slot[5] == "adapters off (1 loaded)"
    recompiled = [c[11] for c in cells]
    # the detector sees the compiled blocks' new LoRA layers; a hotswap (in place) compiles nothing
    assert recompiled[1].startswith("yes (") and int(cells[1][10]) >= 1
    assert [recompiled[i] for i in (0, 2, 3, 4)] == ["no"] * 4
    frames = [c[12] for c in cells]
    assert frames[0] == "reference"
    assert frames[1].startswith("≠ #1 (max Δ ")  # a style changes the clip
    assert frames[2] == "= #2" and frames[4] == "= #4"  # the same style again: the same clip
    assert frames[3].startswith("≠ #1 (") and "; ≠ #2 (" in frames[3]  # B is neither the base nor A
    assert frames[5] == "= #1"  # the adapters off: the base model bit for bit
    assert "Switch A → B (#4): hotswapped, without recompiling." in table
    assert "No style after styles (#6) is the first no-style clip (#1) bit for bit." in table
    assert "compile_repeated_blocks(eager)" in table and "rank 4 on to_q, to_k, to_v, to_out.0" in table
    text = results.read_text()
    assert (
        text.startswith("# header\n")
        and "· styles" in text
        and "| 4 | style B, first after a switch |" in text
    )
