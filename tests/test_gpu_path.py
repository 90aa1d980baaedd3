"""The generator's GPU-only branches, run where torch allows it on a CPU: regional compilation with the
real inductor backend, the attention-backend walk and its fallbacks, and the offload choice for every
built-in preset on a simulated 24, 48 and 80 GB GPU.

Models are the tiny random-weight pipelines of tests/tiny_models.py, loaded by ``from_pretrained`` through
the worker's own ``PipelineCache``; ``VIDEOBOT_SPEEDUPS=always`` makes the loader apply the preset's
speed-ups on the CPU as it does on CUDA.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

from bench import gpu
from db.presets import BUILTIN_PRESETS, Preset, PresetCatalog
from db.spec import JobSpec
from generator import loader
from generator.availability import NoWeights, check_presets
from generator.loader import GIB, PipelineCache, choose_offload
from generator.render import RenderFailed, render
from generator.speedups import (
    ATTENTION_PREFERENCE,
    SPEEDUPS_ENV,
    set_fastest_attention,
    try_attention_backend,
)
from tests.tiny_models import preset_entry

CPU = torch.device("cpu")
NATIVE = AttentionBackendName("native")


def _catalog(tmp_path: Path, **entries: dict[str, Any]) -> PresetCatalog:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(entries))
    return PresetCatalog.load(path)


def _render(catalog: PresetCatalog, model: str, seed: int = 3, prompt: str = "a cat on a beach") -> Any:
    """One clip of ``model`` through a fresh warm cache: from_pretrained, the loader's speed-ups, render."""
    return render(JobSpec(prompt, model=model, seed=seed), catalog=catalog, cache=PipelineCache(device="cpu"))


@pytest.fixture(scope="module")
def ltx_stock(tiny_ltx: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The tiny LTX's clip (seed 3) as stock diffusers renders it: no speed-ups."""
    catalog = _catalog(tmp_path_factory.mktemp("stock"), tiny=preset_entry("ltx-video", tiny_ltx))
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SPEEDUPS_ENV, "off")
        return _render(catalog, "tiny")


@pytest.fixture
def default_backend() -> Any:
    """diffusers' process-wide default attention backend, checked unchanged after the test."""
    before = _AttentionBackendRegistry._active_backend
    yield before
    _AttentionBackendRegistry.set_active_backend(before)


# ---------------------------------------------------------------------------------------------------------
# Regional compilation on the CPU's inductor
# ---------------------------------------------------------------------------------------------------------


def test_regional_compilation_with_inductor_keeps_the_clip_and_compiles_once(
    tiny_ltx: Path, ltx_stock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_backend: Any
) -> None:
    """The preset's speed-ups as a CUDA worker applies them (fastest attention, compile_repeated_blocks
    with inductor), on the CPU: inductor generates and builds C++ kernels for the LTX transformer block.

    The clip is the uncompiled one within one 8-bit level: inductor fuses the block's operations and
    reorders float32 sums (norms, softmax, the GELU and bias epilogues), so the transformer's output moves
    by about 1e-6; the VAE is not compiled, and rounding to 8 bits moves the rare value that sits on a
    rounding boundary by one level (about 4 in 100,000 here). A second clip of the same size runs the
    compiled code again, without compiling anew."""
    from torch._dynamo.utils import counters

    compiler = os.environ.get("CXX", "g++")
    assert shutil.which(compiler), f"inductor builds its CPU kernels with a C++ compiler: no {compiler}"
    catalog = _catalog(tmp_path, tiny=preset_entry("ltx-video", tiny_ltx))
    tiny = catalog.get("tiny")
    assert tiny is not None and tiny.speedups.get("compile") and "compile_backend" not in tiny.speedups

    stock = ltx_stock
    monkeypatch.setenv(SPEEDUPS_ENV, "always")
    counters.clear()
    cache = PipelineCache(device="cpu")
    try:
        compiled = render(JobSpec("a cat on a beach", model="tiny", seed=3), catalog=catalog, cache=cache)
        graphs = counters["stats"]["unique_graphs"]
        assert graphs >= 1 and any(counters["inductor"].values()), dict(counters)  # inductor, not eager
        blocks = cache.get(tiny).transformer.transformer_blocks
        assert all(block._compiled_call_impl is not None for block in blocks)

        difference = np.abs(compiled.frames.astype(int) - stock.frames.astype(int))
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-3

        again = render(JobSpec("waves on rocks", model="tiny", seed=4), catalog=catalog, cache=cache)
        assert again.frames.shape == compiled.frames.shape
        assert counters["stats"]["unique_graphs"] == graphs  # no recompilation for the next clip
        assert again.seconds < compiled.seconds
    finally:
        torch._dynamo.reset()


