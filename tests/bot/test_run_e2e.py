"""`videobot run`, the README's command: the bot and a worker as child processes, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import imageio_ffmpeg
import pytest

from bot.invite import invite_url
from tests.bot.conftest import wait_until
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake


async def test_videobot_run_serves_video_stops_on_ctrl_c_and_never_prints_the_token(
    discord_fake: DiscordFake, presets_file: Path, tmp_path: Path
) -> None:
    fake = discord_fake
    spies, seen = program_spies(tmp_path)
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake.token,
        "VIDEOBOT_DISCORD_API_URL": fake.api_url,
        "VIDEOBOT_DISCORD_GATEWAY_URL": fake.gateway_url,
        "VIDEOBOT_PRESETS": str(presets_file),
        "CUDA_VISIBLE_DEVICES": "",  # no GPU: one CPU worker
        # every ffmpeg and fc-list the bot and the worker start writes down its environment first
        "IMAGEIO_FFMPEG_EXE": str(spies / "ffmpeg"),
        "PATH": f"{spies}{os.pathsep}{os.environ.get('PATH', '')}",
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),  # an empty font cache: matplotlib asks fc-list
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
    started = {path.name: path.read_bytes() for path in seen.iterdir()}
    assert any(name.startswith("ffmpeg") for name in started)  # the clip was checked and encoded
    assert not [name for name, environ in started.items() if fake.token.encode() in environ]
    said = [line for line in printed.splitlines() if line.startswith("videobot: logged in as")]
    assert said == [
        f"videobot: logged in as {fake.bot_user.username} in {len(fake.guilds)} server"
        f"{'' if len(fake.guilds) == 1 else 's'}; add it to a server with {invite_url(int(fake.app_id))}"
    ]
    assert "PyNaCl" not in printed and "davey" not in printed  # no voice, no warnings about it


def program_spies(folder: Path) -> tuple[Path, Path]:
    """A folder of stand-ins for ffmpeg and fc-list that write down the environment they were started
    with (as /proc has it) and then become the real program; and the folder they write to."""
    spies, seen = folder / "spies", folder / "environments"
    spies.mkdir()
    seen.mkdir()
    for name, real in (("ffmpeg", imageio_ffmpeg.get_ffmpeg_exe()), ("fc-list", shutil.which("fc-list"))):
        run_real = f'exec "{real}" "$@"' if real else "exit 0"
        spy = spies / name
        spy.write_text(f'#!/bin/sh\ncat /proc/$$/environ > "{seen}/{name}-$$.env"\n{run_real}\n')
        spy.chmod(spy.stat().st_mode | stat.S_IXUSR)
    return spies, seen


def test_the_invite_link_asks_for_the_bot_its_commands_and_exactly_the_permissions_it_uses() -> None:
    query = parse_qs(urlsplit(invite_url(1234567890)).query)
    assert query["client_id"] == ["1234567890"]
    assert query["scope"] == ["bot applications.commands"]
    granted = discord.Permissions(int(query["permissions"][0]))
    # read the channel and old clips' messages, post clips (files, embeds), a thread under each clip
    assert granted == discord.Permissions(
        view_channel=True,
        read_message_history=True,
        send_messages=True,
        attach_files=True,
        embed_links=True,
        create_public_threads=True,
        send_messages_in_threads=True,
    )


@pytest.mark.parametrize("what", ["unreachable", "refused token"])
async def test_a_discord_it_cannot_use_is_one_line_and_a_non_zero_exit(
    discord_fake: DiscordFake, tmp_path: Path, what: str
) -> None:
    fake = discord_fake
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/v10"
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake.token if what == "unreachable" else "not-the-token",
        "VIDEOBOT_DISCORD_API_URL": nowhere if what == "unreachable" else fake.api_url,
        "VIDEOBOT_DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "videobot", "bot", "--database", str(tmp_path / "videobot.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    if what == "unreachable":
        assert done.stderr.startswith(f"videobot bot: error: cannot reach Discord at {nowhere} (")
        assert "firewall" in done.stderr
    else:
        assert done.stderr == "videobot bot: error: Discord refused the token (check DISCORD_TOKEN)\n"
        assert [v.kind for v in fake.take_violations()] == ["auth"]  # the one refused login
