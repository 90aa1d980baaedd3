"""``videobot bot``: the Discord half alone (scale-out: many bots, workers elsewhere)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

import aiohttp
import discord

from bot.config import (
    SHARD_COUNT_ENV,
    SHARDS_ENV,
    TOKEN_ENV,
    BotConfig,
    ConfigError,
    apply_discord_urls,
    parse_shards,
)
from db.credentials import CredentialsError
from db.presets import PresetError

log = logging.getLogger(__name__)


async def serve(config: BotConfig, metrics_at: tuple[str, int] | None = None) -> None:
    from bot.app import make_bot  # here, after run_bot took the token out of the environment

    apply_discord_urls(config.api_url, config.gateway_url, config.cdn_url)
    bot = make_bot(config)
    server = None
    if metrics_at is not None:  # /metrics and /healthz (--metrics-port), before the bot logs in
        from bot.metrics import serve_bot_metrics

        try:
            server = await serve_bot_metrics(bot, *metrics_at)
        except OSError as exc:
            raise ConfigError(f"--metrics-port {metrics_at[1]}: {exc.strerror or exc}") from exc
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(config.token)
    finally:
        if server is not None:
            await server.stop()


def run_bot(args: argparse.Namespace) -> int:
    try:
        config = BotConfig.from_env()
        # the config holds the token now: no program this process starts (ffmpeg, matplotlib's
        # fc-list) inherits it
        os.environ.pop(TOKEN_ENV, None)
        if getattr(args, "database", None):
            config = BotConfig(**{**config.__dict__, "database_url": args.database})
        shards, count = getattr(args, "shards", None), getattr(args, "shard_count", None)
        if shards is not None or count is not None:  # the flags win over VIDEOBOT_SHARDS/_SHARD_COUNT
            env = os.environ
            config = BotConfig(
                **{
                    **config.__dict__,
                    "shards": parse_shards(
                        shards if shards is not None else env.get(SHARDS_ENV),
                        count if count is not None else env.get(SHARD_COUNT_ENV),
                    ),
                }
            )
        if getattr(args, "sync_commands", False):
            config = BotConfig(**{**config.__dict__, "force_sync": True})
        if config.shards is not None:
            log.info("connecting as shards %s", config.shards)
        port = getattr(args, "metrics_port", None)
        asyncio.run(serve(config, None if port is None else (args.metrics_host, port)))
    except (ConfigError, PresetError, CredentialsError) as exc:
        print(f"videobot bot: error: {exc}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("videobot bot: error: Discord refused the token (check DISCORD_TOKEN)", file=sys.stderr)
        return 2
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound) as exc:  # DNS, firewall, proxy, TLS
        print(f"videobot bot: error: {unreachable(exc)}", file=sys.stderr)
        return 1
    return 0


def unreachable(exc: BaseException) -> str:
    """One line for a Discord this machine cannot reach: where, why, what to check."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"cannot reach Discord at {discord.http.Route.BASE} ({reason}); check the network, DNS, a firewall "
        "or a proxy"
    )
