"""Clips per hour against 1, 2, 4 and 8 GPU worker processes on real PostgreSQL, with a fixed-cost
stand-in render:

    python -m bench.scale [--workers 1,2,4,8] [--render-s 2.0] [--minutes 1 | --clips N] [--pg URL]

Each worker is its own process running the real ``generator.worker.Worker`` loop against its own store
(a throwaway PostgreSQL cluster from Debian's packages, as in the tests, or ``--pg URL`` of an empty
database): the fair claim, heartbeats and progress, encode (ffmpeg, H.264), media store
(PostgreSQL), finish, with the next clip's render overlapping the last one's delivery as in production.
Only the pipeline is swapped: the worker's cache hands out a stand-in whose call sleeps ``--render-s``
in the render thread (standing in for the GPU), calling the step callback as diffusers does, and returns
a small real frame array (64×64, 9 frames), so what is measured is everything around the GPU.

The backlog (two guilds, 16 members, caps raised as bench/claims.py does) is queued before the workers
start and is big enough to keep every worker busy for the whole window. The clock starts once every
process has loaded (a common start) and stops at the end of the window (``--minutes``) or when the
backlog is done (``--clips``, a fixed backlog). After a window the workers drain what is left, then
stop; every backlog job must end ``done``, rendered and finished once.

Reported per worker count: clips done, wall seconds, clips per hour, speed-up over 1 worker, efficiency
(clips/h(N) ÷ (N × clips/h(1))), the mean seconds per clip outside the render (claim → finish less the
render: claim, encode, store, finish, and any wait for the previous clip's delivery), and how many seconds
per clip each worker spends beyond the render (a worker's claim → its next claim, less the render: what
the overlap of delivery and the next render does not hide). Clips are counted when they finish inside the
window, so a short window undercounts by up to one clip per worker.

This machine has 2 cores that run every worker's encode, PostgreSQL and the workers' Python. On real
hosts the encode runs on each GPU host's own CPUs, and only the database is shared, so the figures here
are a floor for the scale-out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import itertools
import json
import math
import multiprocessing as mp
import os
import queue
import signal
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from db.presets import Preset, PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Job, open_store
from generator.loader import PipelineCache

MODEL = "scale-stand-in"
SIZE = 64  # pixels, square: the encode stays small beside the render
FRAMES = 9  # k * 8 + 1, as LTX-Video takes
STEPS = 20  # step callbacks per render: progress moves as in a real one
GUILDS = 2
MEMBERS = 16  # over both guilds
LOAD_TIMEOUT_S = 300.0  # spawn → every worker loaded (torch and diffusers imported, store opened)
DRAIN_S = 180.0  # after a window, how long the workers get to finish the backlog …
STALL_S = 30.0  # … unless no job ends for this long (a store that stopped serving claims)
REPORT_S = 60.0  # stopped → every worker's report (a delivery in hand, store calls' grace while stopping)
POLL_S = 1.0  # one query a second: the bench's own load on the database stays small
MAX_RUN_S = 4 * 3600.0  # --clips: a backlog that takes longer than this is cut


class StandInPipeline:
    """What the worker's cache hands out instead of a diffusers pipeline: called as ``render`` calls one
    (the keyword arguments ``pipeline_kwargs`` keeps, a generator and a step callback), it sleeps
    ``render_s`` in the render thread across ``num_inference_steps`` steps and returns
    ``frames`` of shape (1, frames, height, width, 3), floats in [0, 1], as ``output_type="np"`` does.
    The prompts it rendered are kept, so the bench can tell a clip rendered twice."""

    def __init__(self, render_s: float) -> None:
        self.render_s = render_s
        self.rendered: list[str] = []
        self._lock = threading.Lock()

    def __call__(
        self,
        prompt: str,
        negative_prompt: str | None = None,
        width: int = SIZE,
        height: int = SIZE,
        num_frames: int = FRAMES,
        frame_rate: int = 8,
        num_inference_steps: int = STEPS,
        guidance_scale: float = 1.0,
        output_type: str = "np",
        generator: Any = None,
        callback_on_step_end: Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> SimpleNamespace:
        steps = max(1, num_inference_steps)
        started = time.perf_counter()
        for step in range(steps):
            # sleep to this step's share of the fixed cost: the callbacks' own time is not added on
            time.sleep(max(0.0, started + self.render_s * (step + 1) / steps - time.perf_counter()))
            if callback_on_step_end is not None:
                callback_on_step_end(self, step, None, {})
        with self._lock:
            self.rendered.append(prompt)
        seed = zlib.crc32(prompt.encode())
        return SimpleNamespace(frames=moving_frames(num_frames, height, width, seed)[None])


def moving_frames(count: int, height: int, width: int, seed: int) -> np.ndarray:
    """A small real clip: a colour gradient that drifts frame by frame, with a little noise (float32 in
    [0, 1], (count, height, width, 3)), so the encoder has motion to code."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = np.arange(count, dtype=np.float32)[:, None, None]
    red = 0.5 + 0.5 * np.sin((x[None] + 3 * t) / 9.0)
    green = 0.5 + 0.5 * np.cos((y[None] - 2 * t) / 7.0)
    blue = np.broadcast_to((x + y)[None] / (width + height), red.shape)
    frames = np.stack([red, green, blue], axis=-1)
    frames += rng.normal(0.0, 0.03, frames.shape).astype(np.float32)
    return np.clip(frames, 0.0, 1.0).astype(np.float32)


