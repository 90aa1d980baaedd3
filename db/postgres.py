"""PostgreSQL backend (asyncpg): scale-out, many bot shards and GPU hosts on one database.

Claims lock the fair clock row (claims take turns, so fairness tags stay exact) and pick their job
with ``FOR UPDATE SKIP LOCKED`` (never waiting on a row a cancel or heartbeat holds); a claim is one
call of the ``videobot_claim`` function (migrations V10, V12) on its own, so the clock row is held
for the microseconds the function runs, not across round trips. ``LISTEN/NOTIFY`` wakes workers on
enqueue and the bot on progress and endings. A dedicated connection listens, only to the channels
this process has waited on (workers do not hear the bot's wake-ups, two per job), and listens again
when the server drops it (a restart, a failover, an idle-connection reaper). Until it listens again
nobody hears a NOTIFY, so waits are cut to a short poll meanwhile: a job queued the moment the
server is back is not left waiting for the reconnect's back-off. An outage is logged once (lost,
then back), not once per try; the pool keeps no connection floor, so asyncpg does not log a
traceback for each of its own reconnect tries either (the next query connects).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from db.store.connector import (
    EVENTS,
    WORK,
    Connector,
    Migration,
    MigrationTransaction,
    Transaction,
    load_queries,
)
from db.waiting import wait_event

log = logging.getLogger(__name__)

RELISTEN_FIRST_PAUSE_S = 0.2
RELISTEN_MAX_PAUSE_S = 10.0
DEAF_POLL_S = 0.5  # while nobody listens for NOTIFY, a wait lasts at most this long: look again

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_MIGRATION_LOCK = 0x76696465  # any constant shared by every process that migrates this database


def compile_query(sql: str) -> tuple[str, list[str]]:
    """``:name`` placeholders → ``$n`` (the same name reuses its number); the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAM.sub(number, sql), names


