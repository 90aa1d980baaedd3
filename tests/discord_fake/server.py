"""DiscordFake: a Discord-compatible REST v10 + gateway server on loopback for the real discord.py."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import yarl
from aiohttp import web

from . import limits
from .gateway import Gateway
from .interactions import (
    ACK_DEADLINE_S,
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    TOKEN_LIFETIME_S,
    UPDATE_MESSAGE,
    InteractionHandle,
    InteractionState,
    option_type_for,
)
from .mentions import Ping, pings
from .models import (
    ADMINISTRATOR,
    ATTACH_FILES,
    BOT_PERMISSIONS,
    CATEGORY,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    MEMBER_PERMISSIONS,
    PRIVATE_THREAD,
    PRIVILEGED_INTENTS,
    PUBLIC_THREAD,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    TEXT,
    VIEW_CHANNEL,
    Channel,
    FakeClock,
    Guild,
    Member,
    Role,
    Snowflakes,
    User,
)
from .recording import Fault, RecordedFile, RecordedRequest, Violation
from .spec import DiscordSpec, FieldError, Operation, errors_tree, load_spec

API_PREFIX = "/api/v10"
JSON = "application/json"
RATE_LIMIT = 50
EPHEMERAL, LOADING, HAS_THREAD, IS_COMPONENTS_V2 = 1 << 6, 1 << 7, 1 << 5, 1 << 15

Handler = Callable[[RecordedRequest, Operation], Awaitable[tuple[int, Any]]]


# Discord dedupes a nonce with enforce_nonce for "the past few minutes"
NONCE_WINDOW_S = 5 * 60


class DiscordError(Exception):
    """Answer the request with Discord's error shape: {"message", "code"[, "errors"]}."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: list[FieldError] | None = None,
        violation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or []
        self.violation = violation  # kind of violation to record, None for state errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = errors_tree(self.errors)
        return body