# ---------------------------------------------------------------------------------------------------------
# The attention backend: the walk, its fallbacks, masked attention
# ---------------------------------------------------------------------------------------------------------


def test_the_cuda_preference_walked_on_a_cpu_passes_over_what_cannot_run_and_ends_on_native(
    tiny_ltx: Path, default_backend: Any
) -> None:
    """FlashAttention 3 and 2 are not installed; PyTorch's cuDNN attention can be set on a CPU (diffusers
    checks no device) but has no CPU kernel: the walk tries each and stops on native."""
    preset = PresetCatalog.load(presets_file="").resolve(str(tiny_ltx))
    assert preset is not None
    transformer = PipelineCache(device="cpu").get(preset).transformer
    with pytest.raises(RuntimeError, match="not usable"):
        transformer.set_attention_backend("flash")
    with pytest.raises(RuntimeError, match="No viable backend"):
        try_attention_backend("_native_cudnn", CPU, torch.float32, heads=2, head_dim=8)
    assert ATTENTION_PREFERENCE[-1] == "native"
    assert set_fastest_attention(transformer, ATTENTION_PREFERENCE, device=CPU) == "native"
    backends = {m.processor._attention_backend for m in transformer.modules() if hasattr(m, "processor")}
    assert backends == {NATIVE}
    assert _AttentionBackendRegistry._active_backend == default_backend
    # nothing runs: the model is left as it was
    assert set_fastest_attention(transformer, ("no-such-backend", "_native_cudnn")) is None
    backends = {m.processor._attention_backend for m in transformer.modules() if hasattr(m, "processor")}
    assert backends == {NATIVE}


@pytest.mark.parametrize("backend", ["auto", "no-such-backend", "_native_cudnn", "flash"])
def test_a_preset_naming_a_backend_that_cannot_run_here_renders_like_stock(
    backend: str,
    tiny_ltx: Path,
    ltx_stock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    default_backend: Any,
) -> None:
    """A worker whose preset names an unknown backend, or one this machine cannot run, falls back to the
    fastest that runs and says so, instead of failing every job (cuDNN attention on a CPU used to be set
    and then fail at the first forward)."""
    speedups = {"attention_backend": backend, "compile": False}
    catalog = _catalog(tmp_path, tiny=preset_entry("ltx-video", tiny_ltx, speedups=speedups))
    monkeypatch.setenv(SPEEDUPS_ENV, "always")
    with caplog.at_level(logging.INFO):
        faster = _render(catalog, "tiny")
    assert np.array_equal(ltx_stock.frames, faster.frames)
    warned = [r.getMessage() for r in caplog.records if "cannot run here" in r.getMessage()]
    assert warned == (
        [] if backend == "auto" else [f"attention backend {backend!r} cannot run here; using native"]
    )
    assert _AttentionBackendRegistry._active_backend == default_backend


