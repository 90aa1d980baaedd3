"""The web gallery's page of a clip says what the clip's content credentials say (issue 21): valid for a clip
the bot signed (under a root the store knows) that nobody changed since, none for a clip posted before
clips were signed, altered for one whose video changed after signing, signed elsewhere for a signature
under a root the installation does not know (until the store knows it: roots are read once a minute).
The mp4 served is the stored signed file byte for byte; a clip signed after it was first shown is served
and read anew, and a page shown again is not read again. The words come from a pure function of the
verdict, tested here too. SQLite only: the store's half runs on both backends elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from db.credentials import ClipFacts, Keys, Status, Verdict, ensure_keys, manifest_store_bytes, sign_clip
from db.store import Job, Store
from db.store.credentials import Trust
from tests.store.conftest import FakeClock
from tests.web.conftest import PUBLIC, PUBLIC_NAME, Media, clip, member
from videobot import gallery_view as view
from videobot import web
from videobot.web import CREDENTIALS_KEY, ROOTS_SECONDS, RUNNER_OPTIONS, CredentialChecks, build_app

MEMBER_ID = 312_345_678_901_234_567
MODEL_TITLE = "LTX-Video 2B"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture(scope="module")
def keys() -> Keys:
    return ensure_keys()  # in the test session's folder ($VIDEOBOT_C2PA_DIR, tests/conftest.py)


def signed(video: bytes, keys: Keys, folder: Path) -> tuple[bytes, int]:
    """``video`` signed as the bot signs a clip when it posts it (bot/credentials.py): its bytes and the
    size of its manifest store."""
    src, dest = folder / "stored.mp4", folder / "signed.mp4"
    src.write_bytes(video)
    facts = ClipFacts(
        "ltx-video",
        MODEL_TITLE,
        "LTXPipeline",
        "Lightricks/LTX-Video",
        server=PUBLIC_NAME,
        server_id=PUBLIC,
        authors=(f"a member of {PUBLIC_NAME}",),
        title="videobot-1.mp4",
    )
    sign_clip(src, dest, facts, keys)
    return dest.read_bytes(), manifest_store_bytes(dest)


class Site:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base, self.session = base, session
        self.now = 1000.0  # the clock the gallery's roots are kept by

    async def get(self, path: str, **headers: str) -> tuple[int, bytes, CIMultiDict[str]]:
        async with self.session.get(self.base + path, headers=headers) as response:
            return response.status, await response.read(), CIMultiDict(response.headers)

    async def page(self, job: Job) -> str:
        status, body, _ = await self.get(f"/g/{PUBLIC}/clip/{job.id}")
        assert status == 200
        return body.decode()


@pytest.fixture
async def site(store: Store) -> AsyncIterator[Site]:
    await store.settings.update_settings(PUBLIC, gallery_public=True)
    await store.profiles.record_guild(PUBLIC, PUBLIC_NAME)
    app = build_app(store)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**RUNNER_OPTIONS)  # as `videobot web` runs it
    try:
        async with aiohttp.ClientSession() as session:
            shown = Site(str(server.make_url("")).rstrip("/"), session)
            app[CREDENTIALS_KEY].clock = lambda: shown.now
            yield shown
    finally:
        await server.close()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the gallery read a clip's credentials (the size of each file it read)."""
    counted: list[int] = []
    read = web.read_verdict

    def counting(video: bytes, trust: Trust) -> Verdict | None:
        counted.append(len(video))
        return read(video, trust)

    monkeypatch.setattr(web, "read_verdict", counting)
    return counted


