"""What a member sees when the bot says no, in their language, and the admins' /settings."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.bot.test_video_e2e import clip_messages, make_clip
from tests.discord_fake import DiscordFake


async def refused(fake: DiscordFake, options: dict[str, object], **kwargs: object) -> str:
    handle = await fake.slash_command("video", options, **kwargs)  # type: ignore[arg-type]
    await handle.wait_reply()
    assert handle.ephemeral, handle.original
    return str(handle.original["content"])  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"prompt": "   "}, "prompt is empty"),
        ({"prompt": "a cat", "model": "sora"}, "no model called “sora”"),
        ({"prompt": "a cat", "seconds": 25}, "you asked for 25"),
        ({"prompt": "a cat", "model": "tiny-wan", "aspect": "3:2"}, "does not render 3:2"),
    ],
)
async def test_bad_input_is_answered_privately_and_nothing_is_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, options: dict[str, object], words: str
) -> None:
    assert words in await refused(discord_fake, options)
    assert await store.jobs.active_jobs() == []
    assert discord_fake.messages_in("general") == []


async def test_admin_rules_channel_blocked_words_and_caps(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    videos = fake.channel("videos")
    # a member may not change the settings
    denied = await fake.slash_command("settings limits", {"waiting": 1}, user="alice")
    await denied.wait_reply()
    assert denied.ephemeral and "Only" in denied.original["content"]  # type: ignore[index]

    changes: list[tuple[str, dict[str, Any]]] = [
        ("settings channel", {"channel": videos, "allowed": True}),
        ("settings blocked-word", {"word": "Gore"}),
        ("settings limits", {"waiting": 1}),
    ]
    for command, options in changes:
        handle = await fake.slash_command(command, options)
        await handle.wait_reply()
        assert "Saved" in handle.original["content"], handle.original  # type: ignore[index]

    assert "not used in this channel" in await refused(fake, {"prompt": "a cat"}, user="alice")
    assert "does not allow (“gore”)" in await refused(
        fake, {"prompt": "so much GORE"}, user="alice", channel=videos
    )
    ok = await fake.slash_command(
        "video", {"prompt": "a cat", "model": "tiny-slow"}, user="alice", channel=videos
    )
    await ok.wait_reply()
    assert "Queued as #1" in ok.original["content"]  # type: ignore[index]
    assert "limit is 1" in await refused(fake, {"prompt": "a dog"}, user="alice", channel=videos)
    assert [j.id for j in await store.jobs.active_jobs()] == [1]


async def test_nobody_is_pinged_by_a_prompt_full_of_mentions(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    alice = fake.add_user("alice")
    role = fake.guild.role("Moderator")
    worker.start()
    await make_clip(fake, store, f"@everyone @here <@&{role.id}> <@{alice.id}> dance", model="tiny-ltx")
    assert not fake.pinged_anyone()
    assert any("@everyone" in m["content"] for m in clip_messages(fake, "general"))


async def test_a_german_member_gets_german_replies_and_commands(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("jonas", locale="de")
    handle = await fake.slash_command(
        "video", {"prompt": "eine Katze am Strand", "model": "tiny-ltx"}, user="jonas"
    )
    await handle.wait_reply()
    assert "Eingereiht als #1" in handle.original["content"]  # type: ignore[index]
    status = await wait_until(lambda: next(iter(fake.messages_in("general")), None), what="status")
    assert "Wartet" in status["content"]
    assert "Die Beschreibung ist leer" in await refused(fake, {"prompt": "  "}, user="jonas")
    names = fake.command_names(locale="de")
    assert {"video", "warteschlange", "abbrechen", "zeigen", "einstellungen"} <= set(names)
    queue = await fake.slash_command("warteschlange", {}, user="jonas", locale="de")
    await queue.wait_reply()
    assert queue.original["embeds"][0]["title"] == "Deine Clips"  # type: ignore[index]


async def test_queue_top_show_info_and_delete(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    worker.start()
    clip = await make_clip(fake, store, "a paper boat", model="tiny-ltx")
    await (await fake.click(clip, "vb:vote:1:up", user="alice")).wait_reply()

    queue = await fake.slash_command("queue", {})
    await queue.wait_reply()
    assert "no clip waiting" in queue.original["content"]  # type: ignore[index]

    top = await fake.slash_command("top", {"period": "day"})
    await top.wait_reply()
    assert "a paper boat" in top.original["embeds"][0]["description"]  # type: ignore[index]

    info = await fake.click(clip, "vb:info:1", user="alice")
    await info.wait_reply()
    fields = {f["name"]: f["value"] for f in info.original["embeds"][0]["fields"]}  # type: ignore[index]
    assert info.ephemeral and fields["Steps"] == "2" and fields["Votes"] == "👍 1 · 👎 0"

    show = await fake.slash_command("show", {"job": 1})
    await show.wait_reply()
    reposted = show.original
    assert reposted is not None and not show.ephemeral and reposted["attachments"]

    not_yours = await fake.click(clip, "vb:delete:1", user="alice")
    await not_yours.wait_reply()
    assert "Only" in not_yours.original["content"]  # type: ignore[index]
    delete = await fake.click(clip, "vb:delete:1")
    await delete.wait_reply()
    await wait_until(lambda: clip["id"] in fake.deleted_messages, what="the clip to be deleted")
    assert await store.jobs.get_media(1) is None
    await job_in_state(store, 1, "done")


async def test_admins_set_the_hall_of_fame_challenges_and_stories_and_see_them_in_german_too(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    hall = fake.channel("videos")
    winners = fake.guild.role("Moderator")

    async def saved(command: str, options: dict[str, object], locale: str = "en-US") -> str:
        handle = await fake.slash_command(command, options, locale=locale)
        await handle.wait_reply()
        assert handle.ephemeral, handle.original
        return str(handle.original["content"])  # type: ignore[index]

    text = await saved("settings hall-of-fame", {"channel": hall, "threshold": 3})
    assert f"Hall of fame: <#{hall.id}> from 3 net 👍" in text
    text = await saved("settings challenges", {"member-hours": 48, "winner-role": winners})
    assert "joined 48 h ago" in text and f"role: <@&{winners.id}>" in text
    assert "story rounds: 90 min" in await saved("settings stories", {"round-minutes": 90})
    settings = await store.settings.get_settings(int(fake.guild.id))
    assert (settings.hall_of_fame_channel_id, settings.hall_of_fame_threshold) == (int(hall.id), 3)
    assert (settings.challenge_min_member_hours, settings.challenge_winner_role_id) == (48, int(winners.id))
    assert settings.story_round_minutes == 90

    german = await saved("settings hall-of-fame", {"off": True}, locale="de")
    assert "Ruhmeshalle: aus" in german and "Story-Runden: 90 Min." in german
    assert "challenge winner's role: none" in await saved("settings challenges", {"no-role": True})
    assert (await store.settings.get_settings(int(fake.guild.id))).challenge_winner_role_id is None
