"""bench/gpu.py on the CPU with its scaled-down configs: the GPU benchmark cannot rot unnoticed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import diffusers
import pytest
import torch
from accelerate import init_empty_weights

from bench import gpu


@pytest.fixture(scope="module")
def report() -> gpu.Report:
    return gpu.run(["ltx-video", "wan-1.3b"], small=True, steps=3, warmup_steps=2, log=lambda _: None)


def _row(report: gpu.Report, preset: str, path: str) -> gpu.Row:
    return next(r for r in report.rows if r.preset == preset and r.path == path)


def test_both_paths_render_the_requested_frames_and_time_every_part(report: gpu.Report) -> None:
    for preset in ("ltx-video", "wan-1.3b"):
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
    for preset in ("ltx-video", "wan-1.3b"):
        project = _row(report, preset, "project")
        assert "compile_repeated_blocks(eager)" in project.note
        assert "attention=native" in project.note
        # same seed, float32, native attention, eager compile: only float reordering may differ
        assert project.max_diff is not None and project.max_diff <= 1e-4


def test_the_table_has_a_row_per_preset_and_path_and_marks_cache_estimates(report: gpu.Report) -> None:
    table = gpu.markdown_table(report)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    paths = {(cells[0], cells[1]) for cells in (line.strip("| ").split(" | ") for line in rows)}
    for preset in ("ltx-video", "wan-1.3b"):
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


@pytest.mark.parametrize("preset", ["ltx-video", "wan-1.3b"])
def test_full_configs_build_and_the_formula_counts_their_block_weights(preset: str) -> None:
    arch = gpu.FULL[preset]
    with init_empty_weights(include_buffers=False):
        transformer = getattr(diffusers, arch.transformer_class)(**arch.transformer)
        getattr(diffusers, arch.vae_class)(**arch.vae)
    params = sum(p.numel() for p in transformer.parameters())
    assert params == pytest.approx({"ltx-video": 1.92e9, "wan-1.3b": 1.42e9}[preset], rel=0.02)
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
    fast backend serves self-attention only (generator/speedups.py)."""
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
    # pretend flash-attn is installed: the backend can be set on a CPU, its mask check runs first
    monkeypatch.setattr(attention_dispatch, "_check_attention_backend_requirements", lambda backend: None)
    # set_attention_backend also changes diffusers' process-wide default: restore it afterwards
    registry = attention_dispatch._AttentionBackendRegistry
    monkeypatch.setattr(registry, "_active_backend", registry._active_backend)
    transformer.set_attention_backend("flash")
    native = attention_dispatch.AttentionBackendName("native")
    for block in transformer.transformer_blocks:
        block.attn1.processor._attention_backend = native
    with pytest.raises(ValueError, match="attn_mask"), torch.no_grad():
        transformer(**inputs)
    layers = arch.transformer["num_layers"]
    assert keep_cross_attention_native(transformer, "flash") == layers
    with torch.no_grad():
        assert torch.equal(transformer(**inputs)[0], reference)

    pipe = type("Pipe", (), {"transformer": transformer})()
    applied = apply_speedups(pipe, {"attention_backend": "flash"}, torch.device("cpu"), allow_cpu=True)
    assert applied == ["attention=flash (cross-attention native)"]
    backends = {
        (b.attn1.processor._attention_backend, b.attn2.processor._attention_backend)
        for b in transformer.transformer_blocks
    }
    assert backends == {(attention_dispatch.AttentionBackendName("flash"), native)}
    assert keep_cross_attention_native(transformer, "native") == 0
