"""The hall of fame keeps a staff channel's clips to the staff: a #staff clip that reaches the threshold
is not posted in the (public) hall channel, neither on the vote that reaches it nor by a reconciling
pass, while an ordinary clip is; with the hall in #staff itself, the staff clip enters it there.

The clips are rendered beforehand (stored as a worker stores them); the real bot posts them."""

from __future__ import annotations

from typing import Any

from db.store import Job, Store
from tests.bot.conftest import BotRunner, job_posted, wait_until
from tests.bot.test_hall_of_fame_e2e import cog
from tests.bot.test_visibility_e2e import mp4, rendered, staff_channel
from tests.discord_fake import DiscordFake

__all__ = ["mp4"]

HALL = "videos"


async def vote(fake: DiscordFake, job: Job, user: str) -> None:
    click = await fake.click(str(job.message_id), f"vb:vote:{job.id}:up", user=user)
    await click.wait_reply()


def hall_post_of(messages: list[dict[str, Any]], job: Job) -> dict[str, Any] | None:
    return next(
        (m for m in messages if any(e["footer"]["text"].endswith(f"#{job.id}") for e in m.get("embeds", []))),
        None,
    )


async def test_a_staff_clip_never_enters_a_public_hall_but_enters_one_in_its_own_channel(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    staff = staff_channel(fake)
    fake.add_user("alice", roles=("Staff",))
    fake.add_user("carol", roles=("Staff",))
    fake.add_user("bob")
    guild_id = int(fake.guild.id)
    await store.settings.update_settings(
        guild_id, hall_of_fame_channel_id=int(fake.channel(HALL).id), hall_of_fame_threshold=1
    )
    await bot_runner.start()
    await cog(bot_runner).reconciled.wait()
    secret = await job_posted(
        store, (await rendered(store, fake, mp4, staff, "alice", "the staff party plans")).id
    )
    plain = await job_posted(store, (await rendered(store, fake, mp4, "general", "bob", "a paper boat")).id)

    await vote(fake, secret, "carol")  # the staff clip reaches the threshold first
    await vote(fake, plain, "carol")
    await wait_until(lambda: hall_post_of(fake.messages_in(HALL), plain), what="the paper boat's hall post")
    await cog(bot_runner).reconcile(guild_id)  # a reconciling pass does not bring it in either
    hall = fake.messages_in(HALL)
    assert hall_post_of(hall, secret) is None and len(hall) == 1, hall
    assert "staff party" not in str(hall) and f"<#{staff.id}>" not in str(hall)

    # the hall moved to #staff: there, where everyone may see it, the staff clip enters it
    await store.settings.update_settings(guild_id, hall_of_fame_channel_id=int(staff.id))
    await cog(bot_runner).reconcile(guild_id)
    post = await wait_until(lambda: hall_post_of(fake.messages_in(staff), secret), what="the staff hall post")
    assert "staff party" in post["embeds"][0]["description"]
