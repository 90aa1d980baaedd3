"""Clips made in a staff-only channel stay there, as members see it: a member who cannot view that
channel is told "there is no clip #N" by /show, /bridge and /verify, exactly as for a number nobody
used, and /top leaves it out (also when a member who can see it asks in an ordinary channel, where the
list is public); the web gallery shows only clips posted where @everyone could see them. Deleting a
clip deletes its original and every /show copy, whichever 🗑️ was pressed; /show says "thinking…"
before it uploads the video, and /top before it looks through the clips. A bridge never carries a
staff clip's frames out of #staff, nor does its note point at a bridge in #staff; the start-up pass
asks Discord once per channel, and not again at every start about one it may not look at.

The clips are rendered beforehand (stored as a worker stores them); the real bot posts them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from db.store import Job, JobResult, Store
from tests.bot.conftest import BotRunner, job_posted, run_sql, wait_until
from tests.bot.test_delivery_faults_e2e import mp4
from tests.discord_fake import DiscordFake
from tests.discord_fake.models import ATTACH_FILES, SEND_MESSAGES, VIEW_CHANNEL, Channel
from tests.store.helpers import spec

__all__ = ["mp4"]

DEFERRED = 5  # Discord's DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE ("thinking…")
NOBODY_USED = 987_654  # a clip number nobody used


def staff_channel(fake: DiscordFake) -> Channel:
    """#staff: Staff (and the bot) may view it, @everyone may not."""
    staff = fake.add_channel("staff")
    role = fake.add_role("Staff")
    fake.set_permissions(staff, fake.guild.everyone, deny=VIEW_CHANNEL)
    fake.set_permissions(staff, role, allow=VIEW_CHANNEL)
    bot_role = fake.guild.role(fake.bot_user.username)
    fake.set_permissions(staff, bot_role, allow=VIEW_CHANNEL | SEND_MESSAGES | ATTACH_FILES)
    return staff


async def rendered(
    store: Store, fake: DiscordFake, mp4: bytes, channel: str | Channel, user: str, prompt: str
) -> Job:
    """A clip ``user`` asked for in ``channel``, rendered and stored; the bot posts it."""
    job = await store.jobs.enqueue(
        int(fake.guild.id), int(fake.channel(channel).id), int(fake.user(user).id), spec(prompt), 1.0
    )
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(mp4), 48, 32, 12, 12.0, 1.0))
    return job


async def command(fake: DiscordFake, name: str, options: dict[str, Any], **how: Any) -> dict[str, Any]:
    handle = await fake.slash_command(name, options, **how)
    return await handle.wait_reply(timeout=30)


async def private_answer(fake: DiscordFake, name: str, options: dict[str, Any], **how: Any) -> str:
    handle = await fake.slash_command(name, options, **how)
    reply = await handle.wait_reply(timeout=30)
    assert handle.ephemeral, reply
    return str(reply["content"])


def top_list(reply: dict[str, Any]) -> str:
    return str(reply["embeds"][0]["description"]) if reply.get("embeds") else str(reply["content"])


