"""The hall of fame: a clip that reaches the server's threshold of net 👍 is posted in its channel once,
with a link back, its author and its count, kept current as votes change."""

from __future__ import annotations

from discord.ext import commands

from bot.app import VideoBot


class HallOfFameCog(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(HallOfFameCog(bot))
