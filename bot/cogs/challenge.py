"""Challenges: a moderator sets a theme and a deadline; clips made in the challenge's thread are its
entries; at the end the results are posted and the winner gets the server's role."""

from __future__ import annotations

from discord.ext import commands

from bot.app import VideoBot


class ChallengeCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(ChallengeCog(bot))
