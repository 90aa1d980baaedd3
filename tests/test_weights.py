"""Which files of a hub repository a preset's pipeline needs, and `videobot download` against a stand-in
hub: what an operator reads when a repository is gated, missing or unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.weights import FetchError, format_bytes, pipeline_files
from tests.hub_fake import FakeHub

LTX_INDEX = {
    "_class_name": "LTXPipeline",
    "_diffusers_version": "0.32.0",
    "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
    "text_encoder": ["transformers", "T5EncoderModel"],
    "tokenizer": ["transformers", "T5Tokenizer"],
    "transformer": ["diffusers", "LTXVideoTransformer3DModel"],
    "vae": ["diffusers", "AutoencoderKLLTXVideo"],
}
# the layout of Lightricks/LTX-Video: the diffusers folders, and a checkpoint of every release at the root
LTX_REPO = [
    ".gitattributes",
    "README.md",
    "License.txt",
    "model_index.json",
    "ltx-video-2b-v0.9.safetensors",
    "ltx-video-2b-v0.9.1.safetensors",
    "ltxv-13b-0.9.7-dev.safetensors",
    "media/trailer.gif",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model-00001-of-00004.safetensors",
    "text_encoder/model-00002-of-00004.safetensors",
    "text_encoder/model-00003-of-00004.safetensors",
    "text_encoder/model-00004-of-00004.safetensors",
    "text_encoder/model.safetensors.index.json",
    "tokenizer/added_tokens.json",
    "tokenizer/special_tokens_map.json",
    "tokenizer/spiece.model",
    "tokenizer/tokenizer_config.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
    "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
    "transformer/diffusion_pytorch_model.safetensors.index.json",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
]


def test_only_the_pipelines_folders_and_the_small_root_files_are_fetched() -> None:
    chosen = pipeline_files(LTX_INDEX, LTX_REPO)
    assert not any(name.startswith(("ltx", "media/")) for name in chosen)
    assert set(chosen) == {name for name in LTX_REPO if not name.startswith(("ltx", "media/"))}


def test_pickled_weights_and_variants_beside_plain_safetensors_are_left_out() -> None:
    repo = [
        "model_index.json",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.bin",
        "vae/diffusion_pytorch_model.fp16.safetensors",
        "vae/diffusion_pytorch_model.onnx",
    ]
    index = {"_class_name": "X", "vae": ["diffusers", "AutoencoderKL"]}
    assert pipeline_files(index, repo) == [
        "model_index.json",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    ]


def test_a_component_with_only_a_variant_takes_the_variant() -> None:
    index = {"_class_name": "X", "vae": ["diffusers", "AutoencoderKL"]}
    repo = ["model_index.json", "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors"]
    assert "vae/diffusion_pytorch_model.fp16.safetensors" in pipeline_files(index, repo)


def test_a_component_with_only_pickled_weights_is_refused_not_unpickled() -> None:
    index = {"_class_name": "X", "unet": ["diffusers", "UNet2DConditionModel"], "scheduler": [None, None]}
    with pytest.raises(FetchError, match="unet/ has no safetensors weights") as refused:
        pipeline_files(index, ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.bin"])
    assert not refused.value.retry


@pytest.mark.parametrize(
    ("count", "text"),
    [(28_430_000_000, "28.4 GB"), (542_000, "542 kB"), (407, "407 bytes"), (3.2e6, "3.2 MB")],
)
def test_sizes_read_as_download_sizes_do(count: float, text: str) -> None:
    assert format_bytes(count) == text


def download(hub: FakeHub, tmp_path: Path, *names: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "videobot", "download", *names],
        env={
            **os.environ,
            "HF_ENDPOINT": hub.url,
            "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
            "HF_HUB_OFFLINE": "0",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_gated_repository_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    with FakeHub({"Lightricks/LTX-2": tmp_path / "repo"}, gated={"Lightricks/LTX-2"}) as hub:
        done = download(hub, tmp_path, "ltx-2")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "videobot download: ltx-2: Lightricks/LTX-2 is gated: accept its license at "
        "https://huggingface.co/Lightricks/LTX-2 and set HF_TOKEN to a token of that account"
    )


def test_an_unreachable_hub_and_an_unknown_preset_are_one_line_each(tmp_path: Path) -> None:
    with FakeHub({}) as hub:
        url = hub.url
    done = download(FakeHub({}, url=url), tmp_path, "ltx-video")  # nothing listens there any more
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(
        f"videobot download: ltx-video: cannot reach {url} to fetch Lightricks/LTX-Video"
    )
    with FakeHub({}) as hub:
        unknown = download(hub, tmp_path, "sora")
        offline = download(hub, tmp_path, "ltx-video", HF_HUB_OFFLINE="1")
    assert unknown.returncode == 2
    assert (
        unknown.stderr == "videobot download: error: unknown model preset(s): sora; see `videobot models`\n"
    )
    assert offline.returncode == 2 and "HF_HUB_OFFLINE=1 forbids fetching" in offline.stderr