class StandInCache(PipelineCache):
    """The worker's pipeline cache, handing out the stand-in for every preset (no weights, CPU)."""

    def __init__(self, pipe: StandInPipeline) -> None:
        super().__init__(device="cpu", budget_bytes=0)
        self.pipe = pipe

    def get(self, preset: Preset, variant: str | None = None) -> Any:
        return self.pipe


def write_presets(path: Path) -> None:
    """A presets file with the stand-in's preset: LTX-Video's shape at 64×64, 9 frames."""
    entry = {
        "base": "ltx-video",
        "title": "Stand-in (fixed-cost render)",
        "source": "stand-in",  # never loaded: the stand-in cache hands out the pipeline
        "sizes": {"1:1": [SIZE, SIZE]},
        "default_aspect": "1:1",
        "fps": 8,
        "min_frames": FRAMES,
        "max_frames": FRAMES,
        "default_frames": FRAMES,
        "default_steps": STEPS,
        "max_steps": STEPS,
        "default_guidance": 1.0,
        "call_kwargs": {},
        "speedups": {},
        "modes": ["text"],
        "continue_frames": 1,
        "gpu_memory_gb": 0,
        "gpu_memory_offload_gb": 0,
    }
    path.write_text(json.dumps({MODEL: entry}))


# ---- one worker process -------------------------------------------------------------------------


async def _serve(
    index: int,
    url: str,
    presets: str,
    spool_dir: str,
    render_s: float,
    loaded: mp.Queue,
    go: MpEvent,
    stop: MpEvent,
) -> dict[str, Any]:
    from generator.worker import Worker, WorkerConfig

    # what a worker that does not stop is doing: its threads (SIGUSR1) and its asyncio tasks (SIGUSR2)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, _print_tasks)
    store = await open_store(url)
    try:
        catalog = PresetCatalog.load(presets)
        pipe = StandInPipeline(render_s)
        config = WorkerConfig(worker_id=f"scale-{os.getpid()}-{index}", models=(MODEL,), spool_dir=spool_dir)
        worker = Worker(store, catalog, StandInCache(pipe), config)
        loaded.put(index)
        while not go.is_set():
            await asyncio.sleep(0.01)
        stopping = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.1)
            stopping.set()

        watcher = asyncio.create_task(watch())
        await worker.run(stopping)
        await watcher
        return {
            "index": index,
            "completed": worker.completed,
            "render_s": worker.render_seconds,
            "kept": worker.renders_kept,
            "rendered": list(pipe.rendered),
        }
    finally:
        await store.close()


