"""The store fixtures of tests/store (both backends), and a gallery's worth of clips: real snowflake-sized
member ids (so a page can be searched for them), one author who agreed to be named, one who withdrew,
and the public server's name and icon as the bot records them."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import imageio_ffmpeg
import pytest

from db.store import Job, JobKind, JobResult, Store
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
PUBLIC_NAME = "Pixel Forge"
PRIVATE_NAME = "Secret Club"
NAMED = "Ana Fox"  # the display name of the one author who agreed to be named
HOSTILE_PROMPT = "<script>window.pwned=1</script> **x**"
LONG_PROMPT = "unbroken" * 40  # one 320-letter word: it must wrap on a phone
DAY = 86_400.0


def member(n: int) -> int:
    """A member's Discord id: snowflake-sized, so a page that leaked one would show it whole."""
    return 312_345_678_901_234_500 + n


def voter(n: int) -> int:
    return 412_345_678_901_234_500 + n


MENTION_PROMPT = f"a portrait of <@{member(5)}> and <@!{member(1)}> as foxes"


@dataclass
class Media:
    video: bytes
    poster: bytes
    icon: bytes  # a server's icon, 64×64


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """A playable H.264 + AAC clip (what the worker makes) and a PNG poster."""
    folder = tmp_path_factory.mktemp("gallery-media")
    video = make_clip(folder / "clip.mp4", size=(256, 160), seconds=1.0, extra=("-movflags", "+faststart"))
    poster, icon = folder / "poster.png", folder / "icon.png"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for source, out in (("testsrc2=size=256x160", poster), ("mandelbrot=size=64x64", icon)):
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", "1", str(out)],
            check=True,
        )
    return Media(video.read_bytes(), poster.read_bytes(), icon.read_bytes())


@dataclass
class Gallery:
    """The clips seeded: ``original`` ← ``extended`` ← ``hostile`` (a remix), ``old`` (ten days ago),
    ``long`` (a long word), ``mentions`` (its prompt mentions two members), ``deleted``; ``private`` is
    of a server that did not opt in. The author of ``original`` agreed to be named (:data:`NAMED`);
    the author of ``extended`` agreed and then withdrew; nobody else said anything."""

    original: Job
    extended: Job
    hostile: Job
    old: Job
    long: Job
    mentions: Job
    deleted: Job
    private: Job
    message_id: int

    @property
    def member_ids(self) -> list[int]:
        """Every member id in the fixtures: authors, voters, the members the prompts mention."""
        return [member(n) for n in range(1, 10)] + [voter(n) for n in range(10)]


async def clip(
    store: Store,
    clock: FakeClock,
    media: Media,
    guild: int,
    user: int,
    prompt: str,
    *,
    parent: Job | None = None,
    kind: JobKind = "new",
    votes: int = 0,
    age_restricted: bool = False,
    posted: bool = True,
    message_id: int | None = None,
    public: bool | None = True,
) -> Job:
    """A clip a worker rendered and stored and the bot posted (``message_id``: its message; ``posted``
    False: not yet), with ``votes`` 👍 from other members; ``age_restricted``: asked for in an
    age-restricted channel; ``public``: whether @everyone could view the channel it was posted in, as
    the bot records it (None: not recorded)."""
    parent_id = None if parent is None else parent.id
    job = await store.jobs.enqueue(
        guild, CHANNEL, user, spec(prompt), 1.0, parent_id=parent_id, kind=kind, age_restricted=age_restricted
    )
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, media.video, media.poster)
    clock.advance(1.0)
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(media.video), 256, 160, 24, 24.0, 1.0))
    if posted:
        assert await store.jobs.mark_posted(job.id, message_id, None)
        if public is not None:
            assert await store.jobs.set_public_channel(job.id, public)
    for n in range(votes):
        await store.votes.vote(job.id, voter(n), +1)
    done = await store.jobs.get(job.id)
    assert done is not None
    return done


async def seed(store: Store, clock: FakeClock, media: Media) -> Gallery:
    await store.settings.update_settings(PUBLIC, gallery_public=True)
    await store.settings.update_settings(PRIVATE, gallery_public=False, max_extends=2)
    await store.profiles.record_guild(PUBLIC, PUBLIC_NAME)  # what the bot records when it posts a clip
    await store.profiles.record_guild_icon(PUBLIC, "a1b2c3", media.icon)
    await store.profiles.record_guild(PRIVATE, PRIVATE_NAME)
    await store.profiles.set_gallery_name(PUBLIC, member(2), True, NAMED)  # /me gallery-name show:True
    await store.profiles.set_gallery_name(PUBLIC, member(3), True, "Withdrawn Wolf")
    await store.profiles.set_gallery_name(PUBLIC, member(3), False, "Withdrawn Wolf")  # … and later False
    old = await clip(store, clock, media, PUBLIC, member(1), "an old lighthouse in a storm", votes=5)
    clock.advance(8 * DAY)
    message_id = 444_000_000_000_000_004
    fox = "a red fox running through snow"
    original = await clip(store, clock, media, PUBLIC, member(2), fox, votes=3, message_id=message_id)
    clock.advance(2 * DAY)
    extended = await clip(
        store,
        clock,
        media,
        PUBLIC,
        member(3),
        "the fox reaches a frozen lake",
        parent=original,
        kind="extend",
        votes=2,
    )
    hostile = await clip(
        store, clock, media, PUBLIC, member(4), HOSTILE_PROMPT, parent=extended, kind="remix", votes=1
    )
    long = await clip(store, clock, media, PUBLIC, member(5), LONG_PROMPT)
    mentions = await clip(store, clock, media, PUBLIC, member(8), MENTION_PROMPT)
    deleted = await clip(store, clock, media, PUBLIC, member(6), "a clip its author deleted", votes=9)
    assert await store.jobs.delete_clip(deleted.id)
    private = await clip(
        store, clock, media, PRIVATE, member(7), "a secret clip of a private server", votes=4
    )
    return Gallery(original, extended, hostile, old, long, mentions, deleted, private, message_id)


@pytest.fixture
async def gallery(store: Store, clock: FakeClock, media: Media) -> Gallery:
    return await seed(store, clock, media)


async def crowd(store: Store, clock: FakeClock, media: Media, count: int) -> list[Job]:
    """``count`` more clips of the public server, a minute apart, by a member who never said anything
    (the last one is the newest)."""
    made = []
    for n in range(count):
        clock.advance(60.0)
        made.append(await clip(store, clock, media, PUBLIC, member(9), f"crowd clip number {n + 1}"))
    return made


class _MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        key = found.get("property") or found.get("name")
        if tag == "meta" and key and found.get("content") is not None:
            self.tags.setdefault(key, str(found["content"]))


def meta_tags(html: str) -> dict[str, str]:
    """A page's <meta property|name=… content=…> tags (the first of each), as a crawler reads them."""
    parser = _MetaTags()
    parser.feed(html)
    return parser.tags


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
