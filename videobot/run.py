"""``videobot run``: the one-machine default. The bot and one worker per visible GPU (one CPU worker when
there is none) as child processes sharing a SQLite file; Ctrl-C stops them all cleanly."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

RESTART_DELAY_S = 5.0
USAGE_ERROR = 2  # the exit status of a command that refused its configuration
STOP_GRACE_S = 30.0


def visible_gpus() -> list[str]:
    """GPU indices to give one worker each: CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env)


def plan_children(args: argparse.Namespace) -> list[Child]:
    base = [sys.executable, "-m", "videobot"]
    env = dict(os.environ)
    database = ["--database", args.database] if args.database else []
    children = [Child("bot", [*base, "bot", *database], env)]
    env = {k: v for k, v in env.items() if k != "DISCORD_TOKEN"}  # a GPU worker never talks to Discord
    gpus = visible_gpus()
    if gpus:
        for gpu in gpus:
            children.append(
                Child(
                    f"worker-gpu{gpu}",
                    [*base, "worker", "--device", "cuda", *database],
                    {**env, "CUDA_VISIBLE_DEVICES": gpu},
                )
            )
    else:
        children.append(Child("worker-cpu", [*base, "worker", "--device", "cpu", *database], env))
    return children


def run_all(args: argparse.Namespace) -> int:
    if not os.environ.get("DISCORD_TOKEN", "").strip():
        print("videobot run: error: set DISCORD_TOKEN to your bot's token", file=sys.stderr)
        return 2
    children = plan_children(args)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for child in children:
        child.start()
    print(f"videobot: started {', '.join(c.name for c in children)}; Ctrl-C stops", file=sys.stderr)
    status = 0
    while not stopping:
        time.sleep(0.5)
        for child in children:
            if child.process is None:
                continue  # gave up on it
            code = child.process.poll()
            if code is None:
                continue
            if child.name == "bot":  # without the bot nothing reaches members: stop with its status
                print(f"videobot: the bot exited with status {code}", file=sys.stderr)
                status, stopping = code, True
                break
            if code == USAGE_ERROR:  # it said why (no weights, a bad presets file): restarting won't help
                print(
                    f"videobot: {child.name} cannot serve anything (see its message above); not restarting",
                    file=sys.stderr,
                )
                child.process = None
                continue
            print(f"videobot: {child.name} exited with status {code}; restarting", file=sys.stderr)
            time.sleep(RESTART_DELAY_S)
            child.restarts += 1
            child.start()
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
    return status
