"""What the fake refuses like Discord does, the faults it injects, and the gateway's RESUME."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord.http import Route

from tests.discord_fake import DiscordFake

from .conftest import BotFactory


async def text_channel(bot: commands.Bot, fake: DiscordFake, name: str = "general") -> discord.TextChannel:
    channel = bot.get_channel(int(fake.channel(name).id))
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_429_is_retried_transparently_by_discord_py(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    channel = await text_channel(bot, discord_fake)
    discord_fake.fail_next("POST", "/channels/{channel_id}/messages", 429, retry_after=0.05)

    sent = await channel.send("after a rate limit")

    attempts = discord_fake.requests_to("POST", "/channels/{channel_id}/messages")
    assert [r.status for r in attempts] == [429, 200]
    assert discord_fake.message(sent.id)["content"] == "after a rate limit"


async def test_a_500_is_retried_and_a_503_surfaces(discord_fake: DiscordFake, start_bot: BotFactory) -> None:
    bot = await start_bot(sync=False)
    channel = await text_channel(bot, discord_fake)
    discord_fake.fail_next("GET", "/channels/{channel_id}", 500)
    assert (await bot.fetch_channel(channel.id)).id == channel.id  # discord.py retries 500 after 1 s
    discord_fake.fail_next("GET", "/channels/{channel_id}", 503)
    with pytest.raises(discord.DiscordServerError):
        await bot.fetch_channel(channel.id)


async def test_upload_over_the_limit_is_413_with_code_40005(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    channel = await text_channel(bot, discord_fake)
    too_big = bytes(discord_fake.guild.upload_limit + 1)

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(file=discord.File(io.BytesIO(too_big), "clip.mp4"))

    assert caught.value.status == 413 and caught.value.code == 40005
    assert [v.kind for v in discord_fake.take_violations()] == ["upload_too_large"]


async def test_a_body_against_the_spec_is_refused_and_recorded(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    channel = await text_channel(bot, discord_fake)
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)

    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(route, json={"content": 5, "embeds": [{"title": "x" * 300}]})

    assert caught.value.status == 400 and caught.value.code == 50035
    violations = discord_fake.take_violations()
    assert [v.kind for v in violations] == ["spec"]
    assert {".".join(map(str, e.path)) for e in violations[0].errors} == {"content", "embeds.0.title"}


async def test_documented_limits_the_spec_leaves_out(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(sync=False)
    channel = await text_channel(bot, discord_fake)

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001)  # the spec says 4000 for messages; bots get 2000
    assert caught.value.code == 50035
    embed = discord.Embed(description="d" * 4000)
    with pytest.raises(discord.HTTPException):
        await channel.send(embeds=[embed, embed])  # 8000 characters over all embeds
    button = discord.ui.Button[discord.ui.View](label="ok", custom_id="c" * 101)
    with pytest.raises(discord.HTTPException):
        await channel.send("x", view=discord.ui.View().add_item(button))
    assert [v.kind for v in discord_fake.take_violations()] == ["limit", "limit", "spec"]


async def test_unknown_route_is_404_and_recorded(discord_fake: DiscordFake, start_bot: BotFactory) -> None:
    bot = await start_bot(sync=False)
    with pytest.raises(discord.NotFound):
        await bot.http.request(Route("GET", "/no/such/thing"))
    assert [v.kind for v in discord_fake.take_violations()] == ["unknown_route"]


async def test_late_ack_after_3_seconds_is_unknown_interaction(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    go = asyncio.Event()
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="slow", description="Too slow")
        async def slow(interaction: discord.Interaction) -> None:
            await go.wait()
            try:
                await interaction.response.send_message("late")
            except discord.HTTPException as exc:
                outcome.set_result(exc)
            else:
                outcome.set_result(None)

    await start_bot(setup)
    handle = await discord_fake.slash_command("slow")
    discord_fake.clock.advance(3.1)
    go.set()

    error = await asyncio.wait_for(outcome, 5)
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert handle.callback_type is None
    assert [v.kind for v in discord_fake.take_violations()] == ["late_ack"]


async def test_interaction_token_dies_after_15_minutes(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    saved: list[discord.Interaction] = []

    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="render", description="Render")
        async def render(interaction: discord.Interaction) -> None:
            saved.append(interaction)
            await interaction.response.defer()

    await start_bot(setup)
    handle = await discord_fake.slash_command("render")
    await handle.wait_ack()
    discord_fake.clock.advance(15 * 60 + 1)

    with pytest.raises(discord.HTTPException) as caught:
        await saved[0].edit_original_response(content="done")
    assert caught.value.status == 401 and caught.value.code == 50027
    assert [v.kind for v in discord_fake.take_violations()] == ["expired_token"]


async def test_german_locale_and_localized_command_names(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    hans = discord_fake.add_user("hans", locale="de")

    class German(app_commands.Translator):
        async def translate(
            self,
            string: app_commands.locale_str,
            locale: discord.Locale,
            context: app_commands.TranslationContextTypes,
        ) -> str | None:
            if locale is discord.Locale.german:
                return {"video": "video", "Make a clip": "Einen Clip machen", "prompt": "beschreibung"}.get(
                    string.message
                )
            return None

    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="video", description="Make a clip")
        async def video(interaction: discord.Interaction, prompt: str) -> None:
            hello = "Auftrag angenommen" if interaction.locale is discord.Locale.german else "Job queued"
            await interaction.response.send_message(f"{hello}: {prompt}")

    bot = await start_bot(setup, sync=False)
    await bot.tree.set_translator(German())
    await bot.tree.sync()
    command = discord_fake.registered_commands()[0]
    assert command["description_localizations"] == {"de": "Einen Clip machen"}

    handle = await discord_fake.slash_command("video", {"beschreibung": "eine Katze"}, user=hans)
    assert handle.payload["locale"] == "de" and handle.payload["guild_locale"] == "en-US"
    assert handle.payload["data"]["options"] == [{"name": "prompt", "type": 3, "value": "eine Katze"}]
    assert (await handle.wait_reply())["content"] == "Auftrag angenommen: eine Katze"


async def test_gateway_resume_after_the_socket_drops(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="ping", description="Ping")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

    await start_bot(setup)
    session = discord_fake.gateway.session
    await discord_fake.drop_gateway(4000)
    # Sent while the socket is down: Discord keeps it for the resumed session.
    handle = await discord_fake.slash_command("ping")
    await discord_fake.wait_resumed()

    assert (await handle.wait_reply())["content"] == "pong"
    assert discord_fake.gateway.session is session and session is not None and session.resumes == 1
    last = discord_fake.gateway.connections[-1]
    assert last.path == "/gateway-resume" and 6 in last.opcodes and 2 not in last.opcodes

    await discord_fake.request_reconnect()  # op 7
    await discord_fake.wait_resumed()
    assert session.resumes == 2
    assert (await (await discord_fake.slash_command("ping")).wait_reply())["content"] == "pong"
