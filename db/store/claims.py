"""A claim and a finish as one transaction each, with no hop of the event loop inside (SQLite: they
run in the database's thread, :meth:`Connector.run_in_transaction`). PostgreSQL runs the same claim
as the server function ``videobot_claim`` (migration V12), which this module mirrors line for line.

The claim walks rather than sorts. Each guild counts its queued jobs and each member keeps the id of
its oldest (triggers on ``jobs``, migration V12), and :func:`db.fairness.order_key` orders guilds by
their finish tag alone, and a guild's members by theirs alone, ties going to the smaller member key
and then the older job. So the walk visits guilds with queued jobs in finish-tag order, and inside
each its waiting members in (finish tag, oldest job) order. It skips members with nothing this
worker serves and members at their running cap, and stops once the order passes the best found.
What it reads is a few index probes, however long the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db import fairness
from db.store.connector import EVENTS, SyncTransaction


@dataclass(frozen=True)
class Pick:
    job_id: int
    guild_id: int
    user_id: int


class LeaseExpired(Exception):
    """Some running job's lease has run out: requeue it (the async path) and claim again."""


def best_member(
    tx: SyncTransaction, guild_id: int, models: frozenset[str], cap: int, now: float
) -> tuple[float, int, int] | None:
    """A guild's member who is next by fair order among those with a queued job of ``models`` and
    fewer than ``cap`` running: (their finish tag, that job, the member)."""
    best: tuple[float, int, int] | None = None
    for member in tx.rows("waiting_members", guild_id=guild_id):
        finish, head = float(member["finish_tag"]), int(member["head_id"])
        if best is not None and (finish > best[0] or head >= best[1]):
            break  # a larger tag, or the same tag with a later oldest job, never wins
        user_id = int(member["user_id"])
        if member["head_model"] not in models:  # its oldest job is not for this worker: its oldest that is
            rows = tx.rows("member_queued_jobs", guild_id=guild_id, user_id=user_id)
            served = next((int(job["id"]) for job in rows if job["model"] in models), None)
            if served is None:
                continue
            head = served
        running = tx.fetch_one("member_running_count", guild_id=guild_id, user_id=user_id, now=now)
        if running is not None and int(running["n"]) >= cap:
            continue
        if best is None or head < best[1]:  # members tied on the tag: the older job
            best = (finish, head, user_id)
    return best


def walk(tx: SyncTransaction, models: Sequence[str], now: float, default_cap: int) -> Pick | None:
    """The job :func:`db.fairness.pick_next` would dispatch among the queued jobs of ``models`` whose
    member is under the running cap, found by walking the waiting guilds and members in tag order."""
    wanted = frozenset(models)
    best: tuple[tuple[float, float, float, int], Pick] | None = None
    for guild in tx.rows("waiting_guilds"):
        guild_finish = float(guild["finish_tag"])
        if best is not None and guild_finish > best[0][0]:
            break
        guild_id = int(guild["guild_id"])
        setting = tx.fetch_one("guild_max_running", guild_id=guild_id)
        cap = int(setting["max_running"]) if setting is not None else default_cap
        member = best_member(tx, guild_id, wanted, cap, now)
        if member is None:
            continue
        user_finish, job_id, user_id = member
        key = (guild_finish, max(float(guild["vtime"]), user_finish), user_finish, job_id)
        if best is None or key < best[0]:
            best = (key, Pick(job_id, guild_id, user_id))
    return None if best is None else best[1]


def claim(
    tx: SyncTransaction,
    worker_id: str,
    models: Sequence[str],
    *,
    now: float,
    lease_expires_at: float,
    default_cap: int,
    check_expired: bool,
) -> dict[str, Any] | None:
    """The whole claim: renew the claimer's own leases, pick by fair order, charge clock, guild and
    member (:func:`db.fairness.charge`), lease the job and wake the bot. The claimed job's row, or
    None. Raises :class:`LeaseExpired` (having renewed only) when ``check_expired`` and some other
    lease has run out."""
    tx.execute("renew_own_leases", worker_id=worker_id, lease_expires_at=lease_expires_at)
    if check_expired and tx.fetch_one("any_lease_expired", now=now) is not None:
        raise LeaseExpired
    pick = walk(tx, models, now, default_cap)
    if pick is None:
        return None
    tags = tx.fetch_one("claim_tags", id=pick.job_id)
    assert tags is not None
    guild_id, user_id = pick.guild_id, pick.user_id
    state = fairness.FairState(
        vtime=float(tags["clock_vtime"]),
        guild_finish={guild_id: float(tags["guild_finish"])},
        guild_vtime={guild_id: float(tags["guild_vtime"])},
        user_finish={(guild_id, user_id): float(tags["user_finish"])},
    )
    job = fairness.QueuedJob(pick.job_id, guild_id, user_id, tags["cost_estimate_s"], tags["weight"])
    fairness.charge(state, job)
    tx.execute("set_fair_clock", vtime=state.vtime)
    tx.execute(
        "charge_guild",
        guild_id=guild_id,
        finish_tag=state.guild_finish[guild_id],
        vtime=state.guild_vtime[guild_id],
    )
    tx.execute(
        "charge_user", guild_id=guild_id, user_id=user_id, finish_tag=state.user_finish[(guild_id, user_id)]
    )
    row = tx.fetch_one(
        "mark_claimed", id=pick.job_id, worker_id=worker_id, lease_expires_at=lease_expires_at, now=now
    )
    assert row is not None
    tx.notify(EVENTS, str(pick.job_id))
    return row


def recharge_steps(job_id: int, row: dict[str, Any], actual: float) -> list[tuple[str, dict[str, Any]]]:
    """The statements that replace what a job was charged in its guild's and member's tags by
    ``actual`` seconds (``row`` has its guild, member, weight and charge)."""
    delta = actual - float(row["charged_s"])
    steps: list[tuple[str, dict[str, Any]]] = []
    if delta:
        steps.append(("correct_guild", {"guild_id": row["guild_id"], "delta": delta}))
        steps.append(
            (
                "correct_user",
                {"guild_id": row["guild_id"], "user_id": row["user_id"], "delta": delta / row["weight"]},
            )
        )
    steps.append(("set_charged", {"id": job_id, "charged_s": actual}))
    return steps


def finish(tx: SyncTransaction, params: dict[str, Any]) -> bool:
    """Record a clip and correct its charge by its real GPU time; False when the worker no longer
    held the job (nothing is written then)."""
    row = tx.fetch_one("finish_job", **params)
    if row is None:
        return False
    for query, values in recharge_steps(params["id"], row, float(params["gpu_seconds"])):
        tx.execute(query, **values)
    tx.notify(EVENTS, str(params["id"]))
    return True
