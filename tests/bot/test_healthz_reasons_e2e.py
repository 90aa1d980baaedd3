"""/healthz says which part is down, never that part's error text: a database error can name the
database's host, its user, a table. The error goes to the log instead, once per outage, however
often a load balancer asks. Through the real bot's metrics server over HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from db.presets import PresetCatalog
from tests.bot.conftest import run_sql, wait_until
from tests.bot.test_metrics_e2e import MeteredBot, metered_bot
from tests.discord_fake import DiscordFake
from tests.store.conftest import PostgresCluster, pg_cluster

__all__ = ["pg_cluster"]

SECRET_ROLE = "healthz_secret_role_e7b2"
SECRET_PASSWORD = "pw-9f3c1d"


def logged(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    """What the metrics server logged that holds ``words``."""
    return [m for r in caplog.records if r.name.startswith("videobot") and words in (m := r.getMessage())]


async def healthy(metered: MeteredBot) -> bool:
    return await metered.get("/healthz") == (200, "ok\n")


async def test_healthz_names_the_store_not_its_error_and_logs_the_error_once_per_outage(
    discord_fake: DiscordFake,
    catalog: PresetCatalog,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with metered_bot(discord_fake, catalog, str(db_path)) as metered:
        assert await metered.get("/healthz") == (200, "ok\n")
        for outage in (1, 2):
            await run_sql(db_path, "ALTER TABLE jobs RENAME TO jobs_away")
            answers = [await metered.get("/healthz") for _ in range(4)]
            assert answers == [(503, "job store unavailable\n")] * 4
            assert len(logged(caplog, "no such table: jobs")) == outage, caplog.text
            await run_sql(db_path, "ALTER TABLE jobs_away RENAME TO jobs")
            await wait_until(lambda: healthy(metered), what="/healthz to be 200 again")
        assert len(logged(caplog, "no such table: jobs")) == 2
        await metered.bot.close()  # the gateway goes; the metrics server is still up to say so
        status, reason = await metered.get("/healthz")
        assert status == 503 and reason.startswith("Discord gateway disconnected"), reason


@pytest.fixture
async def secret_database(pg_cluster: PostgresCluster | None) -> AsyncIterator[tuple[str, str]]:
    """A database owned by a role whose name and password are secrets; (its URL, the admin URL)."""
    if pg_cluster is None:
        pytest.skip("PostgreSQL cannot be started here")
    admin = pg_cluster.url("postgres")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f"CREATE ROLE {SECRET_ROLE} LOGIN PASSWORD '{SECRET_PASSWORD}'")
        await conn.execute(f"CREATE DATABASE {SECRET_ROLE} OWNER {SECRET_ROLE}")
    finally:
        await conn.close()
    url = f"postgresql://{SECRET_ROLE}:{SECRET_PASSWORD}@127.0.0.1:{pg_cluster.port}/{SECRET_ROLE}"
    yield url, admin
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f"ALTER ROLE {SECRET_ROLE} LOGIN")
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", SECRET_ROLE
        )
        await conn.execute(f"DROP DATABASE IF EXISTS {SECRET_ROLE} WITH (FORCE)")
        await conn.execute(f"DROP ROLE IF EXISTS {SECRET_ROLE}")
    finally:
        await conn.close()


async def test_healthz_never_names_the_database_user_host_or_password_when_postgresql_refuses_the_bot(
    discord_fake: DiscordFake,
    catalog: PresetCatalog,
    secret_database: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    url, admin = secret_database
    async with metered_bot(discord_fake, catalog, url) as metered:
        assert await metered.get("/healthz") == (200, "ok\n")
        conn = await asyncpg.connect(admin)  # the operator locks the bot's role out, its sessions end
        try:
            await conn.execute(f"ALTER ROLE {SECRET_ROLE} NOLOGIN")
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", SECRET_ROLE
            )
        finally:
            await conn.close()
        # from now on PostgreSQL's error names the bot's role
        await wait_until(
            lambda: any(SECRET_ROLE in r.getMessage() for r in caplog.records),
            what="PostgreSQL to refuse the bot's role",
        )
        port = url.rsplit(":", 1)[1].split("/")[0]
        for _ in range(3):
            status, reason = await metered.get("/healthz")
            assert (status, reason) == (503, "job store unavailable\n")
            assert not any(secret in reason for secret in (SECRET_ROLE, SECRET_PASSWORD, "127.0.0.1", port))
        said = [
            m for r in caplog.records if r.name == "videobot.metrics" and "job store" in (m := r.getMessage())
        ]
        assert len(said) == 1, said  # the error itself, for the operator, once
        assert SECRET_PASSWORD not in caplog.text
