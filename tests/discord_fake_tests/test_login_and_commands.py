"""The real discord.py client logs in to the fake, syncs its commands and answers a slash command."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_fake import DiscordFake

from .conftest import BotFactory, FakeBot


async def test_login_gets_ready_with_guild_channels_and_members(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    alice = discord_fake.add_user("alice")
    bot = await start_bot(sync=False)

    assert bot.user is not None and str(bot.user.id) == discord_fake.app_id
    assert bot.application_id == int(discord_fake.app_id)
    guild = bot.get_guild(int(discord_fake.guild.id))
    assert guild is not None
    assert {c.name for c in guild.text_channels} == {"general", "videos"}
    assert guild.get_member(int(alice.id)) is not None or not bot.intents.members
    assert guild.me is not None
    routes = [r.route for r in discord_fake.requests]
    assert routes[:2] == ["GET /users/@me", "GET /oauth2/applications/@me"]
    assert discord_fake.gateway.connections[0].query["compress"] in ("zlib-stream", "zstd-stream")


async def test_slash_command_reply_followup_and_edit(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="echo", description="Say it back")
        @app_commands.describe(text="What to say")
        async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
            await interaction.response.send_message(text * times)
            await interaction.followup.send("and again", ephemeral=True)
            await interaction.edit_original_response(content=f"{text} (edited)")

    await start_bot(setup)
    assert discord_fake.command_names() == ["echo"]
    echo = discord_fake.registered_commands()[0]
    assert [o["name"] for o in echo["options"]] == ["text", "times"]

    handle = await discord_fake.slash_command("echo", {"text": "hi", "times": 2})
    assert await handle.wait_ack() == 4
    await handle.wait_followups(1)
    await handle.wait_original(lambda m: m["edited_timestamp"] is not None)
    assert handle.original is not None and handle.original["content"] == "hi (edited)"
    assert handle.followups[0]["content"] == "and again" and handle.followups[0]["flags"] & 64
    assert discord_fake.message_versions[handle.original["id"]][0]["content"] == "hihi"
    assert handle.ack_latency is not None and handle.ack_latency < 3
    assert not discord_fake.pinged_anyone()


async def test_wrong_token_is_refused_at_login(discord_fake: DiscordFake) -> None:
    client = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert [v.kind for v in discord_fake.take_violations()] == ["auth"]


async def test_all_intents_get_members_by_chunking(discord_fake: DiscordFake, start_bot: BotFactory) -> None:
    alice = discord_fake.add_user("alice", roles=("Moderator",))
    intents = discord.Intents.default()
    intents.members = True  # without presences, discord.py asks for the members (op 8)
    bot = await start_bot(bot=FakeBot(intents=intents), sync=False)
    assert 8 in discord_fake.gateway.connections[0].opcodes
    guild = bot.get_guild(int(discord_fake.guild.id))
    assert guild is not None and guild.chunked
    member = guild.get_member(int(alice.id))
    assert member is not None and [r.name for r in member.roles] == ["@everyone", "Moderator"]


async def test_a_burst_of_commands_gives_ack_latency_figures(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="video", description="Make a clip")
        async def video(interaction: discord.Interaction, prompt: str) -> None:
            await interaction.response.send_message(f"queued: {prompt}", ephemeral=True)

    await start_bot(setup)
    handles = [await discord_fake.slash_command("video", {"prompt": f"clip {i}"}) for i in range(20)]
    await asyncio.gather(*(h.wait_ack() for h in handles))
    figures = discord_fake.ack_latency_percentiles(0.5, 0.99)
    assert len(discord_fake.ack_latencies()) == 20 and 0 < figures[0.5] <= figures[0.99] < 3


async def test_a_guild_renamed_with_an_icon_reaches_the_bot_and_its_cdn_serves_the_icon(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    guild_id = int(discord_fake.guild.id)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    discord_fake.update_guild(name="Pixel Forge", icon_png=png)
    for _ in range(200):
        guild = bot.get_guild(guild_id)
        if guild is not None and guild.icon is not None:
            break
        await asyncio.sleep(0.02)
    assert guild is not None and guild.name == "Pixel Forge" and guild.icon is not None
    assert await guild.icon.replace(size=128, format="png").read() == png  # from the fake's CDN
    assert discord_fake.cdn_requests == [f"/icons/{guild_id}/{guild.icon.key}.png?size=128"]
    discord_fake.set_nick("owner", "The Boss")
    member = await guild.fetch_member(int(discord_fake.owner.id))
    assert member.display_name == "The Boss"
