"""Finished renders kept on this host's disk until their clip is stored.

A render is the expensive part of a job (minutes of GPU); encoding and storing take seconds. A worker
killed in those seconds used to cost the whole render again. So the frames (and sound) of a finished
render are written here, next to the encode, and removed once the job has ended. A worker on the same
host that claims the job again finds them and only encodes. A kill that lands during the render still
costs the render: nothing is kept of a half-done one.

One ``.npz`` file per job, ``<job id>-<key>.npz``: ``key`` is a digest of what the job is (its spec,
server and creation time), so a file never passes for another job that got the same id (a new store,
another bot on this host). Files are written under a temporary name and renamed into place, so a kill
while writing leaves no file that looks finished. Writing is best effort: a full disk costs the keep,
never the job.

The folder: ``VIDEOBOT_SPOOL_DIR``, else ``$XDG_CACHE_HOME/videobot/rendered`` (``~/.cache/…``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from db.spec import RenderPlan
from generator.processes import pid_alive

log = logging.getLogger(__name__)

SPOOL_DIR_ENV = "VIDEOBOT_SPOOL_DIR"
STALE_S = 24 * 3600.0  # a kept render older than this is removed at start, whatever its job
_NAME = re.compile(r"^(\d+)-([0-9a-f]{16})\.npz$")


def spool_dir() -> Path:
    """Where this host keeps finished renders (see the module's text)."""
    configured = os.environ.get(SPOOL_DIR_ENV)
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "videobot" / "rendered"


def job_key(spec_json: str, guild_id: int, created_at: float) -> str:
    """16 hex digits that tell this job from any other with the same id."""
    text = json.dumps([spec_json, guild_id, round(created_at, 6)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Kept:
    """A finished render read back: what :class:`generator.render.RenderOutput` needs besides the plan."""

    frames: np.ndarray
    seconds: float
    audio: np.ndarray | None
    sample_rate: int | None


def path_for(root: Path, job_id: int, key: str) -> Path:
    return root / f"{job_id}-{key}.npz"


def keep(
    root: Path,
    job_id: int,
    key: str,
    frames: np.ndarray,
    seconds: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> Path | None:
    """Write a finished render; the file, or None when it could not be written (logged)."""
    final = path_for(root, job_id, key)
    partial = root / f".{job_id}-{key}.{os.getpid()}.part"
    arrays: dict[str, np.ndarray] = {
        "frames": np.ascontiguousarray(frames),
        "seconds": np.asarray(seconds, dtype=np.float64),
    }
    if audio is not None and sample_rate is not None:
        arrays["audio"] = np.ascontiguousarray(audio)
        arrays["sample_rate"] = np.asarray(sample_rate, dtype=np.int64)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]
        os.replace(partial, final)
    except OSError as exc:
        log.warning("job %s: could not keep its render on disk (%s); it is kept in memory only", job_id, exc)
        partial.unlink(missing_ok=True)
        return None
    return final


def take(root: Path, job_id: int, key: str, plan: RenderPlan) -> Kept | None:
    """The render kept for this job, if there is a whole one that fits its plan; else None (and a
    file that is unreadable or does not fit is removed)."""
    path = path_for(root, job_id, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            frames = data["frames"]
            seconds = float(data["seconds"])
            audio = data.get("audio")
            sample_rate = int(data["sample_rate"]) if "sample_rate" in data else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("job %s: its kept render cannot be read (%s); rendering it again", job_id, exc)
        path.unlink(missing_ok=True)
        return None
    if not fits(frames, plan):
        log.warning("job %s: its kept render does not fit its plan; rendering it again", job_id)
        path.unlink(missing_ok=True)
        return None
    return Kept(frames, seconds, audio, sample_rate)


def fits(frames: np.ndarray, plan: RenderPlan) -> bool:
    """Frames of the plan's size, uint8 RGB."""
    return (
        frames.dtype == np.uint8
        and frames.ndim == 4
        and frames.shape[1:] == (plan.height, plan.width, 3)
        and frames.shape[0] > 0
    )


def discard(root: Path, job_id: int, key: str) -> None:
    path_for(root, job_id, key).unlink(missing_ok=True)


def kept_jobs(root: Path) -> list[tuple[int, str, Path]]:
    """(job id, key, file) of every kept render in ``root``."""
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry))
    return found


def remove_stale(root: Path, now: float | None = None) -> list[Path]:
    """Remove what no worker will take again: renders older than a day, and partial files of
    writers that are gone (a kill while writing). What went."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        try:
            age = now - entry.stat().st_mtime
        except OSError:
            continue
        partial = entry.name.startswith(".") and entry.name.endswith(".part")
        if (partial and _writer_gone(entry.name)) or (_NAME.match(entry.name) and age > STALE_S):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _writer_gone(name: str) -> bool:
    try:
        pid = int(name.rsplit(".", 2)[-2])
    except (ValueError, IndexError):
        return True
    return pid == os.getpid() or not pid_alive(pid)  # our own pid: a file of an earlier process