def _print_tasks() -> None:
    for task in asyncio.all_tasks():
        print(f"--- worker {os.getpid()}: {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


def _worker_process(
    index: int,
    url: str,
    presets: str,
    spool_dir: str,
    render_s: float,
    loaded: mp.Queue,
    go: MpEvent,
    stop: MpEvent,
    out: mp.Queue,
) -> None:
    try:
        out.put(asyncio.run(_serve(index, url, presets, spool_dir, render_s, loaded, go, stop)))
    except BaseException as exc:
        out.put({"index": index, "error": f"{type(exc).__name__}: {exc}"})
        raise


# ---- one worker count ---------------------------------------------------------------------------


@dataclass
class Row:
    workers: int
    clips: int  # done within the measured wall time
    wall_s: float
    outside_render_s: float  # mean claim → finish less the render, over those clips
    render_s: float  # the stand-in's fixed cost, as measured (mean gpu_seconds)
    # a worker's claim → its next claim less the render, mean over the window: what each clip costs a
    # worker beyond the render (the overlap hides the encode and store of the previous clip)
    worker_gap_s: float
    backlog: int
    not_done: dict[str, int]  # state → count of backlog jobs that did not end done
    rendered_twice: int  # jobs the stand-in rendered more than once
    finished_vs_done: tuple[int, int]  # the workers' finish count, the store's done count
    requeued: int  # jobs with attempts > 0 (a lease ran out)
    kept: int  # renders a dead worker left on disk (none expected)
    per_worker: list[int]  # clips each worker finished, backlog's drain included
    errors: list[str]

    @property
    def per_hour(self) -> float:
        return self.clips / self.wall_s * 3600 if self.wall_s > 0 else float("nan")


async def _fill(url: str, backlog: int, render_s: float, catalog: PresetCatalog) -> dict[str, int]:
    """Queue the backlog: two guilds, their members in turn; prompt → job id."""
    store = await open_store(url)
    try:
        for guild in range(1, GUILDS + 1):
            await store.settings.update_settings(
                guild, max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=10_000
            )
        ids: dict[str, int] = {}
        stamp = time.time_ns()  # prompts unique across runs on one database (--pg)
        for i in range(backlog):
            member = i % MEMBERS
            prompt = f"scale {stamp} clip {i}"
            plan = resolve_spec(JobSpec(prompt=prompt, model=MODEL, seed=i), catalog)
            job = await store.jobs.enqueue(1 + member % GUILDS, 10, 1000 + member, plan.spec, render_s)
            ids[prompt] = job.id
        return ids
    finally:
        await store.close()


async def _jobs(url: str, ids: list[int]) -> list[Job]:
    store = await open_store(url)
    try:
        found = [await store.jobs.get(i) for i in ids]
    finally:
        await store.close()
    return [j for j in found if j is not None]


async def _wait_done(url: str, ids: set[int], deadline: float, stall_s: float = math.inf) -> bool:
    """Poll (one query a second) until no job of ``ids`` is queued or running, or ``deadline``
    (time.time()), or ``stall_s`` without any of them ending; whether they all ended."""
    store = await open_store(url)
    try:
        left, moved = len(ids) + 1, time.time()
        while True:
            active = [j for j in await store.jobs.active_jobs(limit=1_000_000) if j.id in ids]
            if not active:
                return True
            if len(active) != left:
                left, moved = len(active), time.time()
            if time.time() >= deadline or time.time() - moved >= stall_s:
                return False
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.time())))
    finally:
        await store.close()


async def _explain(url: str, ids: set[int], silent: list[BaseProcess]) -> None:
    """What kept jobs from ending: their rows, and the stacks of the workers that did not stop."""
    store = await open_store(url)
    try:
        for job in [j for j in await store.jobs.active_jobs(limit=1_000_000) if j.id in ids]:
            lease = None if job.lease_expires_at is None else round(job.lease_expires_at - time.time(), 1)
            since = None if job.started_at is None else round(time.time() - job.started_at, 1)
            print(
                f"not ended: job {job.id} {job.state} worker={job.worker_id} claimed {since} s ago, "
                f"step {job.step}/{job.total_steps}, attempts={job.attempts}, lease_in={lease} s",
                file=sys.stderr,
            )
    finally:
        await store.close()
    for proc in silent:
        if proc.pid is not None and proc.is_alive():
            print(f"worker process {proc.pid} did not stop; its tasks and threads:", file=sys.stderr)
            os.kill(proc.pid, signal.SIGUSR2)
            await asyncio.sleep(1.0)
            os.kill(proc.pid, signal.SIGUSR1)
            await asyncio.sleep(1.0)
    sys.stderr.flush()


