"""The hall of fame's rows (claimed once, recorded once, removed for good) and /me's figures, on both
backends."""

from __future__ import annotations

from db.store import Job, Store, VoteCounts
from tests.store.conftest import FakeClock
from tests.store.helpers import GUILD, MODEL, result, submit

HALL = 900
DAY = 86_400.0


async def clip(store: Store, user_id: int, *, gpu_seconds: float = 30.0, weight: float = 1.0) -> Job:
    """A finished, posted clip of ``user_id``."""
    job = await submit(store, user_id, weight=weight)
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == job.id
    assert await store.jobs.finish(job.id, "w1", result(gpu_seconds))
    assert await store.jobs.mark_posted(job.id, 5000 + job.id, None)
    posted = await store.jobs.get(job.id)
    assert posted is not None
    return posted


async def test_a_clip_is_claimed_for_the_hall_once_and_recorded_once(store: Store) -> None:
    job = await clip(store, 1)
    first = await store.hall.claim_hall_post(GUILD, job.id, HALL, VoteCounts(5, 0))
    assert first is not None and first.state == "posting" and first.message_id is None
    assert await store.hall.claim_hall_post(GUILD, job.id, HALL, VoteCounts(6, 0)) is None  # never twice
    assert [p.job_id for p in await store.hall.unfinished_hall_posts(GUILD)] == [job.id]

    assert await store.hall.record_hall_post(job.id, 777, VoteCounts(6, 0))
    assert not await store.hall.record_hall_post(job.id, 778, VoteCounts(6, 0))  # a repeat changes nothing
    post = await store.hall.hall_post(job.id)
    assert post is not None and (post.state, post.message_id, post.shown) == ("posted", 777, (6, 0))
    assert await store.hall.unfinished_hall_posts(GUILD) == []


async def test_stale_posts_are_those_whose_counts_changed(store: Store) -> None:
    job = await clip(store, 1)
    for voter in (2, 3, 4):
        await store.votes.vote(job.id, voter, 1)
    assert await store.hall.claim_hall_post(GUILD, job.id, HALL, VoteCounts(3, 0)) is not None
    await store.hall.record_hall_post(job.id, 777, VoteCounts(3, 0))
    assert await store.hall.stale_hall_posts(GUILD) == []
    await store.votes.vote(job.id, 5, -1)
    stale = await store.hall.stale_hall_posts(GUILD)
    assert [(p.job_id, votes) for p, votes in stale] == [(job.id, (3, 1))]
    assert await store.hall.set_hall_shown(job.id, VoteCounts(3, 1))
    assert await store.hall.stale_hall_posts(GUILD) == []


async def test_candidates_are_clips_at_the_threshold_without_a_row(store: Store, clock: FakeClock) -> None:
    old = await clip(store, 1)
    clock.advance(10 * DAY)
    popular, modest, deleted, posted = [await clip(store, 1) for _ in range(4)]
    for voter in (2, 3, 4):
        for job in (old, popular, deleted, posted):
            await store.votes.vote(job.id, voter, 1)
    await store.votes.vote(modest.id, 2, 1)
    await store.votes.vote(modest.id, 3, 1)
    await store.votes.vote(modest.id, 4, -1)  # net 1
    await store.jobs.delete_clip(deleted.id)
    await store.hall.claim_hall_post(GUILD, posted.id, HALL, VoteCounts(3, 0))
    since = clock() - 7 * DAY
    assert [j.id for j in await store.hall.hall_candidates(GUILD, 3, since)] == [popular.id]
    assert [j.id for j in await store.hall.hall_candidates(GUILD, 1, since)] == [popular.id, modest.id]
    assert [j.id for j in await store.hall.hall_candidates(GUILD, 1, 0.0)] == [old.id, popular.id, modest.id]
    assert await store.hall.hall_candidates(GUILD + 1, 1, 0.0) == []


async def test_a_removed_post_is_never_claimed_again(store: Store) -> None:
    job = await clip(store, 1)
    assert await store.hall.remove_hall_post(job.id) is None  # nothing to remove
    await store.hall.claim_hall_post(GUILD, job.id, HALL, VoteCounts(5, 0))
    await store.hall.record_hall_post(job.id, 777, VoteCounts(5, 0))
    removed = await store.hall.remove_hall_post(job.id)
    assert removed is not None and removed.message_id == 777  # the message to delete
    assert await store.hall.remove_hall_post(job.id) is None
    assert await store.hall.claim_hall_post(GUILD, job.id, HALL, VoteCounts(9, 0)) is None
    post = await store.hall.hall_post(job.id)
    assert post is not None and post.state == "removed"
    assert await store.hall.set_hall_shown(job.id, VoteCounts(9, 0)) is False


async def test_standing_counts_clips_votes_and_this_weeks_gpu_time(store: Store, clock: FakeClock) -> None:
    await store.settings.update_settings(GUILD, daily_clips_per_user=100, max_queued_per_user=100)
    old = await clip(store, 1, gpu_seconds=100.0)
    await store.votes.vote(old.id, 2, 1)
    clock.advance(8 * DAY)
    mine = await clip(store, 1, gpu_seconds=20.0)
    gone = await clip(store, 1, gpu_seconds=5.0)
    await clip(store, 2, gpu_seconds=40.0, weight=2.0)
    await store.votes.vote(mine.id, 2, 1)
    await store.votes.vote(mine.id, 3, -1)
    await store.votes.vote(gone.id, 2, 1)
    await store.jobs.delete_clip(gone.id)  # deleted clips and their votes leave the count
    cancelled = await submit(store, 3)
    await store.jobs.cancel(cancelled.id, None)  # never ran: no GPU time, but an ended job of member 3

    standing = await store.hall.standing(GUILD, 1, clock() - 7 * DAY)
    assert (standing.clips_total, standing.clips_recent) == (2, 1)
    assert standing.votes == (2, 1)
    assert standing.gpu_seconds_of(1) == 25.0  # this week's only; the deleted clip's GPU time was used
    assert standing.guild_gpu_seconds == 65.0
    weights = {m.user_id: m.weight for m in standing.gpu_by_member}
    assert weights == {1: 1.0, 2: 2.0}  # member 3 used no GPU time: not among those who share it
    nobody = await store.hall.standing(GUILD, 42, clock() - 7 * DAY)
    assert (nobody.clips_total, nobody.clips_recent, nobody.votes, nobody.gpu_seconds_of(42)) == (
        0,
        0,
        (0, 0),
        0,
    )
