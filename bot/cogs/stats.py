"""/stats: a PNG chart of the last 7 days: each member's share of the GPU against their fair share, and
the queue's waits per day.

Posted publicly in the channel (a server's figures are the server's business, like /top), in the
language of the member who asked. A member's fair share is /me's: the server's GPU-seconds × their
weight ÷ the sum of the weights of the members who used the GPUs in the period (their latest job's
weight). The ten biggest users get a bar each, everyone else one together. Names are display names
fetched from Discord (no mentions in a picture; "member 1234" when one cannot be fetched, or when
none of it can be drawn: see :func:`bot.charts.drawable_name`). A server with no data yet gets a
sentence instead of an empty chart.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import VideoBot
from bot.charts import ShareBar, WaitDay, drawable_name, stats_png
from bot.cogs.me import fair_share, seconds
from bot.i18n import t
from db.store.halloffame import MemberGpu

Interaction = discord.Interaction[VideoBot]

TOP_MEMBERS = 10


@dataclass(frozen=True)
class ShareRow:
    """GPU-seconds used and fairly due: one member's (``user_ids`` of one), or everyone else's."""

    user_ids: tuple[int, ...]
    used_s: float
    fair_s: float


def share_rows(members: Sequence[MemberGpu], top: int = TOP_MEMBERS) -> list[ShareRow]:
    """The ``top`` biggest users' rows, biggest first, then one row for all the others (if any):
    their GPU-seconds summed, and their fair shares summed."""
    total = sum(m.gpu_seconds for m in members)
    weights = [m.weight for m in members]

    def fair(index: int) -> float:
        return fair_share(total, weights[index], weights[:index] + weights[index + 1 :])

    order = sorted(range(len(members)), key=lambda i: (-members[i].gpu_seconds, members[i].user_id))
    rows = [ShareRow((members[i].user_id,), members[i].gpu_seconds, fair(i)) for i in order[:top]]
    rest = order[top:]
    if rest:
        rows.append(
            ShareRow(
                tuple(members[i].user_id for i in rest),
                sum(members[i].gpu_seconds for i in rest),
                sum(fair(i) for i in rest),
            )
        )
    return rows


def day_label(day: float, locale: str) -> str:
    moment = datetime.fromtimestamp(day, UTC)
    return moment.strftime("%d.%m.") if locale.startswith("de") else moment.strftime("%m-%d")


def chart_bars(rows: Sequence[ShareRow], names: Mapping[int, str], locale: str) -> list[ShareBar]:
    """Rows → labelled bars: a member by display name (or "member 1234" when it is unknown, or has
    nothing the chart's fonts can draw), the rest as "everyone else"."""
    bars = []
    for row in rows:
        if len(row.user_ids) == 1:
            user_id = row.user_ids[0]
            name = drawable_name(names.get(user_id, ""))
            label = name or t(locale, "stats.member", id=str(user_id)[-4:])
        else:
            label = t(locale, "stats.everyone_else", count=len(row.user_ids))
        bars.append(ShareBar(label, row.used_s, row.fair_s))
    return bars


class StatsCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("stats", key="cmd.stats"),
        description=_(
            "A chart of the last 7 days: GPU time per member against the fair share, queue waits",
            key="cmd.stats.desc",
        ),
    )
    @app_commands.guild_only()
    async def stats(self, interaction: Interaction) -> None:
        await interaction.response.defer(thinking=True)  # public: the server's figures, like /top
        locale, guild_id = interaction.locale.value, interaction.guild_id
        assert guild_id is not None
        stats = await self.bot.store.stats.guild_stats(guild_id)
        if stats.empty:
            await interaction.followup.send(t(locale, "stats.empty"))
            return
        rows = share_rows(stats.gpu_by_member)
        names = await display_names(interaction, [r.user_ids[0] for r in rows if len(r.user_ids) == 1])
        bars = chart_bars(rows, names, locale)
        waits = [WaitDay(day_label(d.day, locale), d.p50_s, d.p95_s) for d in stats.waits]
        png = await asyncio.to_thread(stats_png, bars, waits, locale)
        server = interaction.guild.name if interaction.guild is not None else str(guild_id)
        content = t(
            locale,
            "stats.posted",
            server=discord.utils.escape_markdown(server),
            total=seconds(stats.guild_gpu_seconds),
            members=len(stats.gpu_by_member),
            jobs=sum(d.jobs for d in stats.waits),
        )
        chart = discord.File(
            io.BytesIO(png), filename="videobot-stats.png", description=t(locale, "stats.alt")
        )
        await interaction.followup.send(content, file=chart)


async def display_names(interaction: Interaction, user_ids: Sequence[int]) -> dict[int, str]:
    """Members' display names on this server, from the cache or Discord; those that cannot be
    fetched (left the server, Discord away) are missing."""
    guild = interaction.guild
    names: dict[int, str] = {}
    if guild is None:
        return names

    async def one(user_id: int) -> None:
        if user_id == interaction.user.id:
            names[user_id] = interaction.user.display_name
            return
        member = guild.get_member(user_id)
        if member is None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.HTTPException:
                return
        names[user_id] = member.display_name

    await asyncio.gather(*(one(u) for u in user_ids))
    return names


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(StatsCog(bot))
