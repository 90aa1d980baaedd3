"""`videobot run` keeps its children's ids in a `videobot-run-*` folder of the temp directory. A run
killed with SIGKILL cannot remove it: the next start does, and never a folder of a run still going.

Real runs: each `videobot run` here has a Discord that takes its connection and never answers (a
socket that listens and never accepts), so its bot child waits to log in and the run goes on until
the test ends it; its worker is told to serve a model there is none of, so it exits at once."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from videobot.run import run_is_over


class Run:
    """One real `videobot run` in a folder of its own, on a shared temp directory."""

    def __init__(self, name: str, root: Path, temp: Path, discord_port: int) -> None:
        self.folder = root / name
        self.folder.mkdir()
        self.log = self.folder / "output.log"
        env = {
            **os.environ,
            "TMPDIR": str(temp),
            "DISCORD_TOKEN": "a-token-no-one-checks",
            "VIDEOBOT_DISCORD_API_URL": f"http://127.0.0.1:{discord_port}/api/v10",
            "VIDEOBOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{discord_port}/gateway",
            "CUDA_VISIBLE_DEVICES": "",  # no GPU: one CPU worker
            "HF_HUB_OFFLINE": "1",
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "videobot", "run", "--models", "no-such-model"],
                cwd=self.folder,
                env=env,
                start_new_session=True,  # its children in its group, so the test can end them all
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, timeout: float = 120.0) -> None:
        """Until the supervisor says it started its children (its folder is made before that)."""
        deadline = time.monotonic() + timeout
        while "videobot: started bot" not in self.log.read_text(errors="replace"):
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the run never started its children"
            time.sleep(0.05)

    def kill_supervisor(self) -> None:
        """SIGKILL to the supervisor alone, as the OOM killer or `kill -9` sends it."""
        self.process.kill()
        self.process.wait(10)

    def end(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def discord_that_never_answers() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # connections are taken into the backlog; no one ever reads them
        yield int(listener.getsockname()[1])


def run_folders(temp: Path) -> set[Path]:
    return {p for p in temp.iterdir() if p.name.startswith("videobot-run-")}


def test_the_next_start_removes_a_killed_runs_folder_and_keeps_a_live_runs(
    tmp_path: Path, discord_that_never_answers: int
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    runs: list[Run] = []
    try:
        killed = Run("killed", tmp_path, temp, discord_that_never_answers)
        runs.append(killed)
        killed.wait_started()
        (killed_folder,) = run_folders(temp)
        killed.kill_supervisor()
        assert killed_folder.is_dir()  # nothing could remove it

        live = Run("live", tmp_path, temp, discord_that_never_answers)
        runs.append(live)
        live.wait_started()
        (live_folder,) = run_folders(temp) - {killed_folder}

        following = Run("following", tmp_path, temp, discord_that_never_answers)
        runs.append(following)
        following.wait_started()
        assert not killed_folder.exists()  # the killed run's, removed at the next start
        assert live_folder.is_dir()  # the live run's is still there
        assert {p.is_dir() for p in run_folders(temp)} == {True} and len(run_folders(temp)) == 2
        assert live.process.poll() is None and following.process.poll() is None

        live.process.send_signal(signal.SIGTERM)  # a run that stops cleanly removes its own
        assert live.process.wait(60) == 0
        assert not live_folder.exists()
    finally:
        for run in runs:
            run.end()


HERE = "boot-a:4026531836"  # this boot's id and this pid namespace, as generator.processes says


@pytest.mark.parametrize(
    ("owner", "started_now", "over"),
    [
        ({"pid": 4242, "space": HERE, "started": 1000}, None, True),  # no process has its pid
        ({"pid": 4242, "space": HERE, "started": 1000}, 1000, False),  # the run itself, alive
        ({"pid": 4242, "space": HERE, "started": 1000}, 5000, True),  # its pid went to a later process
        ({"pid": 4242, "space": "boot-b:4026531836", "started": 1000}, 1000, True),  # a boot ago
        ({"pid": 4242, "space": "boot-a:4026532999", "started": 1000}, None, False),  # another container's
        ({"pid": 4242, "space": None, "started": None}, None, False),  # written where /proc said nothing
        ({"pid": "4242"}, None, False),  # not what a run writes: left alone
    ],
    ids=["pid-gone", "alive", "pid-reused", "other-boot", "other-namespace", "no-proc", "unreadable"],
)
def test_a_run_is_over_only_when_this_machine_can_tell(
    owner: dict[str, object], started_now: int | None, over: bool
) -> None:
    assert run_is_over(owner, HERE, started_now) is over
