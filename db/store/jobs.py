"""The store's part for jobs, ``store.jobs``: every rule about a job from queued to posted, written once
over a :class:`Connector`. Its queries are in ``db/sql/jobs.sql``; a claim and a finish are
:mod:`db.store.claims`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

from db import fairness
from db.failures import failure_message, params_to_json
from db.media import Media, MediaStore
from db.spec import JobSpec
from db.store import claims
from db.store.batching import Batcher
from db.store.connector import (
    EVENTS,
    WORK,
    Connector,
    Script,
    SyncTransaction,
    Transaction,
    execute,
    notify,
    one,
    rows,
)
from db.store.models import (
    JOB_KINDS,
    JOB_STATES,
    MAX_ATTEMPTS,
    CapExceeded,
    GuildSettings,
    Job,
    JobKind,
    JobResult,
    JobState,
    QueuePosition,
    WorkerInfo,
    segments_to_json,
    unposted_cursor,
)
from db.store.part import Clock, Part
from db.store.settings import read_settings
from db.store.workers import STALE_WORKER_S, WORKER_MAX_AGE_S

DAY_S = 86_400.0
DEFAULT_LEASE_S = 10.0  # workers renew every second: a dead one's job is claimable again within seconds
HOUSEKEEPING_S = 1.0  # claims prune the registry at most this often (per store), not on every claim
LEASE_RENEW_S = 3.0  # a heartbeat writes the lease when it is this much older than a fresh one
PROGRESS_EVERY_S = 2.0  # and a new step when the last one written is this old (the bot shows every 3 s)


def estimate_positions(
    queued: Sequence[dict[str, Any]],
    running: Sequence[dict[str, Any]],
    state: fairness.FairState,
    speed: dict[str, float],
    workers: Sequence[WorkerInfo],
    now: float,
) -> dict[int, QueuePosition]:
    """Place and ETA of every queued job (fair order) and running job (its own pace). A job's model
    is expected to take ``speed[model]`` × its estimate; it waits for the jobs ahead of it that the
    workers serving its model also serve, and for what those workers are rendering now."""

    def expected(model: str, estimate: float) -> float:
        return estimate * speed.get(model, 1.0)

    positions = {
        r["id"]: QueuePosition(0, remaining_s(r, expected(r["model"], r["cost_estimate_s"]), now))
        for r in running
    }
    models = {q["id"]: q["model"] for q in queued}
    jobs = [
        fairness.QueuedJob(q["id"], q["guild_id"], q["user_id"], q["cost_estimate_s"], q["weight"])
        for q in queued
    ]
    order = fairness.dispatch_order(jobs, state)
    for model in set(models.values()):
        serving = [w for w in workers if model in w.models]
        if not serving:
            for i, q in enumerate(order):
                if models[q.id] == model:
                    positions[q.id] = QueuePosition(i + 1, None)
            continue
        # the jobs that compete for the same GPUs: any model those workers also serve
        shared = {m for w in serving for m in w.models}
        serving_ids = {w.worker_id for w in serving}
        busy = sum(
            remaining_s(r, expected(r["model"], r["cost_estimate_s"]), now)
            for r in running
            if r["worker_id"] in serving_ids
        )
        ahead = 0.0
        for i, q in enumerate(order):
            if models[q.id] == model:
                eta = (ahead + busy) / len(serving) + expected(model, q.cost)
                positions[q.id] = QueuePosition(i + 1, eta)
            if models[q.id] in shared:
                ahead += expected(models[q.id], q.cost)
    return positions


def joined_clips(row: dict[str, Any]) -> set[int]:
    """The clips whose frames a job's clip holds: an extend's or HD version's parent, a bridge's two."""
    found = {int(row["parent_id"])} if row["parent_id"] is not None else set()
    if row["kind"] == "bridge":
        bridges_to = JobSpec.from_json(row["spec"]).bridges_to
        if bridges_to is not None:
            found.add(bridges_to)
    return found


def remaining_s(row: dict[str, Any], expected_s: float, now: float) -> float:
    """Seconds a running job still needs: its own pace once it has taken a step, else the estimate."""
    started = row["started_at"]
    if started is None:
        return expected_s
    elapsed = max(0.0, now - started)
    if row["step"] > 0 and row["total_steps"] > 0:
        return elapsed * (row["total_steps"] - row["step"]) / row["step"]
    return max(0.0, expected_s - elapsed)


@dataclass(frozen=True)
class Submission:
    """A member's request for a clip, as :meth:`JobQueue.enqueue` stores it."""

    guild_id: int
    channel_id: int
    user_id: int
    spec: JobSpec
    cost_estimate_s: float
    weight: float = 1.0
    parent_id: int | None = None
    kind: JobKind = "new"
    locale: str = "en-US"
    age_restricted: bool = False
    place: bool = False  # also read its place in the queue, in the same transaction

    def checked(self) -> Submission:
        """Itself, or ValueError for a request no member can make (a bug of the caller)."""
        if self.spec.model is None:
            raise ValueError("enqueue needs a resolved spec (model is None)")
        if self.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {self.kind!r}")
        if not self.weight > 0 or not self.cost_estimate_s >= 0:
            raise ValueError("weight must be positive and cost_estimate_s not negative")
        return self


