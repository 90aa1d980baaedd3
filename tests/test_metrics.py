"""Metrics and /healthz of a GPU worker: a real `videobot worker --metrics-port` process renders jobs with
the tiny real pipelines, and its /metrics, scraped over HTTP, counts what happened; its /healthz turns
503 when the database goes away and 200 when it is back. And the small pure parts on their own."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import BotMetrics, rate_limit_scope, route_label
from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Job, Store, open_store
from generator.metrics import wait_seconds
from tests.processes import WorkerProcess
from tests.store.conftest import backend, clock, pg_cluster, store, store_url, url_factories
from tests.worker.conftest import PausableCluster, pausable_pg, pg_url
from videobot.metrics import MetricsServer, health_reason

__all__ = ["backend", "clock", "pausable_pg", "pg_cluster", "pg_url", "store", "store_url", "url_factories"]

GUILD_A, GUILD_B, CHANNEL = 7001, 7002, 8001
MISSING_PICTURE = "0" * 64 + ".png"  # a picture reference whose picture is in no store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with (at least) these labels; 0 when there is none, as Prometheus reads it."""
    found = [
        v for n, lab, v in samples(text) if n == name and all(lab.get(k) == w for k, w in labels.items())
    ]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else 0.0


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def poll(check: Callable[[], Any], timeout: float = 120.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
        except aiohttp.ClientError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def submit(store: Store, catalog: PresetCatalog, guild: int, user: int, spec: JobSpec) -> Job:
    plan = resolve_spec(spec, catalog)
    return await store.jobs.enqueue(guild, CHANNEL, user, plan.spec, estimate_gpu_seconds(plan))


def metrics_worker(database: str | Path, presets_file: Path) -> tuple[WorkerProcess, str]:
    port = free_port()
    worker = WorkerProcess(database, presets_file)
    worker.argv += ["--metrics-port", str(port)]
    return worker, f"http://127.0.0.1:{port}"


async def healthz(base: str) -> tuple[int, str]:
    return await get(f"{base}/healthz")


# ---- a real worker process --------------------------------------------------------------------------


async def test_a_workers_metrics_count_the_jobs_it_rendered_and_failed(
    tmp_path: Path, presets_file: Path, catalog: PresetCatalog
) -> None:
    db_path = tmp_path / "videobot.db"
    store = await open_store(str(db_path))
    worker, base = metrics_worker(db_path, presets_file)
    try:
        clips = [
            await submit(
                store, catalog, GUILD_A, 1, JobSpec("a cat on a beach", model="tiny-ltx", seconds=2)
            ),
            await submit(
                store, catalog, GUILD_A, 2, JobSpec("a dog in the snow", model="tiny-ltx", seconds=2)
            ),
            await submit(store, catalog, GUILD_B, 3, JobSpec("a lighthouse", model="tiny-ltx", seconds=2)),
        ]
        broken = await submit(
            store,
            catalog,
            GUILD_B,
            4,
            JobSpec(
                "from a picture", model="tiny-ltx", seconds=2, start_image=True, image_ref=MISSING_PICTURE
            ),
        )
        worker.start()

        async def all_counted() -> str | None:
            status, text = await get(f"{base}/metrics")
            done = value(text, "videobot_worker_jobs_done_total", model="tiny-ltx")
            failed = value(text, "videobot_worker_jobs_failed_total", reason="input_missing")
            return text if status == 200 and done == 3 and failed == 1 else None

        text = await poll(all_counted, what="3 clips and 1 failure on /metrics")
        ended = {j.id: await store.jobs.get(j.id) for j in [*clips, broken]}
        assert all(j is not None and j.state == "done" for i, j in ended.items() if i != broken.id)
        failed_job = ended[broken.id]
        assert failed_job is not None and failed_job.state == "failed"
        assert failed_job.error_code == "input_missing"

        # one render observed per clip, one wait per claimed job (the failed one was claimed too)
        assert value(text, "videobot_job_render_seconds_count", model="tiny-ltx") == 3
        assert value(text, "videobot_job_wait_seconds_count", model="tiny-ltx") == 4
        assert value(text, "videobot_job_wait_seconds_sum", model="tiny-ltx") > 0
        # the GPU time per server is what the store recorded for that server's clips
        for guild in (GUILD_A, GUILD_B):
            recorded = sum(
                j.gpu_seconds or 0.0 for j in ended.values() if j is not None and j.guild_id == guild
            )
            assert recorded > 0
            assert value(text, "videobot_gpu_seconds_total", guild_id=str(guild)) == pytest.approx(recorded)
        assert value(text, "videobot_job_render_seconds_sum", model="tiny-ltx") == pytest.approx(
            sum(j.gpu_seconds or 0.0 for j in ended.values() if j is not None and j.state == "done")
        )
        assert value(text, "videobot_worker_jobs_failed_total") == 1  # that one reason, nothing else

        # the jobs table goes away (an operator's botched migration): unhealthy, and healthy again after
        assert await healthz(base) == (200, "ok\n")
        with sqlite3.connect(db_path, timeout=30) as db:
            db.execute("ALTER TABLE jobs RENAME TO jobs_away")
        status, reason = await healthz(base)
        assert (status, reason) == (503, "job store unavailable\n")  # the part, not "no such table: jobs"
        with sqlite3.connect(db_path, timeout=30) as db:
            db.execute("ALTER TABLE jobs_away RENAME TO jobs")
        assert await poll(lambda: _healthy(base), what="/healthz to be 200 again")
    finally:
        print(f"--- the worker's log ---\n{worker.log()}")
        worker.stop()
        await store.close()


async def _healthy(base: str) -> bool:
    return await healthz(base) == (200, "ok\n")


async def test_a_workers_healthz_is_503_while_postgresql_is_stopped_and_200_when_it_is_back(
    pg_url: str, pausable_pg: PausableCluster, presets_file: Path
) -> None:
    worker, base = metrics_worker(pg_url, presets_file)
    worker.start()
    try:
        await poll(lambda: _healthy(base), what="the worker's /healthz")
        await asyncio.to_thread(pausable_pg.pause)
        status, reason = await poll(lambda: _unhealthy(base), timeout=30, what="/healthz to turn 503")
        assert status == 503 and reason.startswith("job store unavailable"), reason
        assert "127.0.0.1" not in reason and str(pausable_pg.port) not in reason  # not where it tried
        # /metrics still answers while the database is away
        status, _ = await get(f"{base}/metrics")
        assert status == 200
        await asyncio.to_thread(pausable_pg.resume)
        await poll(lambda: _healthy(base), timeout=60, what="/healthz to be 200 again")
        assert worker.process is not None and worker.process.poll() is None  # it waited the outage out
    finally:
        print(f"--- the worker's log ---\n{worker.log()}")
        worker.stop()


async def _unhealthy(base: str) -> tuple[int, str] | None:
    status, text = await healthz(base)
    return (status, text) if status == 503 else None


# ---- the server and the pure parts ----------------------------------------------------------------


async def test_healthz_says_why_and_metrics_are_the_processes_own() -> None:
    broken: list[str] = []

    async def check() -> str | None:
        return broken[0] if broken else None

    first, second = BotMetrics(CollectorRegistry()), BotMetrics(CollectorRegistry())
    first.response("POST /channels/{channel_id}/messages", 429, {"X-RateLimit-Scope": "user"})
    servers = [MetricsServer(first.registry, check), MetricsServer(second.registry, check)]
    ports = [await s.start("127.0.0.1", 0) for s in servers]
    try:
        one, two = (f"http://127.0.0.1:{p}" for p in ports)
        assert await healthz(one) == (200, "ok\n")
        broken.append("job store unavailable")
        assert await healthz(one) == (503, "job store unavailable\n")
        route = "POST /channels/{channel_id}/messages"
        _, text_one = await get(f"{one}/metrics")
        _, text_two = await get(f"{two}/metrics")
        assert value(text_one, "videobot_discord_rate_limits_total", route=route, scope="user") == 1
        assert value(text_one, "videobot_discord_api_errors_total", route=route, status="429") == 1
        assert value(text_two, "videobot_discord_rate_limits_total", route=route) == 0  # a registry each
    finally:
        for s in servers:
            await s.stop()


async def test_a_health_check_that_hangs_or_raises_is_unhealthy() -> None:
    async def hangs() -> str | None:
        await asyncio.sleep(30)
        return None

    async def raises() -> str | None:
        raise ConnectionResetError("peer went away\nmore")

    async def fine() -> str | None:
        return None

    assert await health_reason(hangs, 0.05) == "no answer within 0.05 s"
    assert await health_reason(raises) == "health check failed"  # what it raised goes to the log
    assert await health_reason(fine) is None


def test_rate_limit_scope_and_route_labels() -> None:
    assert rate_limit_scope({"X-RateLimit-Scope": "shared"}) == "shared"
    assert rate_limit_scope({"X-RateLimit-Scope": "user", "X-RateLimit-Global": "true"}) == "global"
    assert rate_limit_scope({}) == "unknown"  # Cloudflare's 429 says nothing
    assert rate_limit_scope({"X-RateLimit-Scope": "<script>"}) == "unknown"  # no label from odd headers
    assert route_label("post", "/channels/{channel_id}/messages") == "POST /channels/{channel_id}/messages"


def test_a_jobs_wait_runs_from_queued_to_claimed() -> None:
    class Claimed:
        created_at = 100.0
        started_at: float | None = 142.5

    job: Any = Claimed()
    assert wait_seconds(job) == 42.5
    job.started_at = None
    assert wait_seconds(job) is None


def test_the_bot_and_the_worker_take_the_metrics_flags_and_serve_none_without_them() -> None:
    from videobot.cli import build_parser

    parser = build_parser()
    worker = parser.parse_args(["worker", "--metrics-port", "9101", "--metrics-host", "0.0.0.0"])
    assert (worker.metrics_port, worker.metrics_host) == (9101, "0.0.0.0")
    bot = parser.parse_args(["bot", "--metrics-port", "9102"])
    assert (bot.metrics_port, bot.metrics_host) == (9102, "127.0.0.1")
    assert parser.parse_args(["bot"]).metrics_port is None
    assert parser.parse_args(["worker"]).metrics_port is None


async def test_the_store_counts_the_queue_of_each_server_on_both_backends(
    store: Store, catalog: PresetCatalog
) -> None:
    await store.metrics.ping()
    assert await store.metrics.queued_by_guild() == {}
    spec = JobSpec("a kite", model="tiny-ltx", seconds=2)
    first = await submit(store, catalog, GUILD_A, 1, spec)
    await submit(store, catalog, GUILD_A, 2, spec)
    await submit(store, catalog, GUILD_B, 3, spec)
    assert await store.metrics.queued_by_guild() == {GUILD_A: 2, GUILD_B: 1}
    claimed = await store.jobs.claim_next("gpu", ["tiny-ltx"])  # running: no longer waiting
    assert claimed is not None
    expected = {GUILD_A: 2, GUILD_B: 1}
    expected[claimed.guild_id] -= 1
    assert await store.metrics.queued_by_guild() == {g: n for g, n in expected.items() if n}
    waiting = [j for j in [first, *await store.jobs.jobs_for_user(GUILD_B, 3)] if j.id != claimed.id]
    assert await store.jobs.cancel(waiting[0].id, None)
    expected[waiting[0].guild_id] -= 1
    assert await store.metrics.queued_by_guild() == {g: n for g, n in expected.items() if n}
