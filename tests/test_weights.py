"""Which files of a hub repository a preset's pipeline needs, and `videobot download` against a stand-in
hub: what an operator reads when a repository is gated, missing or unreachable, and a latent upsampler
fetched with its pipeline, from the same repository or another."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from db.presets import PresetCatalog
from generator.availability import find_weights
from generator.weights import FetchError, ensure_weights, format_bytes, pipeline_files, upsampler_files
from tests.hub_fake import FakeHub

BUILTIN = PresetCatalog.load(presets_file="")

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


def test_an_upsampler_is_its_config_and_plain_safetensors_and_never_a_pickle() -> None:
    repo = [
        "model_index.json",
        "latent_upsampler/config.json",
        "latent_upsampler/diffusion_pytorch_model.safetensors",
        "latent_upsampler/diffusion_pytorch_model.bin",
        "latent_upsampler/diffusion_pytorch_model.fp16.safetensors",
        "latent_upsampler/README.md",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    ]
    assert upsampler_files(repo, "latent_upsampler") == [
        "latent_upsampler/config.json",
        "latent_upsampler/diffusion_pytorch_model.safetensors",
    ]
    with pytest.raises(FetchError, match="latent_upsampler/ has no safetensors weights") as pickled:
        upsampler_files(["latent_upsampler/config.json", "latent_upsampler/model.bin"], "latent_upsampler")
    assert not pickled.value.retry
    with pytest.raises(FetchError, match=r"upsampler/ has no config\.json: no latent upsampler there"):
        upsampler_files(repo, "upsampler")


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
            "VIDEOBOT_PRESETS": "",  # the built-in presets unless a test names a file
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_gated_repository_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"model_index.json": json.dumps(_LTX2_INDEX)})
    with FakeHub({"Lightricks/LTX-2": repo}, gated={"Lightricks/LTX-2"}) as hub:
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


# LTX-2.x repositories in miniature, as the hub lays them out: the pipeline's folders (here only its VAE),
# a latent upsampler that model_index.json does not name, and what no worker needs beside them
_LTX2_INDEX = {"_class_name": "LTX2Pipeline", "vae": ["diffusers", "AutoencoderKLLTX2Video"]}
_PIPELINE: dict[str, str | int] = {
    "model_index.json": json.dumps(_LTX2_INDEX),
    "vae/config.json": '{"latent_channels": 128}',
    "vae/diffusion_pytorch_model.safetensors": 40_000,
}
_UPSAMPLER: dict[str, str | int] = {
    "latent_upsampler/config.json": '{"_class_name": "LTX2LatentUpsamplerModel", "mid_channels": 1024}',
    "latent_upsampler/diffusion_pytorch_model.safetensors": 30_000,
}
LTX23 = "diffusers/LTX-2.3-Distilled-Diffusers"
UPSAMPLER_REPO = "dg845/LTX-2.3-Spatial-Upsampler-Diffusers"
LTX25 = "Lightricks/LTX-2.5-Diffusers"


def _repo(folder: Path, files: dict[str, str | int]) -> Path:
    """A folder the stand-in hub serves as a repository: text files, and random bytes of the sizes given."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            path.write_bytes(os.urandom(content))
        else:
            path.write_text(content)
    return folder


def _sizes(repo: Path, names: Iterable[str]) -> int:
    return sum((repo / name).stat().st_size for name in names)


@pytest.fixture
def ltx_repos(tmp_path: Path) -> dict[str, Path]:
    """LTX-2.3 distilled without an upsampler of its own; dg845's upsample pipeline (an upsampler beside
    a VAE the pipeline already has, and a pickled copy); LTX-2.5 with its upsampler inside, its full
    transformer outside the index and a LoRA at the root."""
    root = tmp_path / "hub"
    upsample_pipeline: dict[str, str | int] = {
        "model_index.json": '{"_class_name": "LTX2LatentUpsamplePipeline"}',
        **_UPSAMPLER,
        "latent_upsampler/diffusion_pytorch_model.bin": 30_000,
        "vae/config.json": "{}",
        "vae/diffusion_pytorch_model.safetensors": 50_000,
    }
    ltx25: dict[str, str | int] = {
        **_PIPELINE,
        **_UPSAMPLER,
        "transformer_full/config.json": "{}",
        "transformer_full/diffusion_pytorch_model.safetensors": 60_000,
        "ltx-2.5-22b-distilled-lora-450-bf16.safetensors": 20_000,
    }
    return {
        LTX23: _repo(root / "ltx23", _PIPELINE),
        UPSAMPLER_REPO: _repo(root / "upsampler", upsample_pipeline),
        LTX25: _repo(root / "ltx25", ltx25),
    }


