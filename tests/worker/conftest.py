"""The worker tests' fixtures: a fresh SQLite store, the warm CPU pipeline cache, and a PostgreSQL server
of their own, which a test may stop and start again (an outage)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from db.store import Store, open_store
from generator.loader import PipelineCache
from tests.store.conftest import PostgresCluster

_names = itertools.count()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(str(tmp_path / "videobot.db"))
    yield store
    await store.close()


@pytest.fixture(scope="module")
def cache() -> PipelineCache:
    return PipelineCache(device="cpu")


class PausableCluster(PostgresCluster):
    """A throwaway cluster (see tests/store/conftest.py) that can go away and come back on its port."""

    def _options(self) -> str:
        return (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=100"
        )

    def pause(self) -> None:
        """Stop the server (its clients' connections drop), as a restart or failover does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
            "-o", self._options(), "start",
        )  # fmt: skip

    async def new_database(self) -> str:
        name = f"outage_{next(_names)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        return self.url(name)


@pytest.fixture(scope="module")
def pausable_pg() -> Iterator[PausableCluster]:
    try:
        cluster = PausableCluster()
        cluster.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pausable_pg: PausableCluster) -> Iterator[str]:
    url = asyncio.run(pausable_pg.new_database())
    yield url
    with contextlib.suppress(RuntimeError):  # a test that failed half-way may have left it stopped
        pausable_pg.resume()
