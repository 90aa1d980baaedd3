"""A clip made in an age-restricted channel (Discord's NSFW flag) is recorded so on its job, and so is
every clip built on it; the listings that post prompts or clips into a channel leave it out unless
asked for it (the bot asks only when that channel is age-restricted too). On both backends."""

from __future__ import annotations

from dataclasses import replace

from db.spec import JobSpec
from db.store import Job, Store
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, GUILD, MODEL, generous_caps, result, spec

NSFW_CHANNEL = 201


async def finished(store: Store, job: Job, *, voters: tuple[int, ...] = (50, 51)) -> Job:
    """``job`` rendered, posted and voted 👍 by ``voters``."""
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == job.id
    assert await store.jobs.finish(job.id, "w1", result())
    assert await store.jobs.mark_posted(job.id, 7000 + job.id, None)
    for voter in voters:
        await store.votes.vote(job.id, voter, 1)
    done = await store.jobs.get(job.id)
    assert done is not None
    return done


async def test_a_job_records_whether_it_was_made_in_an_age_restricted_channel(store: Store) -> None:
    ordinary = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    restricted = await store.jobs.enqueue(GUILD, NSFW_CHANNEL, 1, spec("a fox"), 30, age_restricted=True)
    assert (ordinary.age_restricted, restricted.age_restricted) == (False, True)
    stored = [await store.jobs.get(j.id) for j in (ordinary, restricted)]
    assert [j.age_restricted for j in stored if j is not None] == [False, True]
    claimed = await store.jobs.claim_next("w1", [MODEL])  # the claim's row carries it too
    assert claimed is not None and claimed.id == ordinary.id and claimed.age_restricted is False
    assert await store.jobs.finish(ordinary.id, "w1", result())
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == restricted.id and claimed.age_restricted is True


async def test_whatever_builds_on_an_age_restricted_clip_is_age_restricted_wherever_it_was_asked(
    store: Store,
) -> None:
    await generous_caps(store)
    original = await store.jobs.enqueue(GUILD, NSFW_CHANNEL, 1, spec("x"), 30, age_restricted=True)
    chain = [original]
    for kind in ("reroll", "remix", "extend"):  # each asked for in an ordinary channel
        chain.append(
            await store.jobs.enqueue(GUILD, CHANNEL, 2, spec(kind), 30, parent_id=chain[-1].id, kind=kind)
        )
    assert [j.age_restricted for j in chain] == [True, True, True, True]
    assert all(j is not None and j.age_restricted for j in [await store.jobs.get(j.id) for j in chain])

    plain = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("plain"), 30)
    child = await store.jobs.enqueue(GUILD, CHANNEL, 2, spec("c"), 30, parent_id=plain.id, kind="remix")
    asked_there = await store.jobs.enqueue(
        GUILD, NSFW_CHANNEL, 2, spec("d"), 30, parent_id=plain.id, kind="remix", age_restricted=True
    )
    assert (plain.age_restricted, child.age_restricted, asked_there.age_restricted) == (False, False, True)


async def test_a_bridge_to_an_age_restricted_clip_is_age_restricted_wherever_it_was_asked(
    store: Store,
) -> None:
    await generous_caps(store)
    plain = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("plain"), 30)
    restricted = await store.jobs.enqueue(GUILD, NSFW_CHANNEL, 1, spec("x"), 30, age_restricted=True)
    other = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("other"), 30)

    def bridge(to: int) -> JobSpec:
        return replace(spec("between"), continues=plain.id, bridges_to=to)

    into_restricted = await store.jobs.enqueue(
        GUILD, CHANNEL, 2, bridge(restricted.id), 30, parent_id=plain.id, kind="bridge"
    )
    between_plain = await store.jobs.enqueue(
        GUILD, CHANNEL, 2, bridge(other.id), 30, parent_id=plain.id, kind="bridge"
    )
    assert (into_restricted.age_restricted, between_plain.age_restricted) == (True, False)
    stored = await store.jobs.get(into_restricted.id)
    assert stored is not None and stored.kind == "bridge" and stored.spec.bridges_to == restricted.id


async def test_top_and_hall_candidates_leave_age_restricted_clips_out_unless_asked(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    plain = await finished(store, await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("plain"), 30))
    restricted = await finished(
        store,
        await store.jobs.enqueue(GUILD, NSFW_CHANNEL, 1, spec("nsfw"), 30, age_restricted=True),
        voters=(50, 51, 52),
    )
    remix = await finished(  # asked for in an ordinary channel, built on the age-restricted clip
        store,
        await store.jobs.enqueue(GUILD, CHANNEL, 2, spec("remix"), 30, parent_id=restricted.id, kind="remix"),
    )
    assert [c.job.id for c in await store.votes.top(GUILD, 0)] == [plain.id]
    everything = await store.votes.top(GUILD, 0, with_age_restricted=True)
    assert [c.job.id for c in everything] == [restricted.id, plain.id, remix.id]
    assert [j.id for j in await store.hall.hall_candidates(GUILD, 2, 0.0)] == [plain.id]
    assert [j.id for j in await store.hall.hall_candidates(GUILD, 2, 0.0, with_age_restricted=True)] == [
        plain.id,
        restricted.id,
        remix.id,
    ]
