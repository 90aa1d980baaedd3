"""Where a joined clip's frames were first encoded (``Job.segments``), so that a join that must encode
its clips again decodes each stretch from its first encode, never from a re-encoded copy.

A clip from a prompt (or a picture) is all its own first encode. An extend holds its parent's frames
(copied as they were, or encoded again) and then its own; a bridge holds the first clip's, its own, and
the second clip's (copied, or its own first encode at the first clip's size and rate). Pure functions over
(job id, first frame, frame count) triples; the worker fetches the files they name.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.store import Segments


def clip_segments(job_id: int, segments: Segments | None, frames: int) -> Segments:
    """Where the ``frames`` frames of clip ``job_id`` were first encoded: its record, or its own file
    for a clip without one. A record whose counts do not add up to ``frames`` (a clip cut by a tool, or
    an older row) is not trusted: the clip's own file is the best original there is."""
    if segments and sum(count for _, _, count in segments) == frames:
        return segments
    return ((job_id, 0, frames),)


def sources(job_id: int, segments: Segments) -> list[int]:
    """The other clips whose files hold first encodes of ``job_id``'s frames, in order, once each: none
    when the clip's own file is its only original."""
    return list(dict.fromkeys(source for source, _, _ in segments if source != job_id))


def joined_segments(parts: Sequence[Segments]) -> Segments:
    """The segments of a clip made of ``parts`` one after another, each already in the clip's own terms
    (see :func:`own_part`); neighbours that continue one another in the same file merge."""
    merged: list[tuple[int, int, int]] = []
    for source, start, count in (segment for part in parts for segment in part):
        if count <= 0:
            continue
        if merged and merged[-1][0] == source and merged[-1][1] + merged[-1][2] == start:
            merged[-1] = (source, merged[-1][1], merged[-1][2] + count)
        else:
            merged.append((source, start, count))
    return tuple(merged)


def own_part(job_id: int, first: int, count: int) -> Segments:
    """``count`` frames that were first encoded in clip ``job_id``'s own file, from its frame ``first``."""
    return ((job_id, first, count),)
