"""The bot's /metrics and /healthz, end to end: the real bot in this process with its metrics server,
the spec-checked Discord on loopback, the real store. What members did shows up on /metrics (the
queue per server, a failed job by its reason, a rate limit Discord answered with); /healthz is 503
while the store is away or the gateway is gone."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import VideoBot
from bot.config import BotConfig
from bot.metrics import serve_bot_metrics
from db.presets import PresetCatalog
from db.spec import JobSpec
from db.store import Store
from tests.bot.conftest import job_in_state, run_sql, wait_until
from tests.discord_fake import DiscordFake
from tests.test_metrics import value
from videobot.metrics import MetricsServer

MESSAGES = "/channels/{channel_id}/messages"
OTHER_GUILD = 990_001


class MeteredBot:
    def __init__(self, bot: VideoBot, server: MetricsServer, task: asyncio.Task[None]) -> None:
        self.bot, self.server, self.task = bot, server, task
        self.base = f"http://127.0.0.1:{server.port}"

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(self.base + path) as response:
            return response.status, await response.text()

    async def metrics(self) -> str:
        status, text = await self.get("/metrics")
        assert status == 200
        return text


@contextlib.asynccontextmanager
async def metered_bot(
    fake: DiscordFake, catalog: PresetCatalog, database_url: str
) -> AsyncIterator[MeteredBot]:
    """The real bot as `videobot bot --metrics-port` runs it, on the store at ``database_url``:
    instrumented before it logs in."""
    config = BotConfig(token=fake.token, database_url=database_url)
    bot = VideoBot(config, catalog, guild_ready_timeout=0.1)
    server = await serve_bot_metrics(bot, "127.0.0.1", 0)
    task = asyncio.create_task(bot.start(config.token))
    try:
        await fake.wait_until_ready()
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        yield MeteredBot(bot, server, task)
    finally:
        await bot.close()
        await asyncio.wait_for(task, 15)
        await server.stop()


@pytest.fixture
async def metered(
    discord_fake: DiscordFake, db_path: Path, catalog: PresetCatalog
) -> AsyncIterator[MeteredBot]:
    async with metered_bot(discord_fake, catalog, str(db_path)) as running:
        yield running


async def queue_video(fake: DiscordFake, prompt: str, user: str) -> int:
    handle = await fake.slash_command("video", {"prompt": prompt, "model": "tiny-ltx"}, user=user)
    reply = await handle.wait_reply()
    return int(str(reply["content"]).split("#")[1].split(":")[0])


async def test_the_bots_metrics_show_the_queue_failures_and_discords_rate_limits(
    discord_fake: DiscordFake, metered: MeteredBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    fake.add_user("bruno")
    assert await metered.get("/healthz") == (200, "ok\n")
    guild = str(fake.guild.id)

    # Discord answers the first status message with a 429: discord.py waits and tries again
    fake.fail_next("POST", MESSAGES, 429, retry_after=0.05, scope="user")
    first = await queue_video(fake, "a windmill at dusk", "alice")
    second = await queue_video(fake, "a paper boat", "bruno")
    await wait_until(
        lambda: sum(1 for m in fake.messages_in("general") if "#" in m["content"]) >= 2,
        what="both status messages",
    )
    # another server's member queues too (the test writes the row, as another bot shard would)
    await store.jobs.enqueue(OTHER_GUILD, 1, 1, JobSpec("elsewhere", model="tiny-ltx", seconds=2), 1.0)
    await store.workers.register_worker("gpu-1", "host", "cuda:0", ["tiny-ltx"], state="ready")
    await store.workers.register_worker("gpu-2", "host", "cuda:1", ["tiny-ltx"], state="starting")

    text = await metered.metrics()
    assert value(text, "videobot_queue_depth", guild_id=guild) == 2
    assert value(text, "videobot_queue_depth", guild_id=str(OTHER_GUILD)) == 1
    assert value(text, "videobot_workers_online", state="ready") == 1
    assert value(text, "videobot_workers_online", state="starting") == 1
    assert value(text, "videobot_workers_online", state="paused") == 0
    route = "POST /channels/{channel_id}/messages"
    assert value(text, "videobot_discord_rate_limits_total", route=route, scope="user") == 1
    assert value(text, "videobot_discord_rate_limits_total") == 1  # that one, nowhere else
    assert value(text, "videobot_discord_api_errors_total", route=route, status="429") == 1
    assert value(text, "videobot_gateway_connected") == 1 and value(text, "videobot_store_up") == 1

    # a GPU runs out of memory on the first job: its member is told, and /metrics counts it by reason
    claimed = await store.jobs.claim_next("gpu-1", ["tiny-ltx"])
    assert claimed is not None
    assert await store.jobs.fail(claimed.id, "gpu-1", "out_of_memory")
    failed = await job_in_state(store, claimed.id, "failed")

    async def counted() -> bool:
        return value(await metered.metrics(), "videobot_jobs_failed_total", reason="out_of_memory") == 1

    await wait_until(counted, what="the failure on /metrics")
    assert (await store.jobs.get(failed.id)).posted  # type: ignore[union-attr]
    # the queue emptied by one in this server: the gauge follows
    text = await metered.metrics()
    still_queued = {first, second} - {claimed.id}
    assert value(text, "videobot_queue_depth", guild_id=guild) == len(still_queued) == 1
    assert value(text, "videobot_jobs_failed_total") == 1


async def test_the_bots_healthz_is_503_while_the_store_is_away_and_when_the_gateway_is_gone(
    metered: MeteredBot, db_path: Path
) -> None:
    assert await metered.get("/healthz") == (200, "ok\n")
    await run_sql(db_path, "ALTER TABLE jobs RENAME TO jobs_away")
    status, reason = await metered.get("/healthz")
    assert status == 503 and "job store" in reason, reason
    assert value(await metered.metrics(), "videobot_store_up") == 0  # /metrics still answers
    await run_sql(db_path, "ALTER TABLE jobs_away RENAME TO jobs")

    async def healthy() -> bool:
        return await metered.get("/healthz") == (200, "ok\n")

    await wait_until(healthy, what="/healthz to be 200 again")

    await metered.bot.close()  # the gateway goes; the metrics server is still up to say so
    status, reason = await metered.get("/healthz")
    assert status == 503 and "closed" in reason, reason
