"""A sharded bot: two real VideoBot processes' worth (two bots in this event loop, shards 0 and 1 of
2) on one store and one Discord, each posting the clips of its own guilds only, and the slash
commands synced once across both starts and a restart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import VideoBot, make_bot
from bot.config import BotConfig
from db.presets import PresetCatalog
from db.store import Job, Store
from db.store.shards import ShardRange, shard_of
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.discord_fake import DiscordFake
from tests.discord_fake.models import Channel, Guild

SYNC_ROUTE = "/applications/{application_id}/commands"


class ShardedBots:
    """Bots of one store and one fake, each connected as one shard of ``count``."""

    def __init__(self, fake: DiscordFake, db_path: Path, catalog: PresetCatalog, count: int) -> None:
        self.fake, self.db_path, self.catalog, self.count = fake, db_path, catalog, count
        self.bots: list[VideoBot] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> list[VideoBot]:
        """Every shard's bot at once (as processes started together would)."""
        for shard in range(self.count):
            config = BotConfig(
                token=self.fake.token,
                database_url=str(self.db_path),
                shards=ShardRange(shard, shard, self.count),
            )
            bot = make_bot(config, self.catalog, guild_ready_timeout=0.1)
            self.bots.append(bot)
            self.tasks.append(asyncio.create_task(bot.start(config.token)))
        await asyncio.wait_for(asyncio.gather(*(b.wait_until_ready() for b in self.bots)), 30)
        return self.bots

    async def stop(self) -> None:
        for bot in self.bots:
            await bot.close()
        for task in self.tasks:
            await asyncio.wait_for(task, 15)
        self.bots, self.tasks = [], []


@pytest.fixture
async def sharded(
    discord_fake: DiscordFake, db_path: Path, catalog: PresetCatalog
) -> AsyncIterator[ShardedBots]:
    bots = ShardedBots(discord_fake, db_path, catalog, 2)
    yield bots
    await bots.stop()


def guild_on_other_shard(fake: DiscordFake, count: int) -> Guild:
    """A second guild whose shard differs from the first guild's (guild ids are timestamps)."""
    taken = shard_of(int(fake.guild.id), count)
    while True:
        guild = fake.add_guild("Second Server", channels=("clips",))
        if shard_of(int(guild.id), count) != taken:
            return guild
        del fake.guilds[guild.id]  # never seen by a bot: nobody started yet
        fake.clock.advance(0.001)  # the next id, a millisecond later, is on the next shard


def text_channel(fake: DiscordFake, guild: Guild, name: str) -> Channel:
    return next(c for c in fake.channels.values() if c.guild_id == guild.id and c.name == name)


def clip_messages(fake: DiscordFake, channel: Channel) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(channel) if m.get("attachments")]


async def video(fake: DiscordFake, channel: Channel, prompt: str) -> int:
    handle = await fake.slash_command(
        "video", {"prompt": prompt, "model": "tiny-ltx", "seconds": 2}, channel=channel
    )
    await handle.wait_reply()
    content = handle.original["content"]  # type: ignore[index]
    assert handle.ephemeral and "Queued as #" in content, content
    return int(content.split("#")[1].split(":")[0])


def posted_by(bot: VideoBot) -> int:
    """Clips this bot's delivery loop posted (its DeliveryCog's count; the extension loader gives
    each bot its own copy of the module, so the class is not the one imported here)."""
    cog: Any = bot.get_cog("DeliveryCog")
    assert cog is not None
    return int(cog.posted)


async def test_each_shard_posts_its_own_guilds_clips_once_and_commands_sync_once(
    discord_fake: DiscordFake, sharded: ShardedBots, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    first, second = fake.guild, guild_on_other_shard(fake, 2)
    channel_of = {
        first.id: text_channel(fake, first, "general"),
        second.id: text_channel(fake, second, "clips"),
    }

    bots = await sharded.start()
    owner = {g.id: next(b for b in bots if b.owns(int(g.id))) for g in (first, second)}
    assert owner[first.id] is not owner[second.id]
    for bot in bots:  # Discord told each process of its own guilds only
        assert {str(g.id) for g in bot.guilds} == {gid for gid, b in owner.items() if b is bot}
    assert {s.shard for s in fake.gateway.by_shard.values()} == {(0, 2), (1, 2)}
    # started together, on a fresh store: one of them synced, once
    assert len(fake.requests_to("PUT", SYNC_ROUTE)) == 1
    assert sum(b.commands_synced for b in bots) == 1
    assert "video" in fake.command_names()

    jobs = {gid: await video(fake, channel_of[gid], f"a lighthouse in guild {gid}") for gid in owner}
    worker.start()
    for gid, job_id in jobs.items():
        await job_in_state(store, job_id, "done")

        async def was_posted(job_id: int = job_id) -> Job | None:
            job = await store.jobs.get(job_id)
            return job if job is not None and job.posted_at is not None else None

        job = await wait_until(was_posted, what=f"clip #{job_id} posted")
        posted = [m for m in clip_messages(fake, channel_of[gid]) if f"#{job_id}" in m["content"]]
        assert len(posted) == 1 and str(posted[0]["id"]) == str(job.message_id)
        assert not [m for m in clip_messages(fake, channel_of[gid]) if f"#{job_id}" not in m["content"]]
        # sent (the video uploaded) once, not once per process, and one discussion thread
        uploads = [
            r
            for r in fake.requests
            if r.method in ("POST", "PATCH") and r.files and r.params.get("channel_id") == channel_of[gid].id
        ]
        assert len(uploads) == 1, [r.route for r in uploads]
        assert len(fake.threads(channel_of[gid])) == 1
    # each process posted the clip of its own guild, and only that one (a process counts its post just
    # after the store has it, which the test may see first)
    await wait_until(lambda: sorted(posted_by(b) for b in bots) == [1, 1], what="one post by each process")
    assert sorted(posted_by(b) for b in bots) == [1, 1]

    # both restart: the tree is unchanged, nobody syncs again
    await sharded.stop()
    bots = await sharded.start()
    assert len(fake.requests_to("PUT", SYNC_ROUTE)) == 1
    assert sum(b.commands_synced for b in bots) == 0
    handle = await fake.slash_command("queue", channel=channel_of[second.id])
    await handle.wait_reply()  # the commands still answer, from the restarted owner of the guild


async def test_sync_commands_flag_forces_a_sync_of_an_unchanged_tree(
    discord_fake: DiscordFake, db_path: Path, catalog: PresetCatalog
) -> None:
    fake = discord_fake
    for force, expected_puts in ((False, 1), (False, 1), (True, 2)):
        config = BotConfig(token=fake.token, database_url=str(db_path), force_sync=force)
        bot = make_bot(config, catalog, guild_ready_timeout=0.1)
        task = asyncio.create_task(bot.start(config.token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 15)
            assert len(fake.requests_to("PUT", SYNC_ROUTE)) == expected_puts
        finally:
            await bot.close()
            await asyncio.wait_for(task, 15)


@pytest.mark.parametrize(
    "args",
    [
        ["--shards", "3-1", "--shard-count", "4"],
        ["--shards", "0-4", "--shard-count", "4"],
        ["--shards", "0-1"],
        ["--shards", "a-b", "--shard-count", "2"],
        ["--shard-count", "0"],
    ],
)
def test_a_bad_shard_range_is_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "videobot", "bot", "--database", str(tmp_path / "v.db"), *args],
        capture_output=True,
        text=True,
        env={"DISCORD_TOKEN": "fake.token", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("videobot bot: error: --shard"), result.stderr
