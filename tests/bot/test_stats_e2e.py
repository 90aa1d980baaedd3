"""/stats end to end: the real bot against the Discord fake, jobs made through the store as a worker
makes them. A server with no data gets a sentence; then the chart is posted publicly as a real PNG of
the promised size, it changes when the data does, and a German member gets it in German; members'
names in any script are drawn, never as boxes."""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, ImageChops

from bot.app import VideoBot
from bot.charts import HEIGHT_PX, WIDTH_PX, WaitDay, stats_png
from bot.cogs.stats import chart_bars, day_label, share_rows
from db.store import JobResult, Store
from tests.discord_fake import DiscordFake
from tests.store.helpers import spec

MEMBER = "/guilds/{guild_id}/members/{user_id}"


async def rendered(store: Store, fake: DiscordFake, user_id: int, gpu_seconds: float) -> None:
    """A clip of ``user_id`` claimed, rendered and finished, as a worker does it."""
    guild, channel = int(fake.guild.id), int(fake.channel("general").id)
    job = await store.jobs.enqueue(guild, channel, user_id, spec(f"clip of {user_id}"), gpu_seconds)
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    result = JobResult("file:x.mp4", 1000, 48, 32, 12, 12.0, gpu_seconds)
    assert await store.jobs.finish(job.id, "w1", result)


async def stats(fake: DiscordFake, user: str) -> tuple[dict[str, Any], bytes | None]:
    handle = await fake.slash_command("stats", {}, user=user)
    reply = await handle.wait_reply(timeout=30)
    assert not handle.ephemeral  # the server's figures are posted for everyone
    if not reply["attachments"]:
        return reply, None
    attachment = reply["attachments"][0]
    assert attachment["filename"].endswith(".png")
    return reply, fake.attachments[attachment["id"]][1]


def size_of(png: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()
    return image.size


async def test_stats_posts_a_chart_once_there_is_data_and_speaks_german(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    alice = fake.add_user("alice")
    greta = fake.add_user("greta", locale="de")
    await store.settings.update_settings(
        int(fake.guild.id), max_queued_per_user=100, max_running_per_user=100
    )

    reply, png = await stats(fake, "owner")
    assert png is None and reply["content"] == (
        "Nothing to chart yet: nobody on this server has made a clip in the last 7 days."
    )
    reply, png = await stats(fake, "greta")
    assert png is None and reply["content"].startswith("Noch nichts für ein Diagramm")

    await rendered(store, fake, int(alice.id), 30.0)
    await rendered(store, fake, int(alice.id), 12.5)
    await rendered(store, fake, int(greta.id), 7.5)
    await rendered(store, fake, 4242, 10.0)  # a member who has left: labelled by number, not fetched
    reply, first = await stats(fake, "owner")
    assert first is not None and size_of(first) == (WIDTH_PX, HEIGHT_PX)
    assert reply["content"] == (
        f"The last 7 days on {fake.guild.name}: 60.0 s of GPU time for 3 members, 4 clips started."
    )
    assert reply["attachments"][0].get("description", "").startswith("Chart: GPU time per member")
    # the bars are labelled with display names from Discord, looked up for the members on the chart
    looked_up = {r.params["user_id"]: r.status for r in fake.requests_to("GET", MEMBER)}
    assert looked_up == {alice.id: 200, greta.id: 200, "4242": 404}

    await rendered(store, fake, int(greta.id), 90.0)
    reply, german = await stats(fake, "greta")
    assert german is not None and size_of(german) == (WIDTH_PX, HEIGHT_PX)
    assert german != first  # other data (and other words): another picture
    assert reply["content"].startswith(f"Die letzten 7 Tage auf {fake.guild.name}: 150.0 s GPU-Zeit")
    assert not fake.pinged_anyone()


async def test_stats_draws_names_in_any_script_and_never_boxes(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    guild = int(fake.guild.id)
    await store.settings.update_settings(guild, max_queued_per_user=100, max_running_per_user=100)
    names = ["山田太郎", "猫好き🐱", "Lena 😀✨", "ሰላም", "Maximilian Alexander von Hohenzollern II"]
    members = [fake.add_user(name) for name in names]
    for n, member in enumerate(members):
        await rendered(store, fake, int(member.id), 10.0 * (n + 1))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, png = await stats(fake, "owner")
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []  # no box
    assert png is not None and size_of(png) == (WIDTH_PX, HEIGHT_PX)

    # the picture is the chart of these names as Discord has them; the one in a script no shipped
    # font draws is "member 1234", as if it could not be fetched
    figures = await store.stats.guild_stats(guild)
    rows = share_rows(figures.gpu_by_member)
    shown = [m.global_name or m.username for m in members]  # the fake's display names
    bars = chart_bars(rows, {int(m.id): name for m, name in zip(members, shown, strict=True)}, "en-US")
    ethiopic = str(members[3].id)[-4:]
    assert [b.label for b in bars] == [shown[4], f"member {ethiopic}", *shown[2::-1]]
    waits = [WaitDay(day_label(d.day, "en-US"), d.p50_s, d.p95_s) for d in figures.waits]
    expected = Image.open(io.BytesIO(stats_png(bars, waits, "en-US"))).convert("RGB")
    posted = Image.open(io.BytesIO(png)).convert("RGB")
    assert ImageChops.difference(expected, posted).getbbox() is None
