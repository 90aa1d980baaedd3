"""The store's part for challenges, on both backends: entries, final results, the audit, wins."""

from __future__ import annotations

from db.store import Job, Store
from db.store.challenges import Challenge
from tests.store.conftest import FakeClock
from tests.store.helpers import GUILD, MODEL, result, spec

CHANNEL = 300
THREAD = 301
OTHER_THREAD = 302
MOD, ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4, 5


async def clip(store: Store, clock: FakeClock, user: int, channel: int = THREAD) -> Job:
    """A finished clip by ``user`` made in ``channel`` (a minute later than the last one)."""
    clock.advance(60)
    job = await store.jobs.enqueue(GUILD, channel, user, spec(f"clip by {user}"), 10.0)
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == job.id
    assert await store.jobs.finish(job.id, "w1", result())
    assert await store.jobs.mark_posted(job.id, 9000 + job.id, None)
    return job


async def challenge(store: Store, clock: FakeClock, hours: float = 2) -> Challenge:
    started = await store.challenges.start_challenge(
        GUILD, CHANNEL, MOD, "  a cat *surfing* ", clock() + hours * 3600, locale="de"
    )
    await store.challenges.set_challenge_thread(started.id, 7000, THREAD)
    found = await store.challenges.get_challenge(started.id)
    assert found is not None
    return found


async def test_the_latest_clip_of_each_member_is_their_entry_and_votes_rank_them(
    store: Store, clock: FakeClock
) -> None:
    await store.settings.update_settings(GUILD, max_queued_per_user=10, daily_clips_per_user=100)
    before = await clip(store, clock, ALICE)  # before the challenge: no entry
    c = await challenge(store, clock)
    assert c.theme == "a cat *surfing*" and c.thread_id == THREAD and c.locale == "de" and not c.ended
    assert await store.challenges.challenge_by_thread(THREAD) == c
    first_alice = await clip(store, clock, ALICE)
    bob = await clip(store, clock, BOB)
    alice = await clip(store, clock, ALICE)  # her latest: the entry
    carol = await clip(store, clock, CAROL)
    await clip(store, clock, DAVE, channel=OTHER_THREAD)  # elsewhere: no entry
    await store.votes.vote(bob.id, CAROL, 1)
    await store.votes.vote(bob.id, DAVE, 1)
    await store.votes.vote(alice.id, BOB, 1)
    await store.votes.vote(alice.id, DAVE, 1)
    await store.votes.vote(first_alice.id, DAVE, 1)  # not an entry: does not count
    await store.votes.vote(carol.id, DAVE, -1)

    standings = await store.challenges.challenge_standings(c)
    assert [(e.job_id, e.up, e.down) for e in standings] == [
        (bob.id, 2, 0),
        (alice.id, 2, 0),
        (carol.id, 0, 1),
    ]
    assert await store.challenges.is_challenge_entry(c, alice.id)
    assert not await store.challenges.is_challenge_entry(
        c, first_alice.id
    ) and not await store.challenges.is_challenge_entry(c, before.id)

    clock.advance(3 * 3600)
    late = await clip(store, clock, DAVE)  # after the end: no entry
    assert await store.challenges.close_challenge(c.id)
    assert not await store.challenges.close_challenge(c.id)  # once
    closed = await store.challenges.get_challenge(c.id)
    assert closed is not None and closed.ended and closed.ended_by is None
    assert (closed.winner_user_id, closed.winner_job_id) == (BOB, bob.id)  # tie: the earlier entry
    results = await store.challenges.challenge_results(c.id)
    assert [(e.place, e.user_id, e.up, e.down, e.score) for e in results] == [
        (1, BOB, 2, 0, 2),
        (2, ALICE, 2, 0, 2),
        (3, CAROL, 0, 1, -1),
    ]
    assert results[0].message_id == 9000 + bob.id
    assert late.id not in {e.job_id for e in results}

    # the audit: who voted what on the entries, kept however the live votes change later
    audit = await store.challenges.challenge_audit(c.id)
    assert sorted((v.job_id, v.user_id, v.value) for v in audit) == sorted(
        [(bob.id, CAROL, 1), (bob.id, DAVE, 1), (alice.id, BOB, 1), (alice.id, DAVE, 1), (carol.id, DAVE, -1)]
    )
    await store.votes.vote(bob.id, CAROL, 0)
    await store.jobs.delete_clip(alice.id)
    assert len(await store.challenges.challenge_audit(c.id)) == 5
    assert [e.job_id for e in await store.challenges.challenge_results(c.id)] == [bob.id, alice.id, carol.id]

    assert await store.challenges.challenge_wins(GUILD, BOB) == 1
    assert await store.challenges.challenge_wins(GUILD, ALICE) == 0
    assert await store.challenges.challenge_wins(GUILD + 1, BOB) == 0
    assert await store.challenges.latest_finished_challenge(GUILD) == closed


async def test_an_early_end_closes_entries_now_and_results_are_posted_once(
    store: Store, clock: FakeClock
) -> None:
    c = await challenge(store, clock, hours=24)
    entry = await clip(store, clock, ALICE)
    assert [o.id for o in await store.challenges.open_challenges()] == [c.id]
    assert [u.id for u in await store.challenges.unannounced_challenges()] == []
    assert await store.challenges.close_challenge(c.id, ended_by=MOD)
    await clip(store, clock, BOB)  # after the early end: too late
    closed = await store.challenges.get_challenge(c.id)
    assert closed is not None and closed.ended_by == MOD and closed.ends_at <= clock()
    assert [e.job_id for e in await store.challenges.challenge_results(c.id)] == [entry.id]
    assert await store.challenges.open_challenges() == []
    assert [u.id for u in await store.challenges.unannounced_challenges()] == [c.id]  # results not posted yet
    assert not await store.challenges.move_challenge_end(c.id, clock() + 99)  # ended: its end stays

    assert await store.challenges.mark_challenge_results_posted(c.id, 8000, "forbidden")
    assert not await store.challenges.mark_challenge_results_posted(c.id, 8001, "given")
    posted = await store.challenges.get_challenge(c.id)
    assert posted is not None and (posted.results_message_id, posted.role_outcome) == (8000, "forbidden")
    assert await store.challenges.unannounced_challenges() == []


async def test_a_challenge_without_entries_has_no_winner_and_a_thread_less_one_waits(
    store: Store, clock: FakeClock
) -> None:
    bare = await store.challenges.start_challenge(GUILD, CHANNEL, MOD, "dogs", clock() + 60)
    assert [u.id for u in await store.challenges.unannounced_challenges()] == [
        bare.id
    ]  # its thread is missing
    assert await store.challenges.move_challenge_end(bare.id, clock() - 1)
    assert await store.challenges.close_challenge(bare.id)
    closed = await store.challenges.get_challenge(bare.id)
    assert closed is not None and closed.winner_user_id is None
    assert (
        await store.challenges.challenge_results(bare.id) == []
        and await store.challenges.challenge_audit(bare.id) == []
    )
    assert [c.id for c in await store.challenges.guild_challenges(GUILD)] == [bare.id]
