"""The encoder's promise: an mp4 Discord plays inline, never over the limit it was given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.encode import EncodeError, bitrate_for, encode_attempts, encode_mp4, write_poster
from tests.mp4probe import decode_frames, probe


def gradient_clip(frames: int, height: int, width: int) -> np.ndarray:
    x = np.linspace(0, 1, width)[None, None, :, None]
    t = np.arange(frames)[:, None, None, None]
    wave = np.sin(x * 12 + t * 0.3) * 0.5 + 0.5
    return (wave * np.array([255, 180, 90]) * np.ones((1, height, 1, 1))).astype(np.uint8)


def noise_clip(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """The hardest case for a size limit: every pixel changes every frame."""
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def test_clip_plays_inline_on_discord(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    clip = encode_mp4(gradient_clip(49, 64, 96), 24, out)
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt) == ("h264", "yuv420p")
    assert facts.faststart, facts.top_level_boxes
    assert (facts.width, facts.height, facts.frames) == (96, 64, 49)
    assert facts.fps == 24
    assert facts.duration == pytest.approx(49 / 24, abs=0.05)
    assert facts.size == clip.bytes == out.stat().st_size


def test_odd_dimensions_become_even(tmp_path: Path) -> None:
    out = tmp_path / "odd.mp4"
    encode_mp4(gradient_clip(9, 33, 47), 8, out)
    facts = probe(out)
    assert (facts.width, facts.height) == (46, 32)


def test_float_frames_from_a_pipeline_are_accepted(tmp_path: Path) -> None:
    frames = gradient_clip(9, 32, 32).astype(np.float32) / 255.0
    encode_mp4(frames[None], 8, tmp_path / "f.mp4")  # (batch, frames, h, w, c) as diffusers returns
    decoded = decode_frames(tmp_path / "f.mp4")
    assert decoded.shape == (9, 32, 32, 3)
    assert np.abs(decoded.astype(int) - gradient_clip(9, 32, 32).astype(int)).mean() < 6


@pytest.mark.parametrize("max_bytes", [400_000, 120_000, 40_000])
def test_high_motion_clip_never_exceeds_the_limit(tmp_path: Path, max_bytes: int) -> None:
    out = tmp_path / "noise.mp4"
    clip = encode_mp4(noise_clip(97, 128, 192), 24, out, max_bytes=max_bytes)
    facts = probe(out)
    assert facts.size <= max_bytes
    assert facts.frames == 97  # the length is kept; quality and size give way
    assert facts.duration == pytest.approx(97 / 24, abs=0.05)
    assert (facts.codec, facts.pix_fmt) == ("h264", "yuv420p") and facts.faststart
    assert facts.width % 2 == 0 and facts.height % 2 == 0
    assert (clip.width, clip.height) == (facts.width, facts.height)


def test_a_tight_limit_steps_down_the_resolution(tmp_path: Path) -> None:
    out = tmp_path / "tight.mp4"
    clip = encode_mp4(noise_clip(97, 128, 192), 24, out, max_bytes=12_000)
    assert out.stat().st_size <= 12_000
    assert clip.width < 192 and clip.height < 128
    assert clip.width / clip.height == pytest.approx(1.5, rel=0.1)


def test_an_impossible_limit_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "never.mp4"
    with pytest.raises(EncodeError, match="cannot be made smaller"):
        encode_mp4(noise_clip(97, 128, 192), 24, out, max_bytes=5_000)
    assert list(tmp_path.iterdir()) == []


def test_bitrate_fills_the_limit_over_the_duration() -> None:
    ten_mib = 10 * 1024 * 1024
    five_seconds = bitrate_for(ten_mib, 121, 24)
    ten_seconds = bitrate_for(ten_mib, 241, 24)
    assert 10_000_000 < five_seconds < 16_800_000  # 10 MiB over 5 s is 16.8 Mb/s before overheads
    assert ten_seconds < five_seconds * 0.6
    assert bitrate_for(1000, 121, 24) == 0


def test_attempts_go_from_best_to_smallest() -> None:
    attempts = list(encode_attempts(768, 512, 121, 24, 1_000_000))
    assert attempts[0][:2] == (768, 512)
    pixels = [w * h for w, h, _ in attempts]
    assert pixels == sorted(pixels, reverse=True)
    assert all(w % 2 == 0 and h % 2 == 0 for w, h, _ in attempts)
    rates_at_full = [r for w, h, r in attempts if (w, h) == (768, 512)]
    assert rates_at_full == sorted(rates_at_full, reverse=True)


def test_poster_is_the_middle_frame(tmp_path: Path) -> None:
    frames = gradient_clip(9, 32, 48)
    poster = write_poster(frames, tmp_path / "poster.png")
    with Image.open(poster) as image:
        assert image.format == "PNG" and image.size == (48, 32)
        assert np.array_equal(np.asarray(image.convert("RGB")), frames[4])
