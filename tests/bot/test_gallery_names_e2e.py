"""The names the web gallery shows, kept by the real bot against the fake Discord: posting a clip
records the server's name and icon, and the author's display name only if the author agreed
(``/me gallery-name:True``); the setting, in English and German, changes what the gallery's pages say;
and no page carries a member's Discord id."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import imageio_ffmpeg
import pytest

from bot.app import VideoBot
from bot.profiles import icon_out_of_date
from db.store import Job, Store
from db.store.profiles import GuildProfile
from tests.bot.conftest import WorkerProcess, job_posted, wait_until
from tests.discord_fake import DiscordFake
from tests.web.serving import gallery_served

SERVER = "Videobot Test Server"  # the fake's guild


def test_the_icon_is_fetched_again_only_when_it_changed() -> None:
    kept = GuildProfile(1, "Pixel Forge", "abc", True, 0.0)
    assert not icon_out_of_date(kept, "abc")
    assert icon_out_of_date(kept, "def") and icon_out_of_date(kept, None)  # changed, removed
    assert icon_out_of_date(GuildProfile(1, "Pixel Forge", "abc", False, 0.0), "abc")  # never fetched
    assert not icon_out_of_date(GuildProfile(1, "Pixel Forge", None, False, 0.0), None)  # none to fetch
    assert icon_out_of_date(None, "abc") and not icon_out_of_date(None, None)


@pytest.fixture
def icon(tmp_path: Path) -> bytes:
    out = tmp_path / "icon.png"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    source = ["-f", "lavfi", "-i", "mandelbrot=size=128x128", "-frames:v", "1"]
    subprocess.run([ffmpeg, "-v", "error", "-y", *source, str(out)], check=True)
    return out.read_bytes()


@pytest.fixture
async def gallery_site(store: Store) -> AsyncIterator[str]:
    async with gallery_served(store) as url:
        yield url


async def page(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200, url
        return await response.text()


async def me(fake: DiscordFake, user: str, options: dict[str, object], *, locale: str | None = None) -> str:
    """A member's /me with ``options``; the private reply's text."""
    name = "ich" if locale == "de" else "me"
    handle = await fake.slash_command(name, options, user=user, locale=locale)
    reply = await handle.wait_reply()
    assert handle.ephemeral
    return str(reply.get("content") or "")


async def clip_by(fake: DiscordFake, store: Store, user: str, prompt: str) -> Job:
    handle = await fake.slash_command("video", {"prompt": prompt, "model": "tiny-ltx"}, user=user)
    content = (await handle.wait_reply())["content"]
    job_id = int(content.split("#")[1].split(":")[0])
    return await job_posted(store, job_id)


async def test_posting_records_the_names_the_gallery_shows_and_only_those_agreed_to(
    discord_fake: DiscordFake,
    bot: VideoBot,
    worker: WorkerProcess,
    store: Store,
    gallery_site: str,
    icon: bytes,
) -> None:
    fake = discord_fake
    guild_id = int(fake.guild.id)
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    fake.add_user("greta", locale="de")
    fake.update_guild(icon_png=icon)  # an admin gave the server an icon
    await wait_until(
        lambda: (g := bot.get_guild(guild_id)) is not None and g.icon is not None, what="the icon"
    )

    # the admin opens the gallery: the server is recorded by name and icon at once
    opened = await fake.slash_command("settings gallery", {"public": True}, user="owner")
    await opened.wait_reply()
    profile = await wait_until(lambda: store.profiles.guild_profile(guild_id), what="the server's name")
    assert profile.name == SERVER
    await wait_until(lambda: store.profiles.guild_icon(guild_id), what="the server's icon")
    assert (
        await store.profiles.guild_icon(guild_id) == icon
    )  # fetched once from the CDN, served by the gallery
    assert len(fake.cdn_requests) == 1 and fake.cdn_requests[0].endswith(".png?size=128")

    # alice agrees to be named; bob says nothing
    said = await me(fake, "alice", {"gallery-name": True})
    assert said.startswith("Done: the web gallery now names you Alice with your clips.")
    assert "carry that name in their content credentials" in said
    agreed = await store.profiles.member_profile(guild_id, int(alice.id))
    assert agreed is not None and agreed.show_name and agreed.display_name == "Alice"

    fake.set_nick("alice", "Ali the Fox")  # a new server nickname: the next post keeps the name current
    fake.update_guild(name="Pixel Forge")  # and the server is renamed
    worker.start()
    hers = await clip_by(fake, store, "alice", "a fox in the snow")
    # recorded right after the post
    await wait_until(lambda: _server_is(store, guild_id, "Pixel Forge"), what="the server's new name")
    await wait_until(
        lambda: _name_is(store, guild_id, int(alice.id), "Ali the Fox"), what="alice's new display name"
    )
    his = await clip_by(fake, store, "bob", "a whale in the sea")
    assert await store.profiles.member_profile(guild_id, int(bob.id)) is None  # nothing kept of bob…
    asked = [r.params["user_id"] for r in fake.requests_to("GET", "/guilds/{guild_id}/members/{user_id}")]
    assert alice.id in asked and bob.id not in asked  # …nor asked of Discord
    assert len(fake.cdn_requests) == 1  # the icon did not change: not fetched again

    base = f"{gallery_site}/g/{guild_id}"
    hers_page, his_page = await page(f"{base}/clip/{hers.id}"), await page(f"{base}/clip/{his.id}")
    assert '<p class="byline">by Ali the Fox</p>' in hers_page
    assert '<p class="byline">by a member of Pixel Forge</p>' in his_page

    # bob agrees, alice withdraws: the pages follow at once, and alice's name is erased
    said_yes = await me(fake, "bob", {"gallery-name": True})
    assert said_yes.startswith("Done: the web gallery now names you Bob")
    withdrawn = await me(fake, "alice", {"gallery-name": False})
    assert withdrawn.startswith("Done: the web gallery shows “a member of Pixel Forge” with your clips")
    gone = await store.profiles.member_profile(guild_id, int(alice.id))
    assert gone is not None and not gone.show_name and gone.display_name is None
    assert '<p class="byline">by Bob</p>' in await page(f"{base}/clip/{his.id}")
    assert '<p class="byline">by a member of Pixel Forge</p>' in await page(f"{base}/clip/{hers.id}")

    # in German for a German member, and /me says what the gallery shows
    greta = await me(fake, "greta", {"galerie-name": True}, locale="de")
    assert greta.startswith("Erledigt: Die Web-Galerie nennt dich bei deinen Clips jetzt Greta.")
    handle = await fake.slash_command("me", {}, user="alice")
    fields = {f["name"]: f["value"] for f in (await handle.wait_reply())["embeds"][0]["fields"]}
    assert fields["Web gallery"].startswith("Your clips show “a member of Pixel Forge”, not your name.")

    pages = [await page(url) for url in (f"{gallery_site}/", base, f"{base}?sort=new")]
    pages += [await page(f"{base}/clip/{job.id}") for job in (hers, his)]
    for html in pages:
        for member in fake.users.values():
            assert member.id not in html, f"a page shows the Discord id of {member.username}"
    assert "Pixel Forge" in pages[0] and f'src="/g/{guild_id}/icon.png"' in pages[0]
    assert not fake.pinged_anyone()


async def _name_is(store: Store, guild_id: int, user_id: int, name: str) -> bool:
    profile = await store.profiles.member_profile(guild_id, user_id)
    return profile is not None and profile.display_name == name


async def _server_is(store: Store, guild_id: int, name: str) -> bool:
    profile = await store.profiles.guild_profile(guild_id)
    return profile is not None and profile.name == name