async def test_a_signed_clips_page_says_valid_and_serves_the_signed_file_byte_for_byte(
    site: Site, store: Store, clock: FakeClock, media: Media, keys: Keys, tmp_path: Path
) -> None:
    await store.credentials.record_signer(keys.root_pem, keys.chain_pem)  # what the bot does when it starts
    job = await clip(store, clock, media, PUBLIC, member(1), "a red fox running through snow")
    video, manifest = signed(media.video, keys, tmp_path)
    assert await store.jobs.put_signed(job.id, video, media.poster, manifest)
    page = await site.page(job)
    assert "Content credentials: valid" in page
    assert f"Signed by the videobot of this gallery; the file says a model made it: {MODEL_TITLE}." in page
    assert f'href="/media/{job.id}.mp4" download="videobot-{job.id}.mp4"' in page
    assert str(member(1)) not in page and str(PUBLIC) in page  # the server's id is in its address only
    status, body, headers = await site.get(f"/media/{job.id}.mp4")
    assert (status, headers["Content-Type"]) == (200, "video/mp4")
    assert body == video and body != media.video
    status, body, headers = await site.get(f"/media/{job.id}.mp4", Range="bytes=100-")
    assert (status, body) == (206, video[100:])
    assert headers["Content-Range"] == f"bytes 100-{len(video) - 1}/{len(video)}"


async def test_an_unsigned_clip_says_none(site: Site, store: Store, clock: FakeClock, media: Media) -> None:
    job = await clip(store, clock, media, PUBLIC, member(1), "posted before clips were signed")
    page = await site.page(job)
    assert "Content credentials: none" in page
    assert "clips posted before videobot signed its clips," in page and "carry no credentials" in page
    status, body, _ = await site.get(f"/media/{job.id}.mp4")
    assert (status, body) == (200, media.video)


async def test_a_clip_changed_after_signing_says_altered(
    site: Site, store: Store, clock: FakeClock, media: Media, keys: Keys, tmp_path: Path
) -> None:
    await store.credentials.record_signer(keys.root_pem, keys.chain_pem)
    job = await clip(store, clock, media, PUBLIC, member(1), "a fox someone edited")
    video, manifest = signed(media.video, keys, tmp_path)
    changed = bytearray(video)
    changed[changed.index(b"mdat") + 500] ^= 0x01  # one byte of the frames
    assert await store.jobs.put_signed(job.id, bytes(changed), media.poster, manifest)
    page = await site.page(job)
    assert "Content credentials: altered after signing" in page
    assert "Content credentials: valid" not in page
    _, body, _ = await site.get(f"/media/{job.id}.mp4")
    assert body == bytes(changed)


async def test_a_root_the_store_does_not_know_is_signed_elsewhere_until_it_is_recorded(
    site: Site, store: Store, clock: FakeClock, media: Media, keys: Keys, tmp_path: Path, reads: list[int]
) -> None:
    await store.credentials.record_signer(keys.root_pem, keys.chain_pem)
    other = ensure_keys(tmp_path / "another-installation", name="elsewhere")
    job = await clip(store, clock, media, PUBLIC, member(1), "a fox from another bot")
    video, manifest = signed(media.video, other, tmp_path)
    assert await store.jobs.put_signed(job.id, video, media.poster, manifest)
    assert "Content credentials: signed elsewhere" in await site.page(job)
    # a second bot host of this installation starts
    await store.credentials.record_signer(other.root_pem, other.chain_pem)
    site.now += ROOTS_SECONDS - 1
    assert "Content credentials: signed elsewhere" in await site.page(job)  # the roots read a while ago
    assert reads == [len(video)]  # … and the verdict kept
    site.now += 1
    assert "Content credentials: valid" in await site.page(job)
    assert reads == [len(video)] * 2  # other roots: read again