def measure(url: str, workers: int, render_s: float, window_s: float | None, clips: int | None) -> Row:
    with tempfile.TemporaryDirectory(prefix="videobot-scale-") as tmp:
        presets = Path(tmp) / "presets.json"
        write_presets(presets)
        catalog = PresetCatalog.load(presets)
        if clips is not None:
            backlog = clips
        else:
            assert window_s is not None
            # every worker busy to the end of the window even at linear speed, and a little more
            backlog = math.ceil(workers * window_s / render_s * 1.05) + 2 * workers
        by_prompt = asyncio.run(_fill(url, backlog, render_s, catalog))
        ids = list(by_prompt.values())
        ctx = mp.get_context("spawn")
        loaded: mp.Queue = ctx.Queue()
        out: mp.Queue = ctx.Queue()
        go, stop = ctx.Event(), ctx.Event()
        spool_dir = str(Path(tmp) / "rendered")
        procs = [
            ctx.Process(
                target=_worker_process,
                args=(i, url, str(presets), spool_dir, render_s, loaded, go, stop, out),
            )
            for i in range(workers)
        ]
        for p in procs:
            p.start()
        errors: list[str] = []
        reports: list[dict[str, Any]] = []
        try:
            waiting = set(range(workers))
            load_deadline = time.monotonic() + LOAD_TIMEOUT_S
            while waiting:
                try:
                    waiting.discard(loaded.get(timeout=1.0))
                except queue.Empty:
                    if time.monotonic() > load_deadline or any(p.exitcode is not None for p in procs):
                        raise RuntimeError(f"{len(waiting)} of {workers} workers did not load") from None
            start = time.time()  # every process has loaded: a common start
            go.set()
            wanted = set(ids)
            # the window's end, unless the backlog ends first (then its last finish: see below)
            window_end = start + window_s if window_s is not None else math.inf
            cut = not asyncio.run(_wait_done(url, wanted, min(window_end, start + MAX_RUN_S)))
            if cut:  # what the window left: the workers drain it, and every backlog job must end done
                print(f"{workers} workers: window over, draining the backlog", file=sys.stderr, flush=True)
                asyncio.run(_wait_done(url, wanted, time.time() + DRAIN_S, STALL_S))
            stop.set()
            report_by = time.monotonic() + REPORT_S
            while len(reports) < workers and time.monotonic() < report_by:
                with contextlib.suppress(queue.Empty):
                    reports.append(out.get(timeout=1.0))
            silent = [i for i in range(workers) if i not in {r["index"] for r in reports}]
            if silent:
                errors.append(f"workers {silent} sent no report within {REPORT_S:g} s of being stopped")
                asyncio.run(_explain(url, wanted, [procs[i] for i in silent]))
        finally:
            stop.set()
            go.set()
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.terminate()
                    p.join(10)
        errors += [f"worker {r['index']}: {r['error']}" for r in reports if "error" in r]
        reports = [r for r in reports if "error" not in r]
    jobs = asyncio.run(_jobs(url, ids))
    done = [j for j in jobs if j.state == "done"]
    end = window_end if cut else max((j.finished_at or start for j in done), default=start)
    measured = [j for j in done if j.finished_at is not None and j.finished_at <= end]
    outside = [
        (j.finished_at or 0.0) - (j.started_at or 0.0) - (j.gpu_seconds or 0.0)
        for j in measured
        if j.started_at is not None
    ]
    gaps: list[float] = []
    for wid in {j.worker_id for j in measured}:
        claims = sorted((j for j in jobs if j.worker_id == wid and j.started_at is not None), key=_claimed)
        gaps += [
            _claimed(b) - _claimed(a) - (a.gpu_seconds or 0.0)
            for a, b in itertools.pairwise(claims)
            if _claimed(b) <= end
        ]
    rendered = Counter(p for r in reports for p in r["rendered"])
    not_done: Counter[str] = Counter(str(j.state) for j in jobs if j.state != "done")
    if len(jobs) < len(ids):
        not_done["missing"] = len(ids) - len(jobs)
    return Row(
        workers=workers,
        clips=len(measured),
        wall_s=end - start,
        outside_render_s=statistics.mean(outside) if outside else float("nan"),
        worker_gap_s=statistics.mean(gaps) if gaps else float("nan"),
        render_s=statistics.mean(j.gpu_seconds or 0.0 for j in measured) if measured else render_s,
        backlog=len(ids),
        not_done=dict(not_done),
        rendered_twice=sum(1 for n in rendered.values() if n > 1),
        finished_vs_done=(sum(r["completed"] for r in reports), len(done)),
        requeued=sum(1 for j in jobs if j.attempts > 0),
        kept=sum(r["kept"] for r in reports),
        per_worker=sorted(r["completed"] for r in reports),
        errors=errors,
    )


