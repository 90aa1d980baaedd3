"""Challenges end to end: the real bot against the spec-checked Discord fake, a real worker rendering the
entries, the real store; restarts included."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_in_state, wait_until
from tests.bot.test_video_e2e import button, clip_messages
from tests.discord_fake import DiscordFake

MANAGE_ROLES = 1 << 28
UPDATE_MESSAGE = 7  # the interaction callback that edits the message the button is on


def long_ago(days: float = 3) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


def members_of_old(fake: DiscordFake, *names: str) -> None:
    """Members who joined the server days ago (add_user makes them join now)."""
    for name in names:
        fake.add_user(name)
        fake.guild.members[fake.user(name).id].joined_at = long_ago()


async def reply(fake: DiscordFake, command: str, options: dict[str, Any] | None = None, **how: Any) -> str:
    handle = await fake.slash_command(command, options or {}, **how)
    message = await handle.wait_reply(timeout=15)
    assert handle.ephemeral, message["content"]
    return str(message["content"])


async def entry(fake: DiscordFake, store: Store, thread: Any, user: str, prompt: str) -> dict[str, Any]:
    """A member makes a clip with /video in the challenge's thread; its posted message."""
    text = await reply(fake, "video", {"prompt": prompt, "model": "tiny-ltx"}, user=user, channel=thread)
    assert "Queued as #" in text, text
    job_id = int(text.split("#")[1].split(":")[0])
    job = await job_in_state(store, job_id, "done", "failed")
    assert job.state == "done", job.error_text
    return await wait_until(
        lambda: next((m for m in clip_messages(fake, thread) if f"#{job_id}" in m["content"]), None),
        what=f"clip #{job_id} in the thread",
    )


def job_of(clip: dict[str, Any]) -> int:
    return int(clip["embeds"][0]["footer"]["text"].lstrip("#"))


async def vote(fake: DiscordFake, clip: dict[str, Any], user: str, direction: str = "up") -> str | None:
    """A member clicks 👍/👎 under a clip: None when it counted, else the bot's private answer."""
    click = await fake.click(fake.message(clip["id"]), f"vb:vote:{job_of(clip)}:{direction}", user=user)
    if await click.wait_ack() == UPDATE_MESSAGE:  # the counts under the clip changed
        return None
    assert click.ephemeral
    return str((await click.wait_reply())["content"])


def results_in(fake: DiscordFake, channel: Any, marker: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(channel) if marker in m["content"]]