async def test_a_clip_is_shown_only_once_posted_and_so_signed_and_a_changed_file_is_read_anew(
    site: Site, store: Store, clock: FakeClock, media: Media, keys: Keys, tmp_path: Path, reads: list[int]
) -> None:
    await store.credentials.record_signer(keys.root_pem, keys.chain_pem)
    job = await clip(store, clock, media, PUBLIC, member(1), "rendered, not posted yet", posted=False)
    for path in (f"/g/{PUBLIC}/clip/{job.id}", f"/media/{job.id}.mp4"):  # not before the bot signs it
        assert (await site.get(path))[0] == 404
    video, manifest = signed(media.video, keys, tmp_path)
    assert await store.jobs.put_signed(job.id, video, media.poster, manifest)  # the bot signs it …
    assert await store.jobs.mark_posted(job.id, None, None)  # … and posts it
    assert await store.jobs.set_public_channel(job.id, True)  # in a channel everyone sees
    assert "Content credentials: valid" in await site.page(job)
    assert "Content credentials: valid" in await site.page(job)
    assert reads == [len(video)]  # a page shown again is not read again
    status, body, headers = await site.get(f"/media/{job.id}.mp4")
    assert (status, body) == (200, video)
    signed_tag = headers["ETag"]
    # another file put in its place (an operator's restore of an old backup): read and served anew
    assert await store.jobs.put_signed(job.id, media.video, media.poster, 0)
    assert "Content credentials: none" in await site.page(job)
    assert reads == [len(video), len(media.video)]
    status, body, headers = await site.get(f"/media/{job.id}.mp4", **{"If-None-Match": signed_tag})
    assert (status, body) == (200, media.video) and headers["ETag"] != signed_tag


# ---- the words, from the verdict ------------------------------------------------------------------------


STATUSES: tuple[Status, ...] = ("none", "valid", "untrusted", "altered", "invalid")


def made(status: Status = "valid", **facts: str) -> Verdict:
    return Verdict(status=status, ai_generated=True, model_facts=facts)


def test_each_verdict_has_its_line_and_an_honest_sentence() -> None:
    valid = view.credentials(made(title=MODEL_TITLE, preset="ltx-video"))
    assert valid == view.Credentials(
        "valid",
        "Content credentials: valid",
        f"Signed by the videobot of this gallery; the file says a model made it: {MODEL_TITLE}.",
    )
    assert valid.check == "https://contentcredentials.org/verify"
    lines = {status: view.credentials(Verdict(status=status)).line for status in STATUSES}
    assert lines == {
        "none": "Content credentials: none",
        "valid": "Content credentials: valid",
        "untrusted": "Content credentials: signed elsewhere",
        "altered": "Content credentials: altered after signing",
        "invalid": "Content credentials: invalid",
    }
    assert view.credentials(Verdict(status="valid")).detail == "Signed by the videobot of this gallery."
    assert "changed after it was signed" in view.credentials(made("altered")).detail
    assert "a model made it" not in view.credentials(made("altered", title=MODEL_TITLE)).detail
    assert "do not check out" in view.credentials(Verdict(status="invalid")).detail
    assert "posted before videobot signed" in view.credentials(Verdict(status="none")).detail
    unreadable = view.credentials(None)
    assert (unreadable.state, unreadable.line) == ("unreadable", "Content credentials: unreadable")


def test_what_a_file_says_shows_no_path_on_a_host_and_no_member_id() -> None:
    by_path = view.credentials(made(preset="/srv/models/my-ltx"))
    assert by_path.detail.endswith("the file says a model made it: my-ltx.")
    untrusted = Verdict(
        status="untrusted", signer=f"bot of <@{MEMBER_ID}>", ai_generated=True, model_facts={"title": "Wan"}
    )
    detail = view.credentials(untrusted).detail
    assert detail == (
        "The file is intact, but signed by someone this gallery does not know (bot of @member);"
        " the file says a model made it: Wan."
    )
    assert str(MEMBER_ID) not in view.credentials(made(title=f"model {MEMBER_ID}")).detail


def test_the_checks_forget_the_least_recently_shown() -> None:
    checks = CredentialChecks(size=2)

    def shown(status: Status) -> view.Credentials:
        return view.credentials(Verdict(status=status))

    checks.put((1, 10, "r"), shown("none"))
    checks.put((2, 10, "r"), shown("valid"))
    assert checks.get((1, 10, "r")) == shown("none")  # 1 is now the most recent
    checks.put((3, 10, "r"), shown("altered"))
    assert checks.get((2, 10, "r")) is None
    assert checks.get((1, 10, "r")) is not None and checks.get((3, 10, "r")) is not None