async def _chain_of(tx: Transaction, job_id: int, seen: set[int]) -> list[Job]:
    """:meth:`JobQueue.lineage` of ``job_id`` without the clips in ``seen`` (which it adds to)."""
    chain: list[Job] = []
    current: int | None = job_id
    while current is not None and current not in seen:
        seen.add(current)
        row = await tx.fetch_one("get_job", id=current)
        if row is None:
            break
        chain.append(Job.from_row(row))
        current = row["parent_id"]
    ordered: list[Job] = []
    for job in reversed(chain):
        ordered.append(job)
        if job.spec.bridges_to is not None:  # a bridge: the clip it ends on and that clip's own chain
            ordered += await _chain_of(tx, job.spec.bridges_to, seen)
    return ordered


def enqueue_script(request: Submission, now: float) -> Script[Job]:
    """Store ``request`` as a queued job; raises :class:`CapExceeded` (before writing the job) when
    the member is over the guild's queued or daily cap."""
    guild_id, user_id, spec = request.guild_id, request.user_id, request.spec
    settings = yield from read_settings(guild_id)
    if spec.enhance != settings.enhance_prompts:  # the server's setting when the clip was asked for
        spec = replace(spec, enhance=settings.enhance_prompts)
    if spec.mark != settings.ai_mark:  # the AI mark on its frames, likewise
        spec = replace(spec, mark=settings.ai_mark)
    yield execute("ensure_fair_guild", guild_id=guild_id)
    yield execute("ensure_fair_user", guild_id=guild_id, user_id=user_id)
    yield one("lock_fair_guild", guild_id=guild_id)
    yield one("lock_fair_user", guild_id=guild_id, user_id=user_id)
    queued = yield one("count_queued_for_user", guild_id=guild_id, user_id=user_id)
    count = int(queued["n"]) if queued else 0
    if count >= settings.max_queued_per_user:
        raise CapExceeded("too_many_queued", count=count, limit=settings.max_queued_per_user)
    today = yield rows("daily_jobs_for_user", guild_id=guild_id, user_id=user_id, since=now - DAY_S)
    if len(today) >= settings.daily_clips_per_user:
        # the oldest clip that still counts leaves the 24-hour window first
        oldest = today[len(today) - settings.daily_clips_per_user]["created_at"]
        retry_after = max(0.0, oldest + DAY_S - now)
        raise CapExceeded(
            "daily_limit",
            limit=settings.daily_clips_per_user,
            retry_after_s=retry_after,
            retry_after_min=max(1, round(retry_after / 60)),
        )
    if request.kind == "hd" and request.parent_id is not None:
        # one HD per clip: the index jobs_one_hd guards it too, this says which one it is
        existing = yield one("hd_of", id=request.parent_id)
        if existing is not None:
            raise CapExceeded("hd_exists", parent=request.parent_id, job=existing["id"])
    row = yield one(
        "insert_job",
        guild_id=guild_id,
        channel_id=request.channel_id,
        user_id=user_id,
        kind=request.kind,
        parent_id=request.parent_id,
        locale=request.locale,
        model=spec.model,
        spec=spec.to_json(),
        cost_estimate_s=float(request.cost_estimate_s),
        weight=float(request.weight),
        now=now,
        age_restricted=bool(request.age_restricted),
        bridges_to=spec.bridges_to,
    )
    yield notify(WORK, str(spec.model))
    assert row is not None
    return Job.from_row(row)


