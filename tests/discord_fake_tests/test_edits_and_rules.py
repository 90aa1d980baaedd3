"""Edits and deletes through the bot token, double acks, and the mention rules on their own."""

from __future__ import annotations

import io

import discord
import pytest
from discord.ext import commands
from discord.webhook.async_ import async_context, interaction_response_params

from tests.discord_fake import DiscordFake, pings

from .conftest import BotFactory


async def test_status_message_edited_with_the_bot_token_then_deleted(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    channel = bot.get_channel(int(discord_fake.channel("videos").id))
    assert isinstance(channel, discord.TextChannel)
    status = await channel.send("queued, position 2")
    discord_fake.clock.advance(3)
    status = await status.edit(content="rendering ▓▓░░ 20/40")
    status = await status.edit(content="done", attachments=[discord.File(io.BytesIO(b"mp4"), "clip.mp4")])

    edits = discord_fake.edits_of(status.id)
    assert [e.template for e in edits] == ["/channels/{channel_id}/messages/{message_id}"] * 2
    assert edits[1].at - edits[0].at < 3 <= edits[0].at - discord_fake.requests[0].at
    assert [v["content"] for v in discord_fake.message_versions[str(status.id)]] == [
        "queued, position 2",
        "rendering ▓▓░░ 20/40",
        "done",
    ]
    assert discord_fake.message(status.id)["attachments"][0]["filename"] == "clip.mp4"

    await status.delete()
    assert discord_fake.messages_in("videos") == []
    assert str(status.id) in discord_fake.deleted_messages


async def test_answering_an_interaction_twice_is_refused(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    errors: list[discord.HTTPException] = []

    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="twice", description="Answers twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("one")
            try:  # past discord.py's own guard, straight to Discord
                await async_context.get().create_interaction_response(
                    interaction.id,
                    interaction.token,
                    session=interaction._session,
                    params=interaction_response_params(4, {"content": "two"}),
                )
            except discord.HTTPException as exc:
                errors.append(exc)

    await start_bot(setup)
    handle = await discord_fake.slash_command("twice")
    await discord_fake.wait_for(lambda: len(discord_fake.interaction_responses()) == 2)
    assert handle.callback_type == 4
    assert discord_fake.interaction_responses()[1].response["code"] == 40060
    assert [v.kind for v in discord_fake.take_violations()] == ["double_ack"]


async def test_multipart_payload_json_is_checked_too(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    channel = bot.get_channel(int(discord_fake.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001, file=discord.File(io.BytesIO(b"1"), "a.txt"))
    assert caught.value.code == 50035
    assert discord_fake.requests[-1].files[0].data == b"1"
    assert [v.kind for v in discord_fake.take_violations()] == ["limit"]


def test_mention_rules() -> None:
    text = "@everyone <@1> <@!2> <@&3> @here"
    assert [p.kind for p in pings(text, None)] == ["user", "user", "role", "everyone", "here"]
    assert pings(text, {"parse": []}) == []
    assert [p.target for p in pings(text, {"parse": [], "users": ["2"]})] == ["2"]
    assert [p.kind for p in pings(text, {"parse": ["everyone"]})] == ["everyone", "here"]
    assert [p.target for p in pings("reply", None, replied_user_id="9")] == ["9"]
    assert pings("reply", {"parse": []}, replied_user_id="9") == []
