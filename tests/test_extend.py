"""Extend: a clip continued from its last frames, posted whole, as a member brings it or the bot made it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from db.presets import PresetCatalog
from db.spec import JobSpec
from generator.clipio import probe as clip_info
from generator.clipio import read_frames
from generator.encode import encode_mp4
from generator.extend import extend_clip
from generator.loader import PipelineCache
from tests.mp4probe import (
    audio_facts,
    decode_audio,
    decode_frames,
    dominant_frequency,
    make_clip,
    probe,
    psnr,
)
from tests.test_cli import videobot
from tests.test_encode import noise_clip, tone
from tests.tiny_models import preset_entry

CATALOG = PresetCatalog.load(presets_file="")


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip the bot did not make: ffmpeg's own moving test pattern, 256×160 at 24 fps for 2 s, with a
    440 Hz tone."""
    return make_clip(tmp_path_factory.mktemp("parent") / "parent.mp4", size=(256, 160), fps="24", seconds=2)


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


def test_extend_continues_a_clip_the_bot_did_not_make(tiny_ltx: Path, parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "longer.mp4"
    result = videobot(
        "extend", str(parent), "the pattern keeps turning", "-o", str(out),
        "--model", str(tiny_ltx), "--seconds", "1", "--seed", "7", "--steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and "seed 7" in result.stdout
    assert "2/2" in result.stderr  # the progress bar reached the last step
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.fps) == (256, 160, 24)  # the parent's size and rate
    assert abs(facts.frames - 48 - 24) <= 8  # two seconds, then about one more (in the model's 8-frame steps)
    assert facts.duration == pytest.approx(facts.frames / 24, abs=1 / 24)

    # the first two seconds are the parent, as good as an encode of it can be
    first = decode_frames(out)[:48]
    quality = psnr(first, decode_frames(parent))
    print(f"PSNR of the stitched clip's first part against the parent: {quality:.1f} dB")
    assert quality >= 35

    # the parent's sound plays under its part; the continuation (a model without sound) is silent
    sound = audio_facts(out)
    assert sound is not None and sound.codec == "aac"
    assert sound.duration == pytest.approx(facts.duration, abs=1 / 24)
    samples = decode_audio(out)
    assert dominant_frequency(samples[: 2 * 48000 - 2400], 48000) == pytest.approx(440, abs=5)
    assert np.abs(samples[2 * 48000 + 2400 :]).max() < 0.02


def test_a_portrait_clip_stays_portrait_at_its_own_rate(
    tiny_ltx: Path, cache: PipelineCache, tmp_path: Path
) -> None:
    """The continuation is rendered at the model's nearest aspect and rate, then cut to the parent's
    shape and shown at its rate; a silent parent with a silent model gives a clip without sound."""
    parent = make_clip(tmp_path / "portrait.mp4", size=(90, 160), fps="12", seconds=2, tone=None)
    spec = JobSpec("more of the same", model=str(tiny_ltx), seconds=1, steps=1, seed=3)
    result = extend_clip(parent, spec, tmp_path / "out.mp4", cache=cache, catalog=CATALOG)
    assert result.plan.spec.aspect == "9:16"
    facts = probe(result.clip.path)
    assert (facts.width, facts.height, facts.fps) == (90, 160, 12)
    assert result.parent_frames == 24
    assert result.new_frames == pytest.approx(result.plan.num_frames * 12 / 24, abs=1)
    assert facts.frames == 24 + result.new_frames
    assert facts.duration == pytest.approx(2 + result.new_seconds, abs=1 / 12)
    assert audio_facts(result.clip.path) is None and not result.has_audio
    assert clip_info(parent).frames == 24  # the parent is untouched


def test_an_extend_copies_the_stream_of_a_parent_the_bot_made(
    tiny_ltx: Path, cache: PipelineCache, tmp_path: Path
) -> None:
    """No generation loss: the parent's frames come back bit for bit, only the continuation is encoded."""
    parent = encode_mp4(noise_clip(24, 96, 128), 24, tmp_path / "parent.mp4", audio=tone(1.0, 440)).path
    spec = JobSpec("more noise", model=str(tiny_ltx), seconds=1, steps=1, seed=5)
    result = extend_clip(parent, spec, tmp_path / "out.mp4", 2_000_000, cache=cache, catalog=CATALOG)
    assert result.copied and result.parent_frames == 24 and result.has_audio
    assert np.array_equal(read_frames(result.clip.path)[0][:24], read_frames(parent)[0])
    facts = probe(result.clip.path)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.frames) == (128, 96, 24 + result.new_frames)
    assert facts.duration == pytest.approx(1 + result.new_seconds, abs=1 / 24)
    assert facts.size <= 2_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "parent.mp4"]


@pytest.mark.parametrize("max_bytes", [150_000, 40_000])
def test_the_longer_clip_never_exceeds_the_limit(
    tiny_ltx: Path, cache: PipelineCache, parent: Path, tmp_path: Path, max_bytes: int
) -> None:
    spec = JobSpec("more", model=str(tiny_ltx), seconds=1, steps=1, seed=1)
    result = extend_clip(parent, spec, tmp_path / "out.mp4", max_bytes, cache=cache, catalog=CATALOG)
    assert not result.copied  # ffmpeg's own x264 settings: its headers cannot be matched
    assert (tmp_path / "out.mp4").stat().st_size <= max_bytes
    sound = audio_facts(tmp_path / "out.mp4")
    assert sound is not None and sound.duration == pytest.approx(result.clip.duration, abs=1 / 24)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@pytest.fixture
def text_only_presets(tiny_ltx: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    presets = {"default": "tiny-text", "tiny-text": preset_entry("ltx-video", tiny_ltx, modes=["text"])}
    path = tmp_path_factory.mktemp("config") / "presets.json"
    path.write_text(json.dumps(presets))
    return path


@pytest.mark.parametrize(
    ("clip", "args", "words"),
    [
        ("text", [], "is not a video ffmpeg can read"),
        ("missing", [], "does not exist"),
        ("picture", [], "is a picture, not a video"),
        ("good", ["--model", "tiny-text"], "cannot continue a clip"),
        ("good", ["--seconds", "60"], "you asked for 60"),
        ("good", ["--max-bytes", "0"], "more than 0 bytes"),
    ],
)
def test_bad_input_for_extend_one_line_exit_2_nothing_written(
    tiny_ltx: Path,
    parent: Path,
    text_only_presets: Path,
    tmp_path: Path,
    clip: str,
    args: list[str],
    words: str,
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    given = {"good": parent, "missing": inputs / "gone.mp4"}.get(clip, inputs / "clip.mp4")
    if clip == "text":
        given.write_text("not a video\n")
    elif clip == "picture":
        Image.new("RGB", (32, 32), "blue").save(given, format="PNG")
    outputs = tmp_path / "out"
    outputs.mkdir()
    model = [] if "--model" in args else ["--model", str(tiny_ltx)]
    env = {"VIDEOBOT_PRESETS": str(text_only_presets)}
    result = videobot("extend", str(given), "more", "-o", str(outputs / "longer.mp4"), *model, *args, env=env)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(outputs.iterdir()) == []
