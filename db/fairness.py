"""Fair scheduling math: two-level start-time fair queueing (guild, then user) over GPU-seconds.

Pure functions, no I/O. The store's claim (``db/store/claims.py``, and the PostgreSQL function of
migration V12) picks exactly what :func:`pick_next` picks and updates the tags exactly as
:func:`charge` does; the queue position and ETA come from :func:`dispatch_order`, and
``bench/fairness_sim.py`` runs the same code.

Tags are computed when a job is dispatched, not when it is enqueued ("lazy" SFQ). That is the same
schedule as tagging at arrival, but cancelling a queued job needs no repair and a guild's order among
its own users does not have to be known in advance:

- global virtual time ``V`` = start tag of the job dispatched last (never decreases);
- a guild's start tag is ``max(V, F_guild)``; dispatching charges ``F_guild = start + cost`` (every
  guild weighs the same: a busy server cannot crowd out a small one);
- inside the guild, ``V_guild`` = user start tag of the guild's last dispatch, a user's start tag is
  ``max(V_guild, F_user)``, and dispatching charges ``F_user = start + cost / weight``;
- ties go to the smaller finish tag, i.e. to whoever was idle: a member with nothing queued is served
  by the very next free GPU when others in the guild are backlogged;
- within one user, oldest job first. When a job ends the charge is corrected with its real GPU time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class QueuedJob:
    id: int
    guild_id: int
    user_id: int
    cost: float  # estimated GPU-seconds
    weight: float = 1.0


@dataclass
class FairState:
    """The virtual clocks and finish tags; missing entries are 0."""

    vtime: float = 0.0
    guild_finish: dict[int, float] = field(default_factory=dict)
    guild_vtime: dict[int, float] = field(default_factory=dict)
    user_finish: dict[tuple[int, int], float] = field(default_factory=dict)

    def copy(self) -> FairState:
        return FairState(self.vtime, dict(self.guild_finish), dict(self.guild_vtime), dict(self.user_finish))


def order_key(job: QueuedJob, state: FairState) -> tuple[float, float, float, float, int]:
    """The sort key of a queued job: smallest is dispatched first."""
    guild_finish = state.guild_finish.get(job.guild_id, 0.0)
    user_finish = state.user_finish.get((job.guild_id, job.user_id), 0.0)
    return (
        max(state.vtime, guild_finish),
        guild_finish,
        max(state.guild_vtime.get(job.guild_id, 0.0), user_finish),
        user_finish,
        job.id,
    )


def pick_next(jobs: Iterable[QueuedJob], state: FairState) -> QueuedJob | None:
    return min(jobs, key=lambda job: order_key(job, state), default=None)


def charge(state: FairState, job: QueuedJob) -> None:
    """Advance the clocks for dispatching ``job``."""
    guild_start = max(state.vtime, state.guild_finish.get(job.guild_id, 0.0))
    user_key = (job.guild_id, job.user_id)
    user_start = max(state.guild_vtime.get(job.guild_id, 0.0), state.user_finish.get(user_key, 0.0))
    state.vtime = guild_start
    state.guild_finish[job.guild_id] = guild_start + job.cost
    state.guild_vtime[job.guild_id] = user_start
    state.user_finish[user_key] = user_start + job.cost / job.weight


def correct(state: FairState, job: QueuedJob, actual_cost: float) -> None:
    """Replace the estimated charge of a dispatched job by its real GPU time (or 0 for a refund)."""
    delta = actual_cost - job.cost
    state.guild_finish[job.guild_id] = state.guild_finish.get(job.guild_id, 0.0) + delta
    user_key = (job.guild_id, job.user_id)
    state.user_finish[user_key] = state.user_finish.get(user_key, 0.0) + delta / job.weight


def dispatch_order(jobs: Sequence[QueuedJob], state: FairState) -> list[QueuedJob]:
    """The order in which ``jobs`` would be dispatched if nothing else arrived (state is not changed):
    :func:`pick_next` and :func:`charge` repeated, in O(n log n) rather than O(n²).

    Comparing order keys, ``max(V, F_guild)`` then ``F_guild`` orders exactly as ``F_guild``
    alone, and inside one guild ``max(V_guild, F_user)`` then ``F_user`` exactly as ``F_user`` alone.
    So each member's oldest job stands for the member, each guild's best member for the guild, and a
    dispatch changes the keys of one member and one guild only: two heaps, updated at one entry each.
    """
    sim = state.copy()
    mine: dict[tuple[int, int], list[QueuedJob]] = {}
    for job in sorted(jobs, key=lambda j: j.id, reverse=True):
        mine.setdefault((job.guild_id, job.user_id), []).append(job)  # oldest last: pop() takes it
    members: dict[int, list[tuple[float, int, int]]] = {}  # guild → heap of (F_user, oldest id, user)
    for (guild, user), queue in mine.items():
        members.setdefault(guild, []).append((sim.user_finish.get((guild, user), 0.0), queue[-1].id, user))
    for heap in members.values():
        heapq.heapify(heap)

    def guild_entry(guild: int) -> tuple[float, float, float, int, int]:
        user_finish, oldest, _ = members[guild][0]
        return (
            sim.guild_finish.get(guild, 0.0),
            max(sim.guild_vtime.get(guild, 0.0), user_finish),
            user_finish,
            oldest,
            guild,
        )

    guilds = [guild_entry(guild) for guild in members]
    heapq.heapify(guilds)
    order: list[QueuedJob] = []
    while guilds:
        guild = heapq.heappop(guilds)[-1]
        _, _, user = heapq.heappop(members[guild])
        queue = mine[(guild, user)]
        job = queue.pop()
        charge(sim, job)
        order.append(job)
        if queue:
            heapq.heappush(members[guild], (sim.user_finish[(guild, user)], queue[-1].id, user))
        if members[guild]:
            heapq.heappush(guilds, guild_entry(guild))
    return order


def jain_index(values: Sequence[float]) -> float:
    """Jain's fairness index: 1 when all values are equal, 1/n when one takes everything."""
    if not values:
        return 1.0
    total = sum(values)
    squares = sum(v * v for v in values)
    if squares == 0:
        return 1.0
    return total * total / (len(values) * squares)
