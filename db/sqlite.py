"""SQLite backend (aiosqlite): the embedded default, one file that several processes may share.

WAL journal with ``synchronous=NORMAL``; every write transaction is ``BEGIN IMMEDIATE`` so claims
from several worker processes take turns on the file lock instead of failing half-way. Wake-ups are
a short poll of ``PRAGMA data_version``, which changes whenever another connection commits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiosqlite

from db.store.connector import (
    EVENTS,
    WORK,
    Connector,
    Migration,
    Transaction,
    load_queries,
    run_to_end,
)

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 0.05
DEFAULT_BUSY_TIMEOUT_S = 30.0
# a write transaction that keeps the file's write lock this long makes every other writer wait: say so
SLOW_WRITE_S = 5.0


def _param(value: Any) -> Any:
    # lists travel as JSON text and are read back with json_each(:name)
    if isinstance(value, list | tuple | set | frozenset):
        return json.dumps(list(value))
    return value


class _SQLiteTransaction(Transaction):
    def __init__(self, conn: aiosqlite.Connection, queries: dict[str, str]) -> None:
        self._conn = conn
        self._queries = queries
        self.notified: set[str] = set()
        self.ran: list[str] = []  # the queries run, for the slow-transaction warning

    def _sql(self, query: str) -> str:
        self.ran.append(query)
        return self._queries[query]

    async def execute(self, query: str, **params: Any) -> int:
        cursor = await self._conn.execute(self._sql(query), {k: _param(v) for k, v in params.items()})
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def fetch_all(self, query: str, **params: Any) -> list[dict[str, Any]]:
        cursor = await self._conn.execute(self._sql(query), {k: _param(v) for k, v in params.items()})
        try:
            return [dict(row) for row in await cursor.fetchall()]
        finally:
            await cursor.close()

    async def notify(self, channel: str, payload: str = "") -> None:
        self.notified.add(channel)


class SQLiteConnector(Connector):
    dialect = "sqlite"

    def __init__(self, path: Path, conn: aiosqlite.Connection, poll_s: float) -> None:
        self.path = path
        self._conn = conn
        self._poll_s = poll_s
        self._queries = load_queries(self.dialect)
        # one aiosqlite connection per connector: transactions of concurrent tasks must not interleave
        self._lock = asyncio.Lock()
        self._events = {WORK: asyncio.Event(), EVENTS: asyncio.Event()}
        self._seen_version: dict[str, int] = {}

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        poll_s: float = DEFAULT_POLL_S,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> SQLiteConnector:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves
        conn = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout_s)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        connector = cls(path, conn, poll_s)
        version = await connector._data_version()
        connector._seen_version = {WORK: version, EVENTS: version}
        return connector

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Transaction]:
        async with self._lock:
            await self._begin("BEGIN IMMEDIATE" if write else "BEGIN")
            locked_at = time.monotonic()
            tx = _SQLiteTransaction(self._conn, self._queries)
            try:
                yield tx
            except BaseException:
                await run_to_end(self._conn.execute("ROLLBACK"))
                raise
            await self._commit()
            held = time.monotonic() - locked_at
            if write and held > SLOW_WRITE_S:
                log.warning("held the database's write lock for %.1f s (%s)", held, ", ".join(tx.ran))
        for channel in tx.notified:
            self._events[channel].set()

    async def _commit(self) -> None:
        try:
            await run_to_end(self._conn.execute("COMMIT"))
        except BaseException:  # COMMIT failed (disk full, I/O error), perhaps as the caller left
            if self._conn.in_transaction:
                await run_to_end(self._conn.execute("ROLLBACK"))
            raise

    async def _begin(self, sql: str) -> None:
        try:
            await run_to_end(self._conn.execute(sql))
        except asyncio.CancelledError:
            if self._conn.in_transaction:  # it began after all: do not keep its lock
                await run_to_end(self._conn.execute("ROLLBACK"))
            raise

    async def write_one(self, query: str, *, notify: str | None = None, **params: Any) -> int:
        async with self._lock:  # not inside another task's transaction on this connection
            tx = _SQLiteTransaction(self._conn, self._queries)
            changed = await run_to_end(tx.execute(query, **params))
        if notify is not None and changed:
            self._events[notify].set()
        return changed

    async def _data_version(self) -> int:
        async with self._conn.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def wait(self, channel: str, timeout: float) -> bool:
        event = self._events[channel]
        deadline = time.monotonic() + timeout
        while True:
            if event.is_set():
                event.clear()
                return True
            version = await self._data_version()
            if version != self._seen_version[channel]:
                self._seen_version[channel] = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(self._poll_s, left))

    async def migrate(self, migrations: list[Migration], now: float) -> list[int]:
        applied: list[int] = []
        async with self._lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            for migration in migrations:
                await self._begin("BEGIN IMMEDIATE")
                try:
                    async with self._conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                    ) as cursor:
                        done = await cursor.fetchone()
                    if done is None:
                        for statement in migration.statements():
                            await self._conn.execute(statement)
                        await self._conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                            (migration.version, migration.name, now),
                        )
                        applied.append(migration.version)
                except BaseException:
                    await run_to_end(self._conn.execute("ROLLBACK"))
                    raise
                await self._commit()
        return applied

    async def close(self) -> None:
        await self._conn.close()
