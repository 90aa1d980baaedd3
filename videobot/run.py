"""``videobot run``: the one-machine default. The bot and one worker per visible GPU (one CPU worker when
there is none) as child processes sharing a SQLite file; Ctrl-C stops them all cleanly.

When a worker child dies (killed, crashed, out of memory) the supervisor knows at once: the jobs it held
go back to the queue without waiting for their leases, and the child is started again after a back-off
(5 s, 10 s, 20 s … at most 5 minutes; back to 5 s once a child ran a while). A child that exited 2 said
why it cannot serve (no weights, a bad presets file): it is not restarted.

The children's ids are kept in a ``videobot-run-*`` folder of the temp directory, which the run removes
when it stops. A run killed with SIGKILL cannot: so the folder names its run (``supervisor.json``: pid,
the process's start time, boot id and pid namespace), and each start removes the folders of runs that
are over. A folder it cannot judge (no such file, another container's run) stays."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RESTART_FIRST_DELAY_S = 5.0
RESTART_MAX_DELAY_S = 300.0
RAN_A_WHILE_S = 600.0  # a child that ran this long before exiting starts again after the first delay
USAGE_ERROR = 2  # the exit status of a command that refused its configuration
STOP_GRACE_S = 30.0
RELEASE_TIMEOUT_S = 30.0
WORKER_ID_FILE_ENV = "VIDEOBOT_WORKER_ID_FILE"  # the worker writes its id there (generator.cli)
RUN_FOLDER_PREFIX = "videobot-run-"
RUN_OWNER_FILE = "supervisor.json"  # which run a folder is (see remove_dead_run_folders)


def restart_delay(failures: int) -> float:
    """Seconds before starting a child again after its ``failures``-th exit in a row (1, 2, …)."""
    if failures < 1:
        return 0.0
    return min(RESTART_MAX_DELAY_S, RESTART_FIRST_DELAY_S * 2 ** min(failures - 1, 30))


def release_dead_worker(database: str | None, worker_id: str) -> list[int]:
    """The jobs a dead worker held go back to the queue now (see :meth:`Store.release_dead_worker`)."""
    from db.store import open_store

    async def release() -> list[int]:
        store = await open_store(database)
        try:
            return await store.jobs.release_dead_worker(worker_id)
        finally:
            await store.close()

    async def bounded() -> list[int]:
        return await asyncio.wait_for(release(), RELEASE_TIMEOUT_S)

    return asyncio.run(bounded())


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
    env: dict[str, str] = field(repr=False)  # the bot's holds DISCORD_TOKEN
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)
    failures: int = 0  # exits in a row, for the back-off
    started_at: float = 0.0
    restart_at: float | None = None  # when to start it again after an exit
    id_file: Path | None = None  # a worker child writes its worker id here

    def start(self) -> None:
        if self.id_file is not None:
            self.id_file.unlink(missing_ok=True)
        self.started_at = time.monotonic()
        self.restart_at = None
        self.process = subprocess.Popen(self.argv, env=self.env)

    def worker_id(self) -> str | None:
        """The id the worker child registered under, once it said."""
        if self.id_file is None:
            return None
        try:
            return self.id_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def exited(self, now: float) -> float:
        """Note an exit; the seconds to wait before starting it again."""
        self.failures = 1 if now - self.started_at >= RAN_A_WHILE_S else self.failures + 1
        return restart_delay(self.failures)


def plan_children(args: argparse.Namespace, ids_dir: Path | None = None) -> list[Child]:
    base = [sys.executable, "-m", "videobot"]
    env = dict(os.environ)
    database = ["--database", args.database] if args.database else []
    models = getattr(args, "models", None)
    worker_options = [*database, *(["--models", models] if models else [])]
    children = [Child("bot", [*base, "bot", *database], env)]
    env = {k: v for k, v in env.items() if k != "DISCORD_TOKEN"}  # a GPU worker never talks to Discord
    gpus = visible_gpus()
    if gpus:
        for gpu in gpus:
            children.append(
                Child(
                    f"worker-gpu{gpu}",
                    [*base, "worker", "--device", "cuda", *worker_options],
                    {**env, "CUDA_VISIBLE_DEVICES": gpu},
                )
            )
    else:
        children.append(Child("worker-cpu", [*base, "worker", "--device", "cpu", *worker_options], env))
    if ids_dir is not None:
        for child in children[1:]:
            child.id_file = ids_dir / f"{child.name}.id"
            child.env = {**child.env, WORKER_ID_FILE_ENV: str(child.id_file)}
    return children


def process_started(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (/proc/PID/stat); None when there is
    no such process (or no /proc to say)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(stat.rsplit(")", 1)[1].split()[19])  # field 22; the name before ")" may hold spaces
    except (OSError, IndexError, ValueError):
        return None


def run_is_over(owner: dict[str, object], here: str | None, started_now: int | None) -> bool:
    """Whether the run that wrote ``owner`` (its supervisor.json) is over, judged in the process
    namespace ``here`` (:func:`generator.processes.pid_space`: boot id and pid namespace), where its
    pid is now a process that started at ``started_now`` (None: no process has it). A run on another
    boot is over; one in another pid namespace (a container sharing the temp folder), or written
    where /proc said nothing, cannot be judged here and is not."""
    space, pid, started = owner.get("space"), owner.get("pid"), owner.get("started")
    if not isinstance(space, str) or here is None or not isinstance(pid, int):
        return False
    if space.split(":")[0] != here.split(":")[0]:
        return True  # the machine started again since: every process of that boot is gone
    if space != here:
        return False
    return started_now is None or (isinstance(started, int) and started_now != started)


def make_run_folder() -> Path:
    """This run's folder in the temp directory, naming its run before anything else goes in."""
    from generator.processes import pid_space

    folder = Path(tempfile.mkdtemp(prefix=RUN_FOLDER_PREFIX))
    owner = {"pid": os.getpid(), "started": process_started(os.getpid()), "space": pid_space()}
    part = folder / f".{RUN_OWNER_FILE}.part"
    part.write_text(json.dumps(owner), encoding="utf-8")
    part.replace(folder / RUN_OWNER_FILE)  # whole or not there: never half a file to misjudge
    return folder


