"""SQLite backend (aiosqlite): the embedded default, one file that several processes may share.

WAL journal with ``synchronous=NORMAL``; every write transaction is ``BEGIN IMMEDIATE`` so claims
from several worker processes take turns on the file lock instead of failing half-way. Wake-ups
between processes: a transaction that notifies a channel counts one more on that channel's row of
``wakeups``; waiters poll the cheap ``PRAGMA data_version`` (it changes whenever another connection
commits) and only then read their channel's count, so a heartbeat does not wake idle workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from db.store.connector import (
    EVENTS,
    WORK,
    Connector,
    Migration,
    MigrationTransaction,
    Script,
    SyncTransaction,
    Transaction,
    load_queries,
    run_script,
    run_to_end,
)
from db.waiting import wait_event

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_POLL_S = 0.05
DEFAULT_BUSY_TIMEOUT_S = 30.0
# a write transaction that keeps the file's write lock this long makes every other writer wait: say so
SLOW_WRITE_S = 5.0


def _param(value: Any) -> Any:
    # lists travel as JSON text and are read back with json_each(:name)
    if isinstance(value, list | tuple | set | frozenset):
        return json.dumps(list(value))
    return value


def split_statements(script: str) -> list[str]:
    """A script's statements, one each, as SQLite itself ends them (a trigger's body keeps its own
    semicolons); comment lines are left out."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines():
        if line.lstrip().startswith("--"):
            continue
        pending += line + "\n"
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip().rstrip(";").strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"unterminated statement: {pending.strip()[:80]!r}")
    return [s for s in statements if s]