def _not_found(code: int, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


class DiscordFake:
    """A Discord on loopback: REST v10 under /api/v10, the gateway at /gateway-ws, files under /attachments.

    Start with `await fake.start()`, point discord.py at it with `point_discord_py_at(fake.api_url,
    fake.gateway_url)`, and let the bot log in with `fake.token`.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        spec: DiscordSpec | None = None,
        heartbeat_interval_ms: int = 41250,
        privileged_intents_allowed: int = PRIVILEGED_INTENTS,
    ) -> None:
        self.clock = FakeClock()
        self.ids = Snowflakes(self.clock)
        self.spec = spec or load_spec()
        self.token = token or f"fake.{secrets.token_urlsafe(24)}"
        self.privileged_intents_allowed = privileged_intents_allowed
        self.app_id = self.ids.next()
        self.bot_user = User(self.app_id, "videobot", bot=True)
        self.application_flags = (1 << 19) | (
            1 << 23
        )  # GATEWAY_GUILD_MEMBERS_LIMITED, APPLICATION_COMMAND_BADGE
        self.owner = User(self.ids.next(), "owner")
        self.users: dict[str, User] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self.guilds: dict[str, Guild] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, dict[str, Any]] = {}  # current state of every message
        self._nonces: dict[tuple[str, str], tuple[str, float]] = {}  # (channel, nonce) -> (message, when)
        self.message_versions: dict[str, list[dict[str, Any]]] = {}
        self.deleted_messages: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, tuple[str, bytes]] = {}  # attachment id -> (content type, bytes)
        self.cdn_requests: list[str] = []  # the guild icons the bot fetched (path and query)
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.interactions: dict[str, InteractionState] = {}
        self.requests: list[RecordedRequest] = []
        self.edit_requests: dict[str, list[RecordedRequest]] = {}
        self.violations: list[Violation] = []
        self.faults: list[Fault] = []
        self.gateway = Gateway(self, heartbeat_interval_ms)
        # GET /gateway/bot's "shards"; None: Discord's own advice, a shard per 1000 guilds
        self.recommended_shards: int | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.host, self.port = "127.0.0.1", 0
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._register_handlers()
        self.guild = self.add_guild("Videobot Test Server")

    # == lifecycle ==================================================================================

    async def start(self, port: int = 0) -> DiscordFake:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_rest)
        app.router.add_get("/gateway-ws", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._handle_cdn)
        app.router.add_get("/icons/{guild_id}/{filename}", self._handle_icon)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordFake:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for discord.http.Route.BASE / VIDEOBOT_DISCORD_API_URL."""
        return self.base_url + API_PREFIX

    @property
    def cdn_url(self) -> str:
        """Value for discord.Asset.BASE / VIDEOBOT_DISCORD_CDN_URL (guild icons)."""
        return self.base_url

    @property
    def gateway_url(self) -> str:
        """Value for DiscordWebSocket.DEFAULT_GATEWAY / VIDEOBOT_DISCORD_GATEWAY_URL."""
        return f"ws://{self.host}:{self.port}/gateway-ws"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway-resume"

    def env(self) -> dict[str, str]:
        """Environment for a bot process pointed at this fake."""
        return {
            "VIDEOBOT_DISCORD_API_URL": self.api_url,
            "VIDEOBOT_DISCORD_GATEWAY_URL": self.gateway_url,
            "VIDEOBOT_DISCORD_CDN_URL": self.cdn_url,
            "VIDEOBOT_DISCORD_TOKEN": self.token,
        }

    # == the world ==================================================================================

    def add_guild(
        self,
        name: str,
        *,
        premium_tier: int = 0,
        preferred_locale: str = "en-US",
        channels: tuple[str, ...] = ("general", "videos"),
    ) -> Guild:
        """A guild with @everyone, Moderator and Admin roles, the bot, the owner, and text channels."""
        guild = Guild(self.ids.next(), name, self.owner.id, premium_tier, preferred_locale)
        guild.roles[guild.id] = Role(guild.id, "@everyone", MEMBER_PERMISSIONS)
        for position, (role_name, perms) in enumerate(
            [("Moderator", MANAGE_MESSAGES | MANAGE_THREADS), ("Admin", ADMINISTRATOR)], start=1
        ):
            role = Role(self.ids.next(), role_name, perms, position, mentionable=True)
            guild.roles[role.id] = role
        bot_role = Role(self.ids.next(), self.bot_user.username, BOT_PERMISSIONS, 3, managed=True)
        guild.roles[bot_role.id] = bot_role
        self.guilds[guild.id] = guild
        guild.members[self.bot_user.id] = Member(self.bot_user, [bot_role.id], self.clock.iso())
        guild.members[self.owner.id] = Member(self.owner, [], self.clock.iso())
        category = Channel(self.ids.next(), guild.id, "Text Channels", CATEGORY)
        self._store_channel(category)
        for position, channel_name in enumerate(channels):
            self._store_channel(Channel(self.ids.next(), guild.id, channel_name, TEXT, position, category.id))
        return guild

    def _store_channel(self, channel: Channel) -> None:
        channel.created_at = channel.created_at or self.clock.iso()
        self.guilds[channel.guild_id].channels[channel.id] = channel
        self.channels[channel.id] = channel

    def add_channel(
        self, name: str, *, guild: Guild | None = None, nsfw: bool = False, topic: str | None = None
    ) -> Channel:
        """A text channel; announced with CHANNEL_CREATE if the bot is already connected."""
        guild = guild or self.guild
        channel = Channel(self.ids.next(), guild.id, name, TEXT, len(guild.channels), nsfw=nsfw, topic=topic)
        self._store_channel(channel)
        self._spawn(self.gateway.dispatch("CHANNEL_CREATE", channel.payload(), intent=INTENT_GUILDS))
        return channel

    def delete_channel(self, channel: str | Channel) -> None:
        """An admin deletes a channel (with its threads, for which Discord sends no event of their own)
        or a thread: gone from the world, announced with CHANNEL_DELETE or THREAD_DELETE."""
        gone = self.channel(channel)
        for other in [c for c in self.channels.values() if c.id == gone.id or c.parent_id == gone.id]:
            self.channels.pop(other.id, None)
            self.guilds[other.guild_id].channels.pop(other.id, None)
        if gone.is_thread:
            event = {"id": gone.id, "guild_id": gone.guild_id, "parent_id": gone.parent_id, "type": gone.type}
            self._spawn(self.gateway.dispatch("THREAD_DELETE", event, intent=INTENT_GUILDS))
        else:
            self._spawn(self.gateway.dispatch("CHANNEL_DELETE", gone.payload(), intent=INTENT_GUILDS))

    def remove_bot(self, guild: Guild) -> None:
        """The bot is kicked from a server: it and its channels are gone for the bot (GUILD_DELETE without
        ``unavailable``, which is how Discord says so)."""
        self.guilds.pop(guild.id, None)
        for channel_id in [c.id for c in self.channels.values() if c.guild_id == guild.id]:
            self.channels.pop(channel_id)
        self._spawn(self.gateway.dispatch("GUILD_DELETE", {"id": guild.id}, intent=INTENT_GUILDS))

    def invite_bot(self, guild: Guild) -> None:
        """The bot is added to a server again (after :meth:`remove_bot`): GUILD_CREATE with its channels."""
        self.guilds[guild.id] = guild
        for channel in guild.channels.values():
            self.channels[channel.id] = channel
        payload = guild.payload()
        payload.pop("unavailable", None)  # a guild joined, not one back from an outage (Discord's way)
        payload["members"] = [m.payload() for m in guild.members.values() if m.user.id == self.bot_user.id]
        self._spawn(self.gateway.dispatch("GUILD_CREATE", payload, intent=INTENT_GUILDS))

    def add_user(
        self,
        name: str,
        *,
        locale: str = "en-US",
        roles: tuple[str, ...] = (),
        guild: Guild | None = None,
        bot: bool = False,
    ) -> User:
        """A member of the guild (roles by name: "Moderator", "Admin")."""
        guild = guild or self.guild
        user = User(self.ids.next(), name, bot=bot, global_name=name.title(), locale=locale)
        self.users[user.id] = user
        member = Member(user, [guild.role(r).id for r in roles], self.clock.iso())
        guild.members[user.id] = member
        self._spawn(
            self.gateway.dispatch(
                "GUILD_MEMBER_ADD", member.payload() | {"guild_id": guild.id}, intent=1 << 1
            )
        )
        return user

    def update_guild(
        self, guild: Guild | None = None, *, name: str | None = None, icon_png: bytes | None = None
    ) -> Guild:
        """Rename a guild or give it an icon (its hash: the PNG's MD5, as a CDN file name), and tell
        the bot with GUILD_UPDATE, as Discord does when an admin changes them."""
        guild = guild or self.guild
        if name is not None:
            guild.name = name
        if icon_png is not None:
            guild.icon, guild.icon_png = hashlib.md5(icon_png).hexdigest(), icon_png
        self._spawn(self.gateway.dispatch("GUILD_UPDATE", guild.update_payload(), intent=INTENT_GUILDS))
        return guild

    def set_nick(self, user: str | User, nick: str | None, *, guild: Guild | None = None) -> None:
        """A member's server nickname (their display name there); the bot, without the members
        intent, sees it only when it asks for the member."""
        guild = guild or self.guild
        guild.members[self.user(user).id].nick = nick

    def add_role(
        self, name: str, *, permissions: int = 0, guild: Guild | None = None, mentionable: bool = True
    ) -> Role:
        guild = guild or self.guild
        role = Role(self.ids.next(), name, permissions, len(guild.roles), mentionable=mentionable)
        guild.roles[role.id] = role
        self._spawn(
            self.gateway.dispatch(
                "GUILD_ROLE_CREATE", {"guild_id": guild.id, "role": role.payload()}, intent=INTENT_GUILDS
            )
        )
        return role

    def channel(self, name_or_id: str | Channel) -> Channel:
        if isinstance(name_or_id, Channel):
            return name_or_id
        if name_or_id in self.channels:
            return self.channels[name_or_id]
        for channel in self.channels.values():
            if channel.name == name_or_id:
                return channel
        raise KeyError(f"no channel {name_or_id!r}")

    def user(self, name_or_id: str | User) -> User:
        if isinstance(name_or_id, User):
            return name_or_id
        if name_or_id in self.users:
            return self.users[name_or_id]
        for user in self.users.values():
            if user.username == name_or_id:
                return user
        raise KeyError(f"no user {name_or_id!r}")

    def _guild_of(self, channel: Channel) -> Guild:
        return self.guilds[channel.guild_id]

    def upload_limit(self, channel: Channel) -> int:
        return self._guild_of(channel).upload_limit

    def _spawn(self, coro: Awaitable[Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()  # type: ignore[attr-defined]
            return
        task: asyncio.Task[Any] = loop.create_task(coro)  # type: ignore[arg-type]
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # == test controls ==============================================================================

    def fail_next(
        self,
        method: str,
        template: str,
        status: int = 429,
        *,
        times: int = 1,
        retry_after: float = 0.05,
        scope: str = "user",
        is_global: bool = False,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next `times` calls of a route (spec template, e.g. "/channels/{channel_id}/messages")
        with `status`: 429 with retry_after + rate-limit headers, or a 5xx."""
        self.faults.append(
            Fault(method.upper(), template, status, times, retry_after, scope, is_global, body)
        )

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds; it is checked after every request the fake handles."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Wait until the bot identified and got READY and every GUILD_CREATE."""
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    async def drop_gateway(self, code: int = 4000, *, resumable: bool = True) -> None:
        """Close the bot's websocket (as Discord does on errors); the client should RESUME, or, when
        the session is not ``resumable``, be refused (op 9) and IDENTIFY anew."""
        await self.gateway.close_socket(code, resumable=resumable)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT."""
        await self.gateway.send_reconnect()

    async def wait_resumed(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.gateway.resumed.wait(), timeout)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send any gateway event to the bot."""
        await self.gateway.dispatch(event, data)

    # -- violations ---------------------------------------------------------------------------------

    def _violate(self, kind: str, route: str, detail: str, errors: list[FieldError] | None = None) -> None:
        self.violations.append(Violation(kind, route, detail, tuple(errors or ())))

    def assert_no_violations(self) -> None:
        if self.violations:
            listing = "\n".join(str(v) for v in self.violations)
            raise AssertionError(f"the bot did {len(self.violations)} thing(s) Discord refuses:\n{listing}")

    def take_violations(self, kind: str | None = None) -> list[Violation]:
        """Remove and return the violations (of one kind), for tests that provoke them on purpose."""
        taken = [v for v in self.violations if kind is None or v.kind == kind]
        self.violations = [v for v in self.violations if v not in taken]
        return taken

    # == queries ====================================================================================

    def requests_to(self, method: str, template: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.template == template]

    def messages_in(self, channel: str | Channel, *, include_ephemeral: bool = False) -> list[dict[str, Any]]:
        """Messages now in a channel or thread, oldest first."""
        channel_id = self.channel(channel).id
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel_id and (include_ephemeral or not m["flags"] & EPHEMERAL)
        ]

    def message(self, message_id: str | int) -> dict[str, Any]:
        return self.messages[str(message_id)]

    def edits_of(self, message_id: str | int) -> list[RecordedRequest]:
        """Requests that edited this message, in order: PATCH with the bot token, PATCH through the
        interaction webhook, an UPDATE_MESSAGE callback, or a followup filling a deferred reply."""
        return list(self.edit_requests.get(str(message_id), []))

    def threads(self, parent: str | Channel | None = None) -> list[Channel]:
        parent_id = self.channel(parent).id if parent is not None else None
        return [
            c
            for c in self.channels.values()
            if c.is_thread and (parent_id is None or c.parent_id == parent_id)
        ]

    def thread_of(self, message_id: str | int) -> Channel | None:
        """The thread started from a message (its id is the message's id, as on Discord)."""
        channel = self.channels.get(str(message_id))
        return channel if channel is not None and channel.is_thread else None

    def interaction_responses(self) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.template == "/interactions/{interaction_id}/{interaction_token}/callback"
        ]

    def ack_latencies(self) -> list[float]:
        """Seconds from INTERACTION_CREATE sent to callback received, for every acknowledged interaction."""
        return [s.ack_latency for s in self.interactions.values() if s.ack_latency is not None]

    def ack_latency_percentiles(self, *quantiles: float) -> dict[float, float]:
        """Ack latency at the given quantiles (default p50 and p99), nearest-rank, in seconds."""
        values = sorted(self.ack_latencies())
        if not values:
            return {}
        wanted = quantiles or (0.5, 0.99)
        return {q: values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))] for q in wanted}

    def pings(self, *, include_edits: bool = True) -> list[tuple[RecordedRequest, Ping]]:
        """Every notification the bot's successful requests caused (edits count unless told otherwise:
        a mention added by an edit still highlights the message for its target)."""
        return [
            (r, p)
            for r in self.requests
            if 200 <= r.status < 300 and (include_edits or r.method != "PATCH")
            for p in r.pings
        ]

    def pinged_anyone(self, *, include_edits: bool = True) -> bool:
        return bool(self.pings(include_edits=include_edits))

    def registered_commands(self, guild: Guild | str | None = None) -> list[dict[str, Any]]:
        key = guild.id if isinstance(guild, Guild) else guild
        return self.commands.get(key, [])

    def command_names(self, guild: Guild | str | None = None, locale: str | None = None) -> list[str]:
        return [
            c.get("name_localizations", {}).get(locale, c["name"]) if locale else c["name"]
            for c in self.registered_commands(guild)
        ]

    # == REST plumbing ==============================================================================

    def _json_response(
        self, status: int, body: Any, template: str | None, extra_headers: dict[str, str] | None = None
    ) -> web.Response:
        headers = self._rate_limit_headers(template)
        headers.update(extra_headers or {})
        if status == 204 or body is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        headers["Content-Type"] = JSON
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    def _rate_limit_headers(self, template: str | None) -> dict[str, str]:
        bucket = secrets.token_hex(4) if template is None else format(abs(hash(template)) % (1 << 64), "016x")
        now = self.clock.time()
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(RATE_LIMIT - 1),
            "X-RateLimit-Reset": f"{now + 1.0:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": bucket,
        }

    async def _handle_cdn(self, request: web.Request) -> web.StreamResponse:
        found = self.attachments.get(request.match_info["attachment_id"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        content_type, data = found
        return web.Response(body=data, headers={"Content-Type": content_type})

    async def _handle_icon(self, request: web.Request) -> web.StreamResponse:
        """A guild's icon, as Discord's CDN serves it: /icons/<guild>/<hash>.png?size=N."""
        self.cdn_requests.append(request.path_qs)
        guild = self.guilds.get(request.match_info["guild_id"])
        name = request.match_info["filename"]
        if guild is None or guild.icon is None or guild.icon_png is None or name != f"{guild.icon}.png":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=guild.icon_png, headers={"Content-Type": "image/png"})

    async def _read_body(self, request: web.Request, record_path: str) -> tuple[Any, list[RecordedFile], str]:
        content_type = request.content_type
        if content_type == "multipart/form-data":
            form = await request.post()
            payload: Any = None
            files: list[RecordedFile] = []
            for name, value in form.items():
                if name == "payload_json":
                    raw = value.file.read() if isinstance(value, web.FileField) else value
                    payload = json.loads(raw)
                elif isinstance(value, web.FileField):
                    files.append(RecordedFile(name, value.filename, value.content_type, value.file.read()))
            return payload, files, content_type
        raw = await request.read()
        if not raw:
            return None, [], content_type
        if content_type != JSON:
            return raw.decode(errors="replace"), [], content_type
        return json.loads(raw), [], content_type

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        op = self.spec.find_operation(request.method, path)
        body, files, content_type = await self._read_body(request, path)
        record = RecordedRequest(
            seq=len(self.requests),
            method=request.method,
            path=path,
            template=op.template if op else None,
            params=op.params if op else {},
            query=dict(request.query),
            json=body,
            files=files,
            at=self.clock.monotonic(),
        )
        self.requests.append(record)
        try:
            return await self._answer(request, record, op, content_type)
        finally:
            await self._notify()

    async def _answer(
        self, request: web.Request, record: RecordedRequest, op: Operation | None, content_type: str
    ) -> web.Response:
        if op is None:
            self._violate("unknown_route", f"{record.method} {record.path}", "no such route in Discord's API")
            record.status, record.response = 404, {"message": "404: Not Found", "code": 0}
            return self._json_response(404, record.response, None)
        fault = self._take_fault(record.method, op.template)
        if fault is not None:
            return self._fault_response(record, fault)
        handler = self._handlers.get((record.method, op.template))
        try:
            if handler is None:
                self._violate("unimplemented", record.route, "the fake does not implement this route")
                raise DiscordError(404, 0, "404: Not Found")
            self._check_auth(request, op)
            if self.spec.has_body(op) or record.json is not None:
                self._validate(record, op, content_type)
            status, response = await handler(record, op)
        except DiscordError as exc:
            if exc.violation:
                self._violate(exc.violation, record.route, exc.message, exc.errors)
            record.status, record.response = exc.status, exc.body()
            return self._json_response(exc.status, record.response, op.template)
        record.status, record.response = status, response
        return self._json_response(status, response, op.template)

    def _take_fault(self, method: str, template: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.template == template and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _fault_response(self, record: RecordedRequest, fault: Fault) -> web.Response:
        record.injected = True
        record.status = fault.status
        if fault.status == 429:
            record.response = fault.body or {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
            }
            headers = {
                "Retry-After": str(max(1, math.ceil(fault.retry_after))),
                "X-RateLimit-Scope": fault.scope,
                "Via": "1.1 google",  # discord.py treats a 429 without Via as a Cloudflare ban
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            response = self._json_response(429, record.response, record.template, headers)
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["X-RateLimit-Reset-After"] = f"{fault.retry_after:.3f}"
            return response
        record.response = fault.body or {"message": f"{fault.status}: Server Error", "code": 0}
        return self._json_response(fault.status, record.response, record.template)

    def _check_auth(self, request: web.Request, op: Operation) -> None:
        if "{webhook_token}" in op.template or "{interaction_token}" in op.template:
            return  # authorised by the token in the path
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized", violation="auth")

    def _validate(self, record: RecordedRequest, op: Operation, content_type: str) -> None:
        body = record.json
        spec_type = "multipart/form-data" if content_type == "multipart/form-data" else content_type
        if spec_type == "multipart/form-data" and body is None and record.files:
            body = {}
        errors = self.spec.validate_body(op, body, spec_type)
        kind = "spec"
        if not errors and isinstance(body, dict):
            kind = "limit"
            if op.template.startswith("/interactions/"):
                errors = limits.check_interaction_callback(body)
            elif record.method in ("POST", "PATCH") and (
                "/messages" in op.template or op.template.startswith("/webhooks/")
            ):
                errors = limits.check_message_body(body)
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", errors, violation=kind)

    # == handlers ===================================================================================

    def _register_handlers(self) -> None:
        h = self._handlers
        h["GET", "/users/@me"] = self._get_me
        h["GET", "/oauth2/applications/@me"] = self._get_app
        h["GET", "/applications/@me"] = self._get_app
        h["GET", "/gateway"] = self._get_gateway
        h["GET", "/gateway/bot"] = self._get_gateway_bot
        for template in (
            "/applications/{application_id}/commands",
            "/applications/{application_id}/guilds/{guild_id}/commands",
        ):
            h["GET", template] = self._get_commands
            h["PUT", template] = self._put_commands
            h["POST", template] = self._post_command
        h["POST", "/interactions/{interaction_id}/{interaction_token}/callback"] = self._interaction_callback
        h["POST", "/webhooks/{webhook_id}/{webhook_token}"] = self._webhook_execute
        for template in (
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        ):
            h["GET", template] = self._webhook_message
            h["PATCH", template] = self._webhook_message
            h["DELETE", template] = self._webhook_message
        h["GET", "/channels/{channel_id}"] = self._get_channel
        h["PATCH", "/channels/{channel_id}"] = self._patch_channel
        h["GET", "/channels/{channel_id}/messages"] = self._get_messages
        h["POST", "/channels/{channel_id}/messages"] = self._post_message
        h["GET", "/channels/{channel_id}/messages/{message_id}"] = self._get_message
        h["PATCH", "/channels/{channel_id}/messages/{message_id}"] = self._patch_message
        h["DELETE", "/channels/{channel_id}/messages/{message_id}"] = self._delete_message
        h["POST", "/channels/{channel_id}/messages/{message_id}/threads"] = self._thread_from_message
        h["POST", "/channels/{channel_id}/threads"] = self._thread_without_message
        h["PUT", "/channels/{channel_id}/thread-members/@me"] = self._no_content
        h["POST", "/channels/{channel_id}/typing"] = self._no_content
        h["GET", "/guilds/{guild_id}"] = self._get_guild
        h["GET", "/guilds/{guild_id}/channels"] = self._get_guild_channels
        h["GET", "/guilds/{guild_id}/members/{user_id}"] = self._get_member
        h["GET", "/guilds/{guild_id}/roles"] = self._get_roles
        h["PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"] = self._add_member_role
        h["GET", "/users/{user_id}"] = self._get_user

    async def _no_content(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        self._channel_or_404(op.params["channel_id"])
        return 204, None

    async def _get_me(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        return 200, self.bot_user.payload() | {
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
        }

    async def _get_user(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        user = self.users.get(op.params["user_id"])
        if user is None:
            raise _not_found(10013, "User")
        return 200, user.payload()

    async def _get_app(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        return 200, {
            "id": self.app_id,
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "is_monetized": False,
            "is_verified": False,
            "is_discoverable": False,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": self.application_flags,
            "owner": self.owner.payload(),
            "team": None,
            "bot": self.bot_user.payload(),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "flags_new": str(self.application_flags),
            "explicit_content_filter": 0,
            "eligible_oauth2_scopes": ["bot", "applications.commands"],
            "approximate_user_authorization_count": 0,
            "tags": [],
            "event_webhooks_url": None,
            "event_webhooks_status": 1,
            "event_webhooks_types": [],
        }

    async def _get_gateway(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url,
            "shards": self.recommended_shards or max(1, -(-len(self.guilds) // 1000)),
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    # -- application commands -----------------------------------------------------------------------

    def _commands_key(self, op: Operation) -> str | None:
        if op.params["application_id"] != self.app_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = op.params.get("guild_id")
        if guild_id is not None and guild_id not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return guild_id

    def _command_payload(
        self, body: dict[str, Any], guild_id: str | None, existing: dict[tuple[str, int], dict[str, Any]]
    ) -> dict[str, Any]:
        kind = int(body.get("type") or 1)
        previous = existing.get((body["name"], kind))
        command = {
            "id": previous["id"] if previous else self.ids.next(),
            "application_id": self.app_id,
            "version": self.ids.next(),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations") or {},
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations") or {},
            "options": copy.deepcopy(body.get("options") or []),
            "default_member_permissions": (
                None
                if body.get("default_member_permissions") is None
                else str(body["default_member_permissions"])
            ),
            "nsfw": bool(body.get("nsfw")),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "dm_permission": body.get("dm_permission", True),
        }
        if guild_id is not None:
            command["guild_id"] = guild_id
        return command

    def _check_commands(self, commands: list[dict[str, Any]]) -> None:
        seen: set[tuple[str, int]] = set()
        errors = []
        for i, cmd in enumerate(commands):
            key = (cmd["name"], int(cmd.get("type") or 1))
            if key in seen:
                errors.append(
                    FieldError(
                        (i, "name"),
                        "APPLICATION_COMMANDS_DUPLICATE_NAME",
                        f"Application command names must be unique ({cmd['name']})",
                    )
                )
            seen.add(key)
            if key[1] == 1 and not cmd.get("description"):
                errors.append(FieldError((i, "description"), "BASE_TYPE_REQUIRED", "This field is required"))
            if key[1] == 1 and (cmd["name"] != cmd["name"].lower() or " " in cmd["name"]):
                errors.append(
                    FieldError((i, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
                )
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", errors, violation="limit")

    async def _get_commands(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        return 200, self.commands.get(self._commands_key(op), [])

    async def _put_commands(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        key = self._commands_key(op)
        body = record.json or []
        self._check_commands(body)
        existing = {(c["name"], c["type"]): c for c in self.commands.get(key, [])}
        self.commands[key] = [self._command_payload(c, key, existing) for c in body]
        return 200, self.commands[key]

    async def _post_command(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        key = self._commands_key(op)
        current = self.commands.setdefault(key, [])
        existing = {(c["name"], c["type"]): c for c in current}
        command = self._command_payload(record.json, key, existing)
        self.commands[key] = [c for c in current if c["id"] != command["id"]] + [command]
        return (200 if command["id"] in {c["id"] for c in current} else 201), command

    # -- channels, threads, guilds ------------------------------------------------------------------

    def _channel_or_404(self, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _not_found(10003, "Channel")
        return channel

    async def _get_channel(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        return 200, self._channel_or_404(op.params["channel_id"]).payload()

    async def _patch_channel(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        channel = self._channel_or_404(op.params["channel_id"])
        body = record.json or {}
        for key in (
            "name",
            "topic",
            "nsfw",
            "rate_limit_per_user",
            "archived",
            "locked",
            "auto_archive_duration",
        ):
            if key in body and body[key] is not None:
                setattr(channel, key, body[key])
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        await self.gateway.dispatch(event, channel.payload(), intent=INTENT_GUILDS)
        return 200, channel.payload()

    async def _get_guild(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        guild = self.guilds.get(op.params["guild_id"])
        if guild is None:
            raise _not_found(10004, "Guild")
        payload = guild.payload()
        for key in (
            "members",
            "channels",
            "threads",
            "voice_states",
            "presences",
            "large",
            "member_count",
            "joined_at",
            "unavailable",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
        ):
            payload.pop(key, None)
        return 200, payload

    async def _get_guild_channels(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        guild = self.guilds.get(op.params["guild_id"])
        if guild is None:
            raise _not_found(10004, "Guild")
        return 200, [c.payload() for c in guild.channels.values() if not c.is_thread]

    async def _get_member(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        guild = self.guilds.get(op.params["guild_id"])
        member = guild.members.get(op.params["user_id"]) if guild else None
        if member is None:
            raise _not_found(10007, "Member")
        return 200, member.payload()

    async def _get_roles(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        guild = self.guilds.get(op.params["guild_id"])
        if guild is None:
            raise _not_found(10004, "Guild")
        return 200, [r.payload() for r in guild.roles.values()]

    async def _add_member_role(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        """Give a member a role: the bot needs Manage Roles and a role above it (403 50013 else)."""
        guild = self.guilds.get(op.params["guild_id"])
        if guild is None:
            raise _not_found(10004, "Guild")
        member = guild.members.get(op.params["user_id"])
        if member is None:
            raise _not_found(10007, "Member")
        role = guild.roles.get(op.params["role_id"])
        if role is None:
            raise _not_found(10011, "Role")
        manage_roles = 1 << 28
        bot_member = guild.members[self.bot_user.id]
        top = max((guild.roles[r].position for r in bot_member.roles), default=0)
        if not guild.permissions_of(self.bot_user.id) & manage_roles or role.position >= top:
            raise DiscordError(403, 50013, "Missing Permissions")
        if role.id not in member.roles:
            member.roles.append(role.id)
            await self.gateway.dispatch(
                "GUILD_MEMBER_UPDATE", member.payload() | {"guild_id": guild.id}, intent=1 << 1
            )
        return 204, None

    async def _create_thread(
        self, parent: Channel, name: str, kind: int, auto_archive: int | None, thread_id: str | None = None
    ) -> Channel:
        thread = Channel(
            thread_id or self.ids.next(),
            parent.guild_id,
            name,
            kind,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=auto_archive or 1440,
        )
        self._store_channel(thread)
        await self.gateway.dispatch(
            "THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=INTENT_GUILDS
        )
        return thread

    async def _thread_from_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        parent = self._channel_or_404(op.params["channel_id"])
        message = self._message_or_404(parent, op.params["message_id"])
        if parent.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type", violation="invalid")
        if message["id"] in self.channels:
            raise DiscordError(
                400, 160004, "A thread has already been created for this message", violation="invalid"
            )
        body = record.json or {}
        thread = await self._create_thread(
            parent, body["name"], PUBLIC_THREAD, body.get("auto_archive_duration"), thread_id=message["id"]
        )
        message["thread"] = thread.payload()
        message["flags"] |= HAS_THREAD
        self._snapshot(message)
        return 201, thread.payload()

    async def _thread_without_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        parent = self._channel_or_404(op.params["channel_id"])
        body = record.json or {}
        kind = int(body.get("type") or PRIVATE_THREAD)
        thread = await self._create_thread(parent, body["name"], kind, body.get("auto_archive_duration"))
        return 201, thread.payload()

    # -- messages -----------------------------------------------------------------------------------

    def _message_or_404(self, channel: Channel, message_id: str) -> dict[str, Any]:
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel.id:
            raise _not_found(10008, "Message")
        return message

    async def _get_messages(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        channel = self._channel_or_404(op.params["channel_id"])
        limit = int(record.query.get("limit", 50))
        found = [
            m
            for m in self.messages_in(channel)
            if ("before" not in record.query or int(m["id"]) < int(record.query["before"]))
            and ("after" not in record.query or int(m["id"]) > int(record.query["after"]))
        ]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        return 200, found[:limit]

    async def _get_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        channel = self._channel_or_404(op.params["channel_id"])
        return 200, self._message_or_404(channel, op.params["message_id"])

    async def _post_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        channel = self._channel_or_404(op.params["channel_id"])
        if channel.type == CATEGORY:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel", violation="invalid")
        if channel.is_thread and channel.locked:
            raise DiscordError(403, 50083, "Thread is archived", violation="invalid")
        body = record.json or {}
        self._check_may_post(channel, record, body)
        if channel.is_thread and channel.archived:
            channel.archived = False  # sending a message unarchives a thread
        repeat = self._nonce_repeat(channel, body)
        if repeat is not None:  # Discord returns the first message instead of creating another
            return 200, repeat
        message = self._build_message(channel, record, body)
        if "nonce" in body:
            message["nonce"] = body["nonce"]
            self._nonces[(channel.id, str(body["nonce"]))] = (message["id"], self.clock.time())
        await self._publish(message)
        return 200, message

    def _check_may_post(self, channel: Channel, record: RecordedRequest, body: dict[str, Any]) -> None:
        """Discord refuses a message the bot may not send there: 403 50001 without View Channel,
        50013 without Send Messages (Send Messages in Threads in a thread) or, with files, Attach Files."""
        perms = self._guild_of(channel).permissions_in(channel, self.bot_user.id)
        if not perms & VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        send = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        if not perms & send or (record.files and not perms & ATTACH_FILES):
            raise DiscordError(403, 50013, "Missing Permissions")

    def set_permissions(
        self, channel: str | Channel, target: str | User | Role, *, allow: int = 0, deny: int = 0
    ) -> Channel:
        """An admin sets a channel's permission overwrite for a member or role (allow and deny both 0
        removes it), and the bot hears CHANNEL_UPDATE, as from Discord."""
        channel = self.channel(channel)
        if isinstance(target, Role):
            target_id, kind = target.id, 0
        else:
            target_id, kind = self.user(target).id, 1
        kept = [o for o in channel.permission_overwrites if o["id"] != target_id]
        if allow or deny:
            kept.append({"id": target_id, "type": kind, "allow": str(allow), "deny": str(deny)})
        channel.permission_overwrites = kept
        self._spawn(self.gateway.dispatch("CHANNEL_UPDATE", channel.payload(), intent=INTENT_GUILDS))
        return channel

    async def add_thread(
        self, name: str, parent: str | Channel = "general", *, owner: str | User = "owner"
    ) -> Channel:
        """A public thread a member started in ``parent`` (announced with THREAD_CREATE)."""
        parent = self.channel(parent)
        thread = await self._create_thread(parent, name, PUBLIC_THREAD, None)
        thread.owner_id = self.user(owner).id
        return thread

    def _nonce_repeat(self, channel: Channel, body: dict[str, Any]) -> dict[str, Any] | None:
        """With `enforce_nonce`, a message with a nonce the same author used in the last few minutes
        in this channel is not created again: Discord answers with the earlier message."""
        if not body.get("enforce_nonce") or "nonce" not in body:
            return None
        seen = self._nonces.get((channel.id, str(body["nonce"])))
        if seen is None or self.clock.time() - seen[1] > NONCE_WINDOW_S:
            return None
        return self.messages.get(seen[0])

    async def _patch_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        channel = self._channel_or_404(op.params["channel_id"])
        message = self._message_or_404(channel, op.params["message_id"])
        if message["author"]["id"] != self.bot_user.id:
            raise DiscordError(
                403, 50005, "Cannot edit a message authored by another user", violation="invalid"
            )
        if message["flags"] & EPHEMERAL:
            raise _not_found(10008, "Message")  # ephemeral messages are only reachable through the webhook
        await self._edit_message(message, record, record.json or {})
        return 200, message

    async def _delete_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        channel = self._channel_or_404(op.params["channel_id"])
        message = self._message_or_404(channel, op.params["message_id"])
        await self._remove_message(message)
        return 204, None

    # -- building messages --------------------------------------------------------------------------

    def _attachments(
        self, channel: Channel, record: RecordedRequest, body: dict[str, Any], keep: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        limit = self.upload_limit(channel)
        for f in record.files:
            if f.size > limit:
                raise DiscordError(413, 40005, "Request entity too large", violation="upload_too_large")
        meta = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = list(keep)
        for index, f in enumerate(record.files):
            field_index = f.field.removeprefix("files[").removesuffix("]")
            info = meta.get(field_index, meta.get(str(index), {}))
            filename = info.get("filename") or f.filename
            attachment_id = self.ids.next()
            content_type = f.content_type or "application/octet-stream"
            if content_type == "application/octet-stream":
                content_type = _guess_type(filename)
            self.attachments[attachment_id] = (content_type, f.data)
            url = f"{self.base_url}/attachments/{channel.id}/{attachment_id}/{filename}"
            attachment: dict[str, Any] = {
                "id": attachment_id,
                "filename": filename,
                "size": f.size,
                "url": url,
                "proxy_url": url,
                "content_type": content_type,
                "content_scan_version": 0,
                "placeholder_version": 1,
            }
            if info.get("description"):
                attachment["description"] = info["description"]
            if body.get("flags", 0) and int(body["flags"]) & EPHEMERAL:
                attachment["ephemeral"] = True
            if content_type.startswith(("image/", "video/")):
                attachment.update({"width": 0, "height": 0})
            out.append(attachment)
        return out

    def _render_embeds(
        self, embeds: list[dict[str, Any]], attachments: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        by_name = {a["filename"]: a for a in attachments}
        out = []
        for embed in embeds:
            embed = copy.deepcopy(embed)
            embed.setdefault("type", "rich")
            for key in ("image", "thumbnail"):
                media = embed.get(key)
                if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                    found = by_name.get(media["url"].removeprefix("attachment://"))
                    if found is not None:
                        media.update(url=found["url"], proxy_url=found["url"], width=0, height=0)
            out.append(embed)
        return out

    def _render_components(self, components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        counter = iter(range(1, 10_000))

        def assign(comp: dict[str, Any]) -> dict[str, Any]:
            comp = dict(comp)
            comp["id"] = comp.get("id") or next(counter)
            for key in ("components",):
                if isinstance(comp.get(key), list):
                    comp[key] = [assign(c) for c in comp[key]]
            for key in ("accessory", "component"):
                if isinstance(comp.get(key), dict):
                    comp[key] = assign(comp[key])
            return comp

        return [assign(c) for c in components]

    def _mentions(
        self, message: dict[str, Any], body: dict[str, Any], record: RecordedRequest, channel: Channel
    ) -> None:
        replied_to = None
        reference = message.get("referenced_message")
        if reference:
            replied_to = reference["author"]["id"]
        found = pings(
            message["content"], body.get("allowed_mentions", self._default_allowed(body)), replied_to
        )
        record.pings.extend(found)
        guild = self._guild_of(channel)
        message["mentions"] = [
            self.users[p.target].payload() for p in found if p.kind == "user" and p.target in self.users
        ]
        message["mention_roles"] = [p.target for p in found if p.kind == "role" and p.target in guild.roles]
        message["mention_everyone"] = any(p.kind in ("everyone", "here") for p in found)

    @staticmethod
    def _default_allowed(body: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def _build_message(
        self,
        channel: Channel,
        record: RecordedRequest,
        body: dict[str, Any],
        *,
        interaction: InteractionState | None = None,
        flags: int = 0,
        webhook: bool = False,
    ) -> dict[str, Any]:
        flags |= int(body.get("flags") or 0)
        if not interaction:
            flags &= ~EPHEMERAL  # only interaction responses can be ephemeral
        attachments = self._attachments(channel, record, body, [])
        if not (
            body.get("content")
            or body.get("embeds")
            or attachments
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
            or flags & LOADING
        ):
            raise DiscordError(400, 50006, "Cannot send an empty message", violation="invalid")
        message: dict[str, Any] = {
            "type": 0,
            "content": body.get("content") or "",
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": self._render_embeds(body.get("embeds") or [], attachments),
            "timestamp": self.clock.iso(),
            "edited_timestamp": None,
            "flags": flags,
            "components": self._render_components(body.get("components") or []),
            "id": self.ids.next(),
            "channel_id": channel.id,
            "author": self.bot_user.payload(),
            "pinned": False,
            "mention_everyone": False,
            "tts": bool(body.get("tts")),
        }
        if channel.is_thread:
            channel.message_count += 1
            message["position"] = channel.message_count
        reference = body.get("message_reference")
        if reference:
            ref_id = str(reference.get("message_id"))
            referenced = self.messages.get(ref_id)
            if referenced is None and reference.get("fail_if_not_exists", True):
                raise DiscordError(
                    400,
                    50035,
                    "Invalid Form Body",
                    [FieldError(("message_reference",), "REPLIES_UNKNOWN_MESSAGE", "Unknown message")],
                    violation="invalid",
                )
            if referenced is not None:
                message["type"] = 19
                message["message_reference"] = {
                    "type": 0,
                    "message_id": ref_id,
                    "channel_id": referenced["channel_id"],
                    "guild_id": channel.guild_id,
                }
                message["referenced_message"] = referenced
        if interaction is not None:
            message["webhook_id"] = self.app_id
            message["application_id"] = self.app_id
            message["type"] = (
                20 if interaction.type == APPLICATION_COMMAND and not webhook else message["type"]
            )
            metadata = self._interaction_metadata(interaction, channel)
            if webhook and interaction.original_message_id:
                metadata["original_response_message_id"] = interaction.original_message_id
            message["interaction_metadata"] = metadata
        self._mentions(message, body, record, channel)
        self.messages[message["id"]] = message
        self._snapshot(message)
        channel.last_message_id = message["id"]
        return message

    def _interaction_metadata(self, interaction: InteractionState, channel: Channel) -> dict[str, Any]:
        user = self.users[interaction.user_id]
        metadata: dict[str, Any] = {
            "id": interaction.id,
            "type": interaction.type,
            "user": user.payload(),
            "authorizing_integration_owners": {"0": channel.guild_id},
        }
        if interaction.type == APPLICATION_COMMAND:
            metadata["name"] = (interaction.payload.get("data") or {}).get("name")
            metadata["command_type"] = 1
        if interaction.source_message_id:
            metadata["interacted_message_id"] = interaction.source_message_id
        if interaction.triggered_by is not None:
            metadata["triggering_interaction_metadata"] = self._interaction_metadata(
                interaction.triggered_by, channel
            )
        return metadata

    def _snapshot(self, message: dict[str, Any]) -> None:
        self.message_versions.setdefault(message["id"], []).append(copy.deepcopy(message))

    async def _publish(self, message: dict[str, Any]) -> None:
        if message["flags"] & EPHEMERAL:
            return
        channel = self.channels[message["channel_id"]]
        event = message | {
            "guild_id": channel.guild_id,
            "member": self._guild_of(channel).members[self.bot_user.id].payload(with_user=False),
        }
        await self.gateway.dispatch("MESSAGE_CREATE", event, intent=INTENT_GUILD_MESSAGES)

    async def _edit_message(
        self, message: dict[str, Any], record: RecordedRequest, body: dict[str, Any]
    ) -> None:
        channel = self.channels[message["channel_id"]]
        if "attachments" in body and body["attachments"] is not None:
            keep_ids = {str(a.get("id")) for a in body["attachments"]}
            keep = [a for a in message["attachments"] if a["id"] in keep_ids]
        else:
            keep = list(message["attachments"])
        message["attachments"] = self._attachments(channel, record, body, keep)
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = self._render_embeds(body["embeds"] or [], message["attachments"])
        if "components" in body:
            message["components"] = self._render_components(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep_flags = message["flags"] & (EPHEMERAL | HAS_THREAD)
            message["flags"] = keep_flags | (int(body["flags"]) & ~EPHEMERAL)
        message["flags"] &= ~LOADING
        if not (message["content"] or message["embeds"] or message["attachments"] or message["components"]):
            raise DiscordError(400, 50006, "Cannot send an empty message", violation="invalid")
        message["edited_timestamp"] = self.clock.iso()
        self._mentions(message, body, record, channel)
        self._snapshot(message)
        self.edit_requests.setdefault(message["id"], []).append(record)
        if not message["flags"] & EPHEMERAL:
            event = message | {"guild_id": channel.guild_id}
            await self.gateway.dispatch("MESSAGE_UPDATE", event, intent=INTENT_GUILD_MESSAGES)

    async def delete_message(self, message_id: str | int) -> None:
        """A member or moderator deletes a message in Discord's own client."""
        await self._remove_message(self.messages[str(message_id)])

    async def _remove_message(self, message: dict[str, Any]) -> None:
        self.messages.pop(message["id"], None)
        self.deleted_messages[message["id"]] = message
        channel = self.channels[message["channel_id"]]
        if not message["flags"] & EPHEMERAL:
            await self.gateway.dispatch(
                "MESSAGE_DELETE",
                {"id": message["id"], "channel_id": channel.id, "guild_id": channel.guild_id},
                intent=INTENT_GUILD_MESSAGES,
            )

    # -- interactions: callback and webhooks --------------------------------------------------------

    async def _interaction_callback(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        state = self.interactions.get(op.params["interaction_id"])
        if state is None or state.token != op.params["interaction_token"]:
            raise DiscordError(404, 10062, "Unknown interaction", violation="invalid")
        if state.callback_type is not None:
            raise DiscordError(
                400, 40060, "Interaction has already been acknowledged.", violation="double_ack"
            )
        assert state.dispatched_at is not None
        waited = self.clock.monotonic() - state.dispatched_at
        if waited > ACK_DEADLINE_S:
            # Discord forgets an interaction not acknowledged within 3 seconds.
            raise DiscordError(404, 10062, "Unknown interaction", violation="late_ack")
        body = record.json or {}
        kind = int(body["type"])
        if kind not in ALLOWED_CALLBACKS.get(state.type, set()) or (
            kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and state.source_message_id is None
        ):
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                [
                    FieldError(
                        ("type",),
                        "INTERACTION_RESPONSE_TYPE_INVALID",
                        f"Interaction response type {kind} is invalid for interaction type {state.type}",
                    )
                ],
                violation="invalid",
            )
        channel = self.channels[state.channel_id]
        data = body.get("data") or {}
        resource: dict[str, Any] | None = None
        if kind == CHANNEL_MESSAGE:
            message = self._build_message(channel, record, data, interaction=state)
            state.original_message_id = message["id"]
            await self._publish(message)
            resource = {"type": kind, "message": message}
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._build_message(channel, record, {}, interaction=state, flags=flags)
            state.original_message_id = message["id"]
            await self._publish(message)
            # Discord's resource carries a message only for types 4 and 7.
        elif kind == DEFERRED_UPDATE_MESSAGE:
            state.original_message_id = state.source_message_id
        elif kind == UPDATE_MESSAGE:
            state.original_message_id = state.source_message_id
            assert state.source_message_id is not None
            source = self.messages.get(state.source_message_id)
            if source is None:
                raise _not_found(10008, "Message")
            message = source
            await self._edit_message(message, record, data)
            resource = {"type": kind, "message": message}
        state.callback_type = kind
        state.callback_body = body
        if state.dispatched_perf is not None:
            state.ack_latency = time.perf_counter() - state.dispatched_perf
        state.acked.set()
        original = self.messages.get(state.original_message_id or "")
        response: dict[str, Any] = {"interaction": {"id": state.id, "type": state.type}}
        if original is not None and kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE):
            response["interaction"].update(
                response_message_id=original["id"],
                response_message_loading=bool(original["flags"] & LOADING),
                response_message_ephemeral=bool(original["flags"] & EPHEMERAL),
            )
        if resource is not None:
            response["resource"] = resource
        if record.query.get("with_response", "").lower() in ("1", "true"):
            return 200, response
        return 204, None

    def _interaction_for_webhook(self, op: Operation) -> InteractionState:
        if op.params["webhook_id"] != self.app_id:
            raise _not_found(10015, "Webhook")
        token = op.params["webhook_token"]
        state = next((s for s in self.interactions.values() if s.token == token), None)
        if state is None or state.callback_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook", violation="invalid")
        assert state.dispatched_at is not None
        if self.clock.monotonic() - state.dispatched_at > TOKEN_LIFETIME_S:
            raise DiscordError(401, 50027, "Invalid Webhook Token", violation="expired_token")
        if state.callback_type in (AUTOCOMPLETE_RESULT, MODAL):
            raise DiscordError(404, 10015, "Unknown Webhook", violation="invalid")
        return state

    async def _webhook_execute(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        state = self._interaction_for_webhook(op)
        channel = self.channels[state.channel_id]
        thread_id = record.query.get("thread_id")
        if thread_id:
            channel = self._channel_or_404(thread_id)
        body = record.json or {}
        original = self.messages.get(state.original_message_id or "")
        if (
            state.callback_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original["flags"] & LOADING
        ):
            # The first followup after a deferral fills in the 'thinking…' message.
            await self._edit_message(original, record, body)
            message = original
        else:
            message = self._build_message(channel, record, body, interaction=state, webhook=True)
            state.followup_ids.append(message["id"])
            await self._publish(message)
        if record.query.get("wait", "").lower() in ("1", "true"):
            return 200, message
        return 204, None

    async def _webhook_message(self, record: RecordedRequest, op: Operation) -> tuple[int, Any]:
        state = self._interaction_for_webhook(op)
        message_id = op.params.get("message_id") or state.original_message_id
        message = self.messages.get(message_id or "")
        owned = {state.original_message_id, *state.followup_ids}
        if message is None or message_id not in owned:
            raise _not_found(10008, "Message")
        if record.method == "GET":
            return 200, message
        if record.method == "DELETE":
            await self._remove_message(message)
            return 204, None
        await self._edit_message(message, record, record.json or {})
        return 200, message

    # == sending interactions =======================================================================

    def _member_payload(self, guild: Guild, user: User, channel: Channel) -> dict[str, Any]:
        member = guild.members.get(user.id)
        if member is None:
            raise KeyError(f"{user.username} is not a member of {guild.name}")
        return member.payload(permissions=guild.permissions_of(user.id))

    async def send_interaction(
        self,
        type_: int,
        data: dict[str, Any] | None = None,
        *,
        user: str | User = "owner",
        channel: str | Channel = "general",
        locale: str | None = None,
        message: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        triggered_by: InteractionState | None = None,
    ) -> InteractionHandle:
        """Send an INTERACTION_CREATE with everything Discord puts in it; the low-level form of
        `slash_command`, `autocomplete`, `click` and `submit_modal`."""
        user = self.user(user)
        channel = self.channel(channel)
        guild = self._guild_of(channel)
        interaction_id = self.ids.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(120)
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": self.app_id,
            "type": type_,
            "token": token,
            "version": 1,
            "guild_id": guild.id,
            "guild": {"id": guild.id, "locale": guild.preferred_locale, "features": []},
            "channel_id": channel.id,
            "channel": channel.payload() | {"permissions": str(guild.permissions_in(channel, user.id))},
            "member": self._member_payload(guild, user, channel),
            "locale": locale or user.locale,
            "guild_locale": guild.preferred_locale,
            "app_permissions": str(guild.permissions_in(channel, self.bot_user.id)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": guild.id},
            "context": 0,
            "attachment_size_limit": self.upload_limit(channel),
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        payload.update(extra or {})
        state = InteractionState(
            interaction_id,
            token,
            type_,
            payload,
            channel.id,
            guild.id,
            user.id,
            source_message_id=message["id"] if message else None,
            triggered_by=triggered_by,
        )
        self.interactions[interaction_id] = state
        state.mark_dispatched(self.clock.monotonic())
        sent = await self.gateway.dispatch("INTERACTION_CREATE", payload)
        if not sent:
            raise RuntimeError("the bot has no gateway session; await fake.wait_until_ready() first")
        return InteractionHandle(self, state)

    def _find_command(self, name: str, locale: str | None) -> tuple[dict[str, Any], list[str]]:
        """The registered command and sub-command path for "video" or "settings channels add"."""
        words = name.split()
        candidates = [c for key in (None, *self.guilds) for c in self.commands.get(key, []) if c["type"] == 1]
        for command in candidates:
            names = {command["name"], *command.get("name_localizations", {}).values()}
            if words[0] in names:
                return command, words[1:]
        raise LookupError(
            f"/{words[0]} is not registered (sync the command tree first); "
            f"registered: {sorted(c['name'] for c in candidates)}"
        )

    def _option_value(
        self,
        option: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        guild: Guild,
        channel: Channel,
    ) -> Any:
        kind = option["type"]
        if kind in (6, 9) and (
            isinstance(value, User)
            or (isinstance(value, str) and value in self.users)
            or (kind == 6 and isinstance(value, str))
        ):
            user = self.user(value)
            resolved.setdefault("users", {})[user.id] = user.payload()
            if user.id in guild.members:
                member = guild.members[user.id].payload(
                    with_user=False, permissions=guild.permissions_of(user.id)
                )
                resolved.setdefault("members", {})[user.id] = member
            return user.id
        if kind in (8, 9):
            role = value if isinstance(value, Role) else guild.role(str(value))
            resolved.setdefault("roles", {})[role.id] = role.payload()
            return role.id
        if kind == 7:
            target = self.channel(value)
            resolved.setdefault("channels", {})[target.id] = target.payload() | {
                "permissions": str(guild.permissions_in(target, self.bot_user.id))
            }
            return target.id
        if kind == 11:
            filename, data = value if isinstance(value, tuple) else ("upload.bin", value)
            attachment_id = self.ids.next()
            content_type = _guess_type(filename)
            self.attachments[attachment_id] = (content_type, data)
            url = f"{self.base_url}/attachments/{channel.id}/{attachment_id}/{filename}"
            resolved.setdefault("attachments", {})[attachment_id] = {
                "id": attachment_id,
                "filename": filename,
                "size": len(data),
                "url": url,
                "proxy_url": url,
                "content_type": content_type,
                "ephemeral": True,
            }
            return attachment_id
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not a choice of option {option['name']!r}")
        return value

    def _build_options(
        self,
        declared: list[dict[str, Any]],
        given: dict[str, Any],
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        guild: Guild,
        channel: Channel,
        locale: str | None,
    ) -> list[dict[str, Any]]:
        by_name: dict[str, dict[str, Any]] = {}
        for each in declared:
            by_name[each["name"]] = each
            for local in (each.get("name_localizations") or {}).values():
                by_name.setdefault(local, each)
        out = []
        for name, value in given.items():
            option = by_name.get(name)
            if option is None:
                raise ValueError(f"no option {name!r}; declared: {[o['name'] for o in declared]}")
            item: dict[str, Any] = {"name": option["name"], "type": option["type"]}
            if focused == option["name"] or focused == name:
                item["value"] = value
                item["focused"] = True
            else:
                item["value"] = self._option_value(option, value, resolved, guild, channel)
            out.append(item)
        if focused is None:
            missing = [
                o["name"] for o in declared if o.get("required") and o["name"] not in {i["name"] for i in out}
            ]
            if missing:
                raise ValueError(f"required option(s) missing: {missing}")
        return out

    def _command_data(
        self,
        name: str,
        options: dict[str, Any] | None,
        channel: Channel,
        locale: str | None,
        focused: str | None = None,
    ) -> dict[str, Any]:
        guild = self._guild_of(channel)
        resolved: dict[str, dict[str, Any]] = {}
        command, path = self._find_command(name, locale)
        declared = command.get("options") or []
        wrappers: list[dict[str, Any]] = []
        for word in path:
            sub = next(
                (
                    o
                    for o in declared
                    if o["type"] in (1, 2)
                    and word in {o["name"], *(o.get("name_localizations") or {}).values()}
                ),
                None,
            )
            if sub is None:
                raise LookupError(f"/{command['name']} has no sub-command {word!r}")
            wrappers.append({"name": sub["name"], "type": sub["type"]})
            declared = sub.get("options") or []
        leaf = self._build_options(declared, options or {}, focused, resolved, guild, channel, locale)
        nested: list[dict[str, Any]] = leaf
        for wrapper in reversed(wrappers):
            wrapper["options"] = nested
            nested = [wrapper]
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1, "options": nested}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: str | User = "owner",
        channel: str | Channel = "general",
        locale: str | None = None,
        require_registered: bool = True,
    ) -> InteractionHandle:
        """A member runs /name (sub-commands as "group sub") with `options`, by the registered
        command's declared option types (user/channel/role by name or object, attachment as
        (filename, bytes)); localized names in `locale` work too."""
        ch = self.channel(channel)
        user_obj = self.user(user)
        loc = locale or user_obj.locale
        if require_registered:
            data = self._command_data(name, options, ch, loc)
        else:
            data = {
                "id": self.ids.next(),
                "name": name,
                "type": 1,
                "options": [
                    {"name": k, "type": option_type_for(v), "value": v} for k, v in (options or {}).items()
                ],
            }
        return await self.send_interaction(APPLICATION_COMMAND, data, user=user_obj, channel=ch, locale=loc)

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: str | User = "owner",
        channel: str | Channel = "general",
        locale: str | None = None,
    ) -> InteractionHandle:
        """A member is typing option `focused` of /name; the bot should answer with choices."""
        ch = self.channel(channel)
        user_obj = self.user(user)
        loc = locale or user_obj.locale
        data = self._command_data(name, options, ch, loc, focused=focused)
        return await self.send_interaction(AUTOCOMPLETE, data, user=user_obj, channel=ch, locale=loc)

    @staticmethod
    def find_component(message: dict[str, Any], custom_id: str) -> dict[str, Any] | None:
        def walk(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for comp in components:
                yield comp
                yield from walk(comp.get("components") or [])
                for key in ("accessory", "component"):
                    if isinstance(comp.get(key), dict):
                        yield from walk([comp[key]])

        return next(
            (c for c in walk(message.get("components") or []) if c.get("custom_id") == custom_id), None
        )

    async def click(
        self,
        message: dict[str, Any] | str | int,
        custom_id: str,
        *,
        user: str | User = "owner",
        values: list[str] | None = None,
        locale: str | None = None,
    ) -> InteractionHandle:
        """A member clicks the button (or picks `values` in the select) `custom_id` on a message."""
        msg = self.messages[str(message["id"] if isinstance(message, dict) else message)]
        component = self.find_component(msg, custom_id)
        if component is None:
            raise LookupError(f"message {msg['id']} has no component {custom_id!r}")
        if component.get("disabled"):
            raise LookupError(f"component {custom_id!r} is disabled; nobody can click it")
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "component_type": component["type"],
            "id": component["id"],
        }
        if component["type"] != 2:
            data["values"] = list(values or [])
        return await self.send_interaction(
            MESSAGE_COMPONENT, data, user=user, channel=msg["channel_id"], locale=locale, message=msg
        )

    async def submit_modal(
        self, opened_by: InteractionHandle, values: dict[str, str], *, user: str | User | None = None
    ) -> InteractionHandle:
        """A member fills in and submits the modal the bot opened in answer to `opened_by`."""
        modal = opened_by.modal
        if modal is None:
            raise LookupError("the bot did not answer that interaction with a modal")

        def fill(comp: dict[str, Any]) -> dict[str, Any]:
            if comp.get("type") == 4:
                value = values.get(comp["custom_id"], comp.get("value") or "")
                if comp.get("required", True) and not value:
                    raise ValueError(f"text input {comp['custom_id']!r} is required")
                return {"type": 4, "id": comp.get("id", 0), "custom_id": comp["custom_id"], "value": value}
            if comp.get("type") == 1:
                return {
                    "type": 1,
                    "id": comp.get("id", 0),
                    "components": [fill(c) for c in comp["components"]],
                }
            if comp.get("type") == 18:
                return {"type": 18, "id": comp.get("id", 0), "component": fill(comp["component"])}
            return {"type": comp.get("type"), "id": comp.get("id", 0)}

        components = [fill(dict(c, id=c.get("id") or i + 1)) for i, c in enumerate(modal["components"])]
        data = {"custom_id": modal["custom_id"], "components": components}
        state = opened_by.state
        source = self.messages.get(state.source_message_id or "")
        return await self.send_interaction(
            MODAL_SUBMIT,
            data,
            user=user or state.user_id,
            channel=state.channel_id,
            locale=state.payload.get("locale"),
            message=source,
            triggered_by=state,
        )


def _guess_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def point_discord_py_at(api_url: str, gateway_url: str, cdn_url: str | None = None) -> Callable[[], None]:
    """Point discord.py's REST base, gateway and CDN at another Discord; returns a function that
    undoes it.

    Production code does the same from VIDEOBOT_DISCORD_API_URL / VIDEOBOT_DISCORD_GATEWAY_URL /
    VIDEOBOT_DISCORD_CDN_URL, before the client's first request.
    """
    import discord.asset
    import discord.gateway
    import discord.http

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    old_cdn = discord.asset.Asset.BASE
    discord.http.Route.BASE = api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    if cdn_url is not None:
        discord.asset.Asset.BASE = cdn_url.rstrip("/")

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
        discord.asset.Asset.BASE = old_cdn

    return restore


@contextlib.contextmanager
def discord_py_pointed_at(fake: DiscordFake) -> Iterator[None]:
    restore = point_discord_py_at(fake.api_url, fake.gateway_url, fake.cdn_url)
    try:
        yield
    finally:
        restore()
