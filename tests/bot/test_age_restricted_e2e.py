"""Clips made in an age-restricted channel (Discord's NSFW flag; the server's blocked words allowed
there) stay in age-restricted channels: /show of one elsewhere is refused privately, /top and the hall
of fame leave it out of an ordinary channel, and a clip asked for in an age-restricted channel never
lands in an ordinary one, as members see it."""

from __future__ import annotations

from typing import Any

from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_posted, wait_until
from tests.bot.test_hall_of_fame_e2e import cog, hall_posts, job_of, vote
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.discord_fake.models import Channel

NSFW = "after-dark"


async def clip_in(fake: DiscordFake, store: Store, channel: str | Channel, prompt: str) -> dict[str, Any]:
    """A clip asked for with /video in ``channel``, once posted there."""
    handle = await fake.slash_command("video", {"prompt": prompt, "model": "tiny-ltx"}, channel=channel)
    await handle.wait_reply()
    assert handle.ephemeral and "Queued as #" in handle.original["content"], handle.original  # type: ignore[index]
    job_id = int(handle.original["content"].split("#")[1].split(":")[0])  # type: ignore[index]
    await job_posted(store, job_id)
    return await wait_until(
        lambda: next((m for m in clip_messages(fake, channel) if f"#{job_id}" in m["content"]), None),
        what=f"clip #{job_id} in its channel",
    )


async def reply(fake: DiscordFake, command: str, options: dict[str, Any], **kwargs: Any) -> Any:
    handle = await fake.slash_command(command, options, **kwargs)
    await handle.wait_reply()
    return handle


async def test_a_clip_from_an_age_restricted_channel_is_shown_and_listed_only_in_one(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    for name in ("alice", "bob"):
        fake.add_user(name)
    fake.add_user("jonas", locale="de")
    after_dark = fake.add_channel(NSFW, nsfw=True)
    hall_after_dark = fake.add_channel("hall-after-dark", nsfw=True)
    guild_id, hall_id = int(fake.guild.id), int(fake.channel("videos").id)
    await store.settings.update_settings(
        guild_id,
        nsfw_allowed=True,
        blocked_words=["gore"],
        hall_of_fame_channel_id=hall_id,
        hall_of_fame_threshold=1,
    )
    await bot_runner.start()
    worker.start()
    nsfw = await clip_in(fake, store, after_dark, "so much gore in the rain")
    plain = await clip_in(fake, store, "general", "a paper boat")
    nsfw_id, plain_id = job_of(nsfw), job_of(plain)
    stored = await store.jobs.get(nsfw_id)
    assert stored is not None and stored.age_restricted
    assert not (await store.jobs.get(plain_id)).age_restricted  # type: ignore[union-attr]

    # the hall of fame is an ordinary channel: the ordinary clip enters it, the other one never does
    await vote(fake, nsfw, "alice")
    await vote(fake, plain, "alice")
    await wait_until(lambda: hall_posts(fake), what="the ordinary clip's hall post")
    await bot_runner.stop()  # a reconciling pass at start-up looks at every clip at the threshold
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    assert [hall_job(m) for m in hall_posts(fake)] == [plain_id]
    assert "gore" not in str(fake.messages_in("videos"))

    # /show elsewhere: a private answer in the member's language, nothing posted
    for user, words in (("bob", "age-restricted channel"), ("jonas", "altersbeschränkten Kanal")):
        show = await reply(fake, "show", {"job": nsfw_id}, user=user)
        assert show.ephemeral and f"#{nsfw_id}" in show.original["content"], show.original
        assert words in show.original["content"]
    assert clip_messages(fake, "general") == [plain]
    assert "gore" not in str(fake.messages_in("general"))

    # /top in an ordinary channel lists the ordinary clip only; in an age-restricted one, both
    top = await reply(fake, "top", {"period": "day"})
    listed = top.original["embeds"][0]["description"]
    assert not top.ephemeral and "a paper boat" in listed and "gore" not in listed
    top = await reply(fake, "top", {"period": "day"}, channel=after_dark)
    listed = top.original["embeds"][0]["description"]
    assert "a paper boat" in listed and "gore" in listed

    # in an age-restricted channel /show posts it, and an age-restricted hall takes it in
    show = await reply(fake, "show", {"job": nsfw_id}, channel=after_dark)
    assert not show.ephemeral and show.original["attachments"]
    handle = await reply(fake, "settings hall-of-fame", {"channel": hall_after_dark, "threshold": 1})
    assert handle.ephemeral
    post = await wait_until(lambda: next(iter(hall_posts_in(fake, hall_after_dark)), None), what="the post")
    assert hall_job(post) == nsfw_id and "gore" in post["embeds"][0]["description"]
    assert [hall_job(m) for m in hall_posts(fake)] == [plain_id]


def hall_posts_in(fake: DiscordFake, channel: Channel) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(channel) if m.get("embeds")]


def hall_job(post: dict[str, Any]) -> int:
    """The clip a hall post is of: its footer ends in " #<job>"."""
    return int(post["embeds"][0]["footer"]["text"].rsplit("#", 1)[1])


async def test_a_clip_asked_for_in_an_age_restricted_channel_never_lands_in_an_ordinary_one(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    """A clip of an ordinary channel shown again in an age-restricted one: a reroll asked for there is
    an age-restricted clip, posted there, not in the thread of the ordinary clip."""
    fake = discord_fake
    after_dark = fake.add_channel(NSFW, nsfw=True)
    await bot_runner.start()
    worker.start()
    plain = await clip_in(fake, store, "general", "a lantern on a lake")
    plain_id = job_of(plain)
    thread = await wait_until(lambda: fake.thread_of(plain["id"]), what="the clip's thread")
    show = await reply(fake, "show", {"job": plain_id}, channel=after_dark)
    assert not show.ephemeral
    reroll = await fake.click(show.original, f"vb:reroll:{plain_id}")
    await reroll.wait_reply()
    assert "Queued as" in reroll.original["content"]  # type: ignore[index]
    child = next(iter(await store.jobs.children(plain_id)))
    assert child.age_restricted
    await job_posted(store, child.id)
    assert any(f"#{child.id}" in m["content"] for m in clip_messages(fake, after_dark))
    assert clip_messages(fake, thread) == [] and clip_messages(fake, "general") == [plain]
