"""Clips joined one after another without encoding again what was encoded before.

An Extend posts parent + continuation as one clip. Decoding the parent and encoding it again would cost
it quality at every extend (generation loss), so where the parent's H.264 stream fits the upload limit
beside the new frames, it is copied as it is: only the new frames are encoded, with stream headers (SPS
and PPS, compared as the mp4's ``avcC`` box) identical to the parent's, each encoded stretch starting on
a key frame, and ffmpeg's concat demuxer joins the streams without touching a packet. The sound is
encoded once for the whole and muxed beside them.

Where the copy does not fit, or cannot be made to match (another codec, pixel format, size, frame rate or
encoder), the whole is encoded once (:func:`generator.encode.encode_mp4`) from the frames where they were
first encoded (``EncodedPart.originals``), never from a copy that was itself encoded again.
"""

from __future__ import annotations

import logging
import math
import os
import struct
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import imageio_ffmpeg
import numpy as np

from generator.clipio import fit_frames, probe, read_frames, read_segment, shown_as
from generator.encode import (
    AUDIO_BITRATES,
    BITRATE_TRIES_PER_SCALE,
    BUFFER_SECONDS,
    CONTAINER_BYTES,
    CONTAINER_BYTES_PER_FRAME,
    DEFAULT_SAMPLE_RATE,
    MIN_BITS_PER_PIXEL,
    TARGET_FILL,
    EncodedClip,
    EncodeError,
    audio_bitrate_for,
    encode_mp4,
    even_crop,
    fit_audio,
    to_uint8,
    write_audio,
    write_video,
)

log = logging.getLogger(__name__)

# profiles whose SPS names its chroma format and bit depth (the others are 4:2:0, 8 bits)
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
# the track header's matrix when players need not turn the picture
_IDENTITY_MATRIX = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# the copy path leaves the new frames at least this share of the bitrate encoding the whole once would
# give them: below it, the parent's bits are worth less than the new part's picture
NEW_PART_SHARE = 0.5
# a header-only encode: its bitrate leaves the stream headers as they are
_PROBE_BITRATE = 1_000_000


@dataclass(frozen=True)
class Segment:
    """Frames [start, start + count) of the encoded clip at ``path``: where they were first encoded."""

    path: Path
    start: int
    count: int


@dataclass(frozen=True)
class EncodedPart:
    """An encoded clip joined as it is (its video stream copied) when it fits and matches; when it must be
    encoded again, its frames are decoded from ``originals`` (where they were first encoded; empty: from
    ``path`` itself), fitted to the output's size (generator.clipio.fit_frames) and frame rate."""

    path: Path
    originals: tuple[Segment, ...] = ()


# an ndarray: uint8 (n, h, w, 3) rendered frames at the output size, encoded here
Part: TypeAlias = EncodedPart | np.ndarray


@dataclass(frozen=True)
class JoinResult:
    clip: EncodedClip
    copied: tuple[bool, ...]  # per part: its video stream copied as it was
    frames: tuple[int, ...]  # per part: its frames in the output


# ---- what an mp4 says of its video track (its boxes; the media data is never read) --------------------


@dataclass(frozen=True)
class VideoTrack:
    """What a stream copy needs to know of an mp4's first video track."""

    entry: str  # the sample entry: "avc1" is H.264 with its headers in ``avcc``
    width: int
    height: int
    avcc: bytes  # the AVCDecoderConfigurationRecord (profile, level, SPS, PPS); b"" if none
    timescale: int
    frame_ticks: int | None  # every frame's duration in timescale ticks; None where they differ
    samples: int
    sample_bytes: int
    starts_on_key: bool
    upright: bool  # no rotation matrix for players to apply
    trimmed: bool  # an edit list hides or delays some of its frames

    @property
    def fps(self) -> float | None:
        return self.timescale / self.frame_ticks if self.frame_ticks else None


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise ValueError("a truncated mp4 box")
        yield kind.decode("latin-1"), start + header, start + size
        start += size