def _claimed(job: Job) -> float:
    return job.started_at or 0.0


def report(rows: list[Row], render_s: float, url_note: str, load: tuple[float, float, float]) -> None:
    cores = os.cpu_count() or 0
    print(
        f"\n## Scale-out: clips per hour against worker processes ({url_note}, stand-in render "
        f"{render_s:g} s, {SIZE}×{SIZE}×{FRAMES} frames encoded, {cores} cores, "
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})\n"
    )
    base = rows[0].per_hour / rows[0].workers if rows else float("nan")  # clips/h of one worker
    print(
        "| workers | clips done | wall s | clips/hour | speed-up | efficiency | "
        "s/clip outside render (claim→finish − render) | "
        "s/clip per worker beyond render (claim→next claim − render) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        speedup = row.per_hour / base if base else float("nan")
        print(
            f"| {row.workers} | {row.clips} | {row.wall_s:.1f} | {row.per_hour:.0f} | {speedup:.2f}× | "
            f"{speedup / row.workers:.0%} | {row.outside_render_s:.2f} | {row.worker_gap_s:.2f} |"
        )
    print(
        "\n| workers | backlog | ended done | not done | rendered twice | finishes / done rows | "
        "re-queued (lease ran out) | kept renders encoded | clips per worker, min–max | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        finishes, done = row.finished_vs_done
        spread = f"{row.per_worker[0]}–{row.per_worker[-1]}" if row.per_worker else "-"
        missing = ", ".join(f"{n} {state}" for state, n in sorted(row.not_done.items())) or "0"
        print(
            f"| {row.workers} | {row.backlog} | {done} | {missing} | {row.rendered_twice} | "
            f"{finishes} / {done} | {row.requeued} | {row.kept} | {spread} | {'; '.join(row.errors) or '-'} |"
        )
    bad = [
        r
        for r in rows
        if r.not_done or r.rendered_twice or r.finished_vs_done[0] != r.finished_vs_done[1] or r.errors
    ]
    print(
        "\nno job done twice, none lost: "
        + ("yes" if not bad else f"NO (worker counts {', '.join(str(r.workers) for r in bad)})")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,4,8", help="worker process counts, comma-separated")
    parser.add_argument("--render-s", type=float, default=2.0, help="the stand-in render's wall time")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="measured window per worker count (default 1)")
    length.add_argument("--clips", type=int, help="a fixed backlog per worker count, timed until done")
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database (default: a throwaway cluster)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    window_s = None if args.clips is not None else (args.minutes or 1.0) * 60
    load = os.getloadavg()
    cluster = None
    if args.pg:
        urls = [args.pg] * len(counts)
        note = f"PostgreSQL {args.pg.split('@')[-1]}"
    else:
        from tests.store.conftest import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        asyncio.run(cluster.create_template())
        urls = [asyncio.run(cluster.fresh_database()) for _ in counts]
        note = "throwaway local PostgreSQL"
    rows: list[Row] = []
    try:
        for url, n in zip(urls, counts, strict=True):
            row = measure(url, n, args.render_s, window_s, args.clips)
            print(
                f"{n} workers: {row.clips} clips in {row.wall_s:.1f} s, {row.per_hour:.0f} clips/h",
                file=sys.stderr,
                flush=True,
            )
            rows.append(row)
    finally:
        if cluster is not None:
            cluster.stop()
    report(rows, args.render_s, note, load)


if __name__ == "__main__":
    main()
