"""FIFO against our fair policy (db.fairness, the same code the store's claim mirrors) on a simulated
job mix: several GPUs, clips of 20–120 GPU-seconds, heavy users with long backlogs and light users who
drop in now and then. Run: ``python -m bench.fairness_sim``."""

from __future__ import annotations

import heapq
import random
import statistics
from dataclasses import dataclass

from db.fairness import FairState, QueuedJob, charge, correct, jain_index, pick_next

GPUS = 4
HEAVY_USERS = 4  # one guild; each keeps 5 clips queued from t=0
LIGHT_USERS = 12  # in 3 guilds; each submits a single clip at a random moment
HORIZON_S = 4 * 3600
SEEDS = 20


@dataclass
class SimJob:
    job: QueuedJob
    arrival: float
    actual: float
    light: bool
    start: float = -1.0
    end: float = -1.0


def simulate(policy: str, seed: int) -> list[SimJob]:
    rng = random.Random(seed)
    jobs: list[SimJob] = []
    next_id = 0

    def make(user: int, guild: int, t: float, light: bool) -> SimJob:
        nonlocal next_id
        next_id += 1
        estimate = rng.uniform(20, 120)
        job = SimJob(
            QueuedJob(next_id, guild, user, estimate, 2.0 if user == 1 else 1.0),
            t,
            estimate * rng.uniform(0.8, 1.25),
            light,
        )
        jobs.append(job)
        return job

    arrivals: list[tuple[float, int, int]] = []  # (time, user, guild) of light users
    for user in range(100, 100 + LIGHT_USERS):
        arrivals.append((rng.uniform(0, HORIZON_S * 0.8), user, 1 + user % 3))
    arrivals.sort()
    queue: list[SimJob] = []
    for user in range(1, HEAVY_USERS + 1):
        for _ in range(5):
            queue.append(make(user, 1, 0.0, False))
    state = FairState()
    free = GPUS
    running: list[tuple[float, int, SimJob]] = []
    now = 0.0
    while now < HORIZON_S:
        while arrivals and arrivals[0][0] <= now:
            t, user, guild = arrivals.pop(0)
            queue.append(make(user, guild, t, True))
        while free and queue:
            if policy == "fifo":
                nxt = min(queue, key=lambda j: (j.arrival, j.job.id))
            else:
                chosen = pick_next([j.job for j in queue], state)
                nxt = next(j for j in queue if j.job is chosen)
                charge(state, nxt.job)
            queue.remove(nxt)
            nxt.start = now
            heapq.heappush(running, (now + nxt.actual, nxt.job.id, nxt))
            free -= 1
        events = [running[0][0]] if running else []
        if arrivals:
            events.append(arrivals[0][0])
        if not events:
            break
        now = min(events)
        while running and running[0][0] <= now:
            _, _, done = heapq.heappop(running)
            done.end = now
            free += 1
            correct(state, done.job, done.actual)
            if not done.light:  # heavy users keep their backlog full
                queue.append(make(done.job.user_id, done.job.guild_id, now, False))
    return jobs


def summarise(policy: str) -> dict[str, float]:
    waits: list[float] = []
    slowdowns: list[float] = []
    light_slowdowns: list[float] = []
    jains: list[float] = []
    for seed in range(SEEDS):
        jobs = simulate(policy, seed)
        finished = [j for j in jobs if j.end >= 0]
        waits += [j.start - j.arrival for j in finished if j.light]
        slowdowns += [(j.end - j.arrival) / j.actual for j in finished]
        light_slowdowns += [(j.end - j.arrival) / j.actual for j in finished if j.light]
        served: dict[int, float] = {}
        for j in finished:
            if not j.light:
                served[j.job.user_id] = served.get(j.job.user_id, 0.0) + j.actual / j.job.weight
        jains.append(jain_index(list(served.values())))
    waits.sort()
    return {
        "light wait max": max(waits),
        "light wait p95": waits[int(0.95 * (len(waits) - 1))],
        "mean slowdown (all jobs)": statistics.fmean(slowdowns),
        "mean slowdown (light)": statistics.fmean(light_slowdowns),
        "Jain (heavy, GPU-s/weight)": statistics.fmean(jains),
    }


def main() -> None:
    print(
        f"{GPUS} GPUs, {HEAVY_USERS} heavy users (one with weight 2) in one guild, "
        f"{LIGHT_USERS} light users,"
        f" clips 20-120 s, {HORIZON_S // 3600} h, {SEEDS} seeds"
    )
    rows = {policy: summarise(policy) for policy in ("fifo", "fair")}
    print(f"{'metric':<28}{'FIFO':>12}{'fair':>12}")
    for metric in rows["fifo"]:
        print(f"{metric:<28}{rows['fifo'][metric]:>12.2f}{rows['fair'][metric]:>12.2f}")


if __name__ == "__main__":
    main()