def _find(data: bytes, start: int, end: int, *kinds: str) -> tuple[int, int] | None:
    """The payload of the box at the path ``kinds`` under ``data[start:end]`` (the first of each)."""
    for kind in kinds:
        found = next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)
        if found is None:
            return None
        start, end = found
    return start, end


def _read_moov(path: Path) -> bytes | None:
    """The payload of the file's ``moov`` box, seeking past the media data; None if it has none."""
    with path.open("rb") as f:
        total, pos = f.seek(0, os.SEEK_END), 0
        while pos + 8 <= total:
            f.seek(pos)
            head = f.read(16)
            size, kind = struct.unpack_from(">I4s", head)
            header = 8
            if size == 1 and len(head) == 16:
                size, header = struct.unpack_from(">Q", head, 8)[0], 16
            elif size == 0:
                size = total - pos
            if size < header:
                return None
            if kind == b"moov":
                f.seek(pos + header)
                return f.read(size - header)
            pos += size
    return None


def _full_box(data: bytes, start: int) -> tuple[int, int]:
    """A full box's version and where its fields start."""
    return data[start], start + 4


def _table(data: bytes, box: tuple[int, int], fmt: str) -> list[tuple[int, ...]]:
    """The entries of a table box (version and flags, an entry count, then ``fmt`` entries)."""
    _, at = _full_box(data, box[0])
    (count,) = struct.unpack_from(">I", data, at)
    return list(struct.iter_unpack(fmt, data[at + 4 : at + 4 + count * struct.calcsize(fmt)]))


def _video_trak(moov: bytes) -> tuple[int, int] | None:
    for kind, start, end in _boxes(moov, 0, len(moov)):
        handler = _find(moov, start, end, "mdia", "hdlr") if kind == "trak" else None
        if handler is not None and moov[handler[0] + 8 : handler[0] + 12] == b"vide":
            return start, end
    return None


def _frame_ticks(stts: list[tuple[int, ...]]) -> int | None:
    deltas = {delta for count, delta in stts if count > 0}
    return deltas.pop() if len(deltas) == 1 else None


def _trimmed(
    moov: bytes, trak: tuple[int, int], timescale: int, frame_ticks: int | None, samples: int
) -> bool:
    """Whether an edit list shows less (or later) than every frame from the first one shown: anything but
    the one edit a muxer writes to skip the B-frame delay."""
    elst = _find(moov, *trak, "edts", "elst")
    if elst is None:
        return False
    version, _ = _full_box(moov, elst[0])
    edits = _table(moov, elst, ">QqhH" if version == 1 else ">IihH")
    if len(edits) != 1 or edits[0][2:] != (1, 0):
        return True
    duration, media_time = edits[0][0], edits[0][1]
    stbl = _find(moov, *trak, "mdia", "minf", "stbl")
    ctts = _find(moov, *stbl, "ctts") if stbl else None
    first_shown = 0
    if ctts is not None and frame_ticks:
        ctts_version, _ = _full_box(moov, ctts[0])
        runs = _table(moov, ctts, ">Ii" if ctts_version == 1 else ">II")
        offsets = np.repeat([offset for _, offset in runs], [count for count, _ in runs])
        if len(offsets):  # the earliest frame shown: the B-frame delay
            first_shown = int(np.min(np.arange(len(offsets)) * frame_ticks + offsets))
    mvhd = _find(moov, 0, len(moov), "mvhd")
    movie_scale = (
        struct.unpack_from(">I", moov, mvhd[0] + (20 if moov[mvhd[0]] == 1 else 12))[0] if mvhd else 0
    )
    shown = duration * timescale / movie_scale if movie_scale else 0
    # a duration of 0 is the whole track; else at least all frames but a rounding's worth
    covers_all = duration == 0 or (frame_ticks is not None and shown >= (samples - 0.5) * frame_ticks)
    return media_time != first_shown or not covers_all


