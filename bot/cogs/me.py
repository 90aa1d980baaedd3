"""/me: your clips, the votes they got, your wins, and your GPU time this week against your fair share."""

from __future__ import annotations

from discord.ext import commands

from bot.app import VideoBot


class MeCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(MeCog(bot))
