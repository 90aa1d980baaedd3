"""A worker without a GPU: weights kept in half precision and computed in float32, a transformer from a
single-file checkpoint over the pipeline's own, and only the presets made for a CPU served."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from db.presets import PresetCatalog
from db.spec import JobSpec
from generator.availability import CPU_TOO_SLOW, check_presets, first_start_preset
from generator.loader import PipelineCache, module_bytes
from generator.render import render
from tests.tiny_models import save_ltx_single_file, tiny_ltx_transformer


def catalog_with(tmp_path: Path, presets: dict[str, dict[str, object]]) -> PresetCatalog:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(presets))
    return PresetCatalog.load(path)


def tiny(tiny_ltx: Path, **fields: object) -> dict[str, object]:
    """A presets-file entry for the tiny LTX pipeline folder, with ``fields`` changed."""
    return {**json.loads((tiny_ltx / "videobot.json").read_text()), "source": str(tiny_ltx), **fields}


def test_a_cpu_keeps_bfloat16_weights_computes_in_float32_and_draws_the_same_clip(
    tmp_path: Path, tiny_ltx: Path
) -> None:
    catalog = catalog_with(tmp_path, {"full": tiny(tiny_ltx), "half": tiny(tiny_ltx, dtype="bfloat16")})
    cache = PipelineCache(device="cpu")
    spec = {"prompt": "a kite over the sea", "seconds": 1, "seed": 11}
    full = render(JobSpec(**spec, model="full"), catalog=catalog, cache=cache).frames  # type: ignore[arg-type]
    half = render(JobSpec(**spec, model="half"), catalog=catalog, cache=cache).frames  # type: ignore[arg-type]
    preset = catalog.get("half")
    assert preset is not None
    pipe = cache.get(preset)
    full_pipe = cache.get(catalog.get("full"))  # type: ignore[arg-type]
    # the big layers stay in bfloat16: about half the memory of the float32 pipeline
    assert pipe.transformer.transformer_blocks[0].attn1.to_q.weight.dtype == torch.bfloat16
    assert pipe.text_encoder.encoder.block[0].layer[0].SelfAttention.q.weight.dtype == torch.bfloat16
    assert module_bytes(pipe) < 0.6 * module_bytes(full_pipe)
    # and the clip is the float32 one up to the weights' rounding, not noise
    assert np.isfinite(half.astype(float)).all()
    other_seed = render(JobSpec(**{**spec, "seed": 12}, model="full"), catalog=catalog, cache=cache).frames  # type: ignore[arg-type]
    rounding = np.abs(half.astype(int) - full.astype(int)).mean()
    seeds_apart = np.abs(other_seed.astype(int) - full.astype(int)).mean()
    assert rounding < seeds_apart / 4, (rounding, seeds_apart)


def test_a_single_file_transformer_replaces_the_pipelines_own(tmp_path: Path, tiny_ltx: Path) -> None:
    single = save_ltx_single_file(tiny_ltx_transformer(seed=7), tmp_path / "distilled.safetensors")
    catalog = catalog_with(
        tmp_path, {"own": tiny(tiny_ltx), "distilled": tiny(tiny_ltx, transformer_file=str(single))}
    )
    cache = PipelineCache(device="cpu")
    distilled = catalog.get("distilled")
    assert distilled is not None
    loaded = cache.get(distilled).transformer.state_dict()
    expected = tiny_ltx_transformer(seed=7).state_dict()
    assert set(loaded) == set(expected)
    assert all(torch.equal(loaded[key], expected[key]) for key in expected)
    spec = {"prompt": "a kite over the sea", "seconds": 1, "seed": 11}
    own = render(JobSpec(**spec, model="own"), catalog=catalog, cache=cache).frames  # type: ignore[arg-type]
    other = render(JobSpec(**spec, model="distilled"), catalog=catalog, cache=cache).frames  # type: ignore[arg-type]
    assert np.abs(own.astype(int) - other.astype(int)).mean() > 1.0  # another transformer, another clip


def test_a_transformer_file_that_is_not_safetensors_is_refused(tmp_path: Path, tiny_ltx: Path) -> None:
    from db.presets import PresetError

    with pytest.raises(PresetError, match=r"transformer_file must be a \.safetensors file"):
        catalog_with(tmp_path, {"mine": tiny(tiny_ltx, transformer_file="/models/ltx.ckpt")})


def test_a_cpu_worker_serves_only_presets_made_for_a_cpu_and_first_fetches_the_cpu_draft(
    tmp_path: Path, tiny_ltx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    catalog = catalog_with(tmp_path, {"slow": tiny(tiny_ltx, cpu=False), "draft": tiny(tiny_ltx)})
    found = check_presets(catalog, None, offline=False, gpu_gb=None, cpu=True)
    assert found.names() == ("draft",)
    assert ("slow", CPU_TOO_SLOW) in found.skipped
    # named by the operator, a GPU preset runs on a CPU all the same, said to be slow
    named = check_presets(catalog, ["slow"], offline=False, gpu_gb=None, cpu=True)
    assert named.served == [("slow", f"local folder {tiny_ltx}; slow on a CPU")]
    # with nothing on disk: the built-in CPU draft on a CPU, the default preset on a GPU
    builtins = PresetCatalog.load(presets_file="")
    assert first_start_preset(builtins, cpu=True).name == "ltx-video-cpu"  # type: ignore[union-attr]
    assert first_start_preset(builtins, cpu=False).name == "ltx-video"  # type: ignore[union-attr]
    first = check_presets(builtins, None, offline=False, gpu_gb=None, cpu=True)
    assert first.fetch == ("ltx-video-cpu",)