def remove_dead_run_folders(temp: Path | None = None) -> list[Path]:
    """Remove the folders that runs killed with SIGKILL left in the temp directory: this user's, and
    only those whose run is over (:func:`run_is_over`). What went."""
    from generator.processes import pid_space

    here = pid_space()
    root = temp or Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        with os.scandir(root) as listing:
            entries = [e for e in listing if e.name.startswith(RUN_FOLDER_PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        try:
            if (
                not entry.is_dir(follow_symlinks=False)
                or entry.stat(follow_symlinks=False).st_uid != os.getuid()
            ):
                continue
            owner = json.loads((Path(entry.path) / RUN_OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no owner file (a run starting this instant, or from before this version)
        if not isinstance(owner, dict):
            continue
        pid = owner.get("pid")
        started_now = process_started(pid) if isinstance(pid, int) else None
        if run_is_over(owner, here, started_now):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def run_all(args: argparse.Namespace) -> int:
    if not os.environ.get("DISCORD_TOKEN", "").strip():
        print("videobot run: error: set DISCORD_TOKEN to your bot's token", file=sys.stderr)
        return 2
    removed = remove_dead_run_folders()
    if removed:
        print(f"videobot: removed {len(removed)} temp folder(s) of runs that were killed", file=sys.stderr)
    ids_dir = make_run_folder()
    try:
        return _supervise(args, plan_children(args, ids_dir))
    finally:
        shutil.rmtree(ids_dir, ignore_errors=True)


def _supervise(args: argparse.Namespace, children: list[Child]) -> int:
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
            if child.restart_at is not None and time.monotonic() >= child.restart_at:
                child.restarts += 1
                child.start()
                continue
            if child.process is None or child.restart_at is not None:
                continue  # gave up on it, or waiting to start it again
            code = child.process.poll()
            if code is None:
                continue
            _release_jobs_of(args, child)
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
            delay = child.exited(time.monotonic())
            print(
                f"videobot: {child.name} exited with status {code}; starting it again in {delay:g} s",
                file=sys.stderr,
            )
            child.restart_at = time.monotonic() + delay
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
        if child.process.poll() is not None:
            _release_jobs_of(args, child)
    return status


def _release_jobs_of(args: argparse.Namespace, child: Child) -> None:
    """A worker child ended: what it still held goes back to the queue now, not when leases run out."""
    worker_id = child.worker_id()
    if worker_id is None:
        return
    try:
        released = release_dead_worker(args.database, worker_id)
    except Exception as exc:  # the leases run out anyway
        print(
            f"videobot: could not hand back {child.name}'s jobs ({exc}); their leases will", file=sys.stderr
        )
        return
    if released:
        print(f"videobot: {child.name}'s jobs {released} went back to the queue", file=sys.stderr)
