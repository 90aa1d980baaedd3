"""A burst of `/video` against a bot in its own process, killed with SIGKILL right after it answered:
every job a member was told of ("Queued as #N") is in the store, as the member was told."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from db.store import open_store
from tests.bot.conftest import wait_until
from tests.discord_fake import DiscordFake

BURST = 40
MEMBERS = 10


async def test_every_job_a_member_was_told_of_survives_a_kill_9_right_after_the_replies(
    discord_fake: DiscordFake, presets_file: Path, tmp_path: Path
) -> None:
    fake = discord_fake
    db = tmp_path / "videobot.db"
    async with await open_store(str(db)) as store:
        await store.settings.update_settings(int(fake.guild.id), max_queued_per_user=100)
    env = {**os.environ, **fake.env(), "DISCORD_TOKEN": fake.token, "VIDEOBOT_PRESETS": str(presets_file)}
    log = (tmp_path / "bot.log").open("wb")
    bot = subprocess.Popen(
        [sys.executable, "-m", "videobot", "bot", "--database", str(db)],
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await fake.wait_until_ready(timeout=60)
        await wait_until(lambda: "video" in fake.command_names(), timeout=60, what="commands synced")
        await asyncio.sleep(2.5)  # discord.py waits for guilds before dispatching interactions
        members = [fake.add_user(f"member{i}") for i in range(MEMBERS)]
        handles = await asyncio.gather(
            *(
                fake.slash_command("video", {"prompt": f"clip {i}"}, user=members[i % MEMBERS])
                for i in range(BURST)
            )
        )
        replies = await asyncio.gather(*(h.wait_reply(timeout=60) for h in handles))
        os.killpg(bot.pid, signal.SIGKILL)  # the moment the last member read their answer
        await asyncio.to_thread(bot.wait, 30)
    finally:
        if bot.poll() is None:
            os.killpg(bot.pid, signal.SIGKILL)
            bot.wait(30)
        log.close()
    told = {}
    for i, reply in enumerate(replies):
        found = re.match(r"Queued as #(\d+):", str(reply["content"]))
        assert found, reply["content"]
        told[int(found[1])] = f"clip {i}"
    assert len(told) == BURST
    async with await open_store(str(db)) as store:
        for job_id, prompt in told.items():
            job = await store.jobs.get(job_id)
            assert job is not None and job.state == "queued" and job.spec.prompt == prompt
