"""The small interface each backend implements, plus the named queries and migrations they share.

A connector runs named queries (``db/sql/*.sql``) inside transactions and carries wake-ups between
processes. Everything else — caps, fairness, leases — lives once, in the store's parts
(:mod:`db.store.jobs` …).
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Generator, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

T = TypeVar("T")

DB_DIR = Path(__file__).resolve().parent.parent
SQL_DIR = DB_DIR / "sql"
MIGRATIONS_DIR = DB_DIR / "migrations"

# wake-up channels: workers wait on WORK (something to claim), the bot on EVENTS (progress, endings)
WORK = "videobot_work"
EVENTS = "videobot_events"

_NAME_LINE = re.compile(r"^--\s*name:\s*(\w+)\s*$")
_MIGRATION_FILE = re.compile(r"^V(\d+)__(\w+?)(?:\.(sqlite|postgresql))?\.sql$")


def parse_queries(text: str) -> dict[str, str]:
    """``-- name: x`` blocks → {x: sql}. The comment line under the name is its description."""
    queries: dict[str, str] = {}
    name: str | None = None
    body: list[str] = []
    for line in [*text.splitlines(), "-- name: __end__"]:
        match = _NAME_LINE.match(line)
        if match:
            if name is not None:
                sql = "\n".join(body).strip().rstrip(";").strip()
                if not sql:
                    raise ValueError(f"query {name!r} is empty")
                queries[name] = sql
            name, body = match.group(1), []
        elif name is not None and not line.lstrip().startswith("--"):
            body.append(line)
    queries.pop("__end__", None)
    return queries


DIALECTS = ("sqlite", "postgresql")


@cache
def load_queries(dialect: str) -> dict[str, str]:
    """The common queries (one file per part of the store: ``jobs.sql``, ``challenges.sql`` …), with
    the dialect's own versions (``<dialect>.sql``) taking precedence. A name in two common files is an
    error."""
    queries: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        if path.stem in DIALECTS:
            continue
        found = parse_queries(path.read_text(encoding="utf-8"))
        twice = set(found) & set(queries)
        if twice:
            raise ValueError(f"queries named twice ({path.name}): {', '.join(sorted(twice))}")
        queries.update(found)
    queries.update(parse_queries((SQL_DIR / f"{dialect}.sql").read_text(encoding="utf-8")))
    return queries


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: str) -> list[Migration]:
    """Numbered migrations for a dialect: ``V<n>__name.sql`` (both) or ``V<n>__name.<dialect>.sql``."""
    found: dict[int, Migration] = {}
    for path in sorted(MIGRATIONS_DIR.glob("V*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if not match or match.group(3) not in (None, dialect):
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version} for {dialect}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations for {dialect} are not numbered 1..n: {versions}")
    return [found[v] for v in versions]


async def run_to_end(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` to its end even when the awaiting task is cancelled meanwhile; the
    cancellation is raised afterwards. For the statements that open and close a transaction: a BEGIN
    whose caller went away half-way would otherwise keep the database's write lock."""
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        error = None if task.cancelled() else task.exception()
        raise asyncio.CancelledError from error  # the cancellation is what the caller hears of
    return task.result()


class Transaction(ABC):
    """Named queries inside one transaction."""

    @abstractmethod
    async def execute(self, query: str, **params: Any) -> int:
        """Run a named query; the number of rows it changed."""

    @abstractmethod
    async def fetch_all(self, query: str, **params: Any) -> list[dict[str, Any]]: ...

    async def fetch_one(self, query: str, **params: Any) -> dict[str, Any] | None:
        rows = await self.fetch_all(query, **params)
        return rows[0] if rows else None

    @abstractmethod
    async def notify(self, channel: str, payload: str = "") -> None:
        """Wake waiters on ``channel`` once this transaction commits."""


class SyncTransaction(ABC):
    """Named queries inside one write transaction that runs with no hop of the event loop in it
    (:meth:`Connector.run_in_transaction`): the write lock is held only while the database works."""

    @abstractmethod
    def execute(self, query: str, **params: Any) -> int: ...

    @abstractmethod
    def rows(self, query: str, **params: Any) -> Iterator[dict[str, Any]]:
        """The rows, read one at a time as the caller takes them (a walk may stop early)."""

    @abstractmethod
    def fetch_one(self, query: str, **params: Any) -> dict[str, Any] | None:
        """The first row, the statement run to its end (an UPDATE … RETURNING left half-stepped
        would stay open)."""

    @abstractmethod
    def notify(self, channel: str, payload: str = "") -> None: ...


@dataclass(frozen=True)
class Step:
    """One statement of a :data:`Script`: ``kind`` "rows" (the rows), "one" (the first row or None),
    "execute" (rows changed) or "notify" (wake ``query``'s waiters once the transaction commits)."""

    kind: Literal["rows", "one", "execute", "notify"]
    query: str
    params: dict[str, Any]


def rows(query: str, **params: Any) -> Step:
    return Step("rows", query, params)


def one(query: str, **params: Any) -> Step:
    return Step("one", query, params)


def execute(query: str, **params: Any) -> Step:
    return Step("execute", query, params)


def notify(channel: str, payload: str = "") -> Step:
    return Step("notify", channel, {"payload": payload})


