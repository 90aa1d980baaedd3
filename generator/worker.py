"""The GPU worker: claim fairly, render with progress, encode, store, finish; then the next job.

Reads top to bottom like a pipeline call: ``run`` claims a job, ``render_job`` runs the warm pipeline in
a thread while a heartbeat task renews the lease and writes progress about once a second, and
``deliver`` encodes and stores the clip. Delivery runs alongside the next job's render, so the GPU does
not wait for ffmpeg or the database. On SIGTERM the worker stops claiming, hands a half-rendered job back
to the queue (another worker takes it at once) and lets the previous clip's delivery finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from db.presets import PresetCatalog
from db.spec import RenderPlan, SpecError, resolve_spec
from db.store import Job, JobResult, JobStore
from generator.clipio import ClipError
from generator.encode import DISCORD_DEFAULT_LIMIT, EncodedClip, EncodeError, encode_mp4, write_poster
from generator.extend import extend_clip
from generator.loader import PipelineCache
from generator.render import Conditioning, RenderCancelled, RenderFailed, RenderOutput, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    models: tuple[str, ...]
    lease_s: float = 60.0
    progress_interval_s: float = 1.0
    idle_wait_s: float = 5.0
    max_bytes: int = DISCORD_DEFAULT_LIMIT
    overlap: bool = True  # encode and store a clip while the next one renders
    note: str = ""  # why it serves what it serves, for the registry (generator.availability)


def default_worker_id(device: str) -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{device.replace(':', '')}"


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
        self.cancel = threading.Event()

    def update(self, step: int, total: int) -> None:
        self.step, self.total = step, total


class Worker:
    def __init__(
        self, store: JobStore, catalog: PresetCatalog, cache: PipelineCache, config: WorkerConfig
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.cache = cache
        self.config = config
        self.completed = 0  # clips delivered by this worker
        self.render_seconds = 0.0  # time the pipeline was running: the GPU's busy time

    # ---- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, max_jobs: int | None = None) -> None:
        """Serve jobs until ``stop`` is set (or ``max_jobs`` were taken)."""
        cfg = self.config
        gpu = str(self.cache.device)
        # `videobot worker` registered as "starting" before loading (keeping its start time); others now
        if not await self.store.set_worker_state(cfg.worker_id, "ready", cfg.note):
            await self.store.register_worker(
                cfg.worker_id, socket.gethostname(), gpu, list(cfg.models), note=cfg.note
            )
        delivering: asyncio.Task[None] | None = None
        taken = 0
        try:
            while not stop.is_set() and (max_jobs is None or taken < max_jobs):
                job = await self.store.claim_next(cfg.worker_id, cfg.models, cfg.lease_s)
                if job is None:
                    await self.store.worker_heartbeat(cfg.worker_id)
                    await self._idle(stop)
                    continue
                taken += 1
                output = await self.render_job(job, stop)
                if output is None:
                    continue
                if delivering is not None:
                    await delivering  # at most one clip waits for encoding: memory stays bounded
                delivering = asyncio.create_task(self.deliver(job, output))
                if not cfg.overlap:
                    await delivering
        finally:
            if delivering is not None:
                await delivering
            with contextlib.suppress(Exception):
                await self.store.unregister_worker(cfg.worker_id)

    async def _idle(self, stop: asyncio.Event) -> None:
        waiter = asyncio.create_task(self.store.wait_for_work(self.config.idle_wait_s))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()
        await asyncio.gather(waiter, stopper, return_exceptions=True)

    # ---- one job ----------------------------------------------------------------------------------

    def plan_for(self, job: Job) -> RenderPlan:
        return resolve_spec(job.spec, self.catalog)

    async def _keep_alive(self, job: Job, progress: _Progress, stop: asyncio.Event | None) -> None:
        """Renew the lease and write progress every interval; raise the cancel flag when the store says
        the job is no longer ours (cancelled, or the lease was lost), or when the worker is stopping."""
        cfg = self.config
        while True:
            if stop is not None and stop.is_set():
                progress.cancel.set()
            try:
                alive = await self.store.heartbeat(
                    job.id, cfg.worker_id, step=progress.step, total_steps=progress.total, lease_s=cfg.lease_s
                )
            except Exception:  # a database hiccup: the lease has time to spare, try again next tick
                log.exception("heartbeat for job %s failed", job.id)
                alive = True
            if not alive:
                progress.cancel.set()
                return
            await asyncio.sleep(cfg.progress_interval_s)

    async def render_job(self, job: Job, stop: asyncio.Event) -> RenderOutput | None:
        """Render ``job``; None when it ended here (failed, cancelled or handed back)."""
        cfg = self.config
        try:
            plan = self.plan_for(job)
        except SpecError as exc:
            await self.store.fail(job.id, cfg.worker_id, exc.code, params=exc.params)
            return None
        progress = _Progress(plan.spec.steps or 0)
        beat = asyncio.create_task(self._keep_alive(job, progress, stop))
        started = time.perf_counter()
        try:
            if plan.spec.continues is not None:
                await self.extend_job(job, plan, progress)
                return None
            condition = await self.conditioning_for(plan)
            return await asyncio.to_thread(
                render, plan, progress.update, progress.cancel.is_set, cache=self.cache, condition=condition
            )
        except InputMissing as exc:
            await self.store.fail(job.id, cfg.worker_id, exc.code, params=exc.params)
            return None
        except ClipError:
            log.warning("job %s: the clip to continue cannot be read", job.id, exc_info=True)
            await self.store.fail(job.id, cfg.worker_id, "parent_unreadable")
            return None
        except EncodeError:
            log.warning("job %s could not be encoded", job.id, exc_info=True)
            await self.store.fail(job.id, cfg.worker_id, "encode_failed", params=self._limit())
            return None
        except RenderCancelled:
            if stop.is_set():
                await self.store.release(job.id, cfg.worker_id)
                log.info("job %s handed back to the queue: worker stopping", job.id)
            else:
                log.info("job %s stopped: cancelled", job.id)
            return None
        except RenderFailed as exc:
            await self.store.fail(
                job.id, cfg.worker_id, exc.code, params=exc.params, gpu_seconds=time.perf_counter() - started
            )
            return None
        except Exception:
            log.exception("job %s failed", job.id)
            await self.store.fail(
                job.id, cfg.worker_id, "worker_error", gpu_seconds=time.perf_counter() - started
            )
            return None
        finally:
            self.render_seconds += time.perf_counter() - started
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    def _limit(self) -> dict[str, str]:
        return {"limit_mib": f"{self.config.max_bytes / 1024**2:g}"}

    async def conditioning_for(self, plan: RenderPlan) -> Conditioning | None:
        """The member's picture, when the clip starts from one."""
        ref = plan.spec.image_ref
        if ref is None:
            return None
        data = await self.store.get_input(ref)
        if data is None:
            raise InputMissing("input_missing")
        return Conditioning(image=await asyncio.to_thread(decode_picture, data))

    async def extend_job(self, job: Job, plan: RenderPlan, progress: _Progress) -> None:
        """Continue the parent clip, stitch parent + continuation (sound too), store and finish. The
        whole clip is re-encoded here, not overlapped with the next render: it needs the parent's
        frames, which are released as soon as it is stored."""
        parent_id = plan.spec.continues
        assert parent_id is not None
        media = await self.store.get_media(parent_id)
        if media is None:
            raise InputMissing("parent_missing", job=parent_id)
        with tempfile.TemporaryDirectory(prefix=f"videobot-{job.id}-") as tmp:
            parent_path, out_path = Path(tmp) / "parent.mp4", Path(tmp) / "clip.mp4"
            await asyncio.to_thread(parent_path.write_bytes, media.video)
            del media
            extended = await asyncio.to_thread(
                extend_clip,
                parent_path,
                plan,
                out_path,
                self.config.max_bytes,
                cache=self.cache,
                catalog=self.catalog,
                on_progress=progress.update,
                should_cancel=progress.cancel.is_set,
            )
            progress.update(progress.total, progress.total)  # rendered: the status says "encoding"
            media_ref = await self.store.put_media(job.id, await asyncio.to_thread(out_path.read_bytes), b"")
        await self._finish(job, media_ref, extended.clip, extended.render_seconds)

    async def _finish(self, job: Job, media_ref: str, clip: EncodedClip, gpu_seconds: float) -> None:
        result = JobResult(
            media_ref=media_ref,
            video_bytes=clip.bytes,
            width=clip.width,
            height=clip.height,
            frames=clip.frames,
            fps=float(clip.fps),
            gpu_seconds=gpu_seconds,
        )
        if await self.store.finish(job.id, self.config.worker_id, result):
            self.completed += 1
        else:  # cancelled while encoding (or the lease went to another worker, which keeps its clip)
            now = await self.store.get(job.id)
            if now is not None and now.state == "cancelled":
                await self.store.delete_media(job.id)

    async def deliver(self, job: Job, output: RenderOutput) -> None:
        """Encode the frames, store mp4 and poster, and mark the job done (keeping its lease alive)."""
        cfg = self.config
        progress = _Progress(output.plan.spec.steps or 0)
        progress.step = progress.total
        beat = asyncio.create_task(self._keep_alive(job, progress, None))
        try:
            with tempfile.TemporaryDirectory(prefix=f"videobot-{job.id}-") as tmp:
                video_path, poster_path = Path(tmp) / "clip.mp4", Path(tmp) / "poster.png"
                try:
                    clip = await asyncio.to_thread(
                        encode_mp4,
                        output.frames,
                        output.fps,
                        video_path,
                        cfg.max_bytes,
                        audio=output.audio,
                        sample_rate=output.sample_rate,
                    )
                    await asyncio.to_thread(write_poster, output.frames, poster_path)
                except EncodeError:
                    log.warning("job %s could not be encoded", job.id, exc_info=True)
                    await self.store.fail(job.id, cfg.worker_id, "encode_failed", params=self._limit())
                    return
                media_ref = await self.store.put_media(
                    job.id, video_path.read_bytes(), poster_path.read_bytes()
                )
            await self._finish(job, media_ref, clip, output.seconds)
        except Exception:
            log.exception("delivering job %s failed", job.id)
            with contextlib.suppress(Exception):
                await self.store.fail(job.id, cfg.worker_id, "store_failed")
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
