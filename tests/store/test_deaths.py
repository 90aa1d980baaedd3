"""Dead workers, short leases and what counts as an attempt, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from db.store import MAX_ATTEMPTS, Store
from tests.store.conftest import FakeClock
from tests.store.helpers import GUILD, MODEL, submit


async def test_a_dead_workers_jobs_are_claimable_at_once_and_its_row_goes(
    store: Store, clock: FakeClock
) -> None:
    job = await submit(store, 1)
    await store.workers.register_worker("w1", "host-a", "cpu", [MODEL], pid=4242)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.release_dead_worker("w1") == [job.id]
    again = await store.jobs.claim_next("w2", [MODEL], 60)  # no lease had to run out first
    assert again is not None and again.id == job.id and again.attempts == 1
    assert [w.worker_id for w in await store.workers.live_workers()] == []
    assert await store.jobs.release_dead_worker("w1") == []  # twice is harmless


async def test_a_death_after_the_render_finished_is_not_an_attempt(store: Store, clock: FakeClock) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 10) is not None
    assert await store.jobs.heartbeat(job.id, "w1", step=40, total_steps=40, lease_s=10, rendered=True)
    clock.advance(11)  # died while encoding
    assert await store.jobs.requeue_expired() == 1
    back = await store.jobs.get(job.id)
    assert back is not None and (back.state, back.attempts) == ("queued", 0)


async def test_only_deaths_while_the_job_itself_rendered_make_it_fail(store: Store, clock: FakeClock) -> None:
    job = await submit(store, 1)
    for death in range(MAX_ATTEMPTS + 1):
        claimed = await store.jobs.claim_next(f"w{death}", [MODEL], 10)
        assert claimed is not None and claimed.id == job.id
        if death == 1:  # this one died while storing the clip: not the job's fault
            assert await store.jobs.heartbeat(
                job.id, f"w{death}", step=1, total_steps=1, lease_s=10, rendered=True
            )
        await store.jobs.release_dead_worker(f"w{death}")
    failed = await store.jobs.get(job.id)
    assert failed is not None
    assert (failed.state, failed.attempts, failed.error_code) == ("failed", MAX_ATTEMPTS, "gave_up")
    assert failed.error is not None and f"{MAX_ATTEMPTS} times" in failed.error


async def test_a_new_claim_forgets_that_an_earlier_one_had_rendered(store: Store, clock: FakeClock) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 10) is not None
    await store.jobs.heartbeat(job.id, "w1", step=1, total_steps=1, lease_s=10, rendered=True)
    await store.jobs.release_dead_worker("w1")
    assert await store.jobs.claim_next("w2", [MODEL], 10) is not None
    await store.jobs.release_dead_worker("w2")  # died mid-render this time
    back = await store.jobs.get(job.id)
    assert back is not None and back.attempts == 1


@pytest.mark.parametrize(
    "backend", ["postgresql"]
)  # only it can leave an expired lease in place (SKIP LOCKED)
async def test_an_expired_lease_does_not_count_toward_the_running_cap(
    store: Store, clock: FakeClock, store_url: str
) -> None:
    await store.settings.update_settings(GUILD, max_running_per_user=1)
    first = await submit(store, 1)
    second = await submit(store, 1)
    assert (await store.jobs.claim_next("w1", [MODEL], 10)) is not None
    clock.advance(11)
    holder = await asyncpg.connect(store_url)  # a heartbeat or cancel holds the expired job's row
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", first.id)
            claimed = await store.jobs.claim_next("w2", [MODEL], 10)
    finally:
        await holder.close()
    assert claimed is not None and claimed.id == second.id


async def test_claims_forget_workers_not_seen_for_ten_minutes(store: Store, clock: FakeClock) -> None:
    await store.workers.register_worker("gone", "host-a", "cpu", [MODEL], pid=1)
    clock.advance(300)
    await store.workers.register_worker("here", "host-a", "cpu", [MODEL], pid=2)
    clock.advance(301)
    await store.jobs.claim_next("here", [MODEL], 10)
    assert [(w.worker_id, w.pid) for w in await store.workers.workers_on_host("host-a")] == [("here", 2)]