def read_track(path: str | os.PathLike[str]) -> VideoTrack | None:
    """The first video track of the mp4 (or QuickTime) file at ``path``; None for another container, a
    file without a video track or one whose boxes cannot be read."""
    try:
        moov = _read_moov(Path(path))
        trak = _video_trak(moov) if moov else None
        if moov is None or trak is None:
            return None
        return _parse_track(moov, trak)
    except (OSError, ValueError, struct.error, IndexError, TypeError):
        return None


def _parse_track(moov: bytes, trak: tuple[int, int]) -> VideoTrack | None:
    tkhd, mdhd = _find(moov, *trak, "tkhd"), _find(moov, *trak, "mdia", "mdhd")
    stbl = _find(moov, *trak, "mdia", "minf", "stbl")
    if tkhd is None or mdhd is None or stbl is None:
        return None
    version, at = _full_box(moov, tkhd[0])
    matrix = struct.unpack_from(">9i", moov, at + (48 if version == 1 else 36))
    version, at = _full_box(moov, mdhd[0])
    (timescale,) = struct.unpack_from(">I", moov, at + (16 if version == 1 else 8))
    stsd, stts, stsz = (_find(moov, *stbl, kind) for kind in ("stsd", "stts", "stsz"))
    if stsd is None or stts is None or stsz is None:
        return None
    entries = list(_boxes(moov, stsd[0] + 8, stsd[1]))
    entry, start, end = entries[0]
    if len(entries) > 1:  # the headers change within the stream
        entry = ",".join(kind for kind, _, _ in entries)
    width, height = struct.unpack_from(">HH", moov, start + 24)
    avcc = _find(moov, start + 78, end, "avcC") if entry in ("avc1", "avc3") else None
    _, at = _full_box(moov, stsz[0])
    fixed, samples = struct.unpack_from(">II", moov, at)
    sizes = np.frombuffer(moov, ">u4", samples, at + 8) if fixed == 0 else None
    sample_bytes = int(sizes.sum(dtype=np.int64)) if sizes is not None else fixed * samples
    stss = _find(moov, *stbl, "stss")
    frame_ticks = _frame_ticks(_table(moov, stts, ">II"))
    return VideoTrack(
        entry=entry,
        width=width,
        height=height,
        avcc=b"" if avcc is None else moov[avcc[0] : avcc[1]],
        timescale=timescale,
        frame_ticks=frame_ticks,
        samples=samples,
        sample_bytes=sample_bytes,
        starts_on_key=stss is None or any(number == 1 for (number,) in _table(moov, stss, ">I")),
        upright=matrix == _IDENTITY_MATRIX,
        trimmed=_trimmed(moov, trak, timescale, frame_ticks, samples),
    )