def _rowcount(status: str) -> int:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset when a connection comes back: asyncpg has rolled back an open transaction
    already, and the pool's connections change no session state (no SET, LISTEN or session advisory
    lock: the listener has a connection of its own), so its default reset (RESET ALL, UNLISTEN * …)
    would be one more statement per query for nothing: a heartbeat or claim is one round trip."""


class _PostgresTransaction(Transaction):
    def __init__(self, conn: asyncpg.Connection, queries: dict[str, tuple[str, list[str]]]) -> None:
        self._conn = conn
        self._queries = queries

    def _args(self, query: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
        sql, names = self._queries[query]
        return sql, [
            list(v) if isinstance(v, tuple | set | frozenset) else v for v in (params[n] for n in names)
        ]

    async def execute(self, query: str, **params: Any) -> int:
        sql, args = self._args(query, params)
        return _rowcount(await self._conn.execute(sql, *args))

    async def fetch_all(self, query: str, **params: Any) -> list[dict[str, Any]]:
        sql, args = self._args(query, params)
        return [dict(row) for row in await self._conn.fetch(sql, *args)]

    async def notify(self, channel: str, payload: str = "") -> None:
        await self.execute("notify", channel=channel, payload=payload)


class _PostgresMigrationTransaction(MigrationTransaction):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, **params: Any) -> None:
        compiled, names = compile_query(sql)
        await self._conn.execute(compiled, *(params[n] for n in names))

    async def fetch_all(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        compiled, names = compile_query(sql)
        return [dict(row) for row in await self._conn.fetch(compiled, *(params[n] for n in names))]

    async def apply(self, migration: Migration) -> None:
        await self._conn.execute(migration.sql)  # no parameters: the simple protocol runs every statement


class PostgresConnector(Connector):
    dialect = "postgresql"

    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self.dsn = dsn
        self._pool = pool
        self._listener: asyncpg.Connection | None = None
        self._relistening: asyncio.Task[None] | None = None
        self._relisten_pause = RELISTEN_FIRST_PAUSE_S
        self._listening_since = 0.0
        self._closing = False
        self._queries = {name: compile_query(sql) for name, sql in load_queries(self.dialect).items()}
        self._events = {WORK: asyncio.Event(), EVENTS: asyncio.Event()}
        # the channels somebody here has waited on: only those are listened to (a worker never hears
        # the bot's progress wake-ups, which are two per job, times every worker)
        self._wanted: set[str] = set()
        self._subscribing = asyncio.Lock()

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 0, max_size: int = 10) -> PostgresConnector:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session)
        connector = cls(dsn, pool)
        try:
            await connector._listen()
        except BaseException:
            await pool.close()
            raise
        return connector

    async def _listen(self) -> None:
        listener = await asyncpg.connect(self.dsn)
        try:
            for channel in sorted(self._wanted):
                await listener.add_listener(channel, self._on_notify)
        except BaseException:
            listener.terminate()
            raise
        listener.add_termination_listener(self._on_listener_lost)
        self._listener = listener
        self._listening_since = time.monotonic()

    def _on_notify(self, conn: object, pid: int, channel: str, payload: object) -> None:
        event = self._events.get(channel)
        if event is not None:
            event.set()

    def _on_listener_lost(self, conn: object) -> None:
        if self._closing:
            return
        log.warning("the PostgreSQL connection that listens for wake-ups was lost; reconnecting")
        self._listener = None
        # a connection that is dropped again right away (a server refusing LISTEN) backs off further
        short_lived = time.monotonic() - self._listening_since < RELISTEN_MAX_PAUSE_S
        self._relisten_pause = (
            min(self._relisten_pause * 2, RELISTEN_MAX_PAUSE_S) if short_lived else RELISTEN_FIRST_PAUSE_S
        )
        self._relistening = asyncio.get_running_loop().create_task(self._relisten(self._relisten_pause))
        for event in self._events.values():  # waiters look now, then poll until it listens again
            event.set()

    async def _relisten(self, pause: float) -> None:
        lost_at, tries = time.monotonic(), 0
        while not self._closing:
            await asyncio.sleep(pause)
            try:
                await self._listen()
            except Exception as exc:  # down, a standby during failover, refused: keep trying
                pause = min(pause * 2, RELISTEN_MAX_PAUSE_S)
                tries += 1
                # the first failed try says why; the others would say it again every few seconds
                log.log(
                    logging.WARNING if tries == 1 else logging.DEBUG,
                    "listening again failed (%s); trying again every %.0f s at most",
                    exc,
                    RELISTEN_MAX_PAUSE_S,
                )
                continue
            log.warning("listening for wake-ups again after %.1f s", time.monotonic() - lost_at)
            for event in self._events.values():  # what was notified meanwhile is lost: look again
                event.set()
            return

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as conn, conn.transaction(readonly=not write):
            yield _PostgresTransaction(conn, self._queries)

    async def write_one(self, query: str, *, notify: str | None = None, **params: Any) -> int:
        async with self._pool.acquire() as conn:
            tx = _PostgresTransaction(conn, self._queries)
            if notify is None:
                return await tx.execute(query, **params)  # autocommit: the statement on its own
            async with conn.transaction():  # the wake-up commits with the change, or neither does
                changed = await tx.execute(query, **params)
                if changed:
                    await tx.notify(notify)
        return changed

    async def write_fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        async with self._pool.acquire() as conn:  # autocommit: the statement is its own transaction
            return await _PostgresTransaction(conn, self._queries).fetch_all(query, **params)

    async def _subscribe(self, channel: str) -> bool:
        """Listen to ``channel`` from now on; False when this connector already did. A NOTIFY sent
        before is not heard, so the first wait on a channel returns at once: the caller looks."""
        async with self._subscribing:
            if channel in self._wanted:
                return False
            self._wanted.add(channel)
            listener = self._listener
            if listener is not None:  # otherwise the reconnect listens to it
                try:
                    await listener.add_listener(channel, self._on_notify)
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                    # the connection is going: the termination listener reconnects, with this channel
                    log.debug("listening to %s failed (%s); the reconnect will", channel, exc)
        return True

    async def wait(self, channel: str, timeout: float) -> bool:
        event = self._events[channel]
        if channel not in self._wanted and await self._subscribe(channel):
            return True
        if not event.is_set():
            # deaf (the listening connection is lost): a NOTIFY would not be heard, so poll
            deaf = self._listener is None and not self._closing
            if not await wait_event(event, min(timeout, DEAF_POLL_S) if deaf else timeout):
                return deaf  # perhaps something happened: the caller looks
        event.clear()
        return True

    @asynccontextmanager
    async def migration_transaction(self) -> AsyncIterator[MigrationTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            # several hosts may start at once: one migrates, the others wait and skip
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            yield _PostgresMigrationTransaction(conn)

    async def close(self) -> None:
        self._closing = True
        relistening = self._relistening
        if relistening is not None:
            relistening.cancel()
            await asyncio.wait({relistening})  # never raises: nothing of it may stop the shutdown
            if not relistening.cancelled() and relistening.exception() is not None:
                log.warning("reconnecting had failed: %s", relistening.exception())
        try:
            if self._listener is not None:
                await self._listener.close()
        finally:
            await self._pool.close()
