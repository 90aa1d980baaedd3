"""The hall of fame, as members see it: a clip that reaches the server's threshold is posted in the
hall channel once, its count follows later votes, restarts never post it twice, a lowered threshold
brings in the clips that now qualify, and a deleted clip takes its hall post with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

from bot.cogs.halloffame import HallOfFameCog
from db.store import Store, VoteCounts
from tests.bot.conftest import BotRunner, WorkerProcess, wait_until
from tests.bot.test_video_e2e import make_clip
from tests.discord_fake import DiscordFake
from tests.discord_fake.server import NONCE_WINDOW_S

HALL = "videos"


def hall_posts(fake: DiscordFake) -> list[dict[str, Any]]:
    return fake.messages_in(HALL)


def job_of(clip: dict[str, Any]) -> int:
    return int(clip["embeds"][0]["footer"]["text"].lstrip("#"))


async def vote(fake: DiscordFake, clip: dict[str, Any], user: str, direction: str = "up") -> None:
    click = await fake.click(fake.message(clip["id"]), f"vb:vote:{job_of(clip)}:{direction}", user=user)
    await click.wait_reply()


def cog(runner: BotRunner) -> HallOfFameCog:
    assert runner.bot is not None
    found = runner.bot.get_cog("HallOfFameCog")
    # each start loads the extension afresh: the class is another object each time
    assert found is not None and type(found).__name__ == HallOfFameCog.__name__
    return cast(HallOfFameCog, found)


async def test_a_clip_enters_the_hall_once_at_the_threshold_and_its_count_follows_the_votes(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    for name in ("alice", "bob", "carol", "dave"):
        fake.add_user(name)
    guild_id, hall_id = int(fake.guild.id), int(fake.channel(HALL).id)
    await store.settings.update_settings(guild_id, hall_of_fame_channel_id=hall_id, hall_of_fame_threshold=2)
    await bot_runner.start()
    worker.start()
    clip = await make_clip(fake, store, "a *bold* fox says @everyone", model="tiny-ltx")
    job_id = job_of(clip)

    await vote(fake, clip, "alice")
    assert hall_posts(fake) == []  # one net 👍 is not two
    await vote(fake, clip, "bob")
    post = await wait_until(lambda: next(iter(hall_posts(fake)), None), what="the hall of fame post")
    assert post["content"].startswith("⭐ **2** · 👍 2 👎 0")
    embed = post["embeds"][0]
    assert r"a \*bold\* fox says @everyone" in embed["description"]  # escaped, and it pings nobody
    assert {f["name"]: f["value"] for f in embed["fields"]}["Author"] == f"<@{fake.owner.id}>"
    assert embed["footer"]["text"].endswith(f"#{job_id}")
    assert embed["image"]["url"].endswith(".png") and post["attachments"]  # the poster frame
    jump = post["components"][0]["components"][0]
    assert jump["style"] == 5 and jump["label"] == "Jump to clip"
    assert jump["url"] == f"https://discord.com/channels/{guild_id}/{clip['channel_id']}/{clip['id']}"

    # two votes in quick succession: one edit brings both
    cog(bot_runner).edit_debounce_s = 5.0
    await vote(fake, clip, "carol")
    await vote(fake, clip, "dave", "down")
    await wait_until(
        lambda: fake.message(post["id"])["content"].startswith("⭐ **2** · 👍 3 👎 1"), what="the new count"
    )
    assert len(fake.edits_of(post["id"])) == 1
    cog(bot_runner).edit_debounce_s = 0.1

    # below the threshold again: the post stays, with its count current; back above: still one post
    await vote(fake, clip, "bob")  # a second click takes bob's 👍 back
    await wait_until(
        lambda: fake.message(post["id"])["content"].startswith("⭐ **1** · 👍 2 👎 1"), what="the lower count"
    )
    await vote(fake, clip, "bob")
    await wait_until(
        lambda: fake.message(post["id"])["content"].startswith("⭐ **2** · 👍 3 👎 1"), what="the count back"
    )
    assert [m["id"] for m in hall_posts(fake)] == [post["id"]]
    hall = await store.hall.hall_post(job_id)
    assert hall is not None and hall.message_id == int(post["id"]) and hall.shown == (3, 1)

    # restarts never post it twice
    await bot_runner.stop()
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    assert [m["id"] for m in hall_posts(fake)] == [post["id"]]
    assert not fake.pinged_anyone()

    # its author deletes the clip: the hall post goes too, for good
    delete = await fake.click(fake.message(clip["id"]), f"vb:delete:{job_id}")
    await delete.wait_reply()
    await wait_until(lambda: hall_posts(fake) == [], what="the hall post to go")
    await bot_runner.stop()
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    assert hall_posts(fake) == []


async def test_a_lowered_threshold_and_an_unrecorded_claim_are_settled_at_start_up(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    guild_id, hall_id = int(fake.guild.id), int(fake.channel(HALL).id)
    await store.settings.update_settings(guild_id, hall_of_fame_channel_id=hall_id)  # the default: 5 net 👍
    await bot_runner.start()
    worker.start()
    liked = await make_clip(fake, store, "waves on rocks", model="tiny-ltx")
    claimed = await make_clip(fake, store, "a lighthouse at dusk", model="tiny-ltx")
    await vote(fake, liked, "alice")
    assert hall_posts(fake) == []

    # while the bot is down an admin lowers the threshold, and a post was claimed but never recorded
    await bot_runner.stop()
    await store.settings.update_settings(guild_id, hall_of_fame_threshold=1)
    assert await store.hall.claim_hall_post(guild_id, job_of(claimed), hall_id, VoteCounts(0, 0)) is not None
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    posts = hall_posts(fake)
    footers = sorted(m["embeds"][0]["footer"]["text"] for m in posts)
    assert footers == sorted(f"Hall of fame · #{job_of(c)}" for c in (liked, claimed))
    assert next(m for m in posts if m["embeds"][0]["footer"]["text"].endswith(f"#{job_of(liked)}"))[
        "content"
    ].startswith("⭐ **1** · 👍 1 👎 0")

    # and once more: everything is recorded, nothing is posted again
    await bot_runner.stop()
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    assert sorted(m["id"] for m in hall_posts(fake)) == sorted(m["id"] for m in posts)
    for clip in (liked, claimed):
        hall = await store.hall.hall_post(job_of(clip))
        assert hall is not None and hall.state == "posted"


async def test_a_post_sent_but_never_recorded_is_found_not_sent_again(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store, db_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    guild_id, hall_id = int(fake.guild.id), int(fake.channel(HALL).id)
    await store.settings.update_settings(guild_id, hall_of_fame_channel_id=hall_id, hall_of_fame_threshold=1)
    await bot_runner.start()
    worker.start()
    clip = await make_clip(fake, store, "a kite over the dunes", model="tiny-ltx")
    await vote(fake, clip, "alice")
    post = await wait_until(lambda: next(iter(hall_posts(fake)), None), what="the hall of fame post")

    # the bot stops between sending the post and recording it, and stays away past Discord's nonce window
    await bot_runner.stop()
    with sqlite3.connect(db_path) as db:
        db.execute(
            "UPDATE hall_of_fame SET state = 'posting', message_id = NULL, claimed_at = claimed_at - 600"
        )
    fake.clock.advance(NONCE_WINDOW_S + 60)
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    assert [m["id"] for m in hall_posts(fake)] == [post["id"]]
    hall = await store.hall.hall_post(job_of(clip))
    assert hall is not None and hall.state == "posted" and hall.message_id == int(post["id"])
