"""The encoder's promise: an mp4 Discord plays inline, never over the limit it was given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.encode import (
    EncodeError,
    audio_bitrate_for,
    bitrate_for,
    encode_attempts,
    encode_mp4,
    h264_level,
    write_poster,
)
from generator.join import read_track
from tests.mp4probe import audio_facts, decode_audio, decode_frames, dominant_frequency, probe


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


def test_every_clip_of_one_size_and_rate_has_the_same_stream_headers(tmp_path: Path) -> None:
    """Whatever the limit (so the bitrate and x264's quality), the SPS and PPS are the same: a later join
    can copy the stream and encode only what follows (generator/join.py)."""
    generous = encode_mp4(noise_clip(12, 64, 96), 24, tmp_path / "a.mp4", 10 * 1024 * 1024)
    tight = encode_mp4(noise_clip(6, 64, 96, seed=1), 24, tmp_path / "b.mp4", 40_000)
    assert (tight.width, tight.height, tight.bitrate < generous.bitrate / 10) == (96, 64, True)
    first, second = read_track(generous.path), read_track(tight.path)
    assert first is not None and second is not None
    assert first.avcc == second.avcc and first.avcc[3] == 41  # level 4.1


def test_the_level_follows_size_and_rate_only() -> None:
    assert h264_level(96, 64, 24) == 41  # never below 4.1
    assert h264_level(1536, 1024, 24) == 41
    assert h264_level(1920, 1080, 30) == 41
    assert h264_level(1920, 1080, 60) == 42
    assert h264_level(2560, 1440, 30) == 50
    assert h264_level(3840, 2160, 30) == 51
    assert h264_level(3840, 2160, 60) == 52
    assert h264_level(8192, 4320, 120) == 62
    assert h264_level(4800, 16, 24) == 50  # 300 macroblocks wide: over sqrt(8 x frame size) of 4.2


def tone(seconds: float, hz: float, sample_rate: int = 48000, channels: int = 2) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return np.tile(0.5 * np.sin(2 * np.pi * hz * t, dtype=np.float64), (channels, 1)).astype(np.float32)


def noise_audio(seconds: float, sample_rate: int = 48000, channels: int = 2) -> np.ndarray:
    """The hardest sound for AAC: white noise at full scale."""
    rng = np.random.default_rng(1)
    return rng.uniform(-1, 1, (channels, round(seconds * sample_rate))).astype(np.float32)


@pytest.mark.parametrize(
    ("audio_seconds", "channels", "sample_rate", "shown"),
    [(5.0, 2, None, "stereo"), (1.0, 1, 24000, "mono"), (49 / 24, 2, 44100, "stereo")],
)
def test_sound_plays_with_the_picture_and_lasts_as_long(
    tmp_path: Path, audio_seconds: float, channels: int, sample_rate: int | None, shown: str
) -> None:
    """Longer sound is cut at the clip's end, shorter is padded with silence; either way the AAC track
    ends with the picture, within one frame."""
    out = tmp_path / "sound.mp4"
    rate = sample_rate or 48000
    clip = encode_mp4(
        gradient_clip(49, 64, 96), 24, out, audio=tone(audio_seconds, 440, rate, channels), sample_rate=rate
    )
    facts, sound = probe(out), audio_facts(out)
    assert sound is not None
    assert (sound.codec, sound.sample_rate, sound.channels) == ("aac", rate, shown)
    assert sound.duration == pytest.approx(facts.duration, abs=1 / 24)
    assert (facts.codec, facts.pix_fmt, facts.faststart, facts.frames) == ("h264", "yuv420p", True, 49)
    assert clip.audio_bitrate == 128_000 and clip.bytes == out.stat().st_size
    samples = decode_audio(out, rate)
    heard = samples[: round(min(audio_seconds, 49 / 24) * rate)]
    assert dominant_frequency(heard, rate) == pytest.approx(440, abs=5)
    if audio_seconds < 49 / 24:  # the rest is silence
        assert np.abs(samples[round((audio_seconds + 0.05) * rate) :]).max() < 0.01


def test_a_clip_without_sound_has_no_sound_track(tmp_path: Path) -> None:
    out = tmp_path / "quiet.mp4"
    clip = encode_mp4(gradient_clip(9, 32, 32), 8, out)
    assert audio_facts(out) is None and clip.audio_bitrate is None


@pytest.mark.parametrize("max_bytes", [1_000_000, 400_000, 250_000, 150_000])
def test_sound_and_picture_together_never_exceed_the_limit(tmp_path: Path, max_bytes: int) -> None:
    out = tmp_path / "loud.mp4"
    clip = encode_mp4(noise_clip(97, 128, 192), 24, out, max_bytes=max_bytes, audio=noise_audio(97 / 24))
    facts, sound = probe(out), audio_facts(out)
    assert facts.size <= max_bytes
    assert sound is not None and sound.codec == "aac"
    assert sound.duration == pytest.approx(facts.duration, abs=1 / 24)
    assert facts.frames == 97 and (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert clip.audio_bitrate is not None and clip.audio_bitrate * 97 / 24 / 8 <= max_bytes * 0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loud.mp4"]  # no temporary file left


def test_sound_gets_a_smaller_share_when_the_limit_is_tight() -> None:
    assert audio_bitrate_for(10 * 1024 * 1024, 10) == 128_000
    assert audio_bitrate_for(300_000, 4) == 64_000
    assert audio_bitrate_for(100_000, 4) == 32_000
    assert audio_bitrate_for(20_000, 10) == 32_000  # the lowest: the picture gives way


def test_an_impossible_limit_with_sound_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "never.mp4"
    with pytest.raises(EncodeError, match="cannot be made smaller"):
        encode_mp4(noise_clip(97, 128, 192), 24, out, max_bytes=12_000, audio=noise_audio(4))
    assert list(tmp_path.iterdir()) == []


def test_poster_is_the_middle_frame(tmp_path: Path) -> None:
    frames = gradient_clip(9, 32, 48)
    poster = write_poster(frames, tmp_path / "poster.png")
    with Image.open(poster) as image:
        assert image.format == "PNG" and image.size == (48, 32)
        assert np.array_equal(np.asarray(image.convert("RGB")), frames[4])