def test_a_mask_free_backend_serves_self_attention_and_ltx2s_masked_parts_stay_native(
    tiny_ltx2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_backend: Any
) -> None:
    """PyTorch's own flash kernel ("_native_flash") runs on a CPU and, like FlashAttention 2/3 on a GPU,
    refuses an attention mask. LTX-2 masks its text cross-attention (video and sound) and its text
    connectors' attention. With the preset naming it, the clip renders with its sound, as it does on
    native attention: the self-attention uses it, the masked cross-attention stays native, and the
    connectors (another component, on diffusers' process-wide default) are untouched."""
    speedups = {"attention_backend": "_native_flash", "compile": False}
    catalog = _catalog(tmp_path, tiny=preset_entry("ltx-2", tiny_ltx2, speedups=speedups))
    tiny = catalog.get("tiny")
    assert tiny is not None
    monkeypatch.setenv(SPEEDUPS_ENV, "off")
    stock = _render(catalog, "tiny", prompt="rain on a tin roof")
    monkeypatch.setenv(SPEEDUPS_ENV, "always")
    cache = PipelineCache(device="cpu")
    clip = render(JobSpec("rain on a tin roof", model="tiny", seed=3), catalog=catalog, cache=cache)
    assert clip.audio is not None and stock.audio is not None
    assert np.abs(clip.frames.astype(int) - stock.frames.astype(int)).max() <= 1
    assert np.abs(clip.audio - stock.audio).max() < 1e-3

    pipe = cache.get(tiny)
    backends = {
        name.rsplit(".", 1)[-1]: module.processor._attention_backend
        for name, module in pipe.transformer.named_modules()
        if hasattr(module, "processor")
    }
    flash = AttentionBackendName("_native_flash")
    assert backends["attn1"] == backends["audio_attn1"] == flash
    assert backends["attn2"] == backends["audio_attn2"] == NATIVE
    connectors = {
        m.processor._attention_backend for m in pipe.connectors.modules() if hasattr(m, "processor")
    }
    assert connectors == {None} and _AttentionBackendRegistry._active_backend == default_backend

    # what diffusers' set_attention_backend alone does: every attention on it, the default too
    pipe.transformer.set_attention_backend("_native_flash")
    with pytest.raises(RenderFailed) as failed:
        render(JobSpec("rain on a tin roof", model="tiny", seed=3), catalog=catalog, cache=cache)
    assert "attn_mask" in str(failed.value.__cause__)


# ---------------------------------------------------------------------------------------------------------
# The offload choice on a simulated GPU
# ---------------------------------------------------------------------------------------------------------

MIB = 1024**2
# what nvidia-smi and torch.cuda report for the memory of one card of each class
CARDS = {
    "24 GB (RTX 4090)": 24564 * MIB,
    "48 GB (RTX A6000)": 49140 * MIB,
    "80 GB (H100 80GB HBM3)": 81559 * MIB,
}


class _Components:
    """A full-size pipeline as the loader's offload choice reads it: its components, on the meta device
    (real shapes and dtypes from bench/gpu.py's architectures, no memory)."""

    def __init__(self, components: dict[str, torch.nn.Module]) -> None:
        self.components = components


def _dtypes(preset: Preset) -> tuple[torch.dtype, torch.dtype]:
    dtype = getattr(torch, preset.dtype)
    vae = preset.load_options.get("vae_dtype")
    return dtype, getattr(torch, str(vae)) if vae else dtype


@pytest.fixture(scope="module")
def full_size() -> dict[str, _Components]:
    """Each built-in preset that bench/gpu.py has the architecture of, as its full-size components."""
    memo: dict[tuple[Any, ...], torch.nn.Module] = {}
    pipes = {}
    for preset in BUILTIN_PRESETS:
        arch = gpu.FULL.get(preset.name)
        if arch is not None:
            pipes[preset.name] = _Components(gpu.meta_components(arch, *_dtypes(preset), memo=memo))
    return pipes


def _sizes(pipe: _Components) -> tuple[int, int]:
    sizes = [loader._component_bytes(c) for c in pipe.components.values()]
    return sum(sizes), max(sizes)


