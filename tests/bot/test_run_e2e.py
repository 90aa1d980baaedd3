"""`videobot run`, the README's command: the bot and a worker as child processes, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.bot.conftest import wait_until
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake


async def test_videobot_run_serves_video_stops_on_ctrl_c_and_never_prints_the_token(
    discord_fake: DiscordFake, presets_file: Path, tmp_path: Path
) -> None:
    fake = discord_fake
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake.token,
        "VIDEOBOT_DISCORD_API_URL": fake.api_url,
        "VIDEOBOT_DISCORD_GATEWAY_URL": fake.gateway_url,
        "VIDEOBOT_PRESETS": str(presets_file),
        "CUDA_VISIBLE_DEVICES": "",  # no GPU: one CPU worker
    }
    output = (tmp_path / "output.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "videobot", "-v", "run"],
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        await fake.wait_until_ready(timeout=60)
        await wait_until(lambda: "video" in fake.command_names(), timeout=60, what="commands synced")
        await asyncio.sleep(2.5)  # discord.py waits for guilds before dispatching interactions
        handle = await fake.slash_command("video", {"prompt": "a kite over the sea", "model": "tiny-ltx"})
        await handle.wait_ack(timeout=10)
        await wait_until(lambda: clip_messages(fake, "general"), timeout=90, what="the clip")
        assert (tmp_path / "videobot.db").exists() and any((tmp_path / "media").iterdir())
        run.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(run.wait, 60) == 0
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        output.close()
    printed = (tmp_path / "output.log").read_text(errors="replace")
    assert "started bot, worker-cpu" in printed  # the log was captured, verbose
    assert fake.token not in printed  # the bot's token never appears in what it prints