def test_download_fetches_an_upsampler_from_its_own_repository_and_counts_it_in_the_size(
    tmp_path: Path, ltx_repos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeHub(ltx_repos) as hub:
        done = download(hub, tmp_path, "ltx-2.3-distilled")
        assert done.returncode == 0, done.stderr
        # only the upsampler's config and weights: not the upsample pipeline's own VAE, not the pickle
        assert sorted(hub.fetched(UPSAMPLER_REPO)) == sorted(_UPSAMPLER)
        assert sorted(hub.fetched(LTX23)) == sorted(_PIPELINE)
        total = _sizes(ltx_repos[LTX23], _PIPELINE) + _sizes(ltx_repos[UPSAMPLER_REPO], _UPSAMPLER)
        assert done.stderr.splitlines()[0].startswith(
            f"ltx-2.3-distilled: fetching {format_bytes(total)} of {LTX23} and {UPSAMPLER_REPO} (5 files; "
        )
        again = download(hub, tmp_path, "ltx-2.3-distilled")
        assert again.stderr == f"ltx-2.3-distilled: weights already here ({total / 1e9:.1f} GB)\n"

        # a worker on this machine serves it; without the upsampler's weights it fetches them again
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
        preset = BUILTIN.get("ltx-2.3-distilled")
        assert preset is not None and find_weights(preset).found
        snapshot = tmp_path / "hf-cache" / "models--dg845--LTX-2.3-Spatial-Upsampler-Diffusers" / "snapshots"
        weights = next(snapshot.glob("*/latent_upsampler/diffusion_pytorch_model.safetensors"))
        weights.resolve().unlink()
        weights.unlink()
        lacking = find_weights(preset)
        assert (lacking.found, lacking.where, lacking.downloadable) == (
            False,
            "its latent upsampler is not on this machine",
            True,
        )
        before = len(hub.fetched(UPSAMPLER_REPO))
        assert download(hub, tmp_path, "ltx-2.3-distilled").returncode == 0
        assert hub.fetched(UPSAMPLER_REPO)[before:] == [
            "latent_upsampler/diffusion_pytorch_model.safetensors"
        ]
    assert find_weights(preset).found


def test_download_of_ltx_2_5_takes_its_upsampler_folder_and_leaves_what_it_does_not_load(
    tmp_path: Path, ltx_repos: dict[str, Path]
) -> None:
    with FakeHub(ltx_repos) as hub:  # a token whose account accepted the license: the files are served
        done = download(hub, tmp_path, "ltx-2.5")
    assert done.returncode == 0, done.stderr
    assert sorted(hub.fetched(LTX25)) == sorted({**_PIPELINE, **_UPSAMPLER})
    total = _sizes(ltx_repos[LTX25], {**_PIPELINE, **_UPSAMPLER})
    assert done.stderr.splitlines()[0].startswith(
        f"ltx-2.5: fetching {format_bytes(total)} of {LTX25} (5 files; "
    )


@pytest.mark.parametrize(
    ("preset", "gated"),
    [("ltx-2.5", LTX25), ("ltx-2.3-distilled", UPSAMPLER_REPO)],
)
def test_a_gated_pipeline_or_upsampler_repository_is_named_in_one_line(
    tmp_path: Path, ltx_repos: dict[str, Path], preset: str, gated: str
) -> None:
    with FakeHub(ltx_repos, gated={gated}) as hub:
        done = download(hub, tmp_path, preset)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"videobot download: {preset}: {gated} is gated: accept its license at "
        f"https://huggingface.co/{gated} and set HF_TOKEN to a token of that account"
    )
    assert hub.fetched(gated) == []


def test_a_worker_named_a_gated_preset_exits_with_one_line_that_says_what_to_do(
    tmp_path: Path, ltx_repos: dict[str, Path]
) -> None:
    with FakeHub(ltx_repos, gated={LTX25}) as hub:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "videobot", "worker", "--device", "cpu", "--models", "ltx-2.5"),
                *("--database", str(tmp_path / "videobot.db")),
            ],
            env={
                **os.environ,
                "HF_ENDPOINT": hub.url,
                "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
                "HF_HUB_OFFLINE": "0",
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_TOKEN": "",
                "VIDEOBOT_PRESETS": "",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    told = [line for line in done.stderr.splitlines() if "gated" in line or "HF_TOKEN" in line]
    assert told == [
        f"videobot worker: error: ltx-2.5: {LTX25} is gated: accept its license at "
        f"https://huggingface.co/{LTX25} and set HF_TOKEN to a token of that account"
    ]


async def test_offline_a_worker_waiting_for_a_gated_preset_says_first_what_the_license_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    preset = BUILTIN.get("ltx-2.5")
    assert preset is not None and preset.gated
    out = io.StringIO()
    stop = asyncio.Event()
    notes: list[str] = []

    async def set_note(text: str) -> None:
        notes.append(text)
        stop.set()  # told once: enough

    assert not await ensure_weights([preset], stop=stop, set_note=set_note, out=out, poll_s=0.01)
    assert out.getvalue() == (
        f"ltx-2.5 (LTX-2.5 22B distilled) has no weights here and HF_HUB_OFFLINE=1 forbids fetching them: "
        f"fetch them with `videobot download ltx-2.5` (size said once the hub answers, into {cache}); first, "
        f"{LTX25} is gated: accept its license at https://huggingface.co/{LTX25} and set HF_TOKEN to a token "
        "of that account; this worker starts once they are there\n"
    )
    assert notes == ["waiting for the weights of ltx-2.5 (HF_HUB_OFFLINE=1)"]


def test_a_local_pipeline_folder_still_gets_its_upsampler_from_the_hub(
    tmp_path: Path, ltx_repos: dict[str, Path]
) -> None:
    local = _repo(tmp_path / "models" / "ltx-2.3-distilled", _PIPELINE)
    presets = tmp_path / "presets.json"
    presets.write_text(json.dumps({"ltx-2.3-distilled": {"source": str(local)}}))
    with FakeHub(ltx_repos) as hub:
        done = download(hub, tmp_path, "ltx-2.3-distilled", VIDEOBOT_PRESETS=str(presets))
        again = download(hub, tmp_path, "ltx-2.3-distilled", VIDEOBOT_PRESETS=str(presets))
    assert done.returncode == 0, done.stderr
    assert sorted(hub.fetched(UPSAMPLER_REPO)) == sorted(_UPSAMPLER) and hub.fetched(LTX23) == []
    size = format_bytes(_sizes(ltx_repos[UPSAMPLER_REPO], _UPSAMPLER))
    assert done.stderr.splitlines()[0].startswith(
        f"ltx-2.3-distilled: fetching {size} of {UPSAMPLER_REPO} (2 files; "
    )
    assert again.stderr == f"ltx-2.3-distilled: local folder {local}; nothing to fetch\n"
