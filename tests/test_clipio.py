"""Reading a member's clip back (any codec and container ffmpeg reads), and one clip after another."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from generator.clipio import ClipError, probe, read_audio, read_frames, stitch
from tests.mp4probe import decode_frames, dominant_frequency, make_clip


@pytest.mark.parametrize(
    ("name", "codec", "fps", "rate", "extra"),
    [
        ("phone.mp4", "libx264", "24", 24.0, ()),
        ("camera.mov", "libx265", "30000/1001", 30000 / 1001, ("-tag:v", "hvc1")),
        ("browser.webm", "libvpx-vp9", "25", 25.0, ("-deadline", "realtime", "-cpu-used", "8")),
    ],
)
def test_probe_reads_any_clip_a_member_has(
    tmp_path: Path, name: str, codec: str, fps: str, rate: float, extra: tuple[str, ...]
) -> None:
    path = make_clip(tmp_path / name, size=(256, 160), fps=fps, seconds=2, codec=codec, extra=extra)
    info = probe(path)
    assert (info.width, info.height, info.has_audio) == (256, 160, True)
    assert info.fps == pytest.approx(rate, rel=1e-6)
    assert info.frames == round(2 * rate)
    assert info.duration == pytest.approx(2, abs=1 / rate)
    frames, read_fps = read_frames(path)
    assert frames.shape == (info.frames, 160, 256, 3) and read_fps == info.fps


def test_a_silent_clip_has_no_sound(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "quiet.mp4", tone=None)
    assert probe(path).has_audio is False
    assert read_audio(path) is None


def test_a_portrait_phone_clip_reads_upright(tmp_path: Path) -> None:
    """Phones store portrait clips sideways with a rotation flag; the frames come out as the clip plays."""
    sideways = make_clip(tmp_path / "sideways.mp4", size=(256, 160))
    upright = tmp_path / "portrait.mp4"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-display_rotation", "90", "-i", str(sideways)]
    subprocess.run([*cmd, "-c", "copy", str(upright)], check=True)
    info = probe(upright)
    assert (info.width, info.height) == (160, 256)
    frames, _ = read_frames(upright, last=3)
    assert frames.shape == (3, 256, 160, 3)


def test_the_last_frames_are_exactly_the_clips_tail(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "parent.mp4", seconds=3)
    everything = decode_frames(path)
    for last in (1, 9, 40):
        tail, fps = read_frames(path, last=last)
        assert fps == 24
        assert np.array_equal(tail, everything[-last:])
    whole, _ = read_frames(path, last=500)  # more than there are: all of them
    assert np.array_equal(whole, everything)


def test_the_sound_comes_back_at_the_rate_asked(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "tone.mp4", seconds=2, tone=440)
    audio = read_audio(path, sample_rate=24000)
    assert audio is not None and audio.dtype == np.float32
    assert audio.shape[0] == 1 and audio.shape[1] == pytest.approx(48000, abs=1100)  # 2 s at 24 kHz
    assert np.abs(audio).max() <= 1.0
    assert dominant_frequency(audio[0], 24000) == pytest.approx(440, abs=5)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("text", "is not a video ffmpeg can read"),
        ("png", "is a picture, not a video"),
        ("sound", "has no picture"),
        ("truncated", "is not a video ffmpeg can read"),
        ("missing", "does not exist"),
    ],
)
def test_what_is_not_a_video_says_why_in_one_line(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "clip.mp4"
    if content == "text":
        path.write_text("hello, this is not a video\n")
    elif content == "png":
        Image.new("RGB", (64, 64), "red").save(path, format="PNG")
    elif content == "sound":
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=1"]
        subprocess.run([*cmd, "-f", "mp4", str(path)], check=True)
    elif content == "truncated":
        whole = make_clip(tmp_path / "whole.mp4").read_bytes()
        path.write_bytes(whole[: len(whole) // 3])
    for read in (probe, read_frames):
        with pytest.raises(ClipError) as caught:
            read(path)
        assert words in str(caught.value) and "\n" not in str(caught.value)


def disk(frames: int, height: int, width: int, radius: int) -> np.ndarray:
    """White frames with a black disk in the middle."""
    y, x = np.mgrid[:height, :width]
    inside = (x - width / 2 + 0.5) ** 2 + (y - height / 2 + 0.5) ** 2 <= radius**2
    frame = np.where(inside[..., None], 0, 255).astype(np.uint8) * np.ones((1, 1, 3), np.uint8)
    return np.repeat(frame[None], frames, axis=0)


def test_a_continuation_of_another_shape_is_cut_not_stretched() -> None:
    parent = np.full((48, 160, 256, 3), 128, np.uint8)  # 8:5
    continuation = disk(25, 64, 128, radius=24)  # 2:1, the model's own size
    frames, audio = stitch(parent, 24, None, continuation, 24, None, 48000)
    assert frames.shape == (73, 160, 256, 3) and audio is None
    assert np.array_equal(frames[:48], parent)
    dark = frames[60, :, :, 0] < 128
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    tall, wide = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert wide == pytest.approx(tall, rel=0.05)  # still round
    assert tall == pytest.approx(48 * 160 / 64, rel=0.05)  # scaled up with the picture, not cut


def test_a_continuation_at_another_rate_keeps_its_length() -> None:
    parent = np.zeros((48, 32, 32, 3), np.uint8)
    continuation = np.arange(12, dtype=np.uint8)[:, None, None, None] * np.ones((1, 32, 32, 3), np.uint8)
    frames, _ = stitch(parent, 24, None, continuation, 12, None, 48000)
    assert len(frames) == 48 + 24  # 1 s at 12 fps is 1 s at 24 fps
    shown = frames[48:, 0, 0, 0]
    assert list(shown) == [i // 2 for i in range(24)]  # each frame held for its own time, in order


def test_sound_follows_each_part_and_silence_fills_a_part_without() -> None:
    rate = 48000
    t = np.arange(2 * rate - 100) / rate  # a little shorter than the parent's 2 s of picture
    parent_sound = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
    parent = np.zeros((48, 32, 32, 3), np.uint8)
    continuation = np.zeros((25, 32, 32, 3), np.uint8)
    stereo_new = np.full((2, rate), 0.25, np.float32)
    _, audio = stitch(parent, 24, parent_sound, continuation, 24, None, rate)
    assert audio is not None and audio.shape == (1, round(73 / 24 * rate))
    assert dominant_frequency(audio[0, : 2 * rate - 100], rate) == pytest.approx(440, abs=2)
    assert not audio[0, 2 * rate :].any()  # the continuation made no sound: silence
    _, mixed = stitch(parent, 24, parent_sound, continuation, 24, stereo_new, rate)
    assert mixed is not None and mixed.shape == (2, round(73 / 24 * rate))  # mono and stereo: stereo
    assert np.array_equal(mixed[0, : 2 * rate - 100], mixed[1, : 2 * rate - 100])
    assert mixed[0, 2 * rate : 2 * rate + rate].min() == pytest.approx(0.25)  # its own sound, at 2 s
    _, only_new = stitch(parent, 24, None, continuation, 24, stereo_new, rate)
    assert only_new is not None and not only_new[:, : 2 * rate].any()
