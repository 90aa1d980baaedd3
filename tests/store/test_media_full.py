"""A full disk under the SQLite store's media folder: storing a clip is an outage of the store (it can
be tried again, and succeeds once there is room), no half-written file is left to hold the space, and
what was stored before is untouched."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from db.store import StoreFull, open_store, store_unavailable
from tests.tmpfs import fill, small_disk

CLIP = b"\0\0\0\x18ftypisom" + b"v" * 600_000
POSTER = b"\x89PNG\r\n\x1a\n" + b"p" * 50_000


async def test_a_clip_that_meets_a_full_disk_is_stored_once_there_is_room(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "4m") as disk:
        store = await open_store(str(disk / "videobot.db"))
        try:
            await store.jobs.put_media(1, CLIP, POSTER)
            filler = disk / "filler"
            fill(filler)
            with pytest.raises(StoreFull) as raised:
                await store.jobs.put_media(2, CLIP, POSTER)
            error = raised.value
            assert isinstance(error.__cause__, OSError) and error.__cause__.errno == errno.ENOSPC
            assert store_unavailable(error)  # the bot says "try again in a minute", the worker waits
            assert not isinstance(error, OSError)  # not a fault of the worker's host: nothing to pause for
            media = disk / "media"
            assert sorted(p.name for p in media.iterdir()) == ["1.mp4", "1.png"]  # no half-written temp file
            assert await store.jobs.get_media(2) is None
            with pytest.raises(StoreFull):  # a member's picture meets the same full disk
                await store.jobs.put_input(b"\x89PNG" + b"x" * 100_000, "png")
            assert not (media / "inputs").exists() or not list((media / "inputs").iterdir())

            filler.unlink()
            assert (await store.jobs.put_media(2, CLIP, POSTER)) == "file:2.mp4"
            stored = await store.jobs.get_media(2)
            assert stored is not None and (stored.video, stored.poster) == (CLIP, POSTER)
            before = await store.jobs.get_media(1)
            assert before is not None and (before.video, before.poster) == (CLIP, POSTER)
        finally:
            await store.close()


async def test_other_write_errors_of_the_media_folder_stay_what_they_are(tmp_path: Path) -> None:
    store = await open_store(str(tmp_path / "videobot.db"))
    try:
        (tmp_path / "media").write_text("a file where the folder should be")
        with pytest.raises(OSError) as raised:  # an admin's mistake, not an outage to wait out
            await store.jobs.put_media(1, CLIP, POSTER)
        assert not isinstance(raised.value, StoreFull)
    finally:
        await store.close()
