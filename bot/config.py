"""The bot's settings, from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

import discord
import yarl
from discord.gateway import DiscordWebSocket

TOKEN_ENV = "DISCORD_TOKEN"
API_URL_ENV = "VIDEOBOT_DISCORD_API_URL"
GATEWAY_URL_ENV = "VIDEOBOT_DISCORD_GATEWAY_URL"


class ConfigError(ValueError):
    """A setting the operator must fix before the bot can start."""


@dataclass(frozen=True)
class BotConfig:
    token: str
    database_url: str | None = None
    api_url: str | None = None  # Discord's REST base (a REST proxy in production, a local server in tests)
    gateway_url: str | None = None
    status_interval_s: float = 3.0  # a status message is edited at most this often
    delivery_interval_s: float = 1.0  # how often the delivery loop looks for news without a wake-up
    sync_commands: bool = True

    @classmethod
    def from_env(cls) -> BotConfig:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise ConfigError(
                f"set {TOKEN_ENV} to your bot's token (Discord Developer Portal → your application → Bot)"
            )
        return cls(
            token=token,
            database_url=os.environ.get("VIDEOBOT_DATABASE_URL") or None,
            api_url=os.environ.get(API_URL_ENV) or None,
            gateway_url=os.environ.get(GATEWAY_URL_ENV) or None,
        )


def apply_discord_urls(api_url: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another REST base and gateway (it reads both from class attributes)."""
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
