"""Joins without generation loss: a clip's own H.264 stream is copied where it fits and matches, and a
whole that must be encoded again is encoded once, from where its frames were first encoded."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from generator.clipio import fit_frames, read_frames, resample_frames
from generator.encode import (
    BUFFER_SECONDS,
    CONTAINER_BYTES,
    CONTAINER_BYTES_PER_FRAME,
    MIN_BITS_PER_PIXEL,
    TARGET_FILL,
    EncodedClip,
    EncodeError,
    encode_mp4,
)
from generator.join import (
    EncodedPart,
    HeaderSettings,
    Part,
    Segment,
    VideoTrack,
    copy_bitrates,
    copy_refusal,
    encoded_runs,
    header_candidates,
    join_clips,
    new_frames_bitrate,
    read_track,
    reference_header,
    room_for_new_frames,
    sps_format,
)
from tests.mp4probe import audio_facts, decode_audio, dominant_frequency, make_clip, probe, psnr
from tests.test_encode import noise_clip, tone

FPS = 24
WIDTH, HEIGHT = 128, 96
MIB = 1024 * 1024
# avcC records as x264 writes them: High profile yuv420p (level 4.1), and High 4:4:4 Predictive
AVCC_420 = bytes.fromhex(
    "01640029ffe1001867640029acd941015a1000000300100000030300f183196001000568ebecb22cfdf8f800"
)
AVCC_444 = bytes.fromhex(
    "01f4000cffe1001967f4000c919b28202b6022000003000200000300601e28532c01000668ebe3c44844fff8f800"
)


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> EncodedClip:
    """A clip the bot made: one second of noise (every pixel new every frame) with a 440 Hz tone."""
    folder = tmp_path_factory.mktemp("parent")
    return encode_mp4(
        noise_clip(FPS, HEIGHT, WIDTH, seed=1), FPS, folder / "parent.mp4", 10 * MIB, audio=tone(1.0, 440)
    )


def frames_of(path: Path) -> np.ndarray:
    return read_frames(path)[0]


def test_an_extend_that_fits_keeps_its_parent_bit_for_bit(parent: EncodedClip, tmp_path: Path) -> None:
    out = tmp_path / "longer.mp4"
    max_bytes = parent.bytes + 300_000
    audio = np.concatenate([tone(1.0, 440), tone(0.5, 880)], axis=1)
    new = noise_clip(12, HEIGHT, WIDTH, seed=2)
    result = join_clips(
        [EncodedPart(parent.path), new], out, max_bytes, fps=FPS, audio=audio, sample_rate=48000
    )
    assert result.copied == (True, False) and result.frames == (24, 12)
    decoded = frames_of(out)
    assert np.array_equal(decoded[:24], frames_of(parent.path))  # not one bit lost
    assert psnr(decoded[24:], new) > 8  # the new frames follow (noise at what the limit leaves)

    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.fps, facts.frames) == (WIDTH, HEIGHT, FPS, 36)
    assert facts.duration == pytest.approx(36 / FPS, abs=1 / FPS)
    assert facts.size == result.clip.bytes <= max_bytes
    assert (result.clip.frames, result.clip.width, result.clip.height) == (36, WIDTH, HEIGHT)
    sound = audio_facts(out)
    assert sound is not None and sound.codec == "aac" and result.clip.audio_bitrate is not None
    assert sound.duration == pytest.approx(facts.duration, abs=1 / FPS)
    samples = decode_audio(out)
    assert dominant_frequency(samples[: 48000 - 2400], 48000) == pytest.approx(440, abs=5)
    assert dominant_frequency(samples[48000 + 2400 :], 48000) == pytest.approx(880, abs=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["longer.mp4"]  # no temporary file left

    # and its extend copies both again: a chain of extends never encodes a frame twice
    again = join_clips([EncodedPart(out), new[:6]], tmp_path / "again.mp4", max_bytes + 200_000, fps=FPS)
    assert again.copied == (True, False) and again.frames == (36, 6)
    assert np.array_equal(frames_of(tmp_path / "again.mp4")[:36], decoded)


def test_clips_on_both_sides_of_new_frames_are_both_copied(parent: EncodedClip, tmp_path: Path) -> None:
    """A bridge: first clip + new frames + second clip."""
    second = encode_mp4(noise_clip(18, HEIGHT, WIDTH, seed=3), FPS, tmp_path / "second.mp4", 10 * MIB)
    out = tmp_path / "bridged.mp4"
    parts: list[Part] = [
        EncodedPart(parent.path),
        noise_clip(8, HEIGHT, WIDTH, seed=4),
        EncodedPart(second.path),
    ]
    result = join_clips(parts, out, 10 * MIB, fps=FPS)
    assert result.copied == (True, False, True) and result.frames == (24, 8, 18)
    decoded = frames_of(out)
    assert np.array_equal(decoded[:24], frames_of(parent.path))
    assert np.array_equal(decoded[32:], frames_of(second.path))
    assert probe(out).frames == 50 and audio_facts(out) is None


def encode_as_before(frames: np.ndarray, path: Path, bitrate: int) -> Path:
    """``frames`` as the encoder wrote clips before their headers were fixed: x264 chose the level from
    the bitrate, and the PPS named the CRF."""
    params = ["-profile:v", "high", "-preset", "medium", "-crf", "20", "-maxrate", str(bitrate)]
    params += ["-bufsize", str(bitrate // 2), "-movflags", "+faststart", "-f", "mp4"]
    writer = imageio_ffmpeg.write_frames(
        str(path), (WIDTH, HEIGHT), fps=FPS, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
        quality=None, bitrate=None, macro_block_size=1, ffmpeg_log_level="error", output_params=params,
    )  # fmt: skip
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def test_a_clip_the_bot_made_before_its_headers_were_fixed_is_copied_too(tmp_path: Path) -> None:
    parent = encode_as_before(noise_clip(24, HEIGHT, WIDTH, seed=8), tmp_path / "old.mp4", 3_000_000)
    track = read_track(parent)
    assert track is not None and track.avcc[3] != 41  # a level of x264's choosing
    result = join_clips(
        [EncodedPart(parent), noise_clip(6, HEIGHT, WIDTH, seed=9)], tmp_path / "o.mp4", MIB, fps=FPS
    )
    assert result.copied == (True, False)
    assert np.array_equal(frames_of(tmp_path / "o.mp4")[:24], frames_of(parent))


def test_an_extend_that_does_not_fit_is_encoded_once_from_its_originals(tmp_path: Path) -> None:
    """The parent is decoded from its ``originals`` (frames 6 to 30 of their first encode, in two
    segments), not from the file at ``path``: that stands in for a copy that lost quality, with another
    picture altogether, so which file was decoded is beyond doubt."""
    pattern = make_clip(tmp_path / "pattern.mp4", size=(WIDTH, HEIGHT), fps=str(FPS), seconds=1.5, tone=None)
    first = encode_mp4(frames_of(pattern), FPS, tmp_path / "first.mp4", 10 * MIB)
    originals = frames_of(first.path)[6:30]
    stand_in = encode_mp4(noise_clip(24, HEIGHT, WIDTH, seed=5), FPS, tmp_path / "copy.mp4", 10 * MIB)
    new = noise_clip(12, HEIGHT, WIDTH, seed=6)
    max_bytes = stand_in.bytes // 2  # the copy alone is over the limit
    out = tmp_path / "out" / "longer.mp4"
    out.parent.mkdir()
    part = EncodedPart(stand_in.path, (Segment(first.path, 6, 12), Segment(first.path, 18, 12)))
    result = join_clips([part, new], out, max_bytes, fps=FPS)
    assert result.copied == (False, False) and result.frames == (24, 12)
    assert out.stat().st_size == result.clip.bytes <= max_bytes
    assert sorted(p.name for p in out.parent.iterdir()) == ["longer.mp4"]

    # as good as one encode of the originals at the same limit (x264 is not bit-exact between runs)
    once = encode_mp4(np.concatenate([originals, new]), FPS, tmp_path / "once.mp4", max_bytes)
    quality, once_quality = psnr(frames_of(out)[:24], originals), psnr(frames_of(once.path)[:24], originals)
    print(f"parent part against its originals: {quality:.2f} dB (one encode of them: {once_quality:.2f} dB)")
    assert quality == pytest.approx(once_quality, abs=1.0) and quality > 25
    assert psnr(frames_of(out)[:24], frames_of(stand_in.path)) < 12


def bot_clip(path: Path, size: tuple[int, int], fps: int, seconds: float = 1) -> Path:
    """ffmpeg's moving test pattern as the bot would encode it, at ``size`` and ``fps``."""
    pattern = make_clip(path.with_suffix(".src.mp4"), size=size, fps=str(fps), seconds=seconds, tone=None)
    encode_mp4(frames_of(pattern), fps, path, 10 * MIB)
    return path