def positions_script(now: float, worker_max_age_s: float) -> Script[dict[int, QueuePosition]]:
    """Place and ETA of every queued and running job, from one read of the queue
    (:func:`estimate_positions`)."""
    queued = yield rows("queued_for_fairness")
    running = yield rows("running_jobs")
    clock = yield one("fair_clock")
    guilds = yield rows("fair_guild_tags")
    users = yield rows("fair_user_tags_queued")
    speed = {r["model"]: float(r["ratio"]) for r in (yield rows("model_speed"))}
    workers = [WorkerInfo.from_row(r) for r in (yield rows("live_workers", since=now - worker_max_age_s))]
    state = fairness.FairState(
        vtime=float(clock["vtime"]) if clock else 0.0,
        guild_finish={g["guild_id"]: g["finish_tag"] for g in guilds},
        guild_vtime={g["guild_id"]: g["vtime"] for g in guilds},
        user_finish={(u["guild_id"], u["user_id"]): u["finish_tag"] for u in users},
    )
    return estimate_positions(queued, running, state, speed, workers, now)


SUBMISSIONS_PER_TRANSACTION = 200  # SQLite: a burst of commands, a few transactions


class JobQueue(Part):
    """The jobs: queued by the bot, claimed, rendered and finished by the workers, posted by the bot;
    their lineage, their media and the wake-ups that tell the other side something changed."""

    def __init__(self, connector: Connector, media: MediaStore, clock: Clock) -> None:
        super().__init__(connector, media, clock)
        self._prune_due = 0.0  # when a claim next prunes the worker registry
        # PostgreSQL runs concurrent enqueues side by side (they lock one member's rows each); SQLite
        # has one writer, so the requests waiting for it go together
        limit = 1 if connector.dialect == "postgresql" else SUBMISSIONS_PER_TRANSACTION
        self._submissions = Batcher(self._store_submissions, limit)

    # ---- submitting ------------------------------------------------------------------------------

    async def enqueue(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        spec: JobSpec,
        cost_estimate_s: float,
        *,
        weight: float = 1.0,
        parent_id: int | None = None,
        kind: JobKind = "new",
        locale: str = "en-US",
        age_restricted: bool = False,
    ) -> Job:
        """Store a resolved spec as a queued job. Raises :class:`CapExceeded` (storing nothing) when
        the member is over the guild's queued or daily cap. ``age_restricted``: asked for in an
        age-restricted channel; a job built on an age-restricted clip (``parent_id``) is one too."""
        request = Submission(
            guild_id,
            channel_id,
            user_id,
            spec,
            cost_estimate_s,
            weight,
            parent_id,
            kind,
            locale,
            age_restricted,
        )
        job, _ = await self._submissions.submit(request.checked())
        return job

    async def enqueue_and_place(self, request: Submission) -> tuple[Job, QueuePosition]:
        """:meth:`enqueue` and :meth:`queue_position` of the job in one transaction, as the bot answers
        a member: committed before it returns, so every job a member was told of is stored. Requests
        that arrive together share a transaction and one reading of the queue."""
        job, position = await self._submissions.submit(replace(request.checked(), place=True))
        assert position is not None
        return job, position

    async def _store_submissions(
        self, requests: Sequence[Submission]
    ) -> list[tuple[Job, QueuePosition | None] | BaseException]:
        now = self.clock()
        return await self._db.run(lambda: self._submit_script(requests, now))

    def _submit_script(
        self, requests: Sequence[Submission], now: float
    ) -> Script[list[tuple[Job, QueuePosition | None] | BaseException]]:
        stored: list[Job | CapExceeded] = []
        for request in requests:
            try:
                stored.append((yield from enqueue_script(request, now)))
            except CapExceeded as refused:  # this member's request alone: the others are stored
                stored.append(refused)
        placed: dict[int, QueuePosition] = {}
        if any(r.place for r in requests) and any(isinstance(s, Job) for s in stored):
            placed = yield from positions_script(now, WORKER_MAX_AGE_S)
        return [
            s if isinstance(s, CapExceeded) else (s, placed.get(s.id) if r.place else None)
            for r, s in zip(requests, stored, strict=True)
        ]

    # ---- the worker side ---------------------------------------------------------------------------

    async def claim_next(
        self, worker_id: str, models: Sequence[str], lease_s: float = DEFAULT_LEASE_S
    ) -> Job | None:
        """The next job by fair order among those whose model is in ``models``, now leased to
        ``worker_id`` for ``lease_s`` seconds; None when there is nothing to do. Expired leases are
        returned to the queue first, except those of ``worker_id`` itself: it is alive, and renews them."""
        if not models:
            return None
        now = self.clock()
        if now >= self._prune_due:  # housekeeping at most once a second, outside claims
            self._prune_due = now + HOUSEKEEPING_S
            await self._db.write_one("prune_workers", since=now - STALE_WORKER_S)
        if self._db.dialect == "postgresql":
            return await self._claim_by_function(worker_id, list(models), now, lease_s)
        return await self._claim_in_thread(worker_id, list(models), now, lease_s)

    async def _claim_in_thread(
        self, worker_id: str, models: list[str], now: float, lease_s: float
    ) -> Job | None:
        """SQLite: the whole claim (:func:`db.store.claims.claim`) in one call in the database's
        thread. The claimer's own leases are renewed first: it is alive, so what it holds is not a
        dead worker's (after an outage every lease has run out: its own job would be requeued,
        rendered again, counted an attempt). Expired leases of others are requeued by the async path,
        where the rules for attempts live once (:meth:`_return_to_queue`), and the claim is tried again."""

        def attempt(check_expired: bool) -> Callable[[SyncTransaction], dict[str, Any] | None]:
            return lambda tx: claims.claim(
                tx,
                worker_id,
                models,
                now=now,
                lease_expires_at=now + lease_s,
                default_cap=GuildSettings(0).max_running_per_user,
                check_expired=check_expired,
            )

        try:
            row = await self._db.run_in_transaction(attempt(True))
        except claims.LeaseExpired:
            await self._requeue_for_claim(worker_id, now, lease_s)
            row = await self._db.run_in_transaction(attempt(False))
        return None if row is None else Job.from_row(row)

    async def _claim_by_function(
        self, worker_id: str, models: list[str], now: float, lease_s: float
    ) -> Job | None:
        """PostgreSQL: the whole claim is one call of ``videobot_claim`` (migration V12), committed on
        its own, so the clock row is locked only while the function runs. When some lease has run out
        it claims nothing and answers a row of NULLs: those jobs are requeued here (the rules for
        attempts live once, in :meth:`_return_to_queue`) and the claim is tried again."""
        params: dict[str, Any] = {
            "worker_id": worker_id,
            "models": models,
            "lease_expires_at": now + lease_s,
            "now": now,
            "default_max_running": GuildSettings(0).max_running_per_user,
        }
        rows = await self._db.write_fetch("claim_job", check_expired=True, **params)
        if rows and rows[0]["id"] is None:
            await self._requeue_for_claim(worker_id, now, lease_s)
            rows = await self._db.write_fetch("claim_job", check_expired=False, **params)
        return Job.from_row(rows[0]) if rows else None

    async def _requeue_for_claim(self, worker_id: str, now: float, lease_s: float) -> None:
        """Before a claim tries again: the claimer's own leases renewed, the others that ran out requeued."""
        async with self._db.transaction() as tx:
            await tx.fetch_one("lock_fair_clock")
            await tx.execute("renew_own_leases", worker_id=worker_id, lease_expires_at=now + lease_s)
            await self._requeue_expired(tx, now)

    async def heartbeat(
        self,
        job_id: int,
        worker_id: str,
        *,
        step: int,
        total_steps: int,
        lease_s: float = DEFAULT_LEASE_S,
        rendered: bool = False,
    ) -> bool:
        """Renew the lease and record progress. False when the job was cancelled or the lease went to
        another worker: stop rendering it. ``rendered=True`` once the render is done (encoding, storing):
        a worker that dies from then on is not held against the job.

        Call it as often as you like (workers do every second, to hear of a cancel soon): the row is
        written only when it is due, i.e. when the lease has less than ``lease_s - LEASE_RENEW_S``
        left, when ``rendered`` is new, or when the step changed and the last progress written is
        ``PROGRESS_EVERY_S`` old (the bot shows progress every 3 s); otherwise it only reads. The bot
        is woken only when progress was written."""
        now = self.clock()
        params: dict[str, Any] = {
            "id": job_id,
            "worker_id": worker_id,
            "lease_expires_at": now + lease_s,
            "renew_before": now + lease_s - min(LEASE_RENEW_S, lease_s / 2),
            "progress_before": now - PROGRESS_EVERY_S,
            "step": step,
            "total_steps": total_steps,
            "now": now,
            "rendered": 1 if rendered else 0,
        }
        if self._db.dialect == "postgresql":  # one statement: check, write when due, wake the bot
            return bool(await self._db.write_fetch("heartbeat_job", **params))
        if await self._db.write_one("heartbeat_job", notify=EVENTS, **params):
            return True
        async with self._db.transaction(write=False) as tx:  # nothing was due: is it still ours?
            return await tx.fetch_one("holds_job", id=job_id, worker_id=worker_id) is not None

    async def finish(self, job_id: int, worker_id: str, result: JobResult) -> bool:
        """Record the clip. False (nothing recorded) when the worker no longer holds the job."""
        if result.enhanced_prompt is not None:  # kept while the job is still running: the clip has it
            held = await self._db.write_one(
                "set_enhanced_prompt", id=job_id, worker_id=worker_id, text=result.enhanced_prompt
            )
            if held != 1:
                return False
        if result.segments is not None:  # likewise: where a joined clip's frames were first encoded
            held = await self._db.write_one(
                "set_segments", id=job_id, worker_id=worker_id, segments=segments_to_json(result.segments)
            )
            if held != 1:
                return False
        now = self.clock()
        params: dict[str, Any] = {
            "id": job_id,
            "worker_id": worker_id,
            "now": now,
            "media_ref": result.media_ref,
            "video_bytes": result.video_bytes,
            "width": result.width,
            "height": result.height,
            "frames": result.frames,
            "fps": float(result.fps),
            "gpu_seconds": float(result.gpu_seconds),
        }
        if self._db.dialect == "postgresql":  # one statement: no tag row locked across round trips
            return bool(await self._db.write_fetch("finish_job_recharged", **params))
        return await self._db.run_in_transaction(lambda tx: claims.finish(tx, params))

    async def fail(
        self,
        job_id: int,
        worker_id: str,
        code: str,
        *,
        params: Mapping[str, Any] | None = None,
        gpu_seconds: float | None = None,
    ) -> bool:
        """End the job as failed, with a failure code of :mod:`db.failures` (or a spec error code) and
        its parameters, which the bot words in the member's language. False when the worker no longer
        holds it. ``gpu_seconds`` (time spent before failing) corrects the member's fair share."""
        now = self.clock()
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "fail_job",
                id=job_id,
                worker_id=worker_id,
                now=now,
                reason=failure_message(code, params),
                code=code,
                params=params_to_json(params),
                gpu_seconds=None if gpu_seconds is None else float(gpu_seconds),
            )
            if row is None:
                return False
            if gpu_seconds is not None:
                await self._recharge(tx, job_id, row, float(gpu_seconds))
            await tx.notify(EVENTS, str(job_id))
        return True

    async def release(self, job_id: int, worker_id: str) -> bool:
        """Give a running job back to the queue without counting an attempt (worker shutting down)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("release_job", id=job_id, worker_id=worker_id)
            if row is None:
                return False
            await self._recharge(tx, job_id, row, 0.0)
            await tx.notify(WORK, row["model"])
        return True

    async def requeue_expired(self, now: float | None = None) -> int:
        """Return running jobs whose lease ran out to the queue (attempts + 1 unless the render had
        finished), failing those that have used their attempts; how many jobs it touched. Claims do
        this too."""
        async with self._db.transaction() as tx:
            await tx.fetch_one("lock_fair_clock")
            return await self._requeue_expired(tx, self.clock() if now is None else now)

    async def release_dead_worker(self, worker_id: str) -> list[int]:
        """A worker process is known dead (its supervisor saw it exit, or a successor on its host
        found its pid gone): its running jobs go back to the queue at once, without waiting for their
        leases (an attempt counted unless the render had finished), and its registry row goes. The
        ids of the jobs it held."""
        now = self.clock()
        async with self._db.transaction() as tx:
            await tx.fetch_one("lock_fair_clock")
            rows = await tx.fetch_all("worker_running_jobs", worker_id=worker_id)
            for row in rows:
                await self._return_to_queue(tx, row, now)
            await tx.execute("delete_worker", worker_id=worker_id)
        return [row["id"] for row in rows]

    async def _requeue_expired(self, tx: Transaction, now: float) -> int:
        expired = await tx.fetch_all("expired_jobs", now=now)
        for row in expired:
            await self._return_to_queue(tx, row, now)
        return len(expired)

    async def _return_to_queue(self, tx: Transaction, row: dict[str, Any], now: float) -> None:
        """A running job whose worker died: queued again, or failed when the worker died while it
        was rendering for the MAX_ATTEMPTS-th time. A death after the render finished (encoding or
        storing) is the worker's, not the job's: it does not count."""
        counted = 0 if row["rendered_at"] is not None else 1
        attempts = row["attempts"] + counted
        if attempts >= MAX_ATTEMPTS:
            params = {"attempts": attempts}
            await tx.execute(
                "fail_expired_job",
                id=row["id"],
                now=now,
                reason=failure_message("gave_up", params),
                code="gave_up",
                params=params_to_json(params),
            )
            await tx.notify(EVENTS, str(row["id"]))
        else:
            await tx.execute("requeue_job", id=row["id"], counted=counted)
            await self._recharge(tx, row["id"], row, 0.0)
            await tx.notify(WORK, row["model"])

    async def _recharge(self, tx: Transaction, job_id: int, row: dict[str, Any], actual: float) -> None:
        """Replace what a job was charged in its guild's and member's tags by ``actual`` seconds."""
        for query, values in claims.recharge_steps(job_id, row, actual):
            await tx.execute(query, **values)

    async def cancel(self, job_id: int, user_id: int | None) -> bool:
        """Cancel a queued or running job: by its author (``user_id``), or by a moderator (None). A
        running job's worker learns it at its next heartbeat. False if nothing was cancelled."""
        now = self.clock()
        code = "cancelled_by_moderator" if user_id is None else "cancelled_by_author"
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "cancel_job",
                id=job_id,
                now=now,
                cancelled_by=user_id,
                author_only=int(user_id is not None),
                reason=failure_message(code),
                code=code,
            )
            if row is None:
                return False
            if row["started_at"] is not None:
                # a cancelled render costs the GPU time it used, not its whole estimate
                used = min(float(row["charged_s"]), max(0.0, now - row["started_at"]))
                await self._recharge(tx, job_id, row, used)
            await tx.notify(EVENTS, str(job_id))
        return True

    # ---- the bot side: posting -------------------------------------------------------------------

    async def unposted(self, limit: int = 20, *, after: tuple[float, int] | None = None) -> list[Job]:
        """Ended jobs (done, failed, cancelled) whose channel message is not posted yet, oldest first;
        with ``after`` (a job's :func:`posting_order` key), the ones after it."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("unposted_jobs", limit=limit, **unposted_cursor(after))
        return [Job.from_row(r) for r in rows]

    async def mark_posted(self, job_id: int, message_id: int | None, thread_id: int | None = None) -> bool:
        """Record where an ended job was posted. Only the first call counts (returns True)."""
        changed = await self._db.write_one(
            "mark_posted", id=job_id, now=self.clock(), message_id=message_id, thread_id=thread_id
        )
        return changed == 1

    async def fail_delivery(self, job_id: int, code: str, params: Mapping[str, Any] | None = None) -> bool:
        """A done clip the bot cannot post (file gone, unreadable, corrupt) becomes a failed job with a
        reason, so its member is told instead of waiting for ever. False if it was posted meanwhile."""
        changed = await self._db.write_one(
            "fail_delivery",
            notify=EVENTS,
            id=job_id,
            reason=failure_message(code, params),
            code=code,
            params=params_to_json(params),
        )
        return changed == 1

    async def set_status_message(self, job_id: int, message_id: int) -> bool:
        """Remember the channel message that shows the job's place in the queue and progress. False
        when the job already ended and was posted (nobody will edit that message: settle it yourself)."""
        return await self._db.write_one("set_status_message", id=job_id, message_id=message_id) == 1

    # ---- reading jobs ----------------------------------------------------------------------------

    async def get(self, job_id: int) -> Job | None:
        row = await self._db.read_one("get_job", id=job_id)
        return None if row is None else Job.from_row(row)

    async def jobs_for_user(
        self, guild_id: int, user_id: int, states: Iterable[JobState] = ("queued", "running"), limit: int = 50
    ) -> list[Job]:
        """A member's jobs in ``states``, newest first."""
        wanted = list(states)
        unknown = set(wanted) - set(JOB_STATES)
        if unknown:
            raise ValueError(f"unknown job state(s) {sorted(unknown)}")
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all(
                "jobs_for_user", guild_id=guild_id, user_id=user_id, states=wanted, limit=limit
            )
        return [Job.from_row(r) for r in rows]

    async def queued_count(self, guild_id: int) -> int:
        """How many jobs wait in a guild (exact, however long the queue)."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("count_queued_in_guild", guild_id=guild_id)
        return int(row["n"]) if row else 0

    async def active_jobs(self, limit: int = 200) -> list[Job]:
        """Queued and running jobs, oldest first (their status messages need editing)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("active_jobs", limit=limit)
        return [Job.from_row(r) for r in rows]

    async def queue_position(
        self, job_id: int, *, worker_max_age_s: float = WORKER_MAX_AGE_S
    ) -> QueuePosition:
        """Where a job stands: 1 = next to start (0 once it runs or ended), and the seconds until it
        should be ready, from the fair order, the real GPU time recent jobs of each model took, and
        the live workers serving its model. Running-job caps are ignored in this estimate."""
        now = self.clock()

        def read() -> Script[QueuePosition]:
            job_row = yield one("get_job", id=job_id)
            if job_row is None:
                raise KeyError(job_id)
            if Job.from_row(job_row).ended:
                return QueuePosition(0, 0.0)
            return (yield from positions_script(now, worker_max_age_s))[job_id]

        return await self._db.run(read, write=False)

    async def queue_positions(
        self, *, worker_max_age_s: float = WORKER_MAX_AGE_S
    ) -> dict[int, QueuePosition]:
        """:meth:`queue_position` of every queued and running job from one read of the queue, as the
        bot's status refresh needs them: one fair order for all, not one per job."""
        now = self.clock()
        return await self._db.run(lambda: positions_script(now, worker_max_age_s), write=False)

    async def lineage(self, job_id: int) -> list[Job]:
        """The clip and the clips it was made from, the original first. A bridge is followed by the
        chain of the clip it ends on (``JobSpec.bridges_to``), as its frames are: the first clip's
        chain, the bridge, the second clip's chain ("#1 → 🌉 #5 → #2"). Each clip appears once."""
        async with self._db.transaction(write=False) as tx:
            return await _chain_of(tx, job_id, set())

    async def extends_in_chain(self, job_id: int) -> int:
        """How many extends led to this clip (0 for a clip that extends nothing); through a bridge,
        those of both clips it joins (its frames hold both)."""
        return sum(1 for job in await self.lineage(job_id) if job.kind == "extend")

    async def hd_of(self, job_id: int) -> Job | None:
        """The clip's HD version (queued, running or done, not deleted), or None."""
        row = await self._db.read_one("hd_of", id=job_id)
        return Job.from_row(row) if row is not None else None

    async def children(self, job_id: int) -> list[Job]:
        """Rerolls, remixes and extensions made from a clip, oldest first."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch_all("children", id=job_id)
        return [Job.from_row(r) for r in rows]

    # ---- media -----------------------------------------------------------------------------------

    @overload
    async def put_media(self, job_id: int, video: bytes, poster: bytes) -> str: ...

    @overload
    async def put_media(self, job_id: int, video: bytes, poster: bytes, *, worker_id: str) -> str | None: ...

    async def put_media(
        self, job_id: int, video: bytes, poster: bytes, *, worker_id: str | None = None
    ) -> str | None:
        """Store a clip's mp4 and poster PNG; the reference to put in :class:`JobResult`. With
        ``worker_id``, only while that worker still holds the job: a worker cut off for longer than its
        lease, whose job another worker has finished since (or a member cancelled or deleted), stores
        nothing over it and gets None."""
        if worker_id is not None:
            async with self._db.transaction(write=False) as tx:
                held = await tx.fetch_one("holds_job", id=job_id, worker_id=worker_id)
            if held is None:
                return None
        return await self._media.put(job_id, video, poster)

    async def get_media(self, job_id: int) -> Media | None:
        return await self._media.get(job_id)

    async def put_signed(self, job_id: int, video: bytes, poster: bytes, manifest_bytes: int) -> bool:
        """Store a clip's signed mp4 (its frames with a content credentials manifest, db.credentials) in
        place of the file its worker stored, its new size and its manifest store's. False, with nothing
        kept, for a clip that is deleted (before or while it was written)."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetch_one("get_job", id=job_id)
        if row is None or row["deleted_at"] is not None:
            return False
        await self._media.put(job_id, video, poster)
        async with self._db.transaction() as tx:
            kept = await tx.execute(
                "set_video_bytes", id=job_id, video_bytes=len(video), manifest_bytes=manifest_bytes
            )
        if kept == 0:  # deleted while it was written: its files go, as delete_clip's did
            await self._media.delete(job_id)
            return False
        return True

    async def put_input(self, data: bytes, extension: str) -> str:
        """Store a member's picture (``png``, ``jpg`` or ``webp``) where every worker reads it, before
        its job is queued; the reference to put in the spec (``image_ref``)."""
        return await self._media.put_input(data, extension)

    async def get_input(self, ref: str) -> bytes | None:
        return await self._media.get_input(ref)

    async def delete_media(self, job_id: int) -> bool:
        return await self._media.delete(job_id)

    async def delete_clip(self, job_id: int) -> bool:
        """A member deleted a clip: it leaves /top and /show and its files go; the row stays, so the
        clips made from it keep their lineage. The queued and running clips that would hold its frames
        (an extend or HD version of it, a bridge from or to it) are cancelled ("source_deleted"), so a
        deleted clip is not posted again inside another. False when it was deleted already."""
        now = self.clock()
        async with self._db.transaction() as tx:
            changed = await tx.execute("mark_deleted", id=job_id, now=now)
            row = await tx.fetch_one("get_job", id=job_id)
            if changed == 1 and row is not None:
                for join in await tx.fetch_all("active_joins_in_guild", guild_id=row["guild_id"]):
                    if job_id in joined_clips(join):
                        await self._cancel_because(tx, int(join["id"]), now, "source_deleted", job=job_id)
        await self._media.delete(job_id)
        return changed == 1

    async def cancel_where_gone(self, guild_id: int, channel_ids: Collection[int] | None = None) -> list[int]:
        """The bot left a server (``channel_ids`` None), or channels or threads of it were deleted: their
        queued and running jobs are cancelled ("channel_gone"), so no GPU renders a clip nobody can be
        shown. The ids cancelled."""
        now = self.clock()
        cancelled: list[int] = []
        async with self._db.transaction() as tx:
            for row in await tx.fetch_all("active_jobs_of_guild", guild_id=guild_id):
                if channel_ids is None or int(row["channel_id"]) in channel_ids:
                    await self._cancel_because(tx, int(row["id"]), now, "channel_gone")
                    cancelled.append(int(row["id"]))
        return cancelled

    async def _cancel_because(
        self, tx: Transaction, job_id: int, now: float, code: str, **params: Any
    ) -> None:
        """Cancel a queued or running job for a reason that is nobody's choice (``code``, ``params``)."""
        row = await tx.fetch_one(
            "cancel_job_because",
            id=job_id,
            now=now,
            reason=failure_message(code, params),
            code=code,
            params=params_to_json(params),
        )
        if row is None:
            return
        if row["started_at"] is not None:  # as a cancel: the GPU time it used, not its whole estimate
            used = min(float(row["charged_s"]), max(0.0, now - row["started_at"]))
            await self._recharge(tx, job_id, row, used)
        await tx.notify(EVENTS, str(job_id))

    # ---- wake-ups --------------------------------------------------------------------------------

    async def wait_for_work(self, timeout: float) -> bool:
        """For workers: until a job may have become claimable (True) or ``timeout`` passes (False)."""
        return await self._db.wait(WORK, timeout)

    async def wait_for_events(self, timeout: float) -> bool:
        """For the bot: until some job progressed, started or ended (True) or ``timeout`` passes."""
        return await self._db.wait(EVENTS, timeout)

    # ---- who may see a clip again (migration V22; bot/visibility.py) -------------------------------

    async def set_public_channel(self, job_id: int, public: bool) -> bool:
        """Record whether @everyone could view the channel the clip was posted in (the web gallery shows
        only clips where it is true). False when there is no such job."""
        return await self._db.write_one("set_public_channel", id=job_id, public=bool(public)) == 1

    async def visibility_unknown(self, after: int = 0, limit: int = 200) -> list[Job]:
        """Posted, undeleted clips whose channel's visibility is not recorded (posted before it was),
        in id order after job ``after``, at most ``limit``."""
        rows = await self._db.read_all("visibility_unknown", after=after, limit=limit)
        return [Job.from_row(r) for r in rows]

    async def add_copy(self, job_id: int, channel_id: int, message_id: int) -> None:
        """A copy of the clip that /show posted, so deleting the clip deletes it too."""
        await self._db.write_one(
            "add_clip_copy", job_id=job_id, channel_id=channel_id, message_id=message_id, now=self.clock()
        )

    async def copies(self, job_id: int) -> list[tuple[int, int]]:
        """The copies of the clip /show posted: (channel id, message id), oldest first."""
        rows = await self._db.read_all("clip_copies", job_id=job_id)
        return [(int(r["channel_id"]), int(r["message_id"])) for r in rows]
