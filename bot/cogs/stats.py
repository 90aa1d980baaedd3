"""/stats: a PNG chart of the last 7 days: each member's share of the GPU against their fair share, and
the queue's waits per day."""

from __future__ import annotations

from discord.ext import commands

from bot.app import VideoBot


class StatsCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(StatsCog(bot))
