"""The GPU worker: claim fairly, render with progress, encode, store, finish; then the next job.

Reads top to bottom like a pipeline call: ``run`` claims a job, ``render_job`` runs the warm pipeline in
a thread while a heartbeat task renews the lease and writes progress about once a second, and
``deliver`` encodes and stores the clip. Delivery runs alongside the next job's render, so the GPU does
not wait for ffmpeg or the database. On SIGTERM the worker stops claiming, hands a half-rendered job back
to the queue (another worker takes it at once) and lets the previous clip's delivery finish.

What survives what: every store call is retried with capped, jittered back-off while the database is
away (one warning when an outage starts, one line when it ends), and a rendered clip is kept in memory
until it is stored, so a database restart costs no render. Leases are short (10 s, renewed every
second); a worker that dies is released at once by its supervisor or by its successor on the host.
A worker whose own host keeps failing jobs (disk full, no permission, weights missing) pauses instead
of failing the whole queue, and tries again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import io
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from db.credentials import clip_ingredients, post_reserve
from db.presets import PresetCatalog
from db.spec import JobSpec, RenderPlan, SpecError, resolve_spec
from db.store import Job, JobResult, Segments, Store
from db.waiting import wait_event
from generator import spool
from generator.bridge import bridge_clips
from generator.clipio import ClipError
from generator.encode import EncodedClip, EncodeError, encode_mp4, write_poster
from generator.extend import extend_clip
from generator.hd import hd_clip
from generator.join import Segment
from generator.loader import PipelineCache
from generator.metrics import WorkerMetrics
from generator.processes import pid_alive, pid_space
from generator.render import (
    Conditioning,
    DraftLatents,
    RenderCancelled,
    RenderFailed,
    RenderOutput,
    render,
)
from generator.segments import clip_segments, joined_segments, own_part, sources
from generator.styles import StyleError

log = logging.getLogger(__name__)

T = TypeVar("T")

# drafts whose latents a worker keeps for their HD versions (a 10-s LTX-2 draft's are about 2 MB)
DRAFTS_KEPT = 32
TEMP_PREFIX = "videobot-"  # + "<pid>-<job>-": a successor removes the folders of a dead worker
_TEMP_DIR = re.compile(r"^videobot-(\d+)-\d+-")
# an OSError with one of these is this host's fault (disk full, no permission, a path that is a
# file), not a database that is away: retrying will not help, pausing may
HOST_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR}
)
HOST_FAULT_CODES = frozenset({"model_unavailable", "store_failed", "encode_failed", "host_error"})
_BUGS = (TypeError, ValueError, KeyError, AttributeError, AssertionError, NotImplementedError)


def clip_limit(spec: JobSpec, ceiling: int | None) -> int:
    """The bytes a job's clip may have: the upload limit of the server it was asked on (recorded by the
    bot), else Discord's floor; never more than the operator's ``ceiling`` (``--max-bytes``)."""
    limit = spec.post_limit
    return limit if ceiling is None else min(limit, ceiling)


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    models: tuple[str, ...]
    lease_s: float = 10.0  # renewed every progress_interval_s: a dead worker's job is free within seconds
    progress_interval_s: float = 1.0
    idle_wait_s: float = 5.0
    max_bytes: int | None = None  # the operator's ceiling on a clip's size; None: each server's limit
    overlap: bool = True  # encode and store a clip while the next one renders
    note: str = ""  # why it serves what it serves, for the registry (generator.availability)
    retry_first_s: float = 0.2  # back-off of store calls while the database is away …
    retry_max_s: float = 10.0  # … capped here, jittered, and never given up while not stopping
    stop_grace_s: float = 30.0  # stopping: how long a store call still waits for the database
    call_timeout_s: float = 60.0  # one store call that hangs longer counts as failed
    registry_beat_s: float = 15.0  # the registry row stays fresh while a long render runs
    pause_after_failures: int = 3  # this many jobs in a row failed for a reason of this host: pause
    pause_s: float = 60.0  # then try again after this long
    spool_dir: str | None = None  # finished renders wait here for their clip to be stored (generator.spool)
    disk_full_wait_s: float = 600.0  # how long an encode waits for space on a full temp disk


def default_worker_id(device: str) -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{device.replace(':', '')}"


def remove_leftovers(directory: str | Path | None = None) -> list[Path]:
    """Remove the temp folders (frames, ``.*.part.mp4`` files) that workers which died left in
    ``directory`` (the system's temp folder): only those whose owning process is gone. What went."""
    root = Path(directory or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_DIR.match(entry.name)
        if not match or not entry.is_dir() or pid_alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def is_host_fault(exc: BaseException) -> bool:
    """An OSError this host causes (disk full, no permission …), as opposed to a database away."""
    return isinstance(exc, OSError) and exc.errno in HOST_ERRNOS


def is_transient(exc: BaseException) -> bool:
    """Whether a failed store call is worth retrying: the database or the network is away. Not for
    this host's own faults, nor for a bug in the call itself."""
    return not is_host_fault(exc) and not isinstance(exc, _BUGS)


class _Outage:
    """Says once that the store is unreachable and once that it is back, however many tries between."""

    def __init__(self) -> None:
        self.since: float | None = None

    def failed(self, what: str, exc: BaseException | None) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("job store unreachable (%s: %r); waiting it out, keeping the work in hand", what, exc)

    def ok(self) -> bool:
        """The store answered; True when that ends an outage."""
        if self.since is None:
            return False
        log.warning("job store reachable again after %.1f s", time.monotonic() - self.since)
        self.since = None
        return True


@dataclass(frozen=True)
class StoredClip:
    """A stored clip a job is made from, written to ``path``; ``originals``: where its frames were first
    encoded, as stretches of files beside it (empty: ``path`` itself)."""

    job: Job
    path: Path
    originals: tuple[Segment, ...]


# what a job made from stored clips gives: its clip, the seconds of its render, where its frames were
# first encoded (None: all its own)
Made = tuple[EncodedClip, float, Segments | None]


class InputMissing(Exception):
    """What the job starts from is not in the media store (a picture, or the clip it continues)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def decode_picture(data: bytes) -> np.ndarray:
    """A member's stored picture as uint8 RGB (h, w, 3); the bot checked it before queueing."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


class _Progress:
    """The render thread writes the step; the heartbeat task reads it and may raise the cancel flag."""

    def __init__(self, total: int) -> None:
        self.step = 0
        self.total = total
        self.rendered = False  # the render is done: a death from now on does not count against the job
        self.cancel = threading.Event()

    def update(self, step: int, total: int) -> None:
        self.step, self.total = step, total


class _Beat:
    """A job's heartbeat task (:meth:`Worker._keep_alive`), beside the render, encode or wait that
    holds the job. It is stopped by a flag as well as by cancelling it: on Python 3.11 a cancel can
    be lost (:mod:`db.waiting` says where), and a beat that never stops renews the lease for ever, so
    nobody else may take the job while this worker waits for the beat to end."""

    def __init__(self, keep_alive: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        self.halt = asyncio.Event()
        self.task: asyncio.Task[None] = asyncio.create_task(keep_alive(self.halt))

    async def stop(self) -> None:
        self.halt.set()
        self.task.cancel()
        await asyncio.wait({self.task})  # the beat's end; a cancel of the caller still reaches the caller


class Worker:
    def __init__(
        self, store: Store, catalog: PresetCatalog, cache: PipelineCache, config: WorkerConfig
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.cache = cache
        self.config = config
        self.completed = 0  # clips delivered by this worker
        self.render_seconds = 0.0  # time the pipeline was running: the GPU's busy time
        self.host_failures = 0  # jobs failed in a row for a reason of this host
        self.host_fault = ""  # the last of those reasons
        self._outage = _Outage()
        self._stop: asyncio.Event | None = None
        self.spool = Path(config.spool_dir) if config.spool_dir else spool.spool_dir()
        self.renders_kept = 0  # jobs whose render a dead worker left on disk: encoded, not rendered again
        self.drafts: OrderedDict[int, DraftLatents] = OrderedDict()  # by job id, for their HD versions
        self.metrics: WorkerMetrics | None = None  # Prometheus counters (`--metrics-port`), if served

    # ---- the store, waited for --------------------------------------------------------------------

    def _give_up(self, state: RetryCallState) -> bool:
        stopping = self._stop is not None and self._stop.is_set()
        return stopping and (state.seconds_since_start or 0.0) >= self.config.stop_grace_s

    async def _persist(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` until it succeeds: while the database is away, with capped, jittered exponential
        back-off and no give-up unless the worker is stopping. This host's own faults are raised."""
        cfg = self.config

        def note(state: RetryCallState) -> None:
            self._outage.failed(what, state.outcome.exception() if state.outcome else None)

        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_random_exponential(multiplier=cfg.retry_first_s, max=cfg.retry_max_s),
            stop=self._give_up,
            before_sleep=note,
            reraise=True,
        ):
            with attempt:
                async with asyncio.timeout(cfg.call_timeout_s):  # not wait_for: see db.waiting
                    result = await call()
        if self._outage.ok() and what != "worker heartbeat":
            # the registry row went stale while the database was away: the bot would tell members
            # no worker is online, so it is renewed at once rather than at the next idle moment
            with contextlib.suppress(Exception):
                await self.store.workers.worker_heartbeat(cfg.worker_id)
        return result

    async def _fail(
        self,
        job: Job,
        code: str,
        *,
        params: dict[str, Any] | None = None,
        gpu_seconds: float | None = None,
        host_fault: bool = False,
    ) -> None:
        """End ``job`` as failed, waiting out an outage; count it when this host is to blame."""
        wid = self.config.worker_id
        await self._persist(
            "fail", lambda: self.store.jobs.fail(job.id, wid, code, params=params, gpu_seconds=gpu_seconds)
        )
        if self.metrics is not None:
            self.metrics.job_failed(job, code, gpu_seconds)
        if host_fault:
            self.host_failures += 1
            self.host_fault = f"{code} on job {job.id}"
        else:
            self.host_failures = 0

    async def _pause_if_host_is_failing(self, stop: asyncio.Event) -> None:
        """Several jobs in a row failed for a reason of this host: stop claiming for a while (the
        others stay queued for healthier workers), say why in the registry, then try again."""
        cfg = self.config
        if self.host_failures < cfg.pause_after_failures:
            return
        why = f"paused: {self.host_failures} jobs in a row failed here (last: {self.host_fault})"
        log.warning("%s; claiming again in %g s", why, cfg.pause_s)
        await self._persist(
            "pause", lambda: self.store.workers.set_worker_state(cfg.worker_id, "paused", why)
        )
        await wait_event(stop, cfg.pause_s)
        self.host_failures = 0
        if not stop.is_set():
            await self._persist(
                "resume", lambda: self.store.workers.set_worker_state(cfg.worker_id, "ready", cfg.note)
            )

    async def _release_dead_predecessors(self) -> None:
        """Workers of this host whose process is gone (killed, crashed): their jobs back at once. Only
        rows from this process namespace count: a pid read on another machine of the same host name
        (or in another container) says nothing here."""
        host, space = socket.gethostname(), pid_space()
        for info in await self._persist("workers", lambda: self.store.workers.workers_on_host(host)):
            if info.worker_id == self.config.worker_id or info.pid is None or info.pid == os.getpid():
                continue
            if space is None or info.pid_space != space:
                continue
            if not pid_alive(info.pid):
                released = await self.store.jobs.release_dead_worker(info.worker_id)
                log.warning("worker %s is gone; its jobs %s went back to the queue", info.worker_id, released)

    async def _discard_ended_renders(self) -> None:
        """Kept renders of jobs that ended meanwhile (finished elsewhere, cancelled) are not needed."""
        for job_id, key, path in await asyncio.to_thread(spool.kept_jobs, self.spool):
            job = await self.store.jobs.get(job_id)
            if job is not None and job.state not in ("queued", "running") and key == _key(job):
                path.unlink(missing_ok=True)

    # ---- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, max_jobs: int | None = None) -> None:
        """Serve jobs until ``stop`` is set (or ``max_jobs`` were taken)."""
        cfg = self.config
        self._stop = stop
        gpu = str(self.cache.device)
        await asyncio.to_thread(remove_leftovers)
        await asyncio.to_thread(spool.remove_stale, self.spool)
        # `videobot worker` registered as "starting" before loading (keeping its start time); others now
        if not await self._persist(
            "register", lambda: self.store.workers.set_worker_state(cfg.worker_id, "ready", cfg.note)
        ):
            await self._persist(
                "register",
                lambda: self.store.workers.register_worker(
                    cfg.worker_id,
                    socket.gethostname(),
                    gpu,
                    list(cfg.models),
                    note=cfg.note,
                    pid=os.getpid(),
                    pid_space=pid_space(),
                ),
            )
        with contextlib.suppress(Exception):  # best effort: their leases run out anyway
            await self._release_dead_predecessors()
        with contextlib.suppress(Exception):  # best effort: a day later they go anyway
            await self._discard_ended_renders()
        delivering: asyncio.Task[None] | None = None
        taken = 0
        try:
            while not stop.is_set() and (max_jobs is None or taken < max_jobs):
                if self.host_failures + 1 >= cfg.pause_after_failures and delivering is not None:
                    await delivering  # one more failure would pause: know how the last clip went first
                await self._pause_if_host_is_failing(stop)
                if stop.is_set():
                    break
                job = await self._persist(
                    "claim", lambda: self.store.jobs.claim_next(cfg.worker_id, cfg.models, cfg.lease_s)
                )
                if job is None:
                    await self._persist(
                        "worker heartbeat", lambda: self.store.workers.worker_heartbeat(cfg.worker_id)
                    )
                    await self._idle(stop)
                    continue
                taken += 1
                if self.metrics is not None:
                    self.metrics.job_claimed(job)
                output = await self.render_job(job, stop)
                if output is None:
                    continue
                if delivering is not None:  # at most one clip waits for encoding: memory stays bounded
                    await self._holding(job, output, delivering)
                delivering = asyncio.create_task(self.deliver(job, output))
                if not cfg.overlap:
                    await delivering
        finally:
            if delivering is not None:
                await delivering
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self.store.workers.unregister_worker(cfg.worker_id)

    async def _idle(self, stop: asyncio.Event) -> None:
        waiter = asyncio.create_task(self.store.jobs.wait_for_work(self.config.idle_wait_s))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()
        await asyncio.gather(waiter, stopper, return_exceptions=True)

    # ---- one job ----------------------------------------------------------------------------------

    def plan_for(self, job: Job) -> RenderPlan:
        return resolve_spec(job.spec, self.catalog, locale=job.locale)  # the locale: its AI mark's words

    def _beat(self, job: Job, progress: _Progress, stop: asyncio.Event | None) -> _Beat:
        return _Beat(lambda halt: self._keep_alive(job, progress, stop, halt))

    async def _keep_alive(
        self, job: Job, progress: _Progress, stop: asyncio.Event | None, halt: asyncio.Event
    ) -> None:
        """Renew the lease and write progress every interval; raise the cancel flag when the store says
        the job is no longer ours (cancelled, or the lease was lost), or when the worker is stopping.
        While the database is away the render goes on: each tick is a try, and the outage is logged
        once; the registry row is renewed too, now and then."""
        cfg = self.config
        registry_due = time.monotonic() + cfg.registry_beat_s
        while not halt.is_set():
            if stop is not None and stop.is_set():
                progress.cancel.set()
            try:
                async with asyncio.timeout(max(cfg.progress_interval_s, cfg.lease_s / 2)):
                    alive = await self.store.jobs.heartbeat(
                        job.id,
                        cfg.worker_id,
                        step=progress.step,
                        total_steps=progress.total,
                        lease_s=cfg.lease_s,
                        rendered=progress.rendered,
                    )
                if time.monotonic() >= registry_due:
                    registry_due = time.monotonic() + cfg.registry_beat_s
                    await self.store.workers.worker_heartbeat(cfg.worker_id)
            except Exception as exc:  # the database is away: the render goes on, the next tick tries again
                if is_transient(exc):
                    self._outage.failed("heartbeat", exc)
                else:
                    log.exception("heartbeat for job %s failed", job.id)
                alive = True
            else:
                self._outage.ok()
            if not alive:
                progress.cancel.set()
                return
            await wait_event(halt, cfg.progress_interval_s)

    async def render_job(self, job: Job, stop: asyncio.Event) -> RenderOutput | None:
        """Render ``job``; None when it ended here (failed, cancelled or handed back)."""
        cfg = self.config
        try:
            plan = self.plan_for(job)
        except SpecError as exc:
            await self._fail(job, exc.code, params=exc.params)
            return None
        progress = _Progress(plan.spec.steps or 0)
        beat = self._beat(job, progress, stop)
        started = time.perf_counter()
        try:
            if plan.spec.bridges_to is not None:  # before extend: a bridge continues a clip too
                await self.bridge_job(job, plan, progress)
                return None
            if plan.spec.continues is not None:
                await self.extend_job(job, plan, progress)
                return None
            if plan.spec.upscales is not None:
                await self.hd_job(job, plan, progress)
                return None
            kept = await asyncio.to_thread(spool.take, self.spool, job.id, _key(job), plan)
            if kept is not None:
                self.renders_kept += 1
                log.info("job %s: its render was kept when a worker died; encoding it, not rendering", job.id)
                return RenderOutput(kept.frames, plan, kept.seconds, kept.audio, kept.sample_rate)
            condition = await self.conditioning_for(plan)
            log.info("job %s: rendering %s", job.id, plan.preset.name)
            output = await asyncio.to_thread(
                render, plan, progress.update, progress.cancel.is_set, cache=self.cache, condition=condition
            )
            if output.latents is not None:
                self.keep_draft(job.id, output.latents)
            return output
        except SpecError as exc:  # a draft too long for HD
            await self._fail(job, exc.code, params=exc.params)
            return None
        except InputMissing as exc:
            await self._fail(job, exc.code, params=exc.params)
            return None
        except ClipError:
            log.warning("job %s: a clip it is made from cannot be read", job.id, exc_info=True)
            await self._fail(job, "parent_unreadable")
            return None
        except EncodeError as exc:
            log.warning("job %s could not be encoded", job.id, exc_info=True)
            await self._fail(job, "encode_failed", params=self._limit(job), host_fault=_caused_by_host(exc))
            return None
        except RenderCancelled:
            if stop.is_set():
                await self._persist("release", lambda: self.store.jobs.release(job.id, cfg.worker_id))
                log.info("job %s handed back to the queue: worker stopping", job.id)
            else:
                log.info("job %s stopped: cancelled", job.id)
            return None
        except StyleError as exc:  # the member's style: the worker goes on, the style is marked broken
            log.warning("job %s: %s", job.id, exc)
            await self._fail(job, exc.code, params=exc.params, gpu_seconds=time.perf_counter() - started)
            style, code, params = job.spec.style, exc.code, exc.params
            if style is not None and exc.lasting:  # not for a hub that is away for a moment
                await self._persist("mark_broken", lambda: self.store.styles.mark_broken(style, code, params))
            return None
        except RenderFailed as exc:
            await self._fail(
                job,
                exc.code,
                params=exc.params,
                gpu_seconds=time.perf_counter() - started,
                host_fault=exc.code in HOST_FAULT_CODES,
            )
            return None
        except Exception as exc:
            log.exception("job %s failed", job.id)
            await self._fail(
                job,
                "worker_error",
                gpu_seconds=time.perf_counter() - started,
                host_fault=_caused_by_host(exc),
            )
            return None
        finally:
            self.render_seconds += time.perf_counter() - started
            await beat.stop()

    async def clip_bytes(self, job: Job) -> int:
        """The bytes this job's clip may have: its limit (:func:`clip_limit`) less the room of the content
        credentials its bot signs in when it posts it (db.credentials.post_reserve: the claim and chain,
        each parent clip it names with that clip's own manifest, each picture)."""
        parents = []
        for clip_id, _ in clip_ingredients(job.kind, job.parent_id, job.spec.bridges_to):
            row = await self._persist("get", functools.partial(self.store.jobs.get, clip_id))
            parents.append((row.manifest_bytes or 0) if row is not None else 0)
        pictures = sum(ref is not None for ref in (job.spec.image_ref, job.spec.end_image_ref))
        return clip_limit(job.spec, self.config.max_bytes) - post_reserve(parents, pictures)

    def _limit(self, job: Job) -> dict[str, str]:
        return {"limit_mib": f"{clip_limit(job.spec, self.config.max_bytes) / 1024**2:g}"}

    async def conditioning_for(self, plan: RenderPlan) -> Conditioning | None:
        """The member's pictures, when the clip starts or ends on one, and whether it loops; None for a
        clip from text alone. A picture no longer stored fails the job ("input_missing", or
        "end_input_missing" for the last frame's)."""
        spec = plan.spec

        async def picture(ref: str | None, missing: str) -> np.ndarray | None:
            if ref is None:
                return None
            data = await self._persist("get_input", lambda: self.store.jobs.get_input(ref))
            if data is None:
                raise InputMissing(missing)
            return await asyncio.to_thread(decode_picture, data)

        first = await picture(spec.image_ref, "input_missing")
        last = await picture(spec.end_image_ref, "end_input_missing")
        if first is None and last is None and not spec.loop:
            return None
        return Conditioning(image=first, end_image=last, loop=spec.loop)

    def _rendering(self, progress: _Progress) -> dict[str, Any]:
        """What a render from stored clips (extend, bridge, HD) is called with: this worker's warm
        pipelines and presets, and the job's progress and cancel flag."""
        return {
            "cache": self.cache,
            "catalog": self.catalog,
            "on_progress": progress.update,
            "should_cancel": progress.cancel.is_set,
        }

    async def extend_job(self, job: Job, plan: RenderPlan, progress: _Progress) -> None:
        """Continue the parent clip and join parent + continuation (sound too; the parent's stream
        copied where it fits, else the whole encoded once from its first encodes), store and finish."""
        parent_id = plan.spec.continues
        assert parent_id is not None
        condition = await self.conditioning_for(plan)  # a scene that ends on its proposer's picture
        end_image = condition.end_image if condition is not None else None
        limit = await self.clip_bytes(job)

        def extend(clips: Sequence[StoredClip], out: Path) -> Made:
            (parent,) = clips
            done = extend_clip(
                parent.path,
                plan,
                out,
                limit,
                **self._rendering(progress),
                end_image=end_image,
                originals=parent.originals,
            )
            log.info("job %s: the parent's stream %s", job.id, "copied" if done.copied else "encoded again")
            where = joined_segments(
                [
                    clip_segments(parent_id, parent.job.segments, done.parent_frames),
                    own_part(job.id, done.parent_frames, done.new_frames),
                ]
            )
            return done.clip, done.render_seconds, where

        await self._from_clips(job, [(parent_id, "parent_missing")], progress, extend)

    async def bridge_job(self, job: Job, plan: RenderPlan, progress: _Progress) -> None:
        """Render the bridge from the clip it continues to the one it ends on (generator/bridge.py),
        join first clip + bridge + second clip (sound too; the clips' streams copied where they fit),
        store and finish."""
        first_id, second_id = plan.spec.continues, plan.spec.bridges_to
        assert first_id is not None and second_id is not None
        limit = await self.clip_bytes(job)

        def bridge(clips: Sequence[StoredClip], out: Path) -> Made:
            first, second = clips
            done = bridge_clips(
                first.path,
                second.path,
                plan,
                out,
                limit,
                **self._rendering(progress),
                first_originals=first.originals,
                second_originals=second.originals,
            )
            # the second clip encoded again at the first's size and rate is first encoded here
            second_copied = done.copied[1]
            own = done.bridge_frames + (0 if second_copied else done.second_frames)
            after = clip_segments(second_id, second.job.segments, done.second_frames) if second_copied else ()
            where = joined_segments(
                [
                    clip_segments(first_id, first.job.segments, done.first_frames),
                    own_part(job.id, done.first_frames, own),
                    after,
                ]
            )
            return done.clip, done.render_seconds, where

        inputs = [(first_id, "parent_missing"), (second_id, "bridge_end_missing")]
        await self._from_clips(job, inputs, progress, bridge)

    async def hd_job(self, job: Job, plan: RenderPlan, progress: _Progress) -> None:
        """Finish the draft in HD (generator/hd.py): from its latents when this worker rendered it and
        still keeps them, else from its frames; store and finish."""
        draft_id = plan.spec.upscales
        assert draft_id is not None
        latents = self.drafts.get(draft_id)
        limit = await self.clip_bytes(job)
        log.info("job %s: HD of #%s from its %s", job.id, draft_id, "latents" if latents else "frames")

        def finish_in_hd(clips: Sequence[StoredClip], out: Path) -> Made:
            done = hd_clip(
                clips[0].path,
                plan,
                out,
                limit,
                latents=latents,
                **self._rendering(progress),
            )
            return done.clip, done.render_seconds, None  # every frame is new: upsampled and refined

        await self._from_clips(job, [(draft_id, "parent_missing")], progress, finish_in_hd)

    def keep_draft(self, job_id: int, latents: DraftLatents) -> None:
        """Keep a draft's latents for its HD version, the last :data:`DRAFTS_KEPT` drafts."""
        self.drafts[job_id] = latents
        self.drafts.move_to_end(job_id)
        while len(self.drafts) > DRAFTS_KEPT:
            self.drafts.popitem(last=False)

    async def _from_clips(
        self,
        job: Job,
        inputs: Sequence[tuple[int, str]],
        progress: _Progress,
        make: Callable[[Sequence[StoredClip], Path], Made],
    ) -> None:
        """A clip made from stored ones (an extend, an HD version, a bridge): each input clip's mp4 to a
        file, in order, with the files that hold the first encodes of its frames; ``make(clips, out)`` in
        a thread, the result stored with its segments and the job finished. An input clip no longer
        stored fails the job with its code (``inputs``: clip id, failure code). Not overlapped with the
        next render: it holds the clips' frames, released as soon as it is stored."""
        with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-{job.id}-") as tmp:
            folder = Path(tmp)
            clips: list[StoredClip] = []
            files: dict[int, Path] = {}  # the clips fetched so far, by job id
            for n, (clip_id, missing) in enumerate(inputs):
                row = await self._persist("get", functools.partial(self.store.jobs.get, clip_id))
                get_media = functools.partial(self.store.jobs.get_media, clip_id)
                media = await self._persist("get_media", get_media)
                if row is None or media is None:
                    raise InputMissing(missing, job=clip_id)
                path = folder / f"input-{n}.mp4"
                await asyncio.to_thread(path.write_bytes, media.video)
                del media
                files.setdefault(clip_id, path)
                originals = await self._originals(row, path, folder, files)
                clips.append(StoredClip(row, path, originals))
            out_path = folder / "clip.mp4"
            clip, seconds, where = await asyncio.to_thread(make, clips, out_path)
            progress.update(progress.total, progress.total)  # rendered: the status says "encoding"
            progress.rendered = True
            video = await asyncio.to_thread(out_path.read_bytes)
        media_ref = await self._store_clip(job, video, b"")
        if media_ref is None:
            return
        await self._finish(job, media_ref, clip, seconds, segments=where)

    async def _originals(
        self, clip: Job, path: Path, folder: Path, files: dict[int, Path]
    ) -> tuple[Segment, ...]:
        """Where ``clip``'s frames (its file at ``path``) were first encoded, as stretches of files
        fetched into ``folder`` (``files``: those fetched already, by job id); empty when its own file is
        their first encode, or when one of those clips is no longer stored (then its own file is the best
        original there is)."""
        segments = clip_segments(clip.id, clip.segments, clip.frames or 0)
        others = sources(clip.id, segments)
        if not others:
            return ()
        for source in others:
            if source in files:
                continue
            media = await self._persist("get_media", functools.partial(self.store.jobs.get_media, source))
            if media is None:
                log.info("clip #%s: its frames' first encode (#%s) is gone; using its own", clip.id, source)
                return ()
            files[source] = folder / f"original-{source}.mp4"
            await asyncio.to_thread(files[source].write_bytes, media.video)
        where = {**files, clip.id: path}
        return tuple(Segment(where[source], start, count) for source, start, count in segments)

    async def _store_clip(self, job: Job, video: bytes, poster: bytes) -> str | None:
        """The clip stored while this worker still holds the job; None when it no longer does (its
        lease ran out while the database was unreachable and another worker took it, or it was
        cancelled): then nothing is stored over what the job has now."""
        wid = self.config.worker_id
        ref = await self._persist(
            "put_media", lambda: self.store.jobs.put_media(job.id, video, poster, worker_id=wid)
        )
        if ref is None:
            log.warning("job %s is no longer this worker's; its clip is not stored", job.id)
        return ref

    async def _finish(
        self,
        job: Job,
        media_ref: str,
        clip: EncodedClip,
        gpu_seconds: float,
        enhanced: str | None = None,
        segments: Segments | None = None,
    ) -> None:
        result = JobResult(
            media_ref=media_ref,
            video_bytes=clip.bytes,
            width=clip.width,
            height=clip.height,
            frames=clip.frames,
            fps=float(clip.fps),
            gpu_seconds=gpu_seconds,
            enhanced_prompt=enhanced,  # the prompt as the model's enhancer rewrote it and it was rendered
            segments=segments,  # a joined clip: where its frames were first encoded
        )
        if await self._persist(
            "finish", lambda: self.store.jobs.finish(job.id, self.config.worker_id, result)
        ):
            self.completed += 1
            if self.metrics is not None:
                self.metrics.job_done(job, gpu_seconds)
            self.host_failures = 0
        else:  # cancelled while encoding (or the lease went to another worker, which keeps its clip)
            now = await self._persist("get", lambda: self.store.jobs.get(job.id))
            if now is not None and now.state == "cancelled":
                await self._persist("delete_media", lambda: self.store.jobs.delete_media(job.id))

    async def _holding(self, job: Job, output: RenderOutput, previous: asyncio.Task[None]) -> None:
        """Wait for the previous clip's delivery while renewing the lease of ``job``, rendered already."""
        progress = _Progress(output.plan.spec.steps or 0)
        progress.step, progress.rendered = progress.total, True
        beat = self._beat(job, progress, None)
        try:
            await previous
        finally:
            await beat.stop()

    async def deliver(self, job: Job, output: RenderOutput) -> None:
        """Encode the frames, store mp4 and poster, and mark the job done (keeping its lease alive,
        and the job marked rendered). The encoded clip stays in memory until the store has it, however
        long the database is away."""
        progress = _Progress(output.plan.spec.steps or 0)
        progress.step = progress.total
        progress.rendered = True
        beat = self._beat(job, progress, None)
        keeping = asyncio.create_task(self.keep_render(job, output))  # alongside the encode
        ended = False
        try:
            try:
                clip, video, poster = await self._encode(job, output)
            except (EncodeError, OSError) as exc:
                log.warning("job %s could not be encoded", job.id, exc_info=True)
                await self._fail(
                    job, "encode_failed", params=self._limit(job), host_fault=_caused_by_host(exc)
                )
                ended = True
                return
            media_ref = await self._store_clip(job, video, poster)
            if media_ref is None:
                ended = True  # another worker's (or cancelled): nothing of this render is needed
                return
            await self._finish(job, media_ref, clip, output.seconds, output.plan.spec.enhanced_prompt)
            ended = True
        except Exception as exc:
            log.exception("delivering job %s failed", job.id)
            with contextlib.suppress(Exception):
                await self._fail(job, "store_failed", host_fault=_caused_by_host(exc))
                ended = True
        finally:
            await beat.stop()
            await keeping
            if ended:  # else (stopped while the database was away) the next claim encodes what is kept
                await asyncio.to_thread(spool.discard, self.spool, job.id, _key(job))

    async def _encode(self, job: Job, output: RenderOutput) -> tuple[EncodedClip, bytes, bytes]:
        """The clip and its poster, encoded in a temp folder. While that folder's disk is full, the
        frames are kept and the encode is tried again with back-off (logged once), for at most
        ``disk_full_wait_s``; then, or on any other failure, the error is raised."""
        cfg = self.config
        limit = await self.clip_bytes(job)

        def attempt() -> tuple[EncodedClip, bytes, bytes]:
            with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-{job.id}-") as tmp:
                video_path, poster_path = Path(tmp) / "clip.mp4", Path(tmp) / "poster.png"
                clip = encode_mp4(
                    output.frames,
                    output.fps,
                    video_path,
                    limit,
                    audio=output.audio,
                    sample_rate=output.sample_rate,
                )
                write_poster(output.frames, poster_path)
                return clip, video_path.read_bytes(), poster_path.read_bytes()

        def full(state: RetryCallState) -> None:
            if state.attempt_number == 1:
                log.warning(
                    "job %s: the temp folder's disk is full; keeping the render and trying again", job.id
                )

        def give_up(state: RetryCallState) -> bool:
            stopping = self._stop is not None and self._stop.is_set()
            return stopping or (state.seconds_since_start or 0.0) >= cfg.disk_full_wait_s

        async for trying in AsyncRetrying(
            retry=retry_if_exception(temp_disk_full),
            wait=wait_random_exponential(multiplier=cfg.retry_first_s, max=cfg.retry_max_s),
            stop=give_up,
            before_sleep=full,
            reraise=True,
        ):
            with trying:
                return await asyncio.to_thread(attempt)
        raise AssertionError("unreachable: tenacity returns or raises")

    async def keep_render(self, job: Job, output: RenderOutput) -> None:
        """Put the finished render on disk, unless it came from there; never fails the job."""
        key = _key(job)
        if await asyncio.to_thread(spool.path_for(self.spool, job.id, key).exists):
            return
        with contextlib.suppress(Exception):
            await asyncio.to_thread(
                spool.keep,
                self.spool,
                job.id,
                key,
                output.frames,
                output.seconds,
                output.audio,
                output.sample_rate,
            )


FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
FULL_BELOW_BYTES = 16 * 1024 * 1024  # ffmpeg's ENOSPC reaches us as a broken pipe: look at the disk too


def temp_disk_full(exc: BaseException) -> bool:
    """The encode failed because the temp folder's disk is full (it may free up: wait), as opposed
    to a clip that cannot be encoded."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in FULL_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    if not isinstance(exc, (OSError, EncodeError)):
        return False
    try:
        return shutil.disk_usage(tempfile.gettempdir()).free < FULL_BELOW_BYTES
    except OSError:
        return False


def _key(job: Job) -> str:
    return spool.job_key(job.spec.to_json(), job.guild_id, job.created_at)


def _caused_by_host(exc: BaseException) -> bool:
    """``exc`` or what caused it is an OSError of this host (disk full, no permission …)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
