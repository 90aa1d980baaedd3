"""/me: your clips, the votes they got, your wins, and your GPU time this week against your fair share.

Your fair share is what the fair queue aims at: the server's GPU-seconds this week × your weight ÷ the
sum of the weights of the members who made clips this week. You are counted among them even in a
week you made none (the share is then what you would have had). Your weight is your roles' weight now
(``/settings role-weight``); the other members' is the weight of their latest job this week. "This
week" is the last seven days, as in ``/top``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.i18n import t
from bot.replies import answer, think
from bot.submit import role_ids

Interaction = discord.Interaction[VideoBot]

WEEK_S = 7 * 86_400.0


def fair_share(server_gpu_s: float, my_weight: float, other_weights: Iterable[float]) -> float:
    """GPU-seconds that are yours of ``server_gpu_s``: your weight over the sum of your weight and
    the other active members' weights (0 when there is nothing to share)."""
    total = my_weight + sum(other_weights)
    if server_gpu_s <= 0 or my_weight <= 0 or total <= 0:
        return 0.0
    return server_gpu_s * my_weight / total


def seconds(value: float) -> str:
    return f"{value:.1f}"


class MeCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("me", key="cmd.me"),
        description=_("Your clips, votes, wins and GPU time this week", key="cmd.me.desc"),
    )
    @app_commands.guild_only()
    async def me(self, interaction: Interaction) -> None:
        await think(interaction)
        store, locale = self.bot.store, interaction.locale.value
        guild_id, user_id = interaction.guild_id, interaction.user.id
        assert guild_id is not None
        standing = await store.standing(guild_id, user_id, time.time() - WEEK_S)
        settings = await store.get_settings(guild_id)
        wins = await store.challenge_wins(guild_id, user_id)

        my_weight = settings.weight_for_roles(role_ids(interaction.user))
        others = [m.weight for m in standing.gpu_by_member if m.user_id != user_id]
        total = standing.guild_gpu_seconds
        used = standing.gpu_seconds_of(user_id)
        share = fair_share(total, my_weight, others)

        server = interaction.guild.name if interaction.guild is not None else str(guild_id)
        embed = discord.Embed(
            title=t(locale, "me.title", server=discord.utils.escape_markdown(server)),
            colour=discord.Colour.blurple(),
        )
        embed.add_field(
            name=t(locale, "me.clips"),
            value=t(locale, "me.clips.value", week=standing.clips_recent, total=standing.clips_total),
        )
        embed.add_field(
            name=t(locale, "me.votes"), value=f"👍 {standing.votes.up} · 👎 {standing.votes.down}"
        )
        embed.add_field(name=t(locale, "me.wins"), value=str(wins))
        if share > 0:
            gpu = t(
                locale,
                "me.gpu.value",
                used=seconds(used),
                share=seconds(share),
                percent=round(100 * used / share),
            )
        else:
            gpu = t(locale, "me.gpu.idle", used=seconds(used))
        embed.add_field(name=t(locale, "me.gpu"), value=gpu, inline=False)
        embed.set_footer(
            text=t(
                locale,
                "me.gpu.explain",
                total=seconds(total),
                weight=f"{my_weight:g}",
                total_weight=f"{my_weight + sum(others):g}",
                members=len(others) + 1,
            )
        )
        await answer(interaction, embed=embed)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(MeCog(bot))
