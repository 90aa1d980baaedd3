"""The fake's world: clock, snowflakes, users, guilds, channels, and how the API shapes them."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
MiB = 1024 * 1024

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | ADD_REACTIONS
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_MESSAGES | MANAGE_THREADS

# Gateway intents the fake honours when dispatching
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Upload limit per boost tier (bytes); 10 MiB for unboosted servers since 2024.
UPLOAD_LIMIT_BY_TIER = {0: 10 * MiB, 1: 10 * MiB, 2: 50 * MiB, 3: 100 * MiB}


class FakeClock:
    """Real time plus an offset the test can advance, so deadlines pass without waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset

    def iso(self) -> str:
        return dt.datetime.fromtimestamp(self.time(), dt.UTC).isoformat()


class Snowflakes:
    """Timestamp snowflakes, increasing, as Discord makes them (discord.py reads their time)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._counter = itertools.count()
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            ms = int(self.clock.time() * 1000) - DISCORD_EPOCH_MS
            value = (ms << 22) | (1 << 17) | (next(self._counter) % 4096)
            value = max(value, self._last + 1)
            self._last = value
            return str(value)


@dataclass
class User:
    id: str
    username: str
    bot: bool = False
    global_name: str | None = None
    locale: str = "en-US"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: str
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    managed: bool = False
    color: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": None,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass
class Member:
    user: User
    roles: list[str] = field(default_factory=list)
    joined_at: str = ""
    nick: str | None = None
    flags: int = 0

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": list(self.roles),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": self.flags,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


TEXT, CATEGORY, PUBLIC_THREAD, PRIVATE_THREAD = 0, 4, 11, 12


@dataclass
class Channel:
    id: str
    guild_id: str
    name: str
    type: int = TEXT
    position: int = 0
    parent_id: str | None = None
    nsfw: bool = False
    topic: str | None = None
    rate_limit_per_user: int = 0
    owner_id: str | None = None  # threads
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    created_at: str = ""
    last_message_id: str | None = None
    message_count: int = 0
    # Discord's permission overwrites ({"id", "type": 0 role | 1 member, "allow", "deny"}); a thread has
    # none of its own and follows its parent channel's
    permission_overwrites: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD, 10)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "guild_id": self.guild_id,
            "name": self.name,
            "parent_id": self.parent_id,
            "nsfw": self.nsfw,
            "flags": 0,
            "rate_limit_per_user": self.rate_limit_per_user,
        }
        if self.is_thread:
            data.update(
                {
                    "owner_id": self.owner_id,
                    "last_message_id": self.last_message_id,
                    "message_count": self.message_count,
                    "member_count": 1,
                    "total_message_sent": self.message_count,
                    "thread_metadata": {
                        "archived": self.archived,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": self.created_at,
                        "locked": self.locked,
                        "create_timestamp": self.created_at,
                    },
                    "applied_tags": [],
                }
            )
        else:
            overwrites = [dict(o) for o in self.permission_overwrites]
            data.update({"position": self.position, "permission_overwrites": overwrites})
            if self.type == TEXT:
                data.update(
                    {
                        "topic": self.topic,
                        "last_message_id": self.last_message_id,
                        "default_auto_archive_duration": 1440,
                        "default_thread_rate_limit_per_user": 0,
                    }
                )
        return data


@dataclass
class Guild:
    id: str
    name: str
    owner_id: str
    premium_tier: int = 0
    preferred_locale: str = "en-US"
    roles: dict[str, Role] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)  # threads included
    members: dict[str, Member] = field(default_factory=dict)
    upload_limit_bytes: int | None = None  # a test's own limit (Discord lowered it); else by boost tier
    icon: str | None = None  # the icon's hash (its CDN file name), None without an icon
    icon_png: bytes | None = None  # what the CDN serves for it

    @property
    def upload_limit(self) -> int:
        if self.upload_limit_bytes is not None:
            return self.upload_limit_bytes
        return UPLOAD_LIMIT_BY_TIER[self.premium_tier]

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def permissions_of(self, user_id: str) -> int:
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        perms = self.everyone.permissions
        for role_id in member.roles if member else []:
            perms |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def permissions_in(self, channel: Channel, user_id: str) -> int:
        """A member's permissions in a channel, as Discord computes them: the server's, then the
        channel's overwrites for @everyone, for the member's roles (denies, then allows), and for the
        member; a thread's are its parent channel's. An administrator (or the owner) has all."""
        perms = self.permissions_of(user_id)
        if perms == ALL_PERMISSIONS:
            return perms
        source = self.channels.get(channel.parent_id or "") if channel.is_thread else channel
        overwrites = {o["id"]: o for o in (source.permission_overwrites if source else [])}
        everyone = overwrites.get(self.id)
        if everyone is not None:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        member = self.members.get(user_id)
        allow = deny = 0
        for role_id in member.roles if member else []:
            if role_id in overwrites:
                allow |= int(overwrites[role_id]["allow"])
                deny |= int(overwrites[role_id]["deny"])
        perms = (perms & ~deny) | allow
        own = overwrites.get(user_id)
        if own is not None:
            perms = (perms & ~int(own["deny"])) | int(own["allow"])
        return perms

    def role(self, name: str) -> Role:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role {name!r} in guild {self.name!r}")

    def update_payload(self) -> dict[str, Any]:
        """GUILD_UPDATE's payload: the guild without what only GUILD_CREATE carries."""
        only_at_create = {"joined_at", "large", "unavailable", "member_count", "voice_states", "members"}
        only_at_create |= {"channels", "threads", "presences", "stage_instances", "guild_scheduled_events"}
        return {k: v for k, v in self.payload().items() if k not in only_at_create | {"soundboard_sounds"}}

    def payload(self, *, large_threshold: int = 250) -> dict[str, Any]:
        """GUILD_CREATE's payload: the guild with its channels, threads, roles and members."""
        channels = [c.payload() for c in self.channels.values() if not c.is_thread]
        threads = [c.payload() for c in self.channels.values() if c.is_thread and not c.archived]
        return {
            "id": self.id,
            "name": self.name,
            "icon": self.icon,
            "splash": None,
            "discovery_splash": None,
            "owner_id": self.owner_id,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "features": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "joined_at": next(iter(self.members.values())).joined_at if self.members else None,
            "large": len(self.members) > large_threshold,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "members": [m.payload() for m in self.members.values()],
            "channels": channels,
            "threads": threads,
        }
