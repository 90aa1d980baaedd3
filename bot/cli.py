"""``videobot bot``: the Discord half alone (scale-out: many bots, workers elsewhere)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.app import VideoBot
from bot.config import BotConfig, ConfigError, apply_discord_urls
from db.presets import PresetError

log = logging.getLogger(__name__)


async def serve(config: BotConfig) -> None:
    apply_discord_urls(config.api_url, config.gateway_url)
    bot = VideoBot(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(config.token)


def run_bot(args: argparse.Namespace) -> int:
    try:
        config = BotConfig.from_env()
        if getattr(args, "database", None):
            config = BotConfig(**{**config.__dict__, "database_url": args.database})
        asyncio.run(serve(config))
    except (ConfigError, PresetError) as exc:
        print(f"videobot bot: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # discord.LoginFailure and friends: say it in one line
        if type(exc).__name__ == "LoginFailure":
            print("videobot bot: error: Discord refused the token (check DISCORD_TOKEN)", file=sys.stderr)
            return 2
        raise
    return 0
