"""After an outage longer than a lease every lease has run out: the first claim after it must not take
a live worker's job from it. Both backends."""

from __future__ import annotations

from db.store import Store
from tests.store.conftest import FakeClock
from tests.store.helpers import MODEL, result, submit

OUTAGE_S = 60.0


async def test_a_worker_claiming_after_an_outage_keeps_the_clip_it_is_storing(
    store: Store, clock: FakeClock
) -> None:
    """The worker rendered job A, the database went away for a minute (no heartbeat reached it), and
    when it is back the worker's next claim comes before its next heartbeat: A stays its job, is not
    rendered again nor counted an attempt, and its clip is recorded."""
    job = await submit(store, 1)
    claimed = await store.jobs.claim_next("w1", [MODEL], 10)
    assert claimed is not None and claimed.id == job.id
    clock.advance(OUTAGE_S)
    assert await store.jobs.claim_next("w1", [MODEL], 10) is None  # nothing else to do; A is not re-claimed
    held = await store.jobs.get(job.id)
    assert held is not None
    assert (held.state, held.worker_id, held.attempts, held.started_at) == (
        "running",
        "w1",
        0,
        claimed.started_at,
    )
    assert held.lease_expires_at == clock.now + 10
    assert await store.jobs.heartbeat(job.id, "w1", step=40, total_steps=40, rendered=True)
    assert await store.jobs.finish(job.id, "w1", result())
    done = await store.jobs.get(job.id)
    assert done is not None and (done.state, done.attempts) == ("done", 0)


async def test_a_dead_workers_job_is_still_requeued_by_the_next_claim(store: Store, clock: FakeClock) -> None:
    """Only the claimer's own leases are spared: a worker that died meanwhile loses its job as before."""
    dead_job = await submit(store, 1)
    assert await store.jobs.claim_next("dead", [MODEL], 10) is not None
    own_job = await submit(store, 2)
    assert await store.jobs.claim_next("alive", [MODEL], 10) is not None
    clock.advance(OUTAGE_S)
    reclaimed = await store.jobs.claim_next("alive", [MODEL], 10)
    assert reclaimed is not None and (reclaimed.id, reclaimed.attempts) == (dead_job.id, 1)
    own = await store.jobs.get(own_job.id)
    assert own is not None and (own.state, own.worker_id, own.attempts) == ("running", "alive", 0)


async def test_a_worker_back_after_its_lease_ran_out_stores_nothing_over_the_clip_another_finished(
    store: Store, clock: FakeClock
) -> None:
    """w1 was cut off mid-job for longer than its lease; w2 took the job, stored its clip and finished.
    When w1 comes back with its own late render, what members saw stays: w1 stores nothing."""
    job = await submit(store, 1)
    assert (await store.jobs.claim_next("w1", [MODEL], 10)) is not None
    clock.advance(11)
    assert (await store.jobs.claim_next("w2", [MODEL], 10)) is not None
    ref = await store.jobs.put_media(job.id, b"w2's clip", b"w2's poster", worker_id="w2")
    assert ref is not None and await store.jobs.finish(job.id, "w2", result(media_ref=ref))
    assert await store.jobs.put_media(job.id, b"w1's late clip", b"w1's poster", worker_id="w1") is None
    media = await store.jobs.get_media(job.id)
    assert media is not None and media.video == b"w2's clip"
