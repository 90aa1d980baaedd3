"""Channel messages with files, embeds and views; threads; DynamicItem buttons; modals; autocomplete."""

from __future__ import annotations

import asyncio
import io
import re

import discord
from discord import app_commands
from discord.ext import commands

from tests.discord_fake import DiscordFake

from .conftest import BotFactory

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(2048)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vb:vote:(?P<job>\d+):(?P<way>up|down)",
):
    def __init__(self, job: int, way: str, count: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{'👍' if way == 'up' else '👎'} {count}",
                custom_id=f"vb:vote:{job}:{way}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.job, self.way = job, way

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[discord.ui.View], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["job"]), match["way"])

    async def callback(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(VoteButton(self.job, "up", 1 if self.way == "up" else 0))
        view.add_item(VoteButton(self.job, "down", 1 if self.way == "down" else 0))
        await interaction.response.edit_message(view=view)


async def test_message_with_file_embed_and_buttons_then_a_thread(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    bot = await start_bot(lambda b: b.add_dynamic_items(VoteButton), sync=False)
    channel = bot.get_channel(int(discord_fake.channel("videos").id))
    assert isinstance(channel, discord.TextChannel)

    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(7, "up"))
    view.add_item(VoteButton(7, "down"))
    embed = discord.Embed(title="a cat surfing", description="seed 42").set_image(url="attachment://clip.mp4")
    sent = await channel.send(
        "Here is your clip", file=discord.File(io.BytesIO(VIDEO), "clip.mp4"), embed=embed, view=view
    )

    posted = discord_fake.message(sent.id)
    request = discord_fake.requests_to("POST", "/channels/{channel_id}/messages")[-1]
    assert request.files[0].filename == "clip.mp4" and request.files[0].data == VIDEO
    assert request.allowed_mentions == {"parse": []}
    assert posted["attachments"][0]["size"] == len(VIDEO)
    assert posted["attachments"][0]["content_type"] == "video/mp4"
    assert posted["embeds"][0]["title"] == "a cat surfing"
    assert [b["custom_id"] for b in posted["components"][0]["components"]] == [
        "vb:vote:7:up",
        "vb:vote:7:down",
    ]
    assert await sent.attachments[0].read() == VIDEO  # served by the fake's CDN

    thread = await sent.create_thread(name="a cat surfing")
    posted_in = discord_fake.thread_of(sent.id)
    assert posted_in is not None
    assert thread.id == sent.id and thread.parent_id == channel.id
    await thread.send("remix posted here")
    assert [m["content"] for m in discord_fake.messages_in(posted_in)] == ["remix posted here"]
    assert discord_fake.message(sent.id)["flags"] & 32  # HAS_THREAD


async def test_dynamic_item_button_click_round_trip(discord_fake: DiscordFake, start_bot: BotFactory) -> None:
    alice = discord_fake.add_user("alice")
    bot = await start_bot(lambda b: b.add_dynamic_items(VoteButton), sync=False)
    channel = bot.get_channel(int(discord_fake.channel("videos").id))
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(9, "up"))
    view.add_item(VoteButton(9, "down"))
    sent = await channel.send("clip", view=view)

    click = await discord_fake.click(sent.id, "vb:vote:9:up", user=alice)
    assert click.payload["message"]["id"] == str(sent.id)
    assert click.payload["data"]["component_type"] == 2
    assert await click.wait_ack() == 7  # UPDATE_MESSAGE
    labels = [b["label"] for b in discord_fake.message(sent.id)["components"][0]["components"]]
    assert labels == ["👍 1", "👎 0"]
    edits = discord_fake.edits_of(sent.id)
    assert [e.template for e in edits] == ["/interactions/{interaction_id}/{interaction_token}/callback"]
    assert discord_fake.message(sent.id)["edited_timestamp"] is not None


async def test_modal_opened_by_a_command_and_submitted(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    class Remix(discord.ui.Modal, title="Remix"):
        prompt: discord.ui.TextInput[Remix] = discord.ui.TextInput(
            label="Prompt", custom_id="prompt", max_length=500
        )

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"remixing: {self.prompt.value}", ephemeral=True)

    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="remix", description="Remix a clip")
        async def remix(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Remix())

    await start_bot(setup)
    opened = await discord_fake.slash_command("remix")
    assert await opened.wait_ack() == 9
    assert opened.modal is not None and opened.modal["title"] == "Remix"

    submitted = await discord_fake.submit_modal(opened, {"prompt": "a dog surfing"})
    reply = await submitted.wait_reply()
    assert reply["content"] == "remixing: a dog surfing" and submitted.ephemeral


async def test_autocomplete_answers_with_choices(discord_fake: DiscordFake, start_bot: BotFactory) -> None:
    def setup(bot: commands.Bot) -> None:
        async def models(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ["ltx-video", "wan-1.3b", "wan-14b", "cogvideox"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @bot.tree.command(name="video", description="Make a clip")
        @app_commands.autocomplete(model=models)
        async def video(interaction: discord.Interaction, prompt: str, model: str = "ltx-video") -> None:
            await interaction.response.send_message(f"{prompt} with {model}")

    await start_bot(setup)
    typing = await discord_fake.autocomplete("video", {"prompt": "cat", "model": "wan"}, focused="model")
    assert await typing.wait_ack() == 8
    assert [c["value"] for c in typing.choices or []] == ["wan-1.3b", "wan-14b"]


async def test_deferred_command_then_followup_fills_the_placeholder(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    def setup(bot: commands.Bot) -> None:
        @bot.tree.command(name="queue", description="Show the queue")
        async def queue(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0)
            await interaction.followup.send("3 jobs ahead of you")

    await start_bot(setup)
    handle = await discord_fake.slash_command("queue")
    assert await handle.wait_ack() == 5
    reply = await handle.wait_reply()
    assert reply["content"] == "3 jobs ahead of you" and handle.followups == []


async def test_mentions_are_recorded_and_judged_by_discords_rules(
    discord_fake: DiscordFake, start_bot: BotFactory
) -> None:
    alice = discord_fake.add_user("alice")
    mods = discord_fake.guild.role("Moderator")
    bot = await start_bot(sync=False)
    channel = bot.get_channel(int(discord_fake.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    text = f"@everyone {alice.mention} {mods.mention} look"

    await channel.send(text)  # the client's AllowedMentions.none()
    assert not discord_fake.pinged_anyone()

    await channel.send(text, allowed_mentions=discord.AllowedMentions(users=True))
    assert [(p.kind, p.target) for _, p in discord_fake.pings()] == [("user", alice.id)]
    sent = discord_fake.messages_in(channel.name)[-1]
    assert [u["id"] for u in sent["mentions"]] == [alice.id] and not sent["mention_everyone"]
