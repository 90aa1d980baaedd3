"""The bot's settings, from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import discord
import yarl
from discord.gateway import DiscordWebSocket

from db.store.shards import ShardRange

TOKEN_ENV = "DISCORD_TOKEN"
API_URL_ENV = "VIDEOBOT_DISCORD_API_URL"
GATEWAY_URL_ENV = "VIDEOBOT_DISCORD_GATEWAY_URL"
CDN_URL_ENV = "VIDEOBOT_DISCORD_CDN_URL"
MEDIA_DAYS_ENV = "VIDEOBOT_MEDIA_DAYS"
SHARDS_ENV = "VIDEOBOT_SHARDS"
SHARD_COUNT_ENV = "VIDEOBOT_SHARD_COUNT"


class ConfigError(ValueError):
    """A setting the operator must fix before the bot can start."""


@dataclass(frozen=True)
class BotConfig:
    token: str = field(repr=False)  # a secret: in no repr, no log line, no traceback's locals
    database_url: str | None = field(default=None, repr=False)  # may hold the database's password
    api_url: str | None = None  # Discord's REST base (a REST proxy in production, a local server in tests)
    gateway_url: str | None = None
    cdn_url: str | None = None  # Discord's CDN, where the bot fetches server icons for the web gallery
    status_interval_s: float = 3.0  # a status message is edited at most this often
    delivery_interval_s: float = 1.0  # how often the delivery loop looks for news without a wake-up
    media_days: float = 7.0  # VIDEOBOT_MEDIA_DAYS: clips and pictures kept after posting; 0 = for ever
    retention_interval_s: float = 3600.0  # how often the bot removes older media (bot/cogs/retention.py)
    sync_commands: bool = True  # False: never sync (someone else does); True: when the tree changed
    force_sync: bool = False  # sync at start even when the store says this tree is synced already
    shards: ShardRange | None = None  # the shards this process connects as; None: one process, all guilds

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
            cdn_url=os.environ.get(CDN_URL_ENV) or None,
            media_days=media_days_from_env(),
            shards=parse_shards(os.environ.get(SHARDS_ENV), os.environ.get(SHARD_COUNT_ENV)),
        )


def child_env() -> dict[str, str]:
    """The environment for a program the bot starts (ffmpeg): the bot's own, without its token."""
    return {name: value for name, value in os.environ.items() if name != TOKEN_ENV}


def parse_shards(shards: str | None, count: str | int | None) -> ShardRange | None:
    """``--shards A-B`` (or one shard ``A``) of ``--shard-count N``; None when neither is given. A
    count alone means every shard of it in this one process."""
    shards = (shards or "").strip() or None
    count_text = str(count).strip() if count is not None else ""
    if shards is None and not count_text:
        return None
    if not count_text:
        raise ConfigError(f"--shards {shards} needs --shard-count (or {SHARD_COUNT_ENV}): how many in all")
    try:
        total = int(count_text)
    except ValueError:
        raise ConfigError(f"--shard-count must be a whole number, not {count_text!r}") from None
    if total < 1:
        raise ConfigError(f"--shard-count must be at least 1, not {total}")
    if shards is None:
        return ShardRange(0, total - 1, total)
    first_text, dash, last_text = shards.partition("-")
    try:
        first = int(first_text)
        last = int(last_text) if dash else first
    except ValueError:
        raise ConfigError(f"--shards must be a range like 0-3 or one shard like 2, not {shards!r}") from None
    try:
        return ShardRange(first, last, total)
    except ValueError as exc:
        raise ConfigError(f"--shards {shards}: {exc}") from None


def media_days_from_env() -> float:
    """``VIDEOBOT_MEDIA_DAYS``: days a posted clip's files (and the pictures it started from) are kept;
    7 unless set, 0 keeps them for ever."""
    raw = os.environ.get(MEDIA_DAYS_ENV, "").strip()
    if not raw:
        return 7.0
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not 0 <= days < 100_000:
        raise ConfigError(f"{MEDIA_DAYS_ENV} must be a number of days (0 keeps media for ever), not {raw!r}")
    return days


def apply_discord_urls(api_url: str | None, gateway_url: str | None, cdn_url: str | None = None) -> None:
    """Point discord.py at another REST base, gateway and CDN (it reads them from class attributes)."""
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    if cdn_url:
        discord.Asset.BASE = cdn_url.rstrip("/")
