"""The gateway websocket: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME, dispatch.

Sharding as Discord documents it: an IDENTIFY may carry ``shard: [shard_id, num_shards]``; that
session gets READY and GUILD_CREATE for the guilds with ``(guild_id >> 22) % num_shards == shard_id``
only, and every event of a guild goes to the session of its shard. Several sessions (one per shard)
are live at once. An invalid pair closes the socket with 4010 "Invalid shard"."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .models import INTENT_GUILD_PRESENCES, INTENT_GUILDS, PRIVILEGED_INTENTS

if TYPE_CHECKING:
    from .server import DiscordFake

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT, REQUEST_MEMBERS = 0, 1, 2, 3, 6, 7, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11


@dataclass
class GatewayConnection:
    """One websocket the client opened: where to, what it asked for, and how it ended."""

    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    compressor: Any = None  # zlib compressobj for compress=zlib-stream
    opcodes: list[int] = field(default_factory=list)  # ops received, in order
    close_code: int | None = None
    closed_by_server: bool = False

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        if self.compressor is not None:
            data = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)


@dataclass
class GatewaySession:
    """A session as Discord keeps it: its sequence and the events sent, so RESUME can replay them."""

    id: str
    token: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    conn: GatewayConnection | None = None
    resumes: int = 0
    shard: tuple[int, int] = (0, 1)  # [shard_id, num_shards] from IDENTIFY; unsharded is shard 0 of 1

    def serves(self, guild_id: str | int) -> bool:
        shard_id, count = self.shard
        return (int(guild_id) >> 22) % count == shard_id


def event_guild(event: str, data: dict[str, Any]) -> str | None:
    """The guild an event belongs to (which shard's session gets it), or None."""
    if event.startswith("GUILD_") and "guild_id" not in data and "id" in data:
        return str(data["id"])  # GUILD_CREATE / UPDATE / DELETE carry the guild itself
    guild_id = data.get("guild_id")
    return None if guild_id is None else str(guild_id)


class Gateway:
    def __init__(self, fake: DiscordFake, heartbeat_interval_ms: int = 41250) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.session: GatewaySession | None = None  # the bot's current session (the last identified)
        self.by_shard: dict[tuple[int, int], GatewaySession] = {}  # the latest session of each shard
        self.ready = asyncio.Event()  # READY and every GUILD_CREATE sent
        self.resumed = asyncio.Event()
        self.presences: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    # -- websocket ---------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        conn = GatewayConnection(path=request.path, query=query, ws=ws)
        if query.get("compress") == "zlib-stream":
            conn.compressor = zlib.compressobj()
        # zstd-stream: no encoder here, so frames go as text, which discord.py reads as well.
        self.connections.append(conn)
        if query.get("encoding", "json") != "json" or query.get("v") not in (None, "10"):
            await ws.close(code=4012 if query.get("v") not in (None, "10") else 4002)
            return ws
        await conn.send(
            {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                conn.opcodes.append(frame.get("op"))
                await self._on_frame(conn, frame)
        finally:
            conn.close_code = ws.close_code
            for session in self.sessions.values():
                if session.conn is conn:
                    session.conn = None
                    if ws.close_code in (1000, 1001) and not conn.closed_by_server:
                        # A clean close by the client ends the session, as on Discord.
                        session.token = ""
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            await self._request_members(conn, data or {})
        elif op == PRESENCE:
            self.presences.append(data or {})
        else:
            self.fake._violate("gateway", f"op {op}", f"unexpected gateway opcode {op}")

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        fake = self.fake
        if data.get("token") != fake.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~fake.privileged_intents_allowed:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        session = GatewaySession(
            id=secrets.token_hex(16),
            token=data["token"],
            intents=intents,
            identify=data,
            shard=(shard[0], shard[1]),
        )
        self.sessions[session.id] = session
        session.conn = conn
        self.session = session
        self.by_shard.pop(session.shard, None)
        self.by_shard[session.shard] = session  # the newest last: it wins over stale sessions
        guilds = [g for g in fake.guilds.values() if session.serves(g.id)]
        self.ready.clear()
        ready = {
            "v": 10,
            "user": fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": g.id, "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": fake.resume_gateway_url,
            "application": {"id": fake.app_id, "flags": fake.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth_session_id_hash": secrets.token_hex(8),
            "_trace": ['["fake-gateway",{}]'],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            # GUILD_CREATE comes with the GUILDS intent; without it the guild stays unavailable.
            if intents & INTENT_GUILDS:
                payload = guild.payload(large_threshold=int(data.get("large_threshold", 250)))
                if not intents & INTENT_GUILD_PRESENCES:
                    # Without GUILD_PRESENCES, Discord sends only the bot itself (and voice members).
                    payload["members"] = [
                        m.payload() for m in guild.members.values() if m.user.id == fake.bot_user.id
                    ]
                await self._send_dispatch(session, "GUILD_CREATE", payload)
        self.ready.set()

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not session.token or data.get("token") != session.token:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session.conn = conn
        session.resumes += 1
        self.session = session
        last = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > last:
                await conn.send(frame)
        await self._send_dispatch(session, "RESUMED", {"_trace": ['["fake-gateway",{}]']})
        self.resumed.set()

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = next((s for s in self.sessions.values() if s.conn is conn), self.session)
        guild = self.fake.guilds.get(str(data.get("guild_id")))
        if session is None or guild is None:
            return
        members = list(guild.members.values())
        if data.get("user_ids"):
            wanted = {str(u) for u in data["user_ids"]}
            members = [m for m in members if m.user.id in wanted]
        elif data.get("query"):
            members = [m for m in members if m.user.username.startswith(str(data["query"]))]
        if data.get("limit"):
            members = members[: int(data["limit"])]
        chunk: dict[str, Any] = {
            "guild_id": guild.id,
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if "nonce" in data:
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatch ----------------------------------------------------------------------------------

    async def _send_dispatch(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        async with self._lock:
            session.seq += 1
            frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.sent.append(frame)
            if session.conn is not None and not session.conn.ws.closed:
                with contextlib.suppress(ConnectionResetError):
                    await session.conn.send(frame)

    def session_for(self, guild_id: str | int | None) -> GatewaySession | None:
        """The session an event of this guild goes to: the newest live one of the guild's shard
        (the current session for an event of no guild)."""
        if guild_id is None:
            return self.session
        for session in reversed(self.by_shard.values()):
            if session.token and session.serves(guild_id):
                return session
        return None

    async def dispatch(self, event: str, data: dict[str, Any], *, intent: int | None = None) -> bool:
        """Send an event to the session of its guild's shard (buffered for RESUME when the socket
        is down)."""
        session = self.session_for(event_guild(event, data))
        if session is None or not session.token:
            return False
        if intent is not None and not session.intents & intent:
            return False
        await self._send_dispatch(session, event, data)
        return True

    async def close_socket(self, code: int = 4000, *, resumable: bool = True) -> None:
        """Close the bot's websocket as Discord does on a fault; the client should RESUME. Not
        resumable: Discord forgot the session (as after 4009 "Session timed out"), so a RESUME is
        answered with op 9 INVALID_SESSION and the client must IDENTIFY again; events sent meanwhile
        are lost with the session."""
        self.resumed.clear()
        if self.session is not None and not resumable:
            self.sessions.pop(self.session.id, None)
        if self.session is not None and self.session.conn is not None:
            self.session.conn.closed_by_server = True
            await self.session.conn.ws.close(code=code)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; the client should reconnect to resume_gateway_url and RESUME."""
        self.resumed.clear()
        if self.session is not None and self.session.conn is not None:
            await self.session.conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        for conn in self.connections:
            if not conn.ws.closed:
                conn.closed_by_server = True
                await conn.ws.close(code=1001)
