"""A GPU worker's Prometheus metrics (served by :mod:`videobot.metrics` on ``--metrics-port``).

``videobot_job_wait_seconds{model}``: from queued to claimed, per job this worker claimed;
``videobot_job_render_seconds{model}``: the pipeline's time for each clip it finished;
``videobot_gpu_seconds_total{guild_id}``: GPU time spent for each server, failed renders included;
``videobot_worker_jobs_done_total{model}`` and ``videobot_worker_jobs_failed_total{reason}`` (a code
of :mod:`db.failures`). Counted as they happen in this process, so a restart starts from zero, as
Prometheus counters expect. No torch, no discord here.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from db.store import Job

# waits run from a second (an idle GPU) to an hour (a busy evening); renders from under a second
# (a tiny model on a CPU) to many minutes (a 14B model at 720p)
WAIT_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
RENDER_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)


def wait_seconds(job: Job) -> float | None:
    """How long a claimed job waited in the queue (None before it was claimed)."""
    if job.started_at is None:
        return None
    return max(0.0, job.started_at - job.created_at)


class WorkerMetrics:
    """The counters of one worker process, on a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.wait = Histogram(
            "videobot_job_wait_seconds",
            "Seconds a job waited in the queue before this worker claimed it",
            ["model"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.render = Histogram(
            "videobot_job_render_seconds",
            "Seconds the pipeline rendered each clip this worker finished",
            ["model"],
            buckets=RENDER_BUCKETS,
            registry=self.registry,
        )
        self.gpu = Counter(
            "videobot_gpu_seconds",
            "GPU-seconds this worker spent on each server's jobs (failed renders included)",
            ["guild_id"],
            registry=self.registry,
        )
        self.done = Counter(
            "videobot_worker_jobs_done",
            "Clips this worker finished and stored",
            ["model"],
            registry=self.registry,
        )
        self.failed = Counter(
            "videobot_worker_jobs_failed",
            "Jobs this worker ended as failed, by reason (a db.failures code)",
            ["reason"],
            registry=self.registry,
        )

    def job_claimed(self, job: Job) -> None:
        waited = wait_seconds(job)
        if waited is not None:
            self.wait.labels(model=job.model).observe(waited)

    def job_done(self, job: Job, gpu_seconds: float) -> None:
        self.done.labels(model=job.model).inc()
        self.render.labels(model=job.model).observe(max(0.0, gpu_seconds))
        self._spent(job, gpu_seconds)

    def job_failed(self, job: Job, reason: str, gpu_seconds: float | None = None) -> None:
        self.failed.labels(reason=reason).inc()
        self._spent(job, gpu_seconds)

    def _spent(self, job: Job, gpu_seconds: float | None) -> None:
        if gpu_seconds is not None and gpu_seconds > 0:
            self.gpu.labels(guild_id=str(job.guild_id)).inc(gpu_seconds)
