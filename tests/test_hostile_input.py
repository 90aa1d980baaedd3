"""Hostile input, through the spec API (a presets file, the job store or a web form) and the command line:
each gets a short reason, nothing is rendered and no file is left."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from db.presets import PresetCatalog
from db.spec import JobSpec, SpecError, clean_prompt, resolve_spec


@pytest.fixture(scope="module")
def catalog() -> PresetCatalog:
    return PresetCatalog.load(presets_file="")


def refusal(spec: JobSpec, catalog: PresetCatalog, limit: int = 200) -> SpecError:
    with pytest.raises(SpecError) as caught:
        resolve_spec(spec, catalog)
    assert len(str(caught.value)) < limit  # one short sentence
    return caught.value


# == the spec API ==================================================================================


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        (JobSpec("cat", seed=True), "not_whole_number", "seed must be a whole number; you gave True"),
        (JobSpec("cat", seed=2.5), "not_whole_number", "seed must be a whole number; you gave 2.5"),  # type: ignore[arg-type]
        (JobSpec("cat", steps=2.5), "not_whole_number", "steps must be a whole number"),  # type: ignore[arg-type]
        (JobSpec("cat", steps=True), "not_whole_number", "steps must be a whole number"),
        (JobSpec("cat", fps=8.5), "not_whole_number", "fps must be a whole number"),  # type: ignore[arg-type]
        (JobSpec("cat", seconds="1"), "not_a_number", "seconds must be a number; you gave '1'"),  # type: ignore[arg-type]
        (JobSpec("cat", guidance="high"), "not_a_number", "guidance must be a number"),  # type: ignore[arg-type]
        (JobSpec("cat", seconds=False), "not_a_number", "seconds must be a number"),
        (JobSpec(None), "not_text", "prompt must be text"),  # type: ignore[arg-type]
        (JobSpec("cat", model=3), "not_text", "model must be text"),  # type: ignore[arg-type]
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_value_of_the_wrong_type_is_refused_by_name(
    catalog: PresetCatalog, spec: JobSpec, code: str, words: str
) -> None:
    refused = refusal(spec, catalog)
    assert refused.code == code
    assert words in str(refused)


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (JobSpec("a cat \udcff on a beach"), "prompt_not_utf8"),
        (JobSpec("a cat", negative_prompt="blur\udcfe"), "negative_not_utf8"),
    ],
    ids=["prompt", "negative"],
)
def test_text_that_was_no_utf8_is_refused(catalog: PresetCatalog, spec: JobSpec, code: str) -> None:
    refused = refusal(spec, catalog)
    assert refused.code == code
    assert "not valid UTF-8" in str(refused)


@pytest.mark.parametrize(
    "prompt",
    [
        "\u200b\u200c\u200d\u2060\ufeff",
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        "\u0301\u0302\u0303\u20dd",
        "\x00\x00\x00",
        "\x01\x07\x1b\x7f\x85\x9b\x1f",
        "\u3164 \u2800 \u115f",  # Hangul and Braille fillers: a "blank name" trick
        " \n\t\u200b \u202e \u0301 ",
    ],
    ids=["zero-width", "bidi", "combining-only", "nul", "controls", "fillers", "mixed"],
)
def test_a_prompt_with_nothing_visible_is_empty(catalog: PresetCatalog, prompt: str) -> None:
    assert refusal(JobSpec(prompt), catalog).code == "prompt_empty"


@pytest.mark.parametrize(
    "prompt",
    [
        "Eine Katze am Strand, größer als üblich, im Abendlicht",
        "a family 👨\u200d👩\u200d👧 dancing ❤️\u200d🔥 under a 🏴\U000e0067\U000e0062\U000e0073\U000e0063"
        "\U000e0074\U000e007f flag 👍🏽",
        "夕暮れの東京、ネオンの街を歩く猫",
        "Tiếng Việt: một con mèo trên bãi biển · हिन्दी में बिल्ली",
    ],
    ids=["german", "emoji", "cjk", "vietnamese-hindi"],
)
def test_a_normal_prompt_passes_through_unchanged(catalog: PresetCatalog, prompt: str) -> None:
    assert clean_prompt(prompt) == prompt
    assert resolve_spec(JobSpec(prompt), catalog).spec.prompt == prompt


def test_zalgo_text_keeps_only_a_few_marks_per_letter(catalog: PresetCatalog) -> None:
    zalgo = "Z" + "\u0301\u0316" * 25 + "a" + "\u0336" * 50 + "lgo"
    prompt = resolve_spec(JobSpec(zalgo), catalog).spec.prompt
    assert prompt.startswith("Z\u0301\u0316") and prompt.endswith("lgo")
    assert len(prompt) <= len("Zalgo") * 5


def test_controls_bidi_and_line_breaks_are_cleaned_out_of_both_prompts(catalog: PresetCatalog) -> None:
    spec = JobSpec(
        "a\x00 red\u202e car\u200b\n\nin\tthe\r\nrain\x1b",
        negative_prompt="\u2066blur\u2069\x00,\n\n  text",
    )
    resolved = resolve_spec(spec, catalog).spec
    assert resolved.prompt == "a red car in the rain"
    assert resolved.negative_prompt == "blur, text"


def test_a_negative_prompt_with_nothing_visible_is_no_negative_prompt(catalog: PresetCatalog) -> None:
    assert (
        resolve_spec(JobSpec("cat", negative_prompt="\u200b\u202e\x00"), catalog).spec.negative_prompt == ""
    )


def test_the_prompt_limit_counts_what_is_left_after_cleaning(catalog: PresetCatalog) -> None:
    assert resolve_spec(JobSpec("x" * 1000), catalog).spec.prompt == "x" * 1000  # exactly at the limit
    assert refusal(JobSpec("x" * 1001), catalog).code == "prompt_too_long"
    padded = "x" * 1000 + "\u200b" * 5000  # invisible padding is not counted, nor kept
    assert resolve_spec(JobSpec(padded), catalog).spec.prompt == "x" * 1000
    assert resolve_spec(JobSpec("cat", negative_prompt="y" * 500), catalog).spec.negative_prompt == "y" * 500


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"seconds": -3}, "seconds_out_of_range"),
        ({"seconds": math.inf}, "seconds_out_of_range"),
        ({"seconds": -math.inf}, "seconds_out_of_range"),
        ({"guidance": math.nan}, "guidance_out_of_range"),
        ({"guidance": math.inf}, "guidance_out_of_range"),
        ({"steps": 10**9}, "steps_out_of_range"),
        ({"steps": -5}, "steps_out_of_range"),
        ({"fps": 0}, "fps_out_of_range"),
        ({"seed": 2**64}, "seed_out_of_range"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_number_out_of_range_is_refused(catalog: PresetCatalog, fields: dict[str, Any], code: str) -> None:
    assert refusal(JobSpec("cat", **fields), catalog).code == code


@pytest.mark.parametrize("model", ["a" * 300, "ltx\x00video", "/" + "d/" * 3000], ids=["long", "nul", "deep"])
def test_a_model_name_no_file_system_takes_is_an_unknown_model(catalog: PresetCatalog, model: str) -> None:
    plain = refusal(JobSpec("cat", model="sora"), catalog, limit=1000)
    refused = refusal(JobSpec("cat", model=model), catalog, limit=len(str(plain)) + 40)
    assert refused.code == "unknown_model"
    assert "ltx-video" in str(refused)  # the choices, in a sentence only a little longer than for "sora"


# == the command line =============================================================================


def videobot(*args: str | bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "videobot", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "VIDEOBOT_PRESETS": "", "HF_HUB_OFFLINE": "1", **(env or {})},
        timeout=120,
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def folder_model(root: Path, kind: str) -> Path:
    folder = root / "model"
    folder.mkdir()
    if kind == "list-index":
        (folder / "model_index.json").write_text("[]")
    else:
        (folder / "model_index.json").write_text(json.dumps({"_class_name": "LTXPipeline"}))
        (folder / "videobot.json").write_text(json.dumps({"fps": "fast"}))
    return folder


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["a cat", "--model", "a" * 300], "There is no model called"),
        (["a cat", "--model", "list-index"], "names no pipeline class"),
        (["a cat", "--model", "fps-fast"], "fps must be a whole number"),
        (["a cat", "--device", "bogus"], "is no device: give cpu, cuda, cuda:N or mps"),
        (["a cat", "--device", "cuda:99"], "CUDA GPU"),
        ([b"a cat \xff\xfe"], "not valid UTF-8"),
        (["\u200b\u200d\u202e\u0301"], "prompt is empty"),
        (["a cat", "--seed", "-1"], "from 0 to 4294967295"),
    ],
    ids=[
        "long-model",
        "index-list",
        "fps-fast",
        "device-bogus",
        "device-absent",
        "not-utf8",
        "invisible",
        "seed",
    ],
)
def test_generate_refuses_hostile_input_in_one_line(
    tmp_path: Path, args: list[str | bytes], words: str
) -> None:
    if "--model" in args and args[args.index("--model") + 1] in ("list-index", "fps-fast"):
        args[args.index("--model") + 1] = str(folder_model(tmp_path, str(args[args.index("--model") + 1])))
    outputs = tmp_path / "out"
    outputs.mkdir()
    one_line_exit_2(videobot("generate", *args, "-o", str(outputs / "clip.mp4")), words)
    assert list(outputs.iterdir()) == []


@pytest.mark.skipif(_cuda_count() > 0, reason="this machine has a CUDA GPU")
def test_generate_on_cuda_without_a_gpu_says_so_before_loading(tmp_path: Path) -> None:
    result = videobot("generate", "a cat", "--device", "cuda", "-o", str(tmp_path / "clip.mp4"))
    one_line_exit_2(result, "--device cuda: this machine has no CUDA GPU (try --device cpu)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["long-name", "under-a-file"])
def test_generate_refuses_an_output_no_file_can_be_written_to(tmp_path: Path, where: str) -> None:
    (tmp_path / "notes.txt").write_text("a file\n")
    out = tmp_path / ("c" * 300 + ".mp4") if where == "long-name" else tmp_path / "notes.txt" / "clip.mp4"
    words = "cannot be a file name" if where == "long-name" else "is a file, not a folder"
    one_line_exit_2(videobot("generate", "a cat", "-o", str(out)), words)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("clip", "output", "words"),
    [
        ("folder", "out/longer.mp4", "is not a file"),
        ("/dev/null", "out/longer.mp4", "is not a file"),
        ("clip.mp4", "missing/longer.mp4", "the folder"),
        ("clip.mp4", "out", "is a folder"),
    ],
    ids=["clip-folder", "clip-dev-null", "output-missing-folder", "output-folder"],
)
def test_extend_refuses_what_is_no_clip_or_no_place_for_one(
    tmp_path: Path, clip: str, output: str, words: str
) -> None:
    from tests.mp4probe import make_clip

    (tmp_path / "out").mkdir()
    (tmp_path / "folder").mkdir()
    if clip == "clip.mp4":
        make_clip(tmp_path / "clip.mp4", size=(64, 64), fps="24", seconds=1)
    given = clip if clip.startswith("/") else str(tmp_path / clip)
    result = videobot("extend", given, "more", "-o", str(tmp_path / output))
    one_line_exit_2(result, words)
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "missing").exists()