def test_full_size_components_are_the_published_sizes(full_size: dict[str, _Components]) -> None:
    weights, largest = _sizes(full_size["ltx-2"])
    assert weights / GIB == pytest.approx(63, abs=1.5)  # LTX-2 19B and Gemma 3 12B in bf16
    assert largest / GIB == pytest.approx(18.9e9 * 2 / GIB, rel=0.01)  # the transformer
    assert _sizes(full_size["wan-14b"])[1] / GIB == pytest.approx(14.29e9 * 2 / GIB, rel=0.01)
    # CogVideoX-2B in float16 keeps T5's feed-forward output layers in float32, as from_pretrained does
    t5 = full_size["cogvideox-2b"].components["text_encoder"]
    assert {p.dtype for n, p in t5.named_parameters() if n.endswith("wo.weight")} == {torch.float32}


@pytest.mark.parametrize("card", list(CARDS))
def test_the_offload_choice_for_every_built_in_preset_on_a_24_48_and_80_gb_gpu(
    card: str, full_size: dict[str, _Components], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """For each built-in preset, what a worker on this GPU does: whether it serves it (availability:
    it must fit at least streamed, ``gpu_memory_offload_gb``), and how the loader places it
    (``choose_offload`` on the preset's full-size component sizes and the GPU's memory). What is served
    fits the GPU in the way it is placed: whole when its ``gpu_memory_gb`` fits, one component at a time
    when the largest fits beside the activations, else streamed layers."""
    total = CARDS[card]
    gib = total / GIB
    monkeypatch.setattr(loader, "gpu_memory_bytes", lambda device: total)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # no weights on this machine: hub presets are fetched
    catalog = PresetCatalog(list(BUILTIN_PRESETS))
    cuda = torch.device("cuda")
    placed: dict[str, str] = {}
    for preset in catalog:
        try:
            check_presets(catalog, [preset.name], offline=True, gpu_gb=gib)
        except NoWeights as refused:
            assert "cannot run here" in str(refused)
            assert (preset.gpu_memory_offload_gb or preset.gpu_memory_gb) > gib
            continue
        assert (preset.gpu_memory_offload_gb or preset.gpu_memory_gb) <= gib, preset.name
        pipe = full_size.get(preset.name)
        kind = placed[preset.name] = choose_offload(preset, pipe or _Components({}), cuda)
        if preset.gpu_memory_gb <= gib:
            assert kind == "none", preset.name  # fits: no offload, full speed
            continue
        assert kind in ("model", "group"), preset.name
        if pipe is None:
            continue  # sizes unknown here (no architecture in bench/gpu.py): only the kind is checked
        weights, largest = _sizes(pipe)
        if kind == "model":  # the largest component and the activations at once
            assert largest + preset.gpu_memory_gb * GIB - weights <= total, preset.name
        else:
            assert largest + max(preset.gpu_memory_gb * GIB - weights, 0) > total, preset.name

    assert placed, "the worker serves nothing on this GPU"
    if card.startswith("80"):
        assert placed["ltx-2"] == placed["ltx-2-distilled"] == placed["wan-14b"] == "none"
        assert {name for name, kind in placed.items() if kind == "none"} == {
            p.name for p in catalog if p.gpu_memory_gb <= gib
        }
    elif card.startswith("48"):
        # LTX-2's 35 GiB transformer and its activations fit: components take turns, no layer streaming
        assert placed["ltx-2"] == placed["wan-14b"] == "model"
    else:
        # the biggest (LTX-2's transformer alone is 35 GiB, Wan 14B's 27 GiB) stream their layers
        assert placed["ltx-2"] == placed["ltx-2-distilled"] == placed["wan-14b"] == "group"
        assert placed["ltx-video"] == placed["wan-1.3b"] == placed["cogvideox-2b"] == "none"
        for name, kind in placed.items():
            pipe = full_size.get(name)
            if pipe is not None and _sizes(pipe)[1] > total:
                assert kind == "group", name
