"""/settings always answers, however long the server's lists grow: a summary with many blocked words,
allowed channels or role weights is shortened to Discord's 2,000 characters ("… and 87 more"), in
English and German, and the change it reports is saved."""

from __future__ import annotations

import pytest

from bot.app import VideoBot
from bot.cogs.settings import summary
from db.store import Store
from tests.discord_fake import DiscordFake

WORDS = [f"forbiddenword{n:03d}" for n in range(140)]


async def test_a_long_list_of_blocked_words_is_shortened_and_the_change_is_saved(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    guild = int(fake.guild.id)
    await store.settings.update_settings(guild, blocked_words=WORDS)
    handle = await fake.slash_command("settings blocked-word", {"word": "gore"})
    reply = await handle.wait_reply()
    text = reply["content"]
    assert handle.ephemeral and text.startswith("Saved."), text
    assert len(text) <= 2000 and "forbiddenword000" in text
    hidden = sum(1 for w in [*WORDS, "gore"] if w not in text)
    assert hidden > 0 and f"… and {hidden} more" in text, text
    assert "gore" in (await store.settings.get_settings(guild)).blocked_words
    show = await fake.slash_command("settings show", {})
    assert len((await show.wait_reply())["content"]) <= 2000


async def test_the_german_summary_is_shortened_too(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("jonas", locale="de", roles=("Admin",))
    await store.settings.update_settings(int(fake.guild.id), blocked_words=WORDS)
    handle = await fake.slash_command("settings show", {}, user="jonas", locale="de")
    text = (await handle.wait_reply())["content"]
    assert handle.ephemeral and len(text) <= 2000 and "gesperrte Wörter" in text
    assert " weitere" in text and "Saved" not in text, text


@pytest.mark.parametrize("locale", ["en-US", "de"])
def test_every_list_is_shortened_so_the_whole_answer_fits(locale: str) -> None:
    from db.store import GuildSettings

    settings = GuildSettings(
        guild_id=1,
        allowed_channel_ids=tuple(10**18 + n for n in range(120)),
        role_weights={10**18 + n: 2.5 for n in range(120)},
        blocked_words=tuple(w * 5 for w in WORDS),
    )
    text = summary(settings, locale)
    assert len(text) <= 2000, len(text)
    assert len(summary(settings, locale, 1980)) <= 1980
    assert "<#1000000000000000000>" in text and "<@&1000000000000000000> ×2.5" in text
