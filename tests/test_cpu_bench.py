"""bench/cpu.py with the tiny configs: the CPU draft's benchmark writes the pipeline as the hub holds it
(T5 in float32 shards, the transformer as one original-layout file) and renders it through the worker's
own loader, so it cannot rot unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import cpu


def test_the_cpu_bench_builds_the_hub_layout_and_times_a_whole_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cpu.main(["--small", "--dir", str(tmp_path), "--steps", "3"]) == 0
    index = json.loads((tmp_path / "pipeline" / "text_encoder" / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == {"model-00001-of-00001.safetensors"}
    assert (tmp_path / "transformer.safetensors").is_file()
    assert not (tmp_path / "pipeline" / "transformer" / "diffusion_pytorch_model.safetensors").exists()
    printed = dict(
        line.strip().split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line
    )
    assert printed["clip"] == "96x64, 25 frames, 3 steps"
    assert printed["frames"] == "[25, 64, 96, 3]"
    assert float(printed["clip_s"]) >= float(printed["step_s"]) and float(printed["peak_rss_gib"]) > 0