class _ThreadTransaction(SyncTransaction):
    """Named queries on the raw connection, in the database's thread (see :func:`_in_transaction`)."""

    def __init__(self, db: sqlite3.Connection, queries: dict[str, str]) -> None:
        self._db = db
        self._queries = queries
        self.notified: dict[str, int] = {}

    def _run(self, query: str, params: dict[str, Any]) -> sqlite3.Cursor:
        return self._db.execute(self._queries[query], {k: _param(v) for k, v in params.items()})

    def execute(self, query: str, **params: Any) -> int:
        return int(self._run(query, params).rowcount)

    def rows(self, query: str, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = self._run(query, params)
        try:
            for row in cursor:
                yield dict(row)
        finally:
            cursor.close()

    def fetch_one(self, query: str, **params: Any) -> dict[str, Any] | None:
        rows = self._run(query, params).fetchall()
        return dict(rows[0]) if rows else None

    def notify(self, channel: str, payload: str = "") -> None:
        if channel not in self.notified:
            self.notified[channel] = int(self._run("bump_wakeup", {"channel": channel}).fetchone()[0])


def _in_transaction(
    db: sqlite3.Connection,
    queries: dict[str, str],
    fn: Callable[[SyncTransaction], T],
    begin: str = "BEGIN IMMEDIATE",
) -> tuple[T, dict[str, int]]:
    """``fn`` between ``begin`` and COMMIT, in the database's thread: what it returns and the
    wake-up counts of the channels it notified."""
    tx = _ThreadTransaction(db, queries)
    db.execute(begin)
    try:
        result = fn(tx)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result, tx.notified


class _SQLiteTransaction(Transaction):
    def __init__(self, conn: aiosqlite.Connection, queries: dict[str, str]) -> None:
        self._conn = conn
        self._queries = queries
        self.notified: dict[str, int] = {}  # channel → its wake-up count after this transaction's bump
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
        if channel not in self.notified:  # one bump per transaction wakes every waiter on the channel
            row = await self.fetch_one("bump_wakeup", channel=channel)
            assert row is not None
            self.notified[channel] = int(row["seq"])


class _SQLiteMigrationTransaction(MigrationTransaction):
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, **params: Any) -> None:
        await (await self._conn.execute(sql, params)).close()

    async def fetch_all(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self._conn.execute(sql, params) as cursor:
            return [dict(row) for row in await cursor.fetchall()]

    async def apply(self, migration: Migration) -> None:
        for statement in split_statements(migration.sql):  # sqlite3 runs one statement per call
            await self.execute(statement)


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
        self._seen_seq = {WORK: 0, EVENTS: 0}  # each channel's wake-up count when last looked at

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
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            connector = cls(path, conn, poll_s)
            version = await connector._data_version()
            connector._seen_version = {WORK: version, EVENTS: version}
            try:
                connector._seen_seq = {ch: await connector._wakeup_seq(ch) for ch in (WORK, EVENTS)}
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                # not migrated yet (no wakeups table): nobody has been woken, counts start at 0
        except BaseException:
            await conn.close()  # a corrupt or unreadable file: its thread must not keep the process alive
            raise
        return connector

    @asynccontextmanager
    async def _begun(self, begin: str) -> AsyncIterator[None]:
        """``begin`` … COMMIT on this connector's connection; ROLLBACK when the block raises."""
        async with self._lock:
            await self._begin(begin)
            try:
                yield
            except BaseException:
                await run_to_end(self._conn.execute("ROLLBACK"))
                raise
            await self._commit()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Transaction]:
        tx = _SQLiteTransaction(self._conn, self._queries)
        async with self._begun("BEGIN IMMEDIATE" if write else "BEGIN"):
            locked_at = time.monotonic()
            yield tx
        held = time.monotonic() - locked_at
        if write and held > SLOW_WRITE_S:
            log.warning("held the database's write lock for %.1f s (%s)", held, ", ".join(tx.ran))
        for channel, seq in tx.notified.items():
            self._woke_here(channel, seq)

    @asynccontextmanager
    async def migration_transaction(self) -> AsyncIterator[MigrationTransaction]:
        async with self._begun("BEGIN IMMEDIATE"):  # the write lock: concurrent migrators take turns
            yield _SQLiteMigrationTransaction(self._conn)

    def _woke_here(self, channel: str, seq: int) -> None:
        # our own wake-up: this process's waiters hear it through the event, not through the count
        self._seen_seq[channel] = max(self._seen_seq[channel], seq)
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
        if notify is None:
            async with self._lock:  # not inside another task's transaction on this connection
                tx = _SQLiteTransaction(self._conn, self._queries)
                return await run_to_end(tx.execute(query, **params))

        def write_and_wake(tx: SyncTransaction) -> int:
            # the statement and, when it changed rows, its channel's wake-up, committed together
            changed = tx.execute(query, **params)
            if changed:
                tx.notify(notify)
            return changed

        return await self.run_in_transaction(write_and_wake)

    async def run(self, script: Callable[[], Script[T]], *, write: bool = True) -> T:
        if write:
            return await self.run_in_transaction(lambda tx: run_script(tx, script()))
        return await self._in_thread(lambda tx: run_script(tx, script()), "BEGIN")

    async def run_in_transaction(self, fn: Callable[[SyncTransaction], T]) -> T:
        return await self._in_thread(fn, "BEGIN IMMEDIATE")

    async def _in_thread(self, fn: Callable[[SyncTransaction], T], begin: str) -> T:
        # all in the database's thread: the write lock is held only while SQLite works, never across
        # a hop of this process's event loop
        queries = self._queries
        async with self._lock:  # not inside another task's transaction on this connection
            result, notified = await run_to_end(
                self._in_db_thread(lambda db: _in_transaction(db, queries, fn, begin))
            )
        for channel, seq in notified.items():
            self._woke_here(channel, seq)
        return result

    async def _in_db_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # aiosqlite runs its own calls this way; it has no public one for several statements at once
        raw = self._conn._conn
        result: T = await self._conn._execute(fn, raw)
        return result

    async def _data_version(self) -> int:
        async with self._conn.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def _wakeup_seq(self, channel: str) -> int:
        async with self._conn.execute(self._queries["wakeup_seq"], {"channel": channel}) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row["seq"])

    async def _woken_elsewhere(self, channel: str) -> bool:
        """Whether another connection committed a wake-up on ``channel`` since this one last looked."""
        version = await self._data_version()
        if version == self._seen_version[channel]:
            return False  # nobody else committed anything: the cheap check of every poll
        if self._conn.in_transaction:
            return False  # ours is open: its uncommitted bump must not count; look at the next poll
        seq = await self._wakeup_seq(channel)
        self._seen_version[channel] = version
        if seq <= self._seen_seq[channel]:
            return False  # commits that woke the other channel (progress) or nobody (a vote)
        self._seen_seq[channel] = seq
        return True

    async def wait(self, channel: str, timeout: float) -> bool:
        event = self._events[channel]
        deadline = time.monotonic() + timeout
        while True:
            if event.is_set():
                event.clear()
                return True
            if await self._woken_elsewhere(channel):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await wait_event(event, min(self._poll_s, left))

    async def close(self) -> None:
        await self._conn.close()