async def test_a_challenge_from_start_through_entries_votes_and_restarts_to_results_and_role(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    guild_id = int(fake.guild.id)
    members_of_old(fake, "alice", "bob", "carol")
    fake.add_user("newbie")  # joined just now
    champion = fake.add_role("Champion")
    bot_role = fake.guild.role(fake.bot_user.username)
    bot_role.permissions |= MANAGE_ROLES
    bot_role.position = champion.position + 1  # the admin put the bot's role above the prize
    general = fake.channel("general")
    await store.settings.update_settings(
        guild_id,
        challenge_winner_role_id=int(champion.id),
        allowed_channel_ids=[int(general.id)],  # /video only in #general: its threads follow it
        max_queued_per_user=5,
    )
    await bot_runner.start()
    worker.start()

    # a member cannot start one; a moderator can
    assert "Only moderators" in await reply(
        fake, "challenge start", {"theme": "x", "duration": "2h"}, user="alice"
    )
    assert "can't read" in await reply(fake, "challenge start", {"theme": "x", "duration": "soon"})
    assert await store.challenges.guild_challenges(guild_id) == []
    before = time.time()
    started = await reply(fake, "challenge start", {"theme": "a **cat** surfing @everyone", "duration": "2h"})
    assert "Challenge #1 has started" in started
    thread = await wait_until(
        lambda: next(iter(fake.threads("general")), None), what="the challenge's thread"
    )
    assert f"<#{thread.id}>" in started
    announcement = fake.message(thread.id)  # the thread was opened from the announcement
    end = int(re.search(r"<t:(\d+):F>", announcement["content"])[1])  # type: ignore[index]
    assert before + 2 * 3600 - 5 <= end <= time.time() + 2 * 3600
    assert f"<t:{end}:R>" in announcement["content"]
    assert r"a \*\*cat\*\* surfing @everyone" in announcement["content"]  # shown as written

    # entries: clips made with /video in the thread; a member's latest counts
    alice_clip = await entry(fake, store, thread, "alice", "a cat surfing a wave")
    bob_first = await entry(fake, store, thread, "bob", "a cat on a surfboard")
    bob_clip = await entry(fake, store, thread, "bob", "a cat surfing at sunset")

    assert await vote(fake, alice_clip, "carol") is None
    assert await vote(fake, bob_first, "alice") is None  # bob's earlier clip: not an entry
    assert "can't vote in challenges" in (await vote(fake, bob_clip, "newbie") or "")
    assert "own clip" in (await vote(fake, alice_clip, "alice") or "")

    # the bot restarts in the middle: buttons and rules still work, nothing is lost
    await bot_runner.stop()
    await bot_runner.start()
    assert await vote(fake, bob_clip, "alice") is None
    assert await vote(fake, bob_clip, "carol") is None
    assert await vote(fake, alice_clip, "bob") is None
    assert "can't vote in challenges" in (await vote(fake, alice_clip, "newbie") or "")
    assert button(fake.message(bob_clip["id"]), f"vb:vote:{job_of(bob_clip)}:up")["label"] == "2"
    assert (await store.challenges.get_challenge(1)).ended_at is None  # type: ignore[union-attr]

    # the end passes while the bot is down: it is ended at start-up
    await bot_runner.stop()
    assert await store.challenges.move_challenge_end(
        1, time.time()
    )  # now, while it is down: past at its start
    await bot_runner.start()
    posted = await wait_until(
        lambda: results_in(fake, thread, "Challenge #1 is over"), timeout=30, what="the results in the thread"
    )
    assert len(posted) == 1
    text = posted[0]["content"]
    alice_id, bob_id = fake.user("alice").id, fake.user("bob").id
    lines = text.splitlines()
    # 2 to 2: ties go to the earlier entry
    assert lines[1].startswith(f"🥇 <@{alice_id}>") and "👍 2 · 👎 0 (net 2)" in lines[1]
    assert lines[2].startswith(f"🥈 <@{bob_id}>") and f"clip #{job_of(bob_clip)}" in lines[2]
    assert f"#{job_of(bob_first)}" not in text and "🥉" not in text
    assert "2 entries, 4 votes" in text
    assert f"<@{alice_id}> gets the role <@&{champion.id}>" in text
    assert champion.id in fake.guild.members[alice_id].roles
    assert len(results_in(fake, "general", "Challenge #1 is over")) == 1  # announced in the channel too
    await wait_until(lambda: thread.locked and thread.archived, what="the thread locked")
    assert not fake.pinged_anyone()

    # who voted is kept; the results are final
    audit = await store.challenges.challenge_audit(1)
    assert sorted((v.job_id, v.user_id) for v in audit) == sorted(
        [
            (job_of(alice_clip), int(fake.user("carol").id)),
            (job_of(alice_clip), int(bob_id)),
            (job_of(bob_clip), int(alice_id)),
            (job_of(bob_clip), int(fake.user("carol").id)),
        ]
    )
    assert "is over: its results are final" in (await vote(fake, bob_clip, "carol", "down") or "")
    shown = await reply(fake, "challenge results", user="carol")
    assert "Challenge #1 is over" in shown and f"🥇 <@{alice_id}>" in shown
    assert await store.challenges.challenge_wins(guild_id, int(alice_id)) == 1

    # another restart posts nothing twice
    await bot_runner.stop()
    await bot_runner.start()
    assert "#1" in await reply(fake, "challenge list")
    assert len(results_in(fake, thread, "Challenge #1 is over")) == 1
    assert len(results_in(fake, "general", "Challenge #1 is over")) == 1
    fake.assert_no_violations()


async def test_a_moderator_ends_a_challenge_early_and_a_missing_permission_is_said(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    guild_id = int(fake.guild.id)
    fake.add_user("mod", roles=("Moderator",), locale="de")
    fake.add_user("alice")  # joined just now, but this server lets everyone vote
    fake.add_user("bob")
    champion = fake.add_role("Champion")  # the bot may not give roles here
    await store.settings.update_settings(
        guild_id, challenge_winner_role_id=int(champion.id), challenge_min_member_hours=0
    )
    worker.start()
    assert "Wettbewerb #1 hat begonnen" in await reply(
        fake,
        "challenge start",
        {"theme": "Hunde im Schnee", "duration": "1 Woche"},
        user="mod",
        channel="videos",
    )
    thread = await wait_until(lambda: next(iter(fake.threads("videos")), None), what="the thread")
    assert "Endet <t:" in fake.message(thread.id)["content"]
    assert "still running" in await reply(fake, "challenge results", {"challenge": 1})
    clip = await entry(fake, store, thread, "alice", "a dog in the snow")
    assert await vote(fake, clip, "bob") is None

    ended = await reply(fake, "challenge end", user="mod", channel=thread)
    assert "Wettbewerb #1 ist beendet" in ended
    posted = results_in(fake, thread, "Wettbewerb #1 ist vorbei")
    assert len(posted) == 1
    assert "🥇" in posted[0]["content"] and "👍 1 · 👎 0 (netto 1)" in posted[0]["content"]
    assert "Ich konnte die Rolle" in posted[0]["content"]  # 403 from Discord: said, not a crash
    assert champion.id not in fake.guild.members[fake.user("alice").id].roles
    assert "Challenge #1 has already ended" in await reply(fake, "challenge end", {"challenge": 1})
    assert "is over" in (await vote(fake, clip, "bob", "down") or "")
    challenge = await store.challenges.get_challenge(1)
    assert challenge is not None and challenge.ended_by == int(fake.user("mod").id)
    assert challenge.role_outcome == "forbidden"
    fake.assert_no_violations()