# A transaction written once for both backends: a generator that yields each statement and is sent
# its result (``row = yield one("get_job", id=1)``), and returns the transaction's outcome. SQLite runs
# the whole of it in the database's thread (one hop of the event loop, however many statements);
# PostgreSQL awaits each statement. What it raises rolls the transaction back.
Script = Generator[Step, Any, T]


def run_script(tx: SyncTransaction, script: Script[T]) -> T:
    """Run ``script`` in a transaction of the database's thread."""
    result: Any = None
    while True:
        try:
            step = script.send(result)
        except StopIteration as done:
            return cast(T, done.value)
        if step.kind == "rows":
            result = list(tx.rows(step.query, **step.params))
        elif step.kind == "one":
            result = tx.fetch_one(step.query, **step.params)
        elif step.kind == "execute":
            result = tx.execute(step.query, **step.params)
        else:
            tx.notify(step.query, step.params["payload"])
            result = None


def _just(step: Step) -> Script[Any]:
    return (yield step)


async def await_script(tx: Transaction, script: Script[T]) -> T:
    """Run ``script`` statement by statement in an async transaction."""
    result: Any = None
    while True:
        try:
            step = script.send(result)
        except StopIteration as done:
            return cast(T, done.value)
        if step.kind == "rows":
            result = await tx.fetch_all(step.query, **step.params)
        elif step.kind == "one":
            result = await tx.fetch_one(step.query, **step.params)
        elif step.kind == "execute":
            result = await tx.execute(step.query, **step.params)
        else:
            await tx.notify(step.query, step.params["payload"])
            result = None


# the migration runner's bookkeeping, in SQL both dialects read (DOUBLE PRECISION is REAL to SQLite)
_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)
_MIGRATION_APPLIED = "SELECT 1 AS applied FROM schema_migrations WHERE version = :version"
_RECORD_MIGRATION = (
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :applied_at)"
)


class MigrationTransaction(ABC):
    """Raw SQL inside one migration's transaction: the runner's bookkeeping and the migration itself."""

    @abstractmethod
    async def execute(self, sql: str, **params: Any) -> None: ...

    @abstractmethod
    async def fetch_all(self, sql: str, **params: Any) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def apply(self, migration: Migration) -> None:
        """Run every statement of ``migration``."""


class Connector(ABC):
    """One backend: a pool of connections to one database."""

    dialect: str

    @abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[Transaction]:
        """A transaction; ``write=False`` promises it only reads (SQLite then needs no write lock)."""

    @abstractmethod
    async def write_one(self, query: str, *, notify: str | None = None, **params: Any) -> int:
        """One write statement on its own, committed at once: the rows it changed. The database's
        write lock is held only while the database runs it, never across a wait in this process.
        ``notify`` wakes that channel's waiters when it changed a row."""

    async def write_fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """One statement that may write, committed at once: the rows it returns. A backend that can
        runs it on its own, in one round trip (PostgreSQL: a claim, a heartbeat)."""
        async with self.transaction() as tx:
            return await tx.fetch_all(query, **params)

    async def run(self, script: Callable[[], Script[T]], *, write: bool = True) -> T:
        """The :data:`Script` that ``script()`` makes, as one transaction (``write=False``: it only
        reads). SQLite runs all of it in the database's thread, so a transaction of many statements
        costs one hop of this process's event loop, not one per statement."""
        async with self.transaction(write=write) as tx:
            return await await_script(tx, script())

    async def read_all(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """One read on its own: its rows (SQLite: one hop of the event loop)."""
        rows_read: list[dict[str, Any]] = await self.run(lambda: _just(rows(query, **params)), write=False)
        return rows_read

    async def read_one(self, query: str, **params: Any) -> dict[str, Any] | None:
        """One read on its own: its first row, or None."""
        row: dict[str, Any] | None = await self.run(lambda: _just(one(query, **params)), write=False)
        return row

    async def run_in_transaction(self, fn: Callable[[SyncTransaction], T]) -> T:
        """``fn`` in one write transaction, all of it in the database's thread (SQLite: a claim or a
        finish holds the file's write lock for the microseconds SQLite works, not across hops of this
        process's event loop). PostgreSQL does the same with server-side functions and single
        statements instead, so it has no such transactions."""
        raise NotImplementedError(f"{self.dialect} runs no transactions in a thread")

    @abstractmethod
    async def wait(self, channel: str, timeout: float) -> bool:
        """Until ``channel`` is notified (True) or ``timeout`` seconds pass (False). True may also
        come without a notify (the first wait on a channel, a reconnect): the caller looks again."""

    @abstractmethod
    def migration_transaction(self) -> AbstractAsyncContextManager[MigrationTransaction]:
        """One migration's transaction, holding the lock that makes concurrent migrators take turns."""

    async def migrate(self, migrations: list[Migration], now: float) -> list[int]:
        """Apply the migrations not applied yet, each in one transaction; their versions."""
        applied: list[int] = []
        for migration in migrations:
            async with self.migration_transaction() as tx:
                # inside the lock: concurrent CREATE TABLE IF NOT EXISTS can still clash on PostgreSQL
                await tx.execute(_CREATE_SCHEMA_MIGRATIONS)
                if await tx.fetch_all(_MIGRATION_APPLIED, version=migration.version):
                    continue
                await tx.apply(migration)
                await tx.execute(
                    _RECORD_MIGRATION, version=migration.version, name=migration.name, applied_at=now
                )
                applied.append(migration.version)
        return applied

    @abstractmethod
    async def close(self) -> None: ...
