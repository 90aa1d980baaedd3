"""The job store's part for media retention: a posted clip's mp4 and poster, and the members'
pictures its jobs started from, are kept a set time after posting (``VIDEOBOT_MEDIA_DAYS``, 7 days by
default), then removed. The job row stays, with its message id: ``/show`` of an older clip reposts the
attachment of the original Discord message.

``store.retention``, a :class:`db.store.part.Part`: the same connection, clock, media store and
transactions; its queries in ``db/sql/retention.sql``. Both backends: SQLite's media folder and
PostgreSQL's tables.

What is never removed, whatever its age:

- a clip that is not posted yet (the bot still has to post it);
- the clip a job not posted yet is made from: an extend's, an HD version's or a bridge's (both ends;
  the worker reads their mp4 from the store), and a remix's or a loop's (the bot signs the new clip
  with its parent's signed file as an ingredient, :mod:`db.credentials`);
- a scene of an unfinished story (the next scene extends it, the film is cut from the last one);
- a picture that a job not posted yet, or posted since the cutoff, starts from (or ends on);
- a picture a proposal of an unfinished story ends on (its scene may still be rendered from it);
- a picture stored (again) since the cutoff: a member who sends the same picture once more refreshes
  it before the job that uses it is queued.

A removed clip keeps its row with ``media_ref`` NULL (no migration: a finished clip always had one
until now), which :func:`media_pruned` reads. The files and the marks go in one write transaction
(PostgreSQL: both in the database, all or nothing; SQLite: the files go while the transaction holds
the write lock, so a crash before its commit leaves the marks unset and the next pass does them).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from db.media import INPUT_REF, DatabaseMedia, FileMedia
from db.spec import JobSpec
from db.store.models import Job
from db.store.part import Part

DAY_S = 86_400.0
DEFAULT_MEDIA_DAYS = 7.0
PRUNE_BATCH = 200  # clips per write transaction: SQLite's write lock is held for milliseconds


def media_pruned(job: Job) -> bool:
    """A finished clip whose files the store no longer keeps (removed by retention)."""
    return job.state == "done" and job.media_ref is None


@dataclass(frozen=True)
class PruneReport:
    clips: tuple[int, ...]  # jobs whose mp4 and poster were removed
    pictures: tuple[str, ...]  # members' pictures removed (their references)


class RetentionStore(Part):
    async def prune_media(self, older_than: float, *, batch: int = PRUNE_BATCH) -> PruneReport:
        """Remove the video and poster of the clips posted before ``older_than`` (epoch seconds) that
        nothing needs any more, and the pictures no job still needs (see the module docstring)."""
        clips: list[int] = []
        while True:
            async with self._db.transaction() as tx:
                rows = await tx.fetch_all("retention_prunable_clips", cutoff=older_than, limit=batch)
                ids = [int(r["id"]) for r in rows]
                if isinstance(self._media, DatabaseMedia):  # in this transaction: files and marks at once
                    if ids:
                        await tx.execute("retention_delete_clip_media", ids=ids)
                else:
                    for job_id in ids:
                        await self._media.delete(job_id)
                for job_id in ids:
                    await tx.execute("retention_mark_pruned", id=job_id)
            clips.extend(ids)
            if len(rows) < batch:
                break
        pictures = await self._prune_pictures(older_than)
        return PruneReport(tuple(clips), tuple(pictures))

    async def _prune_pictures(self, older_than: float) -> list[str]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("retention_pictures_in_use", cutoff=older_than)
            proposed = await tx.fetch_all("retention_story_pictures_in_use")
        specs = [JobSpec.from_json(r["spec"]) for r in rows]
        in_use = {ref for spec in specs for ref in (spec.image_ref, spec.end_image_ref) if ref is not None}
        in_use |= {str(r["ref"]) for r in proposed}
        media = self._media
        if isinstance(media, FileMedia):
            return await asyncio.to_thread(
                _prune_picture_files, media.directory / "inputs", in_use, older_than
            )
        if isinstance(media, DatabaseMedia):
            removed: list[str] = []
            async with self._db.transaction(write=False) as tx:
                old = [str(r["ref"]) for r in await tx.fetch_all("retention_old_pictures", cutoff=older_than)]
            for ref in old:
                if ref in in_use:
                    continue
                async with self._db.transaction() as tx:
                    if await tx.execute("retention_delete_picture", ref=ref, cutoff=older_than):
                        removed.append(ref)
            return removed
        return []  # a media store this module does not know keeps its pictures


def _prune_picture_files(folder: Path, in_use: set[str], older_than: float) -> list[str]:
    """Remove the picture files of ``folder`` not in use and not written or refreshed since the cutoff."""
    removed: list[str] = []
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return removed
    for path in entries:
        if not INPUT_REF.match(path.name) or path.name in in_use:
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < older_than:
                path.unlink()
                removed.append(path.name)
    return removed