def ffmpeg_clip(path: Path, *args: str) -> Path:
    """One second of the test pattern at the output's size and rate, encoded by ffmpeg as ``args`` say."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    source = f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration=1"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", source, *args, str(path)], check=True)
    return path


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("size", "160x96, not 128x96"),
        ("rate", "12.000 fps, not 24.000"),
        ("yuv444p", "not yuv420p"),
        ("hevc", "not H.264"),
        ("other x264 settings", None),  # compatible, but no settings of ours give its headers
    ],
)
def test_a_parent_that_cannot_be_copied_is_encoded_once(
    tmp_path: Path, kind: str, reason: str | None
) -> None:
    parent = {
        "size": lambda p: bot_clip(p, (160, 96), FPS),
        "rate": lambda p: bot_clip(p, (WIDTH, HEIGHT), 12),
        "yuv444p": lambda p: ffmpeg_clip(p, "-c:v", "libx264", "-pix_fmt", "yuv444p"),
        "hevc": lambda p: ffmpeg_clip(
            p, "-c:v", "libx265", "-pix_fmt", "yuv420p", "-x265-params", "log-level=0"
        ),
        "other x264 settings": lambda p: ffmpeg_clip(
            p, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "23"
        ),
    }[kind](tmp_path / "parent.mp4")
    refusal = copy_refusal(read_track(parent), (WIDTH, HEIGHT), FPS)
    assert refusal == reason or (reason is not None and refusal is not None and reason in refusal)

    out = tmp_path / "longer.mp4"
    new = noise_clip(6, HEIGHT, WIDTH, seed=7)
    result = join_clips([EncodedPart(parent), new], out, 10 * MIB, fps=FPS, size=(WIDTH, HEIGHT))
    assert result.copied == (False, False) and result.frames == (24, 6)
    facts = probe(out)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert (facts.width, facts.height, facts.fps, facts.frames) == (WIDTH, HEIGHT, FPS, 30)
    source, source_fps = read_frames(parent)
    shown = resample_frames(fit_frames(source, WIDTH, HEIGHT), source_fps, FPS)
    assert psnr(frames_of(out)[:24], shown) > 25  # the parent, cut to size and shown at the output's rate


def test_nothing_fits_raises_and_leaves_nothing(parent: EncodedClip, tmp_path: Path) -> None:
    out = tmp_path / "never.mp4"
    with pytest.raises(EncodeError, match="cannot be made smaller"):
        join_clips([EncodedPart(parent.path), noise_clip(12, HEIGHT, WIDTH)], out, 3_000, fps=FPS)
    assert list(tmp_path.iterdir()) == []


# ---- the decisions ------------------------------------------------------------------------------------

TRACK = VideoTrack(
    entry="avc1",
    width=WIDTH,
    height=HEIGHT,
    avcc=AVCC_420,
    timescale=12288,
    frame_ticks=512,
    samples=24,
    sample_bytes=500_000,
    starts_on_key=True,
    upright=True,
    trimmed=False,
)


@pytest.mark.parametrize(
    ("track", "reason"),
    [
        (TRACK, None),
        (None, "no mp4 video track"),
        (replace(TRACK, entry="hvc1", avcc=b""), "hvc1 video, not H.264"),
        (replace(TRACK, entry="avc3"), "avc3 video, not H.264"),
        (replace(TRACK, avcc=AVCC_444), "not yuv420p"),
        (replace(TRACK, width=WIDTH * 2), "256x96, not 128x96"),
        (replace(TRACK, frame_ticks=None), "a variable frame rate"),
        (replace(TRACK, frame_ticks=1024), "12.000 fps, not 24.000"),
        (replace(TRACK, upright=False), "a rotation"),
        (replace(TRACK, trimmed=True), "an edit list"),
        (replace(TRACK, starts_on_key=False), "no key frame"),
    ],
)
def test_what_can_be_copied(track: VideoTrack | None, reason: str | None) -> None:
    refusal = copy_refusal(track, (WIDTH, HEIGHT), FPS)
    assert refusal == reason if reason is None else refusal is not None and refusal.startswith(reason)


def test_a_rate_within_rounding_is_the_same_rate() -> None:
    """23.98 fps (what the encoder is told of 24000/1001) is 23.976 fps."""
    ntsc = replace(TRACK, timescale=11990, frame_ticks=500)
    assert copy_refusal(ntsc, (WIDTH, HEIGHT), 24000 / 1001) is None


def test_the_stream_format_is_read_from_the_sps() -> None:
    assert sps_format(AVCC_420) == (1, 8)
    assert sps_format(AVCC_444) == (3, 8)
    assert sps_format(AVCC_420[:5] + b"\xe0") is None  # no SPS
    main = bytes([1, 77, 0x40, 30, 0xFF, 0xE1, 0, 4, 0x67, 77, 0x40, 30])
    assert sps_format(main) == (1, 8)  # Main profile: 4:2:0, 8 bits by definition


def test_the_new_frames_get_what_the_copies_and_the_sound_leave() -> None:
    room = room_for_new_frames(10 * MIB, 8 * MIB, 80_000, 168)
    assert room == 10 * MIB - 8 * MIB - 80_000 - CONTAINER_BYTES - CONTAINER_BYTES_PER_FRAME * 168
    rate = new_frames_bitrate(room, 48, 24)
    assert rate == int(room * TARGET_FILL * 8 / (2 + BUFFER_SECONDS))
    assert new_frames_bitrate(room, 96, 24) < rate  # more frames, fewer bits each
    assert new_frames_bitrate(-5, 48, 24) == 0

    rates = copy_bitrates(room, 48, 768, 512, 24)
    assert rates is not None and rates[0] == rate
    assert list(rates) == sorted(rates, reverse=True) and len(rates) > 1


def test_the_copy_does_not_fit_below_the_floor() -> None:
    floor_bytes = MIN_BITS_PER_PIXEL * 768 * 512 * 24 * (2 + BUFFER_SECONDS) / 8 / TARGET_FILL
    assert copy_bitrates(int(floor_bytes * 1.01), 48, 768, 512, 24) is not None
    assert copy_bitrates(int(floor_bytes * 0.99), 48, 768, 512, 24) is None
    assert copy_bitrates(-1, 48, 768, 512, 24) is None  # the copies alone are over the limit
    assert copy_bitrates(0, 0, 768, 512, 24) == ()  # nothing new, and the copies fit
    assert copy_bitrates(-1, 0, 768, 512, 24) is None


def test_the_copy_leaves_the_new_frames_at_least_half_of_an_even_share() -> None:
    # a parent that nearly fills the limit: encoding the whole once gives each frame more than the copy
    # would leave the new part, which would look worse than the parent beside it
    room = room_for_new_frames(10 * MIB, 6 * MIB, 0, 168)
    rate = new_frames_bitrate(room, 48, 24)
    even = new_frames_bitrate(room_for_new_frames(10 * MIB, 0, 0, 168), 168, 24)
    assert copy_bitrates(room, 48, 768, 512, 24, even) is not None  # 4 MiB for 2 of 7 s: more than half
    assert copy_bitrates(room, 48, 768, 512, 24, even_rate=rate * 2.1) is None
    kept = copy_bitrates(room, 48, 768, 512, 24, even_rate=rate * 1.9)
    assert kept is not None and kept == (rate,)  # only the first try is still above half of it


def test_the_parts_not_copied_are_encoded_in_runs() -> None:
    assert encoded_runs([True, False]) == [range(1, 2)]
    assert encoded_runs([False, False, True, False, True]) == [range(0, 2), range(3, 4)]
    assert encoded_runs([True, True]) == []


def test_the_headers_to_match() -> None:
    """Ours first (their level, stitchable), then ours from before stitchable; the header copied is the
    one the most bytes share."""
    assert header_candidates(AVCC_420) == (HeaderSettings(41, True), HeaderSettings(41, False))
    small, big = replace(TRACK, sample_bytes=10), replace(TRACK, avcc=AVCC_444, sample_bytes=100)
    assert reference_header([small, small, big]) == AVCC_444
    assert reference_header([small, replace(small, sample_bytes=200), big]) == AVCC_420
