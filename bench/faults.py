"""kill -9 of random GPU workers over a backlog, as `videobot run` supervises them (real processes, the
real SQLite store, the tiny LTX model):

    python -m bench.faults [--kills 100] [--jobs 40] [--minutes 10]

Two worker processes render a backlog; at random moments one of them is SIGKILLed, its jobs are
released the way `videobot run` releases a dead child's (``Store.release_dead_worker``), and it is
started again. Reported: jobs lost (never ended), jobs failed, claims and renders per job (a render a
killed worker left on disk is encoded, not rendered again: generator.spool), seconds from a kill to
the re-claim of the job it held (apart: kills that left no worker running, where the re-claim waits
for a process to start), and whether every stored mp4 decodes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.clipcheck import decode_problem
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Store, open_store
from tests.tiny_models import build_tiny_ltx, preset_entry

WORKERS = 2
POLL_S = 0.05
DRAIN_S = 180.0  # after the last kill, how long the workers get to finish the backlog
RENDERING = re.compile(r"job (\d+): rendering ")
KEPT = re.compile(r"job (\d+): its render was kept")


@dataclass
class Worker:
    index: int
    id_file: Path
    env: dict[str, str]
    database: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.id_file.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "videobot",
            "-v",
            "worker",
            "--device",
            "cpu",
            "--database",
            self.database,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, env=self.env, stderr=log)
        self.started_at = time.time()

    started_at: float | None = None  # spawned, not ready yet

    def became_ready(self, ready: set[str]) -> float | None:
        """Seconds from spawn to ready, the first time its row says ready."""
        wid = self.worker_id()
        if self.started_at is None or wid is None or wid not in ready:
            return None
        took, self.started_at = time.time() - self.started_at, None
        return took

    def worker_id(self) -> str | None:
        try:
            return self.id_file.read_text().strip().splitlines()[-1] or None
        except (OSError, IndexError):
            return None


@dataclass
class Watch:
    """What the store shows over time: each claim of each job, and when it started."""

    claims: dict[int, set[float]] = field(default_factory=lambda: defaultdict(set))
    reclaim_s: list[float] = field(default_factory=list)  # another worker was ready at the kill
    reclaim_alone_s: list[float] = field(default_factory=list)  # no other worker was ready
    reclaim_hit_s: list[float] = field(default_factory=list)  # another kill came before the re-claim
    waiting: dict[int, tuple[float, bool]] = field(default_factory=dict)  # job -> (kill time, alone)
    last_kill: float = 0.0

    async def look(self, store: Store) -> None:
        for job in await store.jobs.active_jobs(limit=10_000):
            started = job.started_at
            if job.state == "running" and started is not None and started not in self.claims[job.id]:
                self.claims[job.id].add(started)
                killed = self.waiting.pop(job.id, None)
                if killed is not None:
                    killed_at, alone = killed
                    if self.last_kill > killed_at:  # the workers were hit again meanwhile
                        self.reclaim_hit_s.append(time.time() - killed_at)
                    else:
                        (self.reclaim_alone_s if alone else self.reclaim_s).append(time.time() - killed_at)


async def run(
    tmp: Path, kills: int, jobs: int, minutes: float, seed: int, gap: tuple[float, float] = (0.5, 3.0)
) -> None:
    rng = random.Random(seed)
    model = build_tiny_ltx(tmp / "tiny-ltx")
    presets = tmp / "presets.json"
    # about a second a clip on this CPU: kills land before, during and after renders
    entry = preset_entry("ltx-video", model, default_steps=60, max_steps=60)
    presets.write_text(json.dumps({"default": "tiny", "tiny": entry}))
    catalog = PresetCatalog.load(presets)
    database = str(tmp / "videobot.db")
    store = await open_store(database)
    await store.settings.update_settings(
        1, max_queued_per_user=1000, daily_clips_per_user=1000, max_running_per_user=10
    )
    for i in range(jobs):
        plan = resolve_spec(JobSpec(prompt=f"clip {i}", model="tiny"), catalog)
        await store.jobs.enqueue(1, 2, 100 + i % 8, plan.spec, 1.0)
    env = {**os.environ, "VIDEOBOT_PRESETS": str(presets), "VIDEOBOT_SPOOL_DIR": str(tmp / "rendered")}
    env.pop("DISCORD_TOKEN", None)
    workers = [
        Worker(
            i,
            tmp / f"worker-{i}.id",
            {**env, "VIDEOBOT_WORKER_ID_FILE": str(tmp / f"worker-{i}.id")},
            database,
            tmp / f"worker-{i}.log",
        )
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    watch = Watch()
    done_kills = 0
    deadline = time.monotonic() + minutes * 60
    next_kill = time.monotonic() + rng.uniform(*gap)
    try:
        startups: list[float] = []
        self_exits: list[int] = []  # exit codes of workers that ended without being killed
        while time.monotonic() < deadline:
            await watch.look(store)
            for w in workers:  # as `videobot run` does: a worker that ended on its own starts again
                code = w.process.poll() if w.process is not None else None
                if code is not None:
                    self_exits.append(code)
                    await store.jobs.release_dead_worker(w.worker_id() or "")
                    w.start()
            ready_now = {w.worker_id for w in await store.workers.live_workers() if w.state == "ready"}
            startups += [s for w in workers if (s := w.became_ready(ready_now)) is not None]
            active = await store.jobs.active_jobs(limit=10_000)
            if done_kills >= kills:
                break
            if not active:  # the backlog is done before the kills are: queue more
                for i in range(10):
                    plan = resolve_spec(JobSpec(prompt=f"more {done_kills} {i}", model="tiny"), catalog)
                    await store.jobs.enqueue(1, 2, 100 + i % 8, plan.spec, 1.0)
                jobs += 10
            if done_kills < kills and time.monotonic() >= next_kill:
                victim = rng.choice(workers)
                worker_id = victim.worker_id()
                if victim.process is not None and victim.process.poll() is None and worker_id is not None:
                    # alone: no other worker was ready to claim (the other one still loading, or none)
                    ready = {w.worker_id for w in await store.workers.live_workers() if w.state == "ready"}
                    alone = not ready - {worker_id}
                    victim.process.kill()
                    victim.process.wait(30)
                    killed_at = time.time()
                    for job_id in await store.jobs.release_dead_worker(worker_id):
                        watch.waiting[job_id] = (killed_at, alone)
                    watch.last_kill = killed_at
                    done_kills += 1
                    victim.start()
                next_kill = time.monotonic() + rng.uniform(*gap)
            await asyncio.sleep(POLL_S)
        drain_until = time.monotonic() + DRAIN_S  # no more kills: the backlog must still end
        while await store.jobs.active_jobs(limit=10_000) and time.monotonic() < drain_until:
            await watch.look(store)
            await asyncio.sleep(POLL_S)
        finally_jobs = await store.jobs.active_jobs(limit=10_000)
        exited = [(w.index, w.process.poll()) for w in workers if w.process is not None]
        for job in finally_jobs:  # what kept them (printed, so a lost job can be explained)
            lease = None if job.lease_expires_at is None else round(job.lease_expires_at - time.time(), 1)
            print(
                f"not ended: job {job.id} {job.state} worker={job.worker_id} attempts={job.attempts} "
                f"lease_in={lease}s; workers' exit codes {exited}",
                file=sys.stderr,
            )
    finally:
        for worker in workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.terminate()
                worker.process.wait(30)
    every = [await store.jobs.get(i) for i in range(1, jobs + 1)]
    failed = [j for j in every if j is not None and j.state == "failed"]
    done = [j for j in every if j is not None and j.state == "done"]
    broken = 0
    for job in done:
        media = await store.jobs.get_media(job.id)
        if media is None or decode_problem(media.video) is not None:
            broken += 1
    await store.close()
    claims = [len(watch.claims.get(j.id, ())) or 1 for j in done]
    logs = "".join(w.log.read_text(errors="replace") for w in workers if w.log.exists())
    rendered = Counter(int(m) for m in RENDERING.findall(logs))
    kept = len(KEPT.findall(logs))
    renders = [rendered.get(j.id, 0) for j in done]
    print(
        f"## kill -9 of random workers: {done_kills} kills {gap[0]:g}–{gap[1]:g} s apart, {WORKERS} workers, "
        f"{jobs} jobs (SQLite, 2 cores)\n"
    )
    print("| measure | result |")
    print("|---|---|")
    print(f"| jobs lost (not ended {DRAIN_S:.0f} s after the last kill) | {len(finally_jobs)} |")
    print(
        f"| jobs failed | {len(failed)} ({', '.join(sorted({j.error_code or '?' for j in failed})) or '-'}) |"
    )
    print(f"| claims per done job: mean, max | {statistics.mean(claims):.2f}, {max(claims)} |")
    print(f"| renders per done job: mean, max | {statistics.mean(renders):.2f}, {max(renders)} |")
    print(f"| renders a killed worker left on disk, encoded without rendering again | {kept} |")
    for label, seconds in (
        ("another worker was ready", watch.reclaim_s),
        ("no other worker was ready: waits for one to start", watch.reclaim_alone_s),
        ("another kill came before the re-claim", watch.reclaim_hit_s),
    ):
        if seconds:
            print(
                f"| kill → re-claim, s, {label}: median, max ({len(seconds)} jobs) | "
                f"{statistics.median(seconds):.1f}, {max(seconds):.1f} |"
            )
    if startups:
        print(
            f"| worker start → ready (import, load, register), s: median, max ({len(startups)} starts) | "
            f"{statistics.median(startups):.1f}, {max(startups):.1f} |"
        )
    print(
        f"| workers that exited without a kill (exit codes) | {len(self_exits)} {sorted(set(self_exits))} |"
    )
    print(f"| done clips whose mp4 does not decode | {broken} of {len(done)} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=10.0, help="stop after this long in any case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--gap", default="0.5,3", help="seconds between kills: the low and high of a uniform draw (0.5,3)"
    )
    args = parser.parse_args()
    low, high = (float(x) for x in args.gap.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp), args.kills, args.jobs, args.minutes, args.seed, (low, high)))


if __name__ == "__main__":
    main()
