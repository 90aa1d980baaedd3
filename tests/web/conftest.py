"""The store fixtures of tests/store (both backends), and a gallery's worth of clips."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest

from db.store import Job, JobKind, JobResult, JobStore
from tests.mp4probe import make_clip
from tests.store import conftest as store_fixtures
from tests.store.conftest import FakeClock
from tests.store.helpers import spec

# the store's fixtures (tests/store/conftest.py): both backends, a real PostgreSQL, the fake clock
pg_cluster = store_fixtures.pg_cluster
url_factories = store_fixtures.url_factories
backend = store_fixtures.backend
store_url = store_fixtures.store_url
clock = store_fixtures.clock
store = store_fixtures.store

PUBLIC = 111_000_000_000_000_001
PRIVATE = 222_000_000_000_000_002
CHANNEL = 333_000_000_000_000_003
HOSTILE_PROMPT = "<script>window.pwned=1</script> **x**"
LONG_PROMPT = "unbroken" * 40  # one 320-letter word: it must wrap on a phone
DAY = 86_400.0


@dataclass
class Media:
    video: bytes
    poster: bytes


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """A playable H.264 + AAC clip (what the worker makes) and a PNG poster."""
    folder = tmp_path_factory.mktemp("gallery-media")
    video = make_clip(folder / "clip.mp4", size=(256, 160), seconds=1.0, extra=("-movflags", "+faststart"))
    poster = folder / "poster.png"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=256x160",
            "-frames:v",
            "1",
            str(poster),
        ],
        check=True,
    )
    return Media(video.read_bytes(), poster.read_bytes())


@dataclass
class Gallery:
    """The clips seeded: ``original`` ← ``extended`` ← ``hostile`` (a remix), ``old`` (ten days ago),
    ``long`` (a long word), ``deleted``; ``private`` is of a server that did not opt in."""

    original: Job
    extended: Job
    hostile: Job
    old: Job
    long: Job
    deleted: Job
    private: Job
    message_id: int


async def clip(
    store: JobStore,
    clock: FakeClock,
    media: Media,
    guild: int,
    user: int,
    prompt: str,
    *,
    parent: Job | None = None,
    kind: JobKind = "new",
    votes: int = 0,
) -> Job:
    """A clip a worker rendered and stored, with ``votes`` 👍 from other members."""
    parent_id = None if parent is None else parent.id
    job = await store.enqueue(guild, CHANNEL, user, spec(prompt), 1.0, parent_id=parent_id, kind=kind)
    assert await store.claim_next("w1", [job.model]) is not None
    ref = await store.put_media(job.id, media.video, media.poster)
    clock.advance(1.0)
    assert await store.finish(job.id, "w1", JobResult(ref, len(media.video), 256, 160, 24, 24.0, 1.0))
    for voter in range(votes):
        await store.vote(job.id, 9000 + voter, +1)
    done = await store.get(job.id)
    assert done is not None
    return done


async def seed(store: JobStore, clock: FakeClock, media: Media) -> Gallery:
    await store.update_settings(PUBLIC, gallery_public=True)
    await store.update_settings(PRIVATE, gallery_public=False, max_extends=2)
    old = await clip(store, clock, media, PUBLIC, 1, "an old lighthouse in a storm", votes=5)
    clock.advance(8 * DAY)
    original = await clip(store, clock, media, PUBLIC, 2, "a red fox running through snow", votes=3)
    clock.advance(2 * DAY)
    extended = await clip(
        store,
        clock,
        media,
        PUBLIC,
        3,
        "the fox reaches a frozen lake",
        parent=original,
        kind="extend",
        votes=2,
    )
    hostile = await clip(
        store, clock, media, PUBLIC, 4, HOSTILE_PROMPT, parent=extended, kind="remix", votes=1
    )
    long = await clip(store, clock, media, PUBLIC, 5, LONG_PROMPT)
    deleted = await clip(store, clock, media, PUBLIC, 6, "a clip its author deleted", votes=9)
    assert await store.delete_clip(deleted.id)
    private = await clip(store, clock, media, PRIVATE, 7, "a secret clip of a private server", votes=4)
    message_id = 444_000_000_000_000_004
    assert await store.mark_posted(original.id, message_id, None)
    posted = await store.get(original.id)
    assert posted is not None
    return Gallery(posted, extended, hostile, old, long, deleted, private, message_id)


@pytest.fixture
async def gallery(store: JobStore, clock: FakeClock, media: Media) -> Gallery:
    return await seed(store, clock, media)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
