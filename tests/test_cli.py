"""`videobot generate` and `videobot models` as a person runs them in a terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.mp4probe import audio_facts, probe


def videobot(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "videobot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "VIDEOBOT_PRESETS": "", **(env or {})},
        timeout=timeout,
    )


def test_generate_writes_a_clip_with_progress_on_stderr(tiny_ltx: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    poster = tmp_path / "clip.png"
    result = videobot(
        "generate",
        "a red car in a neon city",
        "-o",
        str(out),
        "--model",
        str(tiny_ltx),
        "--seconds",
        "3",
        "--aspect",
        "16:9",
        "--seed",
        "42",
        "--steps",
        "3",
        "--poster",
        str(poster),
    )
    assert result.returncode == 0, result.stderr
    assert "3/3" in result.stderr  # the progress bar reached the last step
    assert "seed 42" in result.stdout
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height) == (128, 64)
    assert facts.frames == 73  # 3 s at 24 fps, snapped to 8k + 1
    assert facts.duration == pytest.approx(73 / 24, abs=0.05)
    assert poster.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_high_motion_clip_fits_a_small_limit(tiny_ltx: Path, tmp_path: Path) -> None:
    out = tmp_path / "long.mp4"
    result = videobot(
        "generate",
        "a storm",
        "-o",
        str(out),
        "--model",
        str(tiny_ltx),
        "--seconds",
        "10",
        "--aspect",
        "16:9",
        "--max-bytes",
        "20k",
    )
    assert result.returncode == 0, result.stderr
    facts = probe(out)
    assert facts.size <= 20_000
    assert facts.frames == 241 and facts.duration == pytest.approx(241 / 24, abs=0.05)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["", "--seconds", "2"], "prompt is empty"),
        (["x" * 1200], "1200 characters"),
        (["a cat", "--seconds", "60"], "you asked for 60"),
        (["a cat", "--steps", "500"], "you asked for 500"),
        (["a cat", "--steps", "many"], "invalid int value"),
        (["a cat", "--model", "sora"], "no model called"),
        (["a cat", "--aspect", "4:3"], "does not render 4:3"),
        (["a cat", "--max-bytes", "lots"], "not a size"),
        (["a cat", "--max-bytes", "0"], "more than 0 bytes"),
    ],
)
def test_bad_input_one_line_exit_2_no_file(
    tiny_ltx: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    out = tmp_path / "clip.mp4"
    model = [] if "--model" in args else ["--model", str(tiny_ltx)]
    result = videobot("generate", *args, "-o", str(out), *model)
    assert result.returncode == 2
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_output_paths_are_refused(tiny_ltx: Path, tmp_path: Path) -> None:
    for out, words in [
        (tmp_path / "missing" / "clip.mp4", "does not exist"),
        (tmp_path, "is a folder"),
        (tmp_path / "clip.gif", "must be an .mp4"),
    ]:
        result = videobot("generate", "a cat", "-o", str(out), "--model", str(tiny_ltx))
        assert result.returncode == 2 and words in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_limit_no_clip_can_meet_exits_1_and_leaves_nothing(tiny_ltx: Path, tmp_path: Path) -> None:
    result = videobot(
        "generate", "a cat", "-o", str(tmp_path / "c.mp4"), "--model", str(tiny_ltx), "--max-bytes", "100"
    )
    assert result.returncode == 1 and "cannot be made smaller than 100 bytes" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_generate_starts_from_a_picture(tiny_ltx: Path, tmp_path: Path) -> None:
    picture = tmp_path / "start.jpg"
    y, x = np.mgrid[:120, :200]
    Image.fromarray(np.stack([x, y, x + y], axis=-1).astype(np.uint8)).save(picture, format="JPEG")
    out = tmp_path / "clip.mp4"
    result = videobot(
        "generate", "the picture comes alive", "-o", str(out), "--model", str(tiny_ltx),
        "--image", str(picture), "--aspect", "16:9", "--seconds", "1", "--seed", "5", "--no-audio",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.frames) == (128, 64, 25)  # the plan's size, not the picture's
    assert audio_facts(out) is None


@pytest.mark.parametrize(
    ("picture", "words"),
    [
        ("missing", "does not exist"),
        ("text", "is not a picture that can be read"),
        ("gif", "is a GIF file; give a PNG, JPEG or WebP picture"),
        ("truncated", "is not a picture that can be read"),
    ],
)
def test_a_bad_picture_one_line_exit_2_no_file(
    tiny_ltx: Path, tmp_path: Path, picture: str, words: str
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = inputs / "start.png"
    if picture == "text":
        path.write_text("not a picture")
    elif picture == "gif":
        Image.new("RGB", (32, 32), "red").save(path, format="GIF")
    elif picture == "truncated":
        Image.effect_noise((256, 256), 64).convert("RGB").save(path, format="PNG")
        path.write_bytes(path.read_bytes()[:2000])
    outputs = tmp_path / "out"
    outputs.mkdir()
    result = videobot(
        "generate", "a cat", "-o", str(outputs / "clip.mp4"), "--model", str(tiny_ltx), "--image", str(path)
    )
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(outputs.iterdir()) == []


def test_models_is_a_table_that_says_what_each_preset_does_and_whether_its_weights_are_here(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "hf-cache"
    snapshot = cache / "models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text("0123abcd")
    result = videobot("models", env={"HF_HUB_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == [
        "NAME", "MODEL", "STARTS FROM", "SOUND", "LONGEST", "DEFAULT CLIP", "GPU MEMORY", "WEIGHTS HERE",
    ]  # fmt: skip
    table = lines[1 : lines.index("")]  # the rows, then a blank line and the notes
    rows = {line.split()[0]: line for line in table}
    assert set(rows) == {
        "ltx-video", "ltx-video-distilled", "ltx-video-cpu", "wan-1.3b", "wan-14b", "cogvideox-2b",
        "cogvideox-5b", "ltx-2", "ltx-2-distilled", "ltx-2.3", "ltx-2.3-distilled", "ltx-2.5", "wan-2.2-5b",
    }  # fmt: skip
    assert rows["ltx-video"].startswith("ltx-video *")  # the default
    assert "text, picture, clip" in rows["ltx-video"] and "768×512, 5 s at 24 fps" in rows["ltx-video"]
    assert "no (28.4 GB to fetch)" in rows["ltx-video"] and "20 / 8 GiB" in rows["ltx-video"]
    assert rows["wan-1.3b"].rstrip().endswith("yes")  # in the cache
    assert "  yes  " in rows["ltx-2"]  # sound
    assert "768×512 → HD 1536×1024, 5 s at 24 fps" in rows["ltx-2.5"]  # a draft, finished in HD
    assert rows["ltx-2.5"].startswith("ltx-2.5 (gated)") and "gated" not in rows["ltx-2.3-distilled"]
    assert "6.1-6.1" not in result.stdout


@pytest.mark.parametrize(
    ("models", "words"),
    [
        ([], "no preset has weights on this machine and the default one cannot be fetched"),
        (["--models", "mine"], "no weights for mine: no folder"),
        (["--models", "sora"], "unknown model preset(s): sora"),
    ],
)
def test_a_worker_with_nothing_it_can_load_exits_2_with_one_line(
    tmp_path: Path, models: list[str], words: str
) -> None:
    # the built-in hub presets, none of them downloaded, and a default and a CPU draft (what a CPU
    # worker fetches first) that point at a missing folder
    presets = tmp_path / "presets.json"
    gone = {"base": "ltx-video", "source": str(tmp_path / "gone")}
    presets.write_text(json.dumps({"default": "mine", "mine": gone, "ltx-video-cpu": gone}))
    env = {"HF_HUB_CACHE": str(tmp_path / "empty-cache"), "VIDEOBOT_PRESETS": str(presets)}
    database = str(tmp_path / "videobot.db")
    result = videobot("worker", "--device", "cpu", "--database", database, *models, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "command",
    ["generate", "extend", "bridge", "verify", "models", "download", "worker", "bot", "status", "web", "run"],
)
def test_every_commands_help_shows_its_defaults_and_an_example(command: str) -> None:
    result = videobot(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "\nexample:\n  videobot " in result.stdout or "\nexample:\n  DISCORD_TOKEN=" in result.stdout
    options = [line for line in result.stdout.splitlines() if line.lstrip().startswith("--")]
    assert "(default" in result.stdout or not options, result.stdout


def _gradient(path: Path, width: int, height: int, turn: int = 0) -> Path:
    y, x = np.mgrid[:height, :width]
    Image.fromarray(np.rot90(np.stack([x, y, x + y], axis=-1).astype(np.uint8), turn).copy()).save(path)
    return path


@pytest.mark.parametrize("how", ["first-to-last", "loop"])
def test_generate_ends_on_a_picture_or_loops(tiny_ltx: Path, tmp_path: Path, how: str) -> None:
    start = _gradient(tmp_path / "start.png", 200, 120)
    end = _gradient(tmp_path / "end.jpg", 90, 160, turn=1)
    extra = ["--image", str(start), "--end-image", str(end)] if how == "first-to-last" else ["--loop"]
    out = tmp_path / "clip.mp4"
    result = videobot(
        "generate", "a wave rolls in", "-o", str(out), "--model", str(tiny_ltx), *extra,
        "--aspect", "16:9", "--seconds", "1", "--seed", "5", "--steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    last_step = "4/4" if how == "loop" else "2/2"  # a loop from text renders its first frame first
    assert last_step in result.stderr
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.frames) == (128, 64, 25)
    assert facts.duration == pytest.approx(25 / 24, abs=0.05)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--end-image", "missing.png"], "does not exist"),
        (["--end-image", "end.gif"], "is a GIF file; give a PNG, JPEG or WebP picture"),
        (["--end-image", "end.png", "--loop"], "A loop ends on its own first frame: it takes no end picture"),
        (
            ["--end-image", "end.png", "--model", "wan-2.2-5b"],
            "cannot end on a picture. Models that can: ltx",
        ),
        (["--loop", "--model", "wan-2.2-5b"], "cannot make a loop. Models that can: ltx"),
    ],
)
def test_a_bad_end_picture_or_loop_one_line_exit_2_no_file(
    tiny_ltx: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.new("RGB", (32, 32), "red").save(inputs / "end.gif", format="GIF")
    _gradient(inputs / "end.png", 64, 64)
    outputs = tmp_path / "out"
    outputs.mkdir()
    args = [str(inputs / a) if a.startswith(("missing", "end.")) else a for a in args]
    model = [] if "--model" in args else ["--model", str(tiny_ltx)]
    result = videobot("generate", "a cat", "-o", str(outputs / "clip.mp4"), *model, *args)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(outputs.iterdir()) == []
