"""Where a finished clip's bytes live: the H.264 mp4 and its poster PNG.

- :class:`FileMedia` (default, with SQLite): a ``media/`` directory next to the database file. The
  bot and the workers run on one machine, the files are plain mp4/png an admin can look at or back up,
  and the database stays small.
- :class:`DatabaseMedia` (scale-out, with PostgreSQL): a ``bytea`` table in the same database. Every
  bot shard and GPU host already reaches it, so there is no shared disk or object store to run; a clip
  is capped by Discord's upload limit (a few MiB), far below what bytea handles well; and it is
  written in the same database as the job, so a clip is never "done" without its file.

A full disk under :class:`FileMedia` is an outage of the store, as it is for the SQLite file beside it:
:class:`StoreFull` is raised (not the host fault an ``OSError`` of ENOSPC would read as), so the worker
keeps the finished clip and tries again until there is room, and no half-written file is left.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.store.connector import Connector


@dataclass(frozen=True)
class Media:
    video: bytes  # H.264 mp4
    poster: bytes  # PNG; empty when it is missing (the poster is optional, the clip is not)


INPUT_REF = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)$")  # sha256 of the bytes, and the format


def input_ref(data: bytes, extension: str) -> str:
    """The reference of a member's picture: its content hash, so the same picture is stored once."""
    ref = f"{hashlib.sha256(data).hexdigest()}.{extension}"
    if not INPUT_REF.match(ref):
        raise ValueError(f"pictures are png, jpg or webp, not {extension!r}")
    return ref


class MediaStore(ABC):
    @abstractmethod
    async def put(self, job_id: int, video: bytes, poster: bytes) -> str:
        """Store a clip's bytes (replacing earlier ones); a reference to record in the job."""

    @abstractmethod
    async def put_input(self, data: bytes, extension: str) -> str:
        """Store a member's picture before its job is queued; the reference the job's spec names."""

    @abstractmethod
    async def get_input(self, ref: str) -> bytes | None: ...

    @abstractmethod
    async def get(self, job_id: int) -> Media | None: ...

    @abstractmethod
    async def delete(self, job_id: int) -> bool: ...


class StoreFull(Exception):
    """The media store has no room (its disk is full, or its quota used): the store is away until
    space is freed, like a database that is down, so a caller waits and tries again rather than
    throwing the clip away. The :class:`OSError` is its ``__cause__``."""


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextmanager
def _full_is_an_outage(what: str) -> Iterator[None]:
    """A full disk (or quota) while writing ``what`` raises :class:`StoreFull`; other errors pass."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise StoreFull(f"no room for {what} in the media store: {exc.strerror}") from exc
        raise


def _write_atomically(path: Path, data: bytes) -> None:
    # a reader never sees half a file, even if the worker dies mid-write; a write that fails (a full
    # disk) leaves no half-written temp file behind to hold the space
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class FileMedia(MediaStore):
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def input_path(self, ref: str) -> Path:
        if not INPUT_REF.match(ref):  # a reference is a hash: never a path into the disk
            raise ValueError(f"not a picture reference: {ref!r}")
        return self.directory / "inputs" / ref

    async def put_input(self, data: bytes, extension: str) -> str:
        ref = input_ref(data, extension)
        path = self.input_path(ref)

        def write() -> None:
            with _full_is_an_outage(f"picture {ref}"):
                path.parent.mkdir(parents=True, exist_ok=True)
                try:  # stored again: retention keeps it as long as a fresh one (db.store.retention)
                    os.utime(path)
                except FileNotFoundError:
                    _write_atomically(path, data)

        await asyncio.to_thread(write)
        return ref

    async def get_input(self, ref: str) -> bytes | None:
        path = self.input_path(ref)

        def read() -> bytes | None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read)

    def paths(self, job_id: int) -> tuple[Path, Path]:
        return self.directory / f"{job_id}.mp4", self.directory / f"{job_id}.png"

    async def put(self, job_id: int, video: bytes, poster: bytes) -> str:
        video_path, poster_path = self.paths(job_id)

        def write() -> None:
            with _full_is_an_outage(f"clip {job_id}"):
                self.directory.mkdir(parents=True, exist_ok=True)
                _write_atomically(poster_path, poster)
                _write_atomically(video_path, video)  # last: its presence means the clip is complete

        await asyncio.to_thread(write)
        return f"file:{video_path.name}"

    async def get(self, job_id: int) -> Media | None:
        video_path, poster_path = self.paths(job_id)

        def read() -> Media | None:
            try:
                video = video_path.read_bytes()
            except FileNotFoundError:
                return None
            try:
                poster = poster_path.read_bytes()
            except OSError:
                poster = b""
            return Media(video, poster)

        return await asyncio.to_thread(read)

    async def delete(self, job_id: int) -> bool:
        def remove() -> bool:
            removed = False
            for path in self.paths(job_id):
                try:
                    path.unlink()
                    removed = True
                except FileNotFoundError:
                    pass
            return removed

        return await asyncio.to_thread(remove)


class DatabaseMedia(MediaStore):
    def __init__(self, connector: Connector) -> None:
        self._db = connector

    async def put_input(self, data: bytes, extension: str) -> str:
        ref = input_ref(data, extension)
        async with self._db.transaction() as tx:
            await tx.execute("put_input", ref=ref, data=data, now=time.time())
        return ref

    async def get_input(self, ref: str) -> bytes | None:
        if not INPUT_REF.match(ref):
            raise ValueError(f"not a picture reference: {ref!r}")
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("get_input", ref=ref)
        return None if row is None else bytes(row["data"])

    async def put(self, job_id: int, video: bytes, poster: bytes) -> str:
        async with self._db.transaction() as tx:
            await tx.execute("put_media", job_id=job_id, video=video, poster=poster, now=time.time())
        return f"db:{job_id}"

    async def get(self, job_id: int) -> Media | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("get_media", job_id=job_id)
        return None if row is None else Media(bytes(row["video"]), bytes(row["poster"]))

    async def delete(self, job_id: int) -> bool:
        async with self._db.transaction() as tx:
            return await tx.execute("delete_media", job_id=job_id) > 0
