"""A story told together: scene by scene, each the winner of a round of proposals, rendered as an extend of
the scene before."""

from __future__ import annotations

from discord.ext import commands

from bot.app import VideoBot


class StoryCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(StoryCog(bot))
