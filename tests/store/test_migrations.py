"""The migration runner, one for both backends: each migration in its own transaction, each applied
once even when several hosts start on an empty database at the same moment."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from db.fairness import FairState, QueuedJob, charge, pick_next
from db.media import DatabaseMedia, FileMedia
from db.postgres import PostgresConnector
from db.sqlite import SQLiteConnector
from db.store import Store
from db.store.connector import Connector, Migration, load_migrations
from tests.store.conftest import PostgresCluster, UrlFactory, need_backend
from tests.store.helpers import MODEL, OTHER_MODEL, generous_caps, spec

OpenConnector = Callable[[], Awaitable[Connector]]
_empty = itertools.count()


@pytest.fixture
async def open_connector(
    backend: str, url_factories: dict[str, UrlFactory], pg_cluster: PostgresCluster | None
) -> AsyncIterator[OpenConnector]:
    """Opens connectors to one empty, never migrated database (as each starting host would)."""
    need_backend(url_factories, backend)
    opened: list[Connector] = []
    if backend == "sqlite":
        path = await url_factories["sqlite"]()

        async def connect() -> Connector:
            opened.append(await SQLiteConnector.open(path))
            return opened[-1]

    else:
        assert pg_cluster is not None
        name = f"empty_{next(_empty)}"
        admin = await asyncpg.connect(pg_cluster.url("postgres"))
        try:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        finally:
            await admin.close()

        async def connect() -> Connector:
            opened.append(await PostgresConnector.open(pg_cluster.url(name), max_size=2))
            return opened[-1]

    try:
        yield connect
    finally:
        for connector in opened:
            await connector.close()


async def _recorded(connector: Connector) -> list[int]:
    async with connector.migration_transaction() as tx:
        return sorted(row["version"] for row in await tx.fetch_all("SELECT version FROM schema_migrations"))


async def _has_table(connector: Connector, name: str) -> bool:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = :name"
        if connector.dialect == "sqlite"
        else "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = :name"
    )
    async with connector.migration_transaction() as tx:
        return bool(await tx.fetch_all(query, name=name))


async def _enqueued_before(connector: Connector, guild: int, user: int, cost: float, model: str) -> int:
    """A job queued by an older bot, as its enqueue stored it (the columns of V1-V13)."""
    async with connector.migration_transaction() as tx:
        await tx.execute("INSERT INTO fair_guilds (guild_id) VALUES (:g) ON CONFLICT DO NOTHING", g=guild)
        await tx.execute(
            "INSERT INTO fair_users (guild_id, user_id) VALUES (:g, :u) ON CONFLICT DO NOTHING",
            g=guild,
            u=user,
        )
        rows = await tx.fetch_all(
            "INSERT INTO jobs (guild_id, channel_id, user_id, kind, locale, model, spec, cost_estimate_s,"
            " weight, created_at) VALUES (:g, 10, :u, 'new', 'en-US', :model, :spec, :cost, 1.0, 0.0)"
            " RETURNING id",
            g=guild,
            u=user,
            model=model,
            spec=spec(model=model).to_json(),
            cost=cost,
        )
    return int(rows[0]["id"])


async def test_hosts_starting_at_once_on_an_empty_database_apply_each_migration_once(
    open_connector: OpenConnector,
) -> None:
    connectors = [await open_connector() for _ in range(4)]
    migrations = load_migrations(connectors[0].dialect)
    applied = await asyncio.gather(*(c.migrate(migrations, 0.0) for c in connectors))
    versions = [m.version for m in migrations]
    assert sorted(itertools.chain(*applied)) == versions  # each by exactly one of them
    assert await _recorded(connectors[0]) == versions
    assert await connectors[0].migrate(migrations, 0.0) == []


async def test_a_failing_migration_leaves_nothing_half_done_and_keeps_the_ones_before(
    open_connector: OpenConnector,
) -> None:
    connector = await open_connector()
    migrations = load_migrations(connector.dialect)
    broken = Migration(
        len(migrations) + 1, "broken", "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n"
    )
    with pytest.raises(Exception, match="no_such_table"):
        await connector.migrate([*migrations, broken], 0.0)
    assert await _recorded(connector) == [m.version for m in migrations]
    assert not await _has_table(connector, "half_done")


async def test_a_queue_stored_before_the_claim_walk_is_claimed_in_fair_order_after_the_upgrade(
    open_connector: OpenConnector, tmp_path: Path
) -> None:
    """Migration V12 counts the jobs already queued (its triggers only see what comes after): a host
    upgraded with a backlog claims all of it, in the reference order, and nothing else."""
    connector = await open_connector()
    migrations = load_migrations(connector.dialect)
    walk = next(m.version for m in migrations if m.name == "claim_walk")
    await connector.migrate([m for m in migrations if m.version < walk], 0.0)
    media = DatabaseMedia(connector) if connector.dialect == "postgresql" else FileMedia(tmp_path / "media")
    store = Store(connector, media)
    reference: list[QueuedJob] = []
    for guild in (1, 2):
        await generous_caps(store, guild)
    for i in range(12):
        guild, user, cost = 1 + i % 2, 1 + i % 3, float(10 + 7 * i)
        job_id = await _enqueued_before(connector, guild, user, cost, OTHER_MODEL if i == 5 else MODEL)
        reference.append(QueuedJob(job_id, guild, user, cost))
    assert await connector.migrate(migrations, 0.0) == [m.version for m in migrations if m.version >= walk]
    state, left = FairState(), [job for job in reference if job.id != reference[5].id]
    while left:
        expected = pick_next(left, state)
        assert expected is not None
        got = await store.jobs.claim_next("w1", [MODEL], 10_000)
        assert got is not None and got.id == expected.id
        charge(state, expected)
        left.remove(expected)
    assert await store.jobs.claim_next("w1", [MODEL], 10_000) is None
    other = await store.jobs.claim_next("w2", [OTHER_MODEL], 10_000)  # the other model's job waited
    assert other is not None and other.id == reference[5].id


async def test_clips_made_before_v14_are_not_age_restricted_and_neither_is_what_builds_on_them(
    open_connector: OpenConnector, tmp_path: Path
) -> None:
    """V14 records where a clip was made; nothing tells it for the clips before (the channel's flag
    then is not known): they count as made in an ordinary channel, and so do their rerolls."""
    connector = await open_connector()
    migrations = load_migrations(connector.dialect)
    flag = next(m.version for m in migrations if m.name == "age_restricted")
    await connector.migrate([m for m in migrations if m.version < flag], 0.0)
    old = await _enqueued_before(connector, 1, 1, 30.0, MODEL)
    assert await connector.migrate(migrations, 0.0) == [m.version for m in migrations if m.version >= flag]
    media = DatabaseMedia(connector) if connector.dialect == "postgresql" else FileMedia(tmp_path / "media")
    store = Store(connector, media)
    before = await store.jobs.get(old)
    assert before is not None and before.age_restricted is False
    reroll = await store.jobs.enqueue(1, 10, 2, spec(), 30.0, parent_id=old, kind="reroll")
    assert reroll.age_restricted is False
