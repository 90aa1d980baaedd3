"""/me: your clips, the votes they got, your wins, and your GPU time this week against your fair share;
and whether the public web gallery names you with your clips (``/me gallery-name:True``) or shows "a
member of <server>" (the default, and ``gallery-name:False``, which also erases the name it kept).

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


def gallery_name_text(locale: str, name: str | None, server: str, *, changed: bool = False) -> str:
    """What the web gallery shows with a member's clips: their name, or "a member of <server>";
    ``changed``: as the confirmation of the choice just made."""
    escape = discord.utils.escape_markdown
    if name is not None:
        return t(locale, "me.gallery_name.on" if changed else "me.gallery.named", name=escape(name))
    return t(locale, "me.gallery_name.off" if changed else "me.gallery.anonymous", server=escape(server))


class MeCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("me", key="cmd.me"),
        description=_("Your clips, votes, wins and GPU time this week", key="cmd.me.desc"),
    )
    @app_commands.guild_only()
    @app_commands.rename(gallery_name=_("gallery-name", key="opt.gallery_name"))
    @app_commands.describe(
        gallery_name=_(
            "Show your name with your clips in the public web gallery (or not)", key="opt.gallery_name.desc"
        )
    )
    async def me(self, interaction: Interaction, gallery_name: bool | None = None) -> None:
        await think(interaction)
        store, locale = self.bot.store, interaction.locale.value
        guild_id, user_id = interaction.guild_id, interaction.user.id
        assert guild_id is not None
        server = interaction.guild.name if interaction.guild is not None else str(guild_id)
        confirmation = None
        if gallery_name is not None:
            name = interaction.user.display_name  # the name they see themselves by on this server
            shown = await store.profiles.set_gallery_name(guild_id, user_id, gallery_name, name)
            confirmation = gallery_name_text(locale, shown.display_name, server, changed=True)
        standing = await store.hall.standing(guild_id, user_id, time.time() - WEEK_S)
        settings = await store.settings.get_settings(guild_id)
        wins = await store.challenges.challenge_wins(guild_id, user_id)
        profile = await store.profiles.member_profile(guild_id, user_id)

        my_weight = settings.weight_for_roles(role_ids(interaction.user))
        others = [m.weight for m in standing.gpu_by_member if m.user_id != user_id]
        total = standing.guild_gpu_seconds
        used = standing.gpu_seconds_of(user_id)
        share = fair_share(total, my_weight, others)

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
        named = profile.display_name if profile is not None and profile.show_name else None
        gallery = gallery_name_text(locale, named, server)
        if not settings.gallery_public:
            gallery += " " + t(locale, "me.gallery.not_public")
        embed.add_field(name=t(locale, "me.gallery"), value=gallery, inline=False)
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
        await answer(interaction, confirmation, embed=embed)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(MeCog(bot))