class _Bits:
    """Reads an H.264 RBSP bit by bit (Exp-Golomb codes too)."""

    def __init__(self, data: bytes) -> None:
        # emulation prevention: 00 00 03 carries 00 00
        self.data, self.pos = data.replace(b"\x00\x00\x03", b"\x00\x00"), 0

    def bit(self) -> int:
        value = (self.data[self.pos // 8] >> (7 - self.pos % 8)) & 1
        self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        return (1 << zeros) - 1 + sum(self.bit() << (zeros - 1 - i) for i in range(zeros))


def sps_format(avcc: bytes) -> tuple[int, int] | None:
    """(chroma_format_idc, bit depth) of the first SPS in an avcC record (1 and 8: yuv420p); None if the
    record holds no readable SPS."""
    try:
        if avcc[5] & 0x1F == 0:
            return None
        (length,) = struct.unpack_from(">H", avcc, 6)
        sps = avcc[8 : 8 + length]
        if sps[1] not in _HIGH_PROFILES:
            return 1, 8
        bits = _Bits(sps[4:])
        bits.ue()  # seq_parameter_set_id
        chroma = bits.ue()
        if chroma == 3:
            bits.bit()  # separate_colour_plane_flag
        return chroma, bits.ue() + 8
    except (IndexError, struct.error):
        return None


# ---- the decisions, pure ------------------------------------------------------------------------------


def copy_refusal(track: VideoTrack | None, size: tuple[int, int], fps: float) -> str | None:
    """Why the video stream of ``track`` cannot be copied into an output of ``size`` (width, height) at
    ``fps``; None where it can, if the new frames' stream headers can be made to match its own."""
    if track is None:
        return "no mp4 video track"
    if track.entry != "avc1" or not track.avcc:
        return f"{track.entry} video, not H.264 with one set of headers in its sample entry"
    if sps_format(track.avcc) != (1, 8):
        return "not yuv420p (8 bits, 4:2:0)"
    if (track.width, track.height) != size:
        return f"{track.width}x{track.height}, not {size[0]}x{size[1]}"
    if track.fps is None:
        return "a variable frame rate"
    if not math.isclose(track.fps, fps, rel_tol=1e-3):
        return f"{track.fps:.3f} fps, not {fps:.3f}"
    if not track.upright:
        return "a rotation for players to apply"
    if track.trimmed:
        return "an edit list that hides some of its frames"
    if not track.starts_on_key or track.samples == 0:
        return "no key frame to start on"
    return None


@dataclass(frozen=True)
class HeaderSettings:
    """The encoder settings that decide an H.264 stream's headers (generator.encode.write_video)."""

    level: int  # level_idc
    stitchable: bool


def header_candidates(avcc: bytes) -> tuple[HeaderSettings, ...]:
    """Settings that may give ``avcc``'s headers, most likely first: this project's own (its level, x264's
    ``stitchable``), then those of its clips from before ``stitchable`` (the PPS then names the CRF)."""
    level = avcc[3]
    return (HeaderSettings(level, True), HeaderSettings(level, False))


def reference_header(tracks: Sequence[VideoTrack]) -> bytes:
    """The stream headers shared by the most bytes of ``tracks``: the streams copied are those with it."""
    weight: Counter[bytes] = Counter()
    for track in tracks:
        weight[track.avcc] += track.sample_bytes
    return weight.most_common(1)[0][0]


def room_for_new_frames(max_bytes: int, copied_bytes: int, audio_bytes: int, total_frames: int) -> int:
    """Bytes left for the frames encoded here: ``max_bytes`` less the copied streams, the sound and the
    container (its headers and an index entry per frame of the whole)."""
    overhead = CONTAINER_BYTES + CONTAINER_BYTES_PER_FRAME * total_frames
    return max_bytes - copied_bytes - audio_bytes - overhead


def new_frames_bitrate(room: int, new_frames: int, fps: float) -> int:
    """Bits per second that fill ``room`` bytes with ``new_frames`` at ``fps`` (like encode.bitrate_for:
    aimed below, and the rate-control buffer may be spent on top of rate × duration)."""
    if new_frames <= 0 or room <= 0:
        return 0
    return int(room * TARGET_FILL * 8 / (new_frames / fps + BUFFER_SECONDS))


def copy_bitrates(
    room: int, new_frames: int, width: int, height: int, fps: float, even_rate: float = 0.0
) -> tuple[int, ...] | None:
    """Bitrates to try for the new frames beside the copied streams, best first; None where the copy
    does not fit: no room, not even MIN_BITS_PER_PIXEL for the new frames (the copy never shrinks the
    picture: encoding the whole once may), or less than NEW_PART_SHARE of ``even_rate``, the bitrate
    the whole would have if encoded once (a parent that fills the limit would leave the new part mush).
    Empty: nothing to encode, and the copies fit."""
    if room < 0:
        return None
    if new_frames == 0:
        return ()
    floor = max(MIN_BITS_PER_PIXEL * width * height * fps, NEW_PART_SHARE * even_rate)
    rates = [new_frames_bitrate(room, new_frames, fps) * 0.8**i for i in range(BITRATE_TRIES_PER_SCALE)]
    fitting = tuple(int(rate) for rate in rates if rate >= floor)
    return fitting or None


def encoded_runs(copied: Sequence[bool]) -> list[range]:
    """The stretches of consecutive parts that are not copied, each encoded as one stream."""
    runs: list[range] = []
    start: int | None = None
    for i, copy in enumerate([*copied, True]):
        if not copy and start is None:
            start = i
        elif copy and start is not None:
            runs.append(range(start, i))
            start = None
    return runs


# ---- frames, files and ffmpeg -------------------------------------------------------------------------


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] - size[0] % 2, size[1] - size[1] % 2


def _shown_as(frames: np.ndarray, fps: float, size: tuple[int, int], new_fps: float) -> np.ndarray:
    """``frames`` at ``size`` (an odd last row or column dropped, then cut and resized) and ``new_fps``."""
    return shown_as(even_crop(frames), fps, *size, new_fps)


def _decoded(part: EncodedPart, size: tuple[int, int], fps: float) -> np.ndarray:
    """The part's frames at ``size`` and ``fps``, decoded where they were first encoded."""
    if not part.originals:
        frames, part_fps = read_frames(part.path)
        return _shown_as(frames, part_fps, size, fps)
    pieces = []
    for segment in part.originals:
        frames, part_fps = read_segment(segment.path, segment.start, segment.count)
        pieces.append(_shown_as(frames, part_fps, size, fps))
    return np.concatenate(pieces)


def _frames(part: Part, size: tuple[int, int], fps: float) -> np.ndarray:
    if isinstance(part, EncodedPart):
        return _decoded(part, size, fps)
    frames = to_uint8(part)
    if frames.shape[1:3] != (size[1], size[0]):
        frames = fit_frames(even_crop(frames), *size)
    return frames


def _ffmpeg(*args: str) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", *args]
    done = subprocess.run(cmd, capture_output=True)
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise EncodeError(f"ffmpeg could not join the clips: {lines[-1] if lines else done.returncode}")


def _video_only(source: Path, out: Path) -> None:
    """The first video stream of ``source`` alone, every packet as it is (so its duration is the
    picture's: the concat demuxer starts the next file there)."""
    _ffmpeg("-i", str(source), "-map", "0:v:0", "-c", "copy", "-map_metadata", "-1", "-f", "mp4", str(out))


def _concat(pieces: Sequence[Path], sound: Path | None, out: Path) -> None:
    """``pieces`` (video-only mp4s with the same headers, in one folder) one after another, their
    packets as they are, and ``sound`` beside them, as a ``+faststart`` mp4."""
    listing = pieces[0].parent / "pieces.txt"
    listing.write_text("".join(f"file '{piece.name}'\n" for piece in pieces))
    # auto_convert 0: the packets stay length-prefixed, not rewritten with headers in-band
    inputs = ["-f", "concat", "-auto_convert", "0", "-i", str(listing)]
    maps = ["-map", "0:v:0"]  # the picture first, as encode_mp4 writes it
    if sound is not None:
        inputs += ["-i", str(sound)]
        maps += ["-map", "1:a:0"]
    _ffmpeg(*inputs, *maps, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(out))


def _header(settings: HeaderSettings, size: tuple[int, int], fps: float, work: Path) -> bytes:
    """The avcC record write_video gives a stream of ``size`` at ``fps`` with ``settings`` (one frame)."""
    path = work / "header.mp4"
    black = np.zeros((1, size[1], size[0], 3), np.uint8)
    write_video(path, black, fps, *size, _PROBE_BITRATE, level=settings.level, stitchable=settings.stitchable)
    track = read_track(path)
    return b"" if track is None else track.avcc


@dataclass
class _Join:
    """One join's inputs and its working folder."""

    parts: Sequence[Part]
    size: tuple[int, int]
    fps: float
    max_bytes: int
    audio: np.ndarray | None
    sample_rate: int
    work: Path
    frames: dict[int, np.ndarray]  # the parts' frames as the output shows them, once decoded

    def encoded(self, index: int) -> EncodedPart:
        part = self.parts[index]
        assert isinstance(part, EncodedPart)
        return part

    def frames_of(self, index: int) -> np.ndarray:
        if index not in self.frames:
            self.frames[index] = _frames(self.parts[index], self.size, self.fps)
        return self.frames[index]

    def sound(self, frames: int, rate: int) -> Path | None:
        """The whole's sound, ``frames`` long, as AAC at ``rate`` b/s."""
        if self.audio is None:
            return None
        path = self.work / f"sound-{rate}.m4a"
        write_audio(path, fit_audio(self.audio, self.sample_rate, frames / self.fps), self.sample_rate, rate)
        return path

    def audio_rates(self, frames: int) -> list[int | None]:
        if self.audio is None:
            return [None]
        first = AUDIO_BITRATES.index(audio_bitrate_for(self.max_bytes, frames / self.fps))
        return list(AUDIO_BITRATES[first:])


def _copyable(join: _Join) -> dict[int, VideoTrack]:
    """The parts whose streams may be copied (by index): those that match the output, all with the stream
    headers the most bytes share."""
    tracks: dict[int, VideoTrack] = {}
    for i, part in enumerate(join.parts):
        if not isinstance(part, EncodedPart):
            continue
        track = read_track(part.path)
        refusal = copy_refusal(track, join.size, join.fps)
        if refusal is not None or track is None:
            log.info("join: %s is encoded again: %s", part.path.name, refusal)
            continue
        tracks[i] = track
    if not tracks:
        return {}
    reference = reference_header(list(tracks.values()))
    for i in [i for i, track in tracks.items() if track.avcc != reference]:
        log.info("join: %s is encoded again: its stream headers differ", join.encoded(i).path.name)
        del tracks[i]
    return tracks


def _matching_settings(join: _Join, reference: bytes) -> HeaderSettings | None:
    """The first of :func:`header_candidates` that gives the frames encoded here ``reference``'s headers."""
    for settings in header_candidates(reference):
        if _header(settings, join.size, join.fps, join.work) == reference:
            return settings
    log.info("join: no encoder settings give the copied stream's headers; the whole is encoded once")
    return None


def _encode_runs(
    join: _Join, runs: Sequence[range], rate: int, settings: HeaderSettings, reference: bytes
) -> dict[int, Path] | None:
    """Each run of parts not copied as one stream at ``rate`` (by its first part's index); None if one
    came out with other headers than ``reference``."""
    pieces = {}
    for run in runs:
        path = pieces[run[0]] = join.work / f"new-{run[0]}.mp4"
        frames = np.concatenate([join.frames_of(i) for i in run])
        write_video(path, frames, join.fps, *join.size, rate, level=settings.level,
                    stitchable=settings.stitchable)  # fmt: skip
        track = read_track(path)
        if track is None or track.avcc != reference:
            log.warning("join: the new frames' stream headers differ from the copied stream's")
            return None
    return pieces


def _join_by_copy(join: _Join, out: Path) -> JoinResult | None:
    """The join with the streams of the parts that match copied; None where that does not fit or match."""
    tracks = _copyable(join)
    if not tracks:
        return None
    copied = tuple(i in tracks for i in range(len(join.parts)))
    runs = encoded_runs(copied)
    counts = [tracks[i].samples if i in tracks else len(join.frames_of(i)) for i in range(len(join.parts))]
    total, new = sum(counts), sum(counts[i] for run in runs for i in run)
    copied_bytes = sum(track.sample_bytes for track in tracks.values())
    silent_room = room_for_new_frames(join.max_bytes, copied_bytes, 0, total)
    even = new_frames_bitrate(room_for_new_frames(join.max_bytes, 0, 0, total), total, join.fps)
    if copy_bitrates(silent_room, new, *join.size, join.fps, even) is None:  # not even without sound
        log.info("join: %d bytes to copy leave too little for %d new frames", copied_bytes, new)
        return None
    reference = next(iter(tracks.values())).avcc
    settings = _matching_settings(join, reference) if runs else None
    if runs and settings is None:
        return None
    copies = {i: join.work / f"copy-{i}.mp4" for i in tracks}
    for i, piece in copies.items():
        _video_only(join.encoded(i).path, piece)
    attempts = 0
    for audio_rate in join.audio_rates(total):
        sound = None if audio_rate is None else join.sound(total, audio_rate)
        sound_bytes = 0 if sound is None else sound.stat().st_size
        room = room_for_new_frames(join.max_bytes, copied_bytes, sound_bytes, total)
        even = new_frames_bitrate(room_for_new_frames(join.max_bytes, 0, sound_bytes, total), total, join.fps)
        rates = copy_bitrates(room, new, *join.size, join.fps, even)
        for rate in () if rates is None else rates or (0,):
            attempts += 1
            encoded = _encode_runs(join, runs, rate, settings, reference) if settings else {}
            if encoded is None:
                return None
            pieces, tmp = {**copies, **encoded}, join.work / "joined.mp4"
            _concat([pieces[i] for i in sorted(pieces)], sound, tmp)
            joined = read_track(tmp)
            # every frame, each as long as the others, under the one header: else encode the whole once
            if joined is None or (joined.samples, joined.frame_ticks is None, joined.avcc) != (
                total,
                False,
                reference,
            ):
                log.warning("join: the joined stream is not the parts' (%s)", joined)
                return None
            size = tmp.stat().st_size
            if size <= join.max_bytes:
                tmp.chmod(0o644)  # a clip is for sharing
                os.replace(tmp, out)
                video_rate = rate or int(joined.sample_bytes * 8 * join.fps / total)  # all copied: their mean
                clip = EncodedClip(out, size, *join.size, total, join.fps, video_rate, attempts, audio_rate)
                return JoinResult(clip, copied, tuple(counts))
            log.info("join: %d bytes > %d (new frames at %d b/s); stepping down", size, join.max_bytes, rate)
    return None


def _join_by_encoding_once(join: _Join, out: Path) -> JoinResult:
    frames = [join.frames_of(i) for i in range(len(join.parts))]
    clip = encode_mp4(
        np.concatenate(frames), join.fps, out, join.max_bytes, audio=join.audio, sample_rate=join.sample_rate
    )
    return JoinResult(clip, (False,) * len(frames), tuple(len(f) for f in frames))


def _first_size(part: Part) -> tuple[int, int]:
    if isinstance(part, EncodedPart):
        info = probe(part.path)
        return info.width, info.height
    return part.shape[-2], part.shape[-3]


def join_clips(
    parts: Sequence[Part],
    out_path: str | os.PathLike[str],
    max_bytes: int,
    *,
    fps: float,
    size: tuple[int, int] | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> JoinResult:
    """``parts`` one after another as one H.264 mp4 at ``out_path``, at most ``max_bytes``, at ``size``
    (width, height; even; default the first part's) and ``fps``, with ``audio`` (float32 (channels,
    samples) at ``sample_rate``, 48 kHz if not given) as its AAC sound, as encode_mp4 takes it.

    An EncodedPart's video stream is copied as it is where it matches the output and fits; otherwise the
    whole is encoded once. Raises EncodeError where nothing fits (ClipError where a part cannot be read);
    ``out_path`` is written only on success."""
    if not parts:
        raise EncodeError("there are no clips to join")
    if max_bytes <= 0:
        raise EncodeError("the size limit must be positive")
    if not fps > 0:
        raise EncodeError("the frame rate must be positive")
    out = Path(out_path)
    width, height = _even(size or _first_size(parts[0]))
    if width < 2 or height < 2:
        raise EncodeError("there are no frames to encode")
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as work:
        join = _Join(
            parts, (width, height), fps, max_bytes, audio, sample_rate or DEFAULT_SAMPLE_RATE, Path(work), {}
        )
        try:
            copy = _join_by_copy(join, out)
        except EncodeError as exc:  # ffmpeg refused the copy: the whole can still be encoded
            log.warning("join: copying failed (%s); the whole is encoded once", exc)
            copy = None
        if copy is not None:
            return copy
        return _join_by_encoding_once(join, out)
