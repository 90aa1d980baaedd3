"""A story's film, fitted to the channel's upload limit.

The last scene of a story is one clip holding the whole story (each extend stitches its parent and its
continuation). When that clip is over the limit, it is encoded again: first with a lower bitrate, then
also a lower resolution; when even the smallest size would look worse than a floor of quality, the
film is cut into parts that each fit. :func:`plan_fit` decides (a pure function of duration, size and
limit); :func:`fit_film` runs ffmpeg (the binary bundled by imageio-ffmpeg), in a worker thread of the
bot. The bot never imports torch.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from bot.config import child_env

AUDIO_KBPS = 64  # AAC, when the film has sound
SIZE_MARGIN = 0.9  # of the limit left for the streams: rate control overshoots, boxes take room
BOX_BYTES = 4096  # the mp4 boxes of a short clip
MIN_BITS_PER_PIXEL = 0.08  # below this H.264 turns to mush: make it smaller instead
FLOOR_KBPS = 40.0  # the least video bitrate any picture gets
SCALES = (1.0, 0.75, 0.5, 0.375, 0.25)  # the resolutions tried, as a share of the film's own
MIN_SHORT_SIDE = 128  # no smaller than this (unless the film itself is)
ENCODE_TRIES = 4  # each try at a part that came out too big lowers the bitrate a fifth
FFMPEG_TIMEOUT_S = 600.0


class FilmError(RuntimeError):
    """ffmpeg could not read the film or could not make it fit."""


@dataclass(frozen=True)
class FitPlan:
    parts: int  # 1: one file
    part_s: float  # seconds of each part
    width: int
    height: int
    video_kbps: float


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def stream_kbps(limit_bytes: int, seconds: float, audio: bool) -> float:
    """The video bitrate that keeps ``seconds`` of film (and its sound) under ``limit_bytes``."""
    budget_bits = max(0.0, limit_bytes * SIZE_MARGIN - BOX_BYTES) * 8
    return budget_bits / max(seconds, 0.1) / 1000 - (AUDIO_KBPS if audio else 0)


def min_kbps(width: int, height: int, fps: float) -> float:
    """The least video bitrate a picture of this size and rate looks right at."""
    return max(FLOOR_KBPS, width * height * fps * MIN_BITS_PER_PIXEL / 1000)


def sizes(width: int, height: int) -> list[tuple[int, int]]:
    """The resolutions to try, the film's own first, each smaller, none under the smallest side."""
    found: list[tuple[int, int]] = []
    for scale in SCALES:
        w, h = _even(width * scale), _even(height * scale)
        if found and min(w, h) < MIN_SHORT_SIDE:
            break
        if (w, h) not in found:
            found.append((w, h))
    return found


def plan_fit(
    duration_s: float, width: int, height: int, fps: float, limit_bytes: int, *, audio: bool
) -> FitPlan:
    """How to fit a film over the limit: a lower bitrate at its own size if that looks right, else a
    smaller size, else parts at the smallest size, each with a bitrate that fits."""
    kbps = stream_kbps(limit_bytes, duration_s, audio)
    options = sizes(width, height)
    for w, h in options:
        if kbps >= min_kbps(w, h, fps):
            return FitPlan(1, duration_s, w, h, kbps)
    w, h = options[-1]
    floor = min_kbps(w, h, fps)
    per_part_bits = max(0.0, limit_bytes * SIZE_MARGIN - BOX_BYTES) * 8
    longest = per_part_bits / ((floor + (AUDIO_KBPS if audio else 0)) * 1000)
    if longest <= 0.1:
        raise FilmError(f"an upload limit of {limit_bytes} bytes holds no film")
    parts = max(2, math.ceil(duration_s / longest))
    part_s = duration_s / parts
    return FitPlan(parts, part_s, w, h, stream_kbps(limit_bytes, part_s, audio))


@dataclass(frozen=True)
class FilmFacts:
    duration_s: float
    width: int
    height: int
    fps: float
    audio: bool


def film_facts(path: Path) -> FilmFacts:
    """Duration, size, frame rate and whether there is sound, as ffmpeg reads the file."""
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        timeout=FFMPEG_TIMEOUT_S,
        check=False,
        env=child_env(),
    )
    info = done.stderr.decode("utf-8", "replace")
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    video = re.search(r"Stream #\S+.*?: Video: .*?, (\d{2,5})x(\d{2,5})", info)
    if duration is None or video is None:
        raise FilmError("ffmpeg cannot read the film")
    rate = re.search(r", ([\d.]+) fps", info)
    hours, minutes, seconds = duration.groups()
    return FilmFacts(
        duration_s=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        width=int(video.group(1)),
        height=int(video.group(2)),
        fps=float(rate.group(1)) if rate else 24.0,
        audio=re.search(r"Stream #\S+.*?: Audio:", info) is not None,
    )


def _encode(
    source: Path, out: Path, start: float, seconds: float, plan: FitPlan, kbps: float, audio: bool
) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y"]
    cmd += ["-ss", f"{start:.3f}", "-t", f"{seconds:.3f}", "-i", str(source)]
    cmd += ["-vf", f"scale={plan.width}:{plan.height}", "-c:v", "libx264", "-preset", "veryfast"]
    cmd += ["-b:v", f"{kbps:.0f}k", "-maxrate", f"{kbps:.0f}k", "-bufsize", f"{kbps:.0f}k"]
    cmd += ["-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    cmd += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k"] if audio else ["-an"]
    done = subprocess.run(
        [*cmd, str(out)], capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False, env=child_env()
    )
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FilmError(f"ffmpeg failed ({lines[-1] if lines else done.returncode})")


def fit_film(video: bytes, limit_bytes: int, room: int = 0) -> list[bytes]:
    """The film as files that each fit ``limit_bytes``: itself when it fits, else encoded again
    (:func:`plan_fit`), in parts when it must be, each leaving ``room`` bytes free (for the content
    credentials signed into it afterwards). Raises :class:`FilmError`. Blocking: run it in a thread."""
    if len(video) <= limit_bytes:
        return [video]
    limit_bytes -= room
    with tempfile.TemporaryDirectory(prefix="videobot-film-") as folder:
        source = Path(folder) / "film.mp4"
        source.write_bytes(video)
        facts = film_facts(source)
        plan = plan_fit(
            facts.duration_s, facts.width, facts.height, facts.fps, limit_bytes, audio=facts.audio
        )
        files: list[bytes] = []
        for part in range(plan.parts):
            out = Path(folder) / f"part{part}.mp4"
            kbps = plan.video_kbps
            for _ in range(ENCODE_TRIES):
                _encode(source, out, part * plan.part_s, plan.part_s, plan, kbps, facts.audio)
                if os.path.getsize(out) <= limit_bytes:
                    break
                kbps *= 0.8
            else:
                raise FilmError(f"part {part + 1} does not fit {limit_bytes} bytes")
            files.append(out.read_bytes())
        return files
