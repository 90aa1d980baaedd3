"""The AI mark setting through the spec-checked Discord: off until an admin turns it on with /settings
(in German too), the overview says so, and the clips asked for afterwards are queued to be marked."""

from __future__ import annotations

from bot.app import VideoBot
from db.store import Store
from tests.discord_fake import DiscordFake


async def test_an_admin_turns_the_ai_mark_on_and_new_clips_are_marked(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    guild = int(fake.guild.id)

    shown = await fake.slash_command("settings show")
    await shown.wait_reply()
    assert "AI mark on new clips: no" in shown.original["content"]  # type: ignore[index]
    denied = await fake.slash_command("settings ai-mark", {"enabled": True}, user="alice")
    await denied.wait_reply()
    assert denied.ephemeral and "manage the server" in denied.original["content"]  # type: ignore[index]
    assert (await store.settings.get_settings(guild)).ai_mark is False

    # the German names, as a German admin sees them
    saved = await fake.slash_command("einstellungen ki-kennzeichen", {"an": True}, locale="de")
    await saved.wait_reply()
    assert saved.ephemeral and "KI-Kennzeichen auf neuen Clips: ja" in saved.original["content"]  # type: ignore[index]
    assert (await store.settings.get_settings(guild)).ai_mark is True

    # a clip asked for now is queued to be marked, in the language of the member who asked
    asked = await fake.slash_command("video", {"prompt": "a lighthouse at night"}, user="alice", locale="de")
    await asked.wait_reply()
    (job,) = await store.jobs.active_jobs()
    assert job.spec.mark and job.locale == "de"
    assert not fake.pinged_anyone()
