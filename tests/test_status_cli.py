"""`videobot status` as an operator runs it: a real subprocess reading a store this test filled."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from db.store import JobResult, Store, open_store
from tests.store.helpers import spec

GUILD, OTHER_GUILD, CHANNEL = 111_111, 222_222, 5


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "videobot", "status", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "VIDEOBOT_DATABASE_URL": ""},
        timeout=120,
    )


async def queue(store: Store, guild_id: int, user_id: int, model: str = "ltx-video") -> int:
    job = await store.jobs.enqueue(guild_id, CHANNEL, user_id, spec(model=model), 10.0)
    return job.id


def line_with(text: str, *words: str) -> str:
    """The one line of ``text`` that holds every word."""
    found = [line for line in text.splitlines() if all(w in line for w in words)]
    assert len(found) == 1, (words, text)
    return found[0]


async def test_status_shows_queues_workers_with_their_jobs_and_clips(tmp_path: Path) -> None:
    db = tmp_path / "videobot.db"
    store = await open_store(str(db))
    try:
        await store.settings.update_settings(GUILD, max_queued_per_user=50, max_running_per_user=50)
        await store.workers.register_worker("gpu-0", "render-host", "NVIDIA H200", ["ltx-video", "wan-1.3b"])
        await store.workers.register_worker(
            "gpu-1", "render-host", "NVIDIA H200", ["wan-14b"], state="starting"
        )
        for _ in range(3):  # three clips finished just now
            done = await queue(store, GUILD, 1)
            assert await store.jobs.claim_next("gpu-0", ["ltx-video"]) is not None
            assert await store.jobs.finish(done, "gpu-0", JobResult("file:x.mp4", 1, 48, 32, 12, 12.0, 2.0))
        rendering = await queue(store, GUILD, 2)
        assert await store.jobs.claim_next("gpu-0", ["ltx-video"]) is not None
        assert await store.jobs.heartbeat(rendering, "gpu-0", step=7, total_steps=20)
        for user in (3, 4):
            await queue(store, GUILD, user)
        await queue(store, OTHER_GUILD, 9, model="wan-14b")
    finally:
        await store.close()

    result = status("--database", str(db))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Queue: 3 waiting, 1 rendering" in out
    assert line_with(out, str(GUILD)).split() == [str(GUILD), "2", "1"]
    assert line_with(out, str(OTHER_GUILD)).split() == [str(OTHER_GUILD), "1", "0"]
    assert "Workers: 2 online" in out
    busy = line_with(out, "gpu-0")
    assert "ltx-video,wan-1.3b" in busy and "ready" in busy
    assert f"#{rendering} ltx-video step 7/20" in busy
    idle = line_with(out, "gpu-1")
    assert "starting" in idle and "wan-14b" in idle and "idle" in idle
    assert "Clips: 3 in the last hour, 3 in the last 24 hours" in out
    per_hour = line_with(out, "per hour").split(": ")[1].split()
    assert per_hour == ["0"] * 23 + ["3"]


async def test_an_empty_store_says_so(tmp_path: Path) -> None:
    db = tmp_path / "videobot.db"
    await (await open_store(str(db))).close()
    result = status("--database", f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert "Queue: 0 waiting, 0 rendering" in result.stdout
    assert "Workers: 0 online" in result.stdout
    assert "Clips: 0 in the last hour, 0 in the last 24 hours" in result.stdout


def test_a_store_that_cannot_be_opened_is_one_line_and_status_1(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    result = status("--database", str(missing))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"videobot status: error: cannot open the job store: no job store at {missing} ("
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not missing.exists()  # status never creates a store
    assert result.stdout == ""

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = status("--database", f"postgresql://videobot@127.0.0.1:{port}/videobot")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("videobot status: error: cannot open the job store: ")