async def test_a_staff_channels_clip_is_no_clip_to_members_who_cannot_view_it(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    staff = staff_channel(fake)
    fake.add_user("alice", roles=("Staff",))
    fake.add_user("bob")
    await bot_runner.start()
    secret = await rendered(store, fake, mp4, staff, "alice", "the staff party plans")
    plain = await rendered(store, fake, mp4, "general", "bob", "a paper boat")
    secret, plain = await job_posted(store, secret.id), await job_posted(store, plain.id)
    for job in (secret, plain):
        await store.votes.vote(job.id, int(fake.owner.id), 1)
    before = len(fake.messages_in("general"))

    nobody = await private_answer(fake, "show", {"job": NOBODY_USED}, user="bob")
    unknown = nobody.replace(f"#{NOBODY_USED}", f"#{secret.id}")
    assert unknown == f"There is no clip #{secret.id} on this server."
    # bob cannot view #staff: its clip is not there for him, whichever way he names it
    assert await private_answer(fake, "show", {"job": secret.id}, user="bob") == unknown
    assert await private_answer(fake, "verify", {"clip": str(secret.id)}, user="bob") == unknown
    bridge = {"from": str(plain.id), "to": str(secret.id)}
    assert await private_answer(fake, "bridge", bridge, user="bob") == unknown
    link = f"https://discord.com/channels/{fake.guild.id}/{staff.id}/{secret.message_id}"
    assert "not to one of my clips" in await private_answer(fake, "verify", {"clip": link}, user="bob")
    assert len(fake.messages_in("general")) == before  # nothing posted
    assert "staff party" not in str(fake.messages_in("general", include_ephemeral=True))

    # /top is public where it is asked: in #general it names no clip of #staff, whoever asks
    for user in ("bob", "alice"):
        listed = top_list(await command(fake, "top", {"period": "day"}, user=user))
        assert "a paper boat" in listed and "staff party" not in listed, (user, listed)
    # in #staff, to staff: both
    listed = top_list(await command(fake, "top", {"period": "day"}, user="alice", channel=staff))
    assert "a paper boat" in listed and "staff party" in listed

    # not even staff may bridge a #staff clip into #general's thread: everyone there would see it
    before = len(fake.messages_in("general"))
    bridge = {"from": str(plain.id), "to": str(secret.id)}
    refused = await private_answer(fake, "bridge", bridge, user="alice")
    assert refused == f"There is no clip #{secret.id} on this server."
    assert len(fake.messages_in("general")) == before  # nothing queued, nothing posted

    # alice may view #staff: she may show it (there), and check it
    shown = await command(fake, "show", {"job": secret.id}, user="alice", channel=staff)
    assert shown["attachments"] and f"#{secret.id}" in shown["content"] and not shown["flags"] & 64
    checked = await command(fake, "verify", {"clip": str(secret.id)}, user="alice")
    assert f"clip #{secret.id}" in checked["embeds"][0]["title"]


async def test_the_gallery_shows_only_clips_posted_where_everyone_could_view_them(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes, db_path: Path
) -> None:
    fake = discord_fake
    staff = staff_channel(fake)
    fake.add_user("alice", roles=("Staff",))
    guild_id = int(fake.guild.id)
    await store.settings.update_settings(guild_id, gallery_public=True)
    await bot_runner.start()
    secret = await rendered(store, fake, mp4, staff, "alice", "the staff party plans")
    plain = await rendered(store, fake, mp4, "general", "alice", "a paper boat")
    await job_posted(store, secret.id)
    await job_posted(store, plain.id)

    async def gallery_ids() -> list[int] | None:
        newest = await store.gallery.gallery_newest(guild_id)
        return None if newest is None else [entry.job.id for entry in newest]

    await wait_until(lambda: _recorded(store, plain.id, secret.id), what="both clips' channels recorded")
    assert await gallery_ids() == [plain.id]
    assert await store.gallery.gallery_job(secret.id) is None
    assert await store.gallery.gallery_media(secret.id) is None

    # clips posted before the bot recorded it: hidden until it looks at their channels, at start
    await bot_runner.stop()
    await run_sql(db_path, "UPDATE jobs SET public_channel = NULL")
    assert await gallery_ids() == []
    bot = await bot_runner.start()
    await wait_until(lambda: backfill_done(bot), what="the start-up pass")
    assert await gallery_ids() == [plain.id]
    assert (await store.jobs.get(secret.id)).public_channel is False  # type: ignore[union-attr]


async def _recorded(store: Store, *job_ids: int) -> bool:
    for job_id in job_ids:
        job = await store.jobs.get(job_id)
        if job is None or job.public_channel is None:
            return False
    return True


def backfill_done(bot: VideoBot) -> bool:
    backfilled = getattr(bot.get_cog("VisibilityCog"), "backfilled", None)
    return isinstance(backfilled, asyncio.Event) and backfilled.is_set()


async def show_copy(fake: DiscordFake, job: Job) -> dict[str, Any]:
    """bob posts ``job`` again in #videos with /show: the copy."""
    handle = await fake.slash_command("show", {"job": job.id}, user="bob", channel="videos")
    copy = await handle.wait_reply(timeout=30)
    assert not handle.ephemeral and f"#{job.id}" in copy["content"] and copy["attachments"], copy
    return copy


async def test_show_says_thinking_before_it_uploads_the_video(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    fake.add_user("bob")
    await bot_runner.start()
    clip = await job_posted(store, (await rendered(store, fake, mp4, "general", "alice", "a kite")).id)
    handle = await fake.slash_command("show", {"job": clip.id}, user="bob", channel="videos")
    copy = await handle.wait_reply(timeout=30)
    # "thinking…" first (public: the clip will be), then the clip with its video fills it in
    assert handle.callback_type == DEFERRED, handle.response
    assert not handle.ephemeral and f"#{clip.id}" in copy["content"]
    assert [a["filename"] for a in copy["attachments"]] == [f"videobot-{clip.id}.mp4"]
    assert copy["components"]  # with working buttons


async def test_deleting_a_clip_on_any_copy_deletes_it_everywhere(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    fake.add_user("bob")
    await bot_runner.start()
    first = await job_posted(store, (await rendered(store, fake, mp4, "general", "alice", "a kite")).id)
    second = await job_posted(store, (await rendered(store, fake, mp4, "general", "alice", "a drum")).id)

    # 🗑️ on a /show copy: the copy and the original post, with its video, go
    copy = await show_copy(fake, first)
    pressed = await fake.click(copy, f"vb:delete:{first.id}", user="alice")
    await pressed.wait_reply()
    assert pressed.ephemeral
    await wait_until(lambda: copy["id"] not in fake.messages, what="the copy deleted")
    await wait_until(lambda: str(first.message_id) not in fake.messages, what="the original post deleted")
    assert (await store.jobs.get(first.id)).deleted  # type: ignore[union-attr]

    # 🗑️ on the original: every copy goes
    copies = [await show_copy(fake, second), await show_copy(fake, second)]
    pressed = await fake.click(fake.message(str(second.message_id)), f"vb:delete:{second.id}", user="alice")
    await pressed.wait_reply()
    await wait_until(lambda: all(c["id"] not in fake.messages for c in copies), what="the copies deleted")
    assert str(second.message_id) not in fake.messages
    assert [m for m in fake.messages_in("videos") if m.get("attachments")] == []


async def test_top_says_thinking_before_it_looks_through_the_clips(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    await bot_runner.start()
    clip = await job_posted(store, (await rendered(store, fake, mp4, "general", "alice", "a kite")).id)
    await store.votes.vote(clip.id, int(fake.owner.id), 1)
    handle = await fake.slash_command("top", {"period": "day"}, user="alice")
    reply = await handle.wait_reply(timeout=30)
    # "thinking…" first, public as the list is, then the list fills it in
    assert handle.callback_type == DEFERRED, handle.response
    assert not handle.ephemeral and "a kite" in top_list(reply)


def channel_fetches(fake: DiscordFake, channel: Channel) -> int:
    return len(
        [r for r in fake.requests_to("GET", "/channels/{channel_id}") if r.params["channel_id"] == channel.id]
    )


async def test_the_start_up_pass_asks_once_per_channel_and_not_again_where_it_is_refused(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes, db_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    await bot_runner.start()
    locked = await fake.add_thread("locked away")
    old = await fake.add_thread("old clips")
    refused = await job_posted(store, (await rendered(store, fake, mp4, locked, "alice", "a secret")).id)
    clips = [
        await job_posted(store, (await rendered(store, fake, mp4, old, "alice", f"clip {n}")).id)
        for n in range(3)
    ]
    await bot_runner.stop()
    await run_sql(db_path, "UPDATE jobs SET public_channel = NULL")
    locked.archived = old.archived = True  # archived threads: not in the bot's cache, asked of Discord
    fetched_before = channel_fetches(fake, old), channel_fetches(fake, locked)
    fake.fail_next("GET", "/channels/{channel_id}", 403)  # the first clip's thread: the bot may not look

    bot = await bot_runner.start()
    await wait_until(lambda: backfill_done(bot), what="the start-up pass")
    assert channel_fetches(fake, old) == fetched_before[0] + 1  # one look at the thread, for three clips
    assert channel_fetches(fake, locked) == fetched_before[1] + 1
    for clip in clips:
        assert (await store.jobs.get(clip.id)).public_channel is True  # type: ignore[union-attr]
    assert (await store.jobs.get(refused.id)).public_channel is False  # type: ignore[union-attr]

    await bot_runner.stop()
    bot = await bot_runner.start()
    await wait_until(lambda: backfill_done(bot), what="the next start-up pass")
    assert channel_fetches(fake, locked) == fetched_before[1] + 1  # not asked again


async def test_a_bridge_carries_no_staff_frames_out_and_no_note_points_into_staff(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    staff = staff_channel(fake)
    fake.add_user("alice", roles=("Staff",))
    await bot_runner.start()
    secret = await job_posted(store, (await rendered(store, fake, mp4, staff, "alice", "the staff party")).id)
    plain = await job_posted(store, (await rendered(store, fake, mp4, "general", "alice", "a paper boat")).id)
    note_at = fake.channel(str(plain.thread_id)) if plain.thread_id else fake.channel("general")
    notes_before = len(fake.messages_in(note_at))

    # a bridge queued before /bridge refused this (from #general into #staff): posted in #general's
    # thread, it holds #staff's frames, so the web gallery does not show it
    early = await store.jobs.enqueue(
        int(fake.guild.id),
        int(plain.thread_id or plain.channel_id),
        int(fake.user("alice").id),
        replace(spec("into the party"), continues=plain.id, bridges_to=secret.id),
        1.0,
        parent_id=plain.id,
        kind="bridge",
    )
    await finish(store, early, mp4)
    await job_posted(store, early.id)
    await wait_until(lambda: _recorded(store, early.id), what="the early bridge's channel recorded")
    assert (await store.jobs.get(early.id)).public_channel is False  # type: ignore[union-attr]

    # from #staff to #general, asked in #staff: posted in #staff; #general's thread is not told of it
    ack = await fake.slash_command(
        "bridge", {"from": str(secret.id), "to": str(plain.id)}, user="alice", channel=staff
    )
    await ack.wait_reply(timeout=30)
    queued = await store.jobs.get(early.id + 1)
    assert queued is not None and queued.kind == "bridge", ack.response
    await finish(store, queued, mp4)
    posted = await job_posted(store, queued.id)
    await wait_until(lambda: _recorded(store, posted.id), what="the bridge's channel recorded")
    await asyncio.sleep(0.5)  # the note, were there one, is sent as the bridge is posted
    notes = fake.messages_in(note_at)[notes_before:]
    assert not [m for m in notes if f"#{posted.id}" in str(m.get("content"))], notes


async def finish(store: Store, job: Job, mp4: bytes) -> None:
    """A worker renders ``job``."""
    assert await store.jobs.claim_next("w1", [job.model]) is not None
    ref = await store.jobs.put_media(job.id, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(mp4), 48, 32, 12, 12.0, 1.0))
