"""Is a finished clip fit to post? It exists, it is as long as the store says, its mp4 boxes are whole,
and ffmpeg (the binary bundled by imageio-ffmpeg) decodes its first frame. A clip that fails is not
posted: its member is told why instead (the poster is optional and never checked)."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import tempfile

import imageio_ffmpeg

from bot.config import child_env
from db.media import Media
from db.store import Job

DECODE_TIMEOUT_S = 30.0


def mp4_boxes(data: bytes) -> list[str]:
    """The top-level box types of an mp4; raises ValueError when a box runs past the end."""
    boxes: list[str] = []
    at = 0
    while at < len(data):
        if len(data) - at < 8:
            raise ValueError("a truncated box header")
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:  # a 64-bit size follows the type
            if len(data) - at < 16:
                raise ValueError("a truncated box header")
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - at
        if size < 8 or at + size > len(data):
            raise ValueError(f"box {kind!r} runs past the end of the file")
        boxes.append(kind.decode("latin-1"))
        at += size
    return boxes


def container_problem(job: Job, media: Media) -> str | None:
    """Why the stored bytes are not the clip the worker finished, or None."""
    if not media.video:
        return "the file is empty"
    if job.video_bytes is not None and len(media.video) != job.video_bytes:
        return f"the file has {len(media.video)} bytes, the worker stored {job.video_bytes}"
    try:
        boxes = mp4_boxes(media.video)
    except ValueError as exc:
        return str(exc)
    if boxes[:1] != ["ftyp"] or "moov" not in boxes or "mdat" not in boxes:
        return f"not an mp4 (boxes {', '.join(boxes[:6])})"
    return None


def decode_problem(video: bytes) -> str | None:
    """Why ffmpeg cannot decode the clip's first frame, or None."""
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="videobot-check-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(video)
        done = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", path, "-frames:v", "1", "-f", "null", "-"],
            capture_output=True,
            timeout=DECODE_TIMEOUT_S,
            check=False,
            env=child_env(),
        )
    except subprocess.TimeoutExpired:
        return "ffmpeg took too long to read it"
    finally:
        os.unlink(path)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"ffmpeg cannot read it ({lines[-1] if lines else done.returncode})"
    return None


async def clip_problem(job: Job, media: Media) -> str | None:
    """Why this clip must not be posted, or None when it is fit to post."""
    problem = container_problem(job, media)
    if problem is None:
        problem = await asyncio.to_thread(decode_problem, media.video)
    return problem
