"""The job store contract: every test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from db.store import (
    DATABASE_URL_ENV,
    MAX_ATTEMPTS,
    CapExceeded,
    GuildSettings,
    SettingsError,
    Store,
    VoteRefused,
    open_store,
)
from db.store.jobs import Submission
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, GUILD, MODEL, OTHER_MODEL, generous_caps, result, spec, submit

# ---- lifecycle -------------------------------------------------------------------------------------


async def test_enqueued_job_keeps_the_resolved_spec(store: Store, clock: FakeClock) -> None:
    job = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a cat on a skateboard"), 42.5, locale="de")
    stored = await store.jobs.get(job.id)
    assert stored is not None
    assert stored.spec == spec("a cat on a skateboard")
    assert (stored.state, stored.model, stored.locale, stored.kind) == ("queued", MODEL, "de", "new")
    assert stored.cost_estimate_s == 42.5
    assert stored.created_at == clock.now


async def test_enqueue_refuses_an_unresolved_spec(store: Store) -> None:
    with pytest.raises(ValueError, match="resolved"):
        await store.jobs.enqueue(GUILD, CHANNEL, 1, spec().__class__(prompt="x"), 10.0)


async def test_workers_only_get_models_they_serve(store: Store) -> None:
    job = await submit(store, 1, model=OTHER_MODEL)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is None
    claimed = await store.jobs.claim_next("w2", [MODEL, OTHER_MODEL], 60)
    assert claimed is not None and claimed.id == job.id
    assert (claimed.state, claimed.worker_id) == ("running", "w2")


async def test_a_claimed_job_is_not_handed_out_twice(store: Store) -> None:
    await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.claim_next("w2", [MODEL], 60) is None


async def test_heartbeat_records_progress(store: Store, clock: FakeClock) -> None:
    await submit(store, 1)
    job = await store.jobs.claim_next("w1", [MODEL], 60)
    assert job is not None
    clock.advance(10)
    assert await store.jobs.heartbeat(job.id, "w1", step=10, total_steps=40, lease_s=60)
    now = await store.jobs.get(job.id)
    assert now is not None
    assert (now.step, now.total_steps, now.progress) == (10, 40, 0.25)
    assert now.lease_expires_at == clock.now + 60
    assert not await store.jobs.heartbeat(job.id, "someone-else", step=11, total_steps=40)


async def test_expired_lease_goes_back_to_the_queue_and_the_old_worker_is_told(
    store: Store, clock: FakeClock
) -> None:
    await submit(store, 1)
    first = await store.jobs.claim_next("w1", [MODEL], 30)
    assert first is not None
    clock.advance(31)
    second = await store.jobs.claim_next("w2", [MODEL], 30)
    assert second is not None and second.id == first.id
    assert (second.worker_id, second.attempts) == ("w2", 1)
    assert not await store.jobs.heartbeat(first.id, "w1", step=5, total_steps=40)
    assert not await store.jobs.finish(first.id, "w1", result())
    assert await store.jobs.finish(first.id, "w2", result())


async def test_a_job_whose_worker_vanishes_three_times_fails_with_a_reason(
    store: Store, clock: FakeClock
) -> None:
    job = await submit(store, 1)
    for attempt in range(MAX_ATTEMPTS):
        assert await store.jobs.claim_next(f"w{attempt}", [MODEL], 30) is not None
        clock.advance(31)
        assert await store.jobs.requeue_expired() == 1
    failed = await store.jobs.get(job.id)
    assert failed is not None
    assert (failed.state, failed.attempts) == ("failed", MAX_ATTEMPTS)
    assert (failed.error_code, dict(failed.error_params)) == ("gave_up", {"attempts": MAX_ATTEMPTS})
    assert failed.error is not None and "stopped responding" in failed.error
    assert await store.jobs.claim_next("w9", [MODEL], 30) is None
    assert [j.id for j in await store.jobs.unposted()] == [job.id]


async def test_release_returns_the_job_without_counting_an_attempt(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.release(job.id, "w1")
    again = await store.jobs.claim_next("w2", [MODEL], 60)
    assert again is not None and again.id == job.id and again.attempts == 0
    assert not await store.jobs.release(job.id, "w1")


async def test_finish_records_the_clip_once(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.finish(job.id, "w1", result(gpu_seconds=12.5, media_ref="file:9.mp4"))
    done = await store.jobs.get(job.id)
    assert done is not None
    assert (done.state, done.media_ref, done.gpu_seconds, done.width, done.frames) == (
        "done",
        "file:9.mp4",
        12.5,
        768,
        121,
    )
    assert done.progress == 1.0
    assert not await store.jobs.finish(job.id, "w1", result())


async def test_fail_keeps_its_code_parameters_and_english_reason(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.fail(job.id, "w1", "model_unavailable", params={"model": "Wan 2.1 14B"})
    failed = await store.jobs.get(job.id)
    assert failed is not None and failed.state == "failed"
    assert (failed.error_code, dict(failed.error_params)) == ("model_unavailable", {"model": "Wan 2.1 14B"})
    assert failed.error == "The model Wan 2.1 14B is not available on this machine."


async def test_cancel_while_queued_by_author_or_moderator_only(store: Store) -> None:
    mine = await submit(store, 1)
    theirs = await submit(store, 2)
    assert not await store.jobs.cancel(mine.id, 2)  # not your job
    assert await store.jobs.cancel(mine.id, 1)
    assert await store.jobs.cancel(theirs.id, None)  # a moderator
    assert not await store.jobs.cancel(mine.id, 1)  # already cancelled
    assert await store.jobs.claim_next("w1", [MODEL], 60) is None
    states = {j.id: (j.state, j.error_code, j.error) for j in await store.jobs.unposted()}
    assert states == {
        mine.id: ("cancelled", "cancelled_by_author", "Cancelled by its author."),
        theirs.id: ("cancelled", "cancelled_by_moderator", "Cancelled by a moderator."),
    }


async def test_cancel_while_running_stops_the_worker_at_its_next_heartbeat(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.cancel(job.id, 1)
    assert not await store.jobs.heartbeat(job.id, "w1", step=3, total_steps=40)
    assert not await store.jobs.finish(job.id, "w1", result())
    cancelled = await store.jobs.get(job.id)
    assert cancelled is not None and cancelled.state == "cancelled"


async def test_finished_jobs_cannot_be_cancelled(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.finish(job.id, "w1", result())
    assert not await store.jobs.cancel(job.id, None)


# ---- posting ---------------------------------------------------------------------------------------


async def test_posting_is_idempotent(store: Store) -> None:
    job = await submit(store, 1)
    assert not await store.jobs.mark_posted(job.id, 555, 666)  # not ended yet
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.finish(job.id, "w1", result())
    assert [j.id for j in await store.jobs.unposted()] == [job.id]
    assert await store.jobs.mark_posted(job.id, 555, 666)
    assert not await store.jobs.mark_posted(job.id, 777, 888)
    posted = await store.jobs.get(job.id)
    assert posted is not None and (posted.message_id, posted.thread_id, posted.posted) == (555, 666, True)
    assert await store.jobs.unposted() == []


async def test_status_message_is_remembered(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.set_status_message(job.id, 4242)
    active = await store.jobs.active_jobs()
    assert [(j.id, j.status_message_id) for j in active] == [(job.id, 4242)]
    # a status posted after the job already ended and was posted is not taken: nobody would edit it
    late = await submit(store, 2)
    assert await store.jobs.cancel(late.id, None) and await store.jobs.mark_posted(late.id, None)
    assert not await store.jobs.set_status_message(late.id, 4343)
    stored = await store.jobs.get(late.id)
    assert stored is not None and stored.status_message_id is None


async def test_unposted_lists_oldest_endings_first(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    a, b = await submit(store, 1), await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.claim_next("w2", [MODEL], 60) is not None
    assert await store.jobs.finish(b.id, "w2", result())
    clock.advance(5)
    assert await store.jobs.finish(a.id, "w1", result())
    assert [j.id for j in await store.jobs.unposted(limit=10)] == [b.id, a.id]
    assert [j.id for j in await store.jobs.unposted(limit=1)] == [b.id]


# ---- reading ---------------------------------------------------------------------------------------


async def test_jobs_for_user_filters_by_state_newest_first(store: Store) -> None:
    await generous_caps(store)
    first, second, third = await submit(store, 1), await submit(store, 1), await submit(store, 1)
    await submit(store, 2)
    assert await store.jobs.cancel(first.id, 1)
    waiting = await store.jobs.jobs_for_user(GUILD, 1, ["queued"])
    assert [j.id for j in waiting] == [third.id, second.id]
    assert [j.id for j in await store.jobs.jobs_for_user(GUILD, 1, ["cancelled"])] == [first.id]
    assert await store.jobs.jobs_for_user(GUILD + 1, 1, ["queued"]) == []


async def test_lineage_follows_rerolls_and_remixes(store: Store) -> None:
    original = await submit(store, 1)
    remix = await store.jobs.enqueue(
        GUILD, CHANNEL, 2, spec("remix"), 30, parent_id=original.id, kind="remix"
    )
    extend = await store.jobs.enqueue(GUILD, CHANNEL, 3, spec("more"), 30, parent_id=remix.id, kind="extend")
    assert [j.id for j in await store.jobs.lineage(extend.id)] == [original.id, remix.id, extend.id]
    assert [(j.id, j.kind) for j in await store.jobs.children(original.id)] == [(remix.id, "remix")]


async def test_extends_in_chain_counts_only_extends_up_to_the_original(store: Store) -> None:
    original = await submit(store, 1)
    assert await store.jobs.extends_in_chain(original.id) == 0
    first = await store.jobs.enqueue(
        GUILD, CHANNEL, 2, spec("more"), 30, parent_id=original.id, kind="extend"
    )
    remix = await store.jobs.enqueue(GUILD, CHANNEL, 3, spec("other"), 30, parent_id=first.id, kind="remix")
    second = await store.jobs.enqueue(GUILD, CHANNEL, 4, spec("again"), 30, parent_id=remix.id, kind="extend")
    assert [await store.jobs.extends_in_chain(j.id) for j in (first, remix, second)] == [1, 1, 2]


async def test_a_deleted_clip_keeps_its_row_for_the_chain_but_leaves_top(store: Store) -> None:
    job = await submit(store, 1)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.finish(job.id, "w1", result())
    await store.votes.vote(job.id, 2, 1)
    assert [c.job.id for c in await store.votes.top(GUILD, 0)] == [job.id]
    assert await store.jobs.delete_clip(job.id)
    assert not await store.jobs.delete_clip(job.id)  # once
    deleted = await store.jobs.get(job.id)
    assert deleted is not None and deleted.deleted
    assert await store.votes.top(GUILD, 0) == []


# ---- caps ------------------------------------------------------------------------------------------


async def test_too_many_queued_is_refused_and_nothing_is_stored(store: Store) -> None:
    await store.settings.update_settings(GUILD, max_queued_per_user=2)
    await submit(store, 1)
    await submit(store, 1)
    with pytest.raises(CapExceeded) as refused:
        await submit(store, 1)
    assert refused.value.code == "too_many_queued"
    assert refused.value.params["limit"] == 2
    assert "limit is 2" in str(refused.value)
    assert len(await store.jobs.jobs_for_user(GUILD, 1, ["queued", "running"])) == 2
    await submit(store, 2)  # other members are not affected
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None  # once one starts, there is room
    await submit(store, 1)


async def test_a_burst_of_submissions_each_gets_its_job_and_place_or_its_own_refusal(store: Store) -> None:
    """Thirty members' requests at once (SQLite stores those that arrive together in one transaction):
    each over-the-cap request is refused alone, every other one is stored with its own place."""
    await store.settings.update_settings(GUILD, max_queued_per_user=4)
    requests = [Submission(GUILD, CHANNEL, 1 + i % 5, spec(f"clip {i}"), 30.0) for i in range(30)]
    outcomes = await asyncio.gather(
        *(store.jobs.enqueue_and_place(r) for r in requests), return_exceptions=True
    )
    placed = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, CapExceeded)]
    assert len(placed) == 20 and len(refused) == 10  # four each for five members
    assert {r.code for r in refused} == {"too_many_queued"}
    stored = {j.id for m in range(1, 6) for j in await store.jobs.jobs_for_user(GUILD, m, ["queued"])}
    assert stored == {job.id for job, _ in placed}
    assert all(1 <= position.position <= 20 for _, position in placed)
    now = [await store.jobs.queue_position(job.id) for job, _ in placed]
    assert sorted(p.position for p in now) == list(range(1, 21))


async def test_daily_limit_counts_the_last_24_hours(store: Store, clock: FakeClock) -> None:
    await store.settings.update_settings(GUILD, daily_clips_per_user=2, max_queued_per_user=10)
    first = await submit(store, 1)
    clock.advance(3600)
    await submit(store, 1)
    with pytest.raises(CapExceeded) as refused:
        await submit(store, 1)
    assert refused.value.code == "daily_limit"
    assert refused.value.params["retry_after_s"] == pytest.approx(86_400 - 3600)
    cancelled = await submit(store, 2)
    assert await store.jobs.cancel(cancelled.id, 2)  # a clip cancelled before it started does not count
    await submit(store, 2)
    await submit(store, 2)
    assert first is not None
    clock.advance(86_400 - 3600 + 1)  # the first clip leaves the window
    await submit(store, 1)


async def test_running_cap_lets_others_go_first(store: Store) -> None:
    await store.settings.update_settings(GUILD, max_running_per_user=1, max_queued_per_user=10)
    a1, a2 = await submit(store, 1), await submit(store, 1)
    b1 = await submit(store, 2)
    claimed = [await store.jobs.claim_next(f"w{i}", [MODEL], 60) for i in range(3)]
    assert [j.id if j else None for j in claimed] == [a1.id, b1.id, None]
    assert await store.jobs.finish(a1.id, "w0", result())
    nxt = await store.jobs.claim_next("w0", [MODEL], 60)
    assert nxt is not None and nxt.id == a2.id


# ---- queue position and ETA ------------------------------------------------------------------------


async def test_queue_position_and_eta_follow_real_gpu_time_and_workers(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    await store.workers.register_worker("w1", "host-a", "H200", [MODEL])
    # history: this model really takes twice what we estimate
    warm = await submit(store, 9, cost=10)
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    assert await store.jobs.finish(warm.id, "w1", result(gpu_seconds=20))
    jobs = [await submit(store, user, cost=10) for user in (1, 2, 3)]
    positions = [await store.jobs.queue_position(j.id) for j in jobs]
    assert [p.position for p in positions] == [1, 2, 3]
    assert [p.eta_s for p in positions] == pytest.approx([20, 40, 60])
    await store.workers.register_worker("w2", "host-b", "H200", [MODEL, OTHER_MODEL])
    assert (await store.jobs.queue_position(jobs[2].id)).eta_s == pytest.approx(2 * 20 / 2 + 20)
    running = await store.jobs.claim_next("w1", [MODEL], 60)
    assert running is not None and running.id == jobs[0].id
    clock.advance(5)
    assert await store.jobs.queue_position(running.id) == (0, pytest.approx(15))
    assert await store.jobs.heartbeat(running.id, "w1", step=10, total_steps=40)  # 10 of 40 steps in 5 s
    assert (await store.jobs.queue_position(running.id)).eta_s == pytest.approx(15)
    assert (await store.jobs.queue_position(jobs[1].id)).position == 1


async def test_every_status_gets_the_same_place_and_eta_from_one_read_of_the_queue(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    await store.workers.register_worker("w1", "host-a", "H200", [MODEL])
    await store.workers.register_worker("w2", "host-b", "H200", [MODEL, OTHER_MODEL])
    jobs = [
        await submit(store, user, cost=10 + 5 * user, model=OTHER_MODEL if user % 3 == 0 else MODEL)
        for user in (1, 2, 3, 1, 4, 6, 2)
    ]
    assert await store.jobs.claim_next("w1", [MODEL], 60) is not None
    clock.advance(4)
    cancelled = await submit(store, 5)
    assert await store.jobs.cancel(cancelled.id, None)
    together = await store.jobs.queue_positions()
    assert set(together) == {j.id for j in jobs}  # the queued and the running, not the cancelled
    assert sorted(p.position for p in together.values()) == list(range(len(jobs)))  # one runs
    for model in (MODEL, OTHER_MODEL):  # further back in the line, later ready
        waiting = [together[j.id] for j in jobs if j.model == model and together[j.id].position]
        etas = [p.eta_s or 0.0 for p in sorted(waiting)]
        assert len(etas) >= 2 and etas == sorted(etas) and all(etas)
    assert together[jobs[4].id] == await store.jobs.queue_position(jobs[4].id)


async def test_no_eta_when_no_live_worker_serves_the_model(store: Store, clock: FakeClock) -> None:
    job = await submit(store, 1, model=OTHER_MODEL)
    await store.workers.register_worker("w1", "host-a", "H200", [MODEL])
    assert await store.jobs.queue_position(job.id) == (1, None)
    await store.workers.register_worker("w2", "host-b", "H200", [OTHER_MODEL])
    clock.advance(3600)  # both workers went silent
    assert (await store.jobs.queue_position(job.id)).eta_s is None


# ---- workers ---------------------------------------------------------------------------------------


async def test_worker_registry_offers_only_models_someone_serves(store: Store, clock: FakeClock) -> None:
    await store.workers.register_worker("w1", "host-a", "H200", [MODEL])
    await store.workers.register_worker("w2", "host-b", "RTX 4090", [OTHER_MODEL])
    assert await store.workers.served_models() == sorted([MODEL, OTHER_MODEL])
    clock.advance(45)
    assert await store.workers.worker_heartbeat("w1")
    clock.advance(30)  # w2 silent for 75 s
    live = await store.workers.live_workers(max_age_s=60)
    assert [(w.worker_id, w.host, w.gpu, w.models) for w in live] == [("w1", "host-a", "H200", (MODEL,))]
    assert await store.workers.served_models() == [MODEL]
    assert not await store.workers.worker_heartbeat("never-registered")
    assert await store.workers.unregister_worker("w1")
    assert await store.workers.served_models() == []


# ---- community -------------------------------------------------------------------------------------


async def _finished(store: Store, user_id: int, guild_id: int = GUILD) -> int:
    job = await submit(store, user_id, guild_id=guild_id)
    claimed = await store.jobs.claim_next("w", [MODEL], 60)
    assert claimed is not None and claimed.id == job.id
    assert await store.jobs.finish(job.id, "w", result())
    return job.id


async def test_votes_one_per_member_changeable_not_on_your_own_clip(store: Store) -> None:
    clip = await _finished(store, 1)
    assert await store.votes.vote(clip, 2, 1) == (1, 0)
    assert await store.votes.vote(clip, 3, 1) == (2, 0)
    assert await store.votes.vote(clip, 2, 1) == (2, 0)  # voting again changes nothing
    assert await store.votes.vote(clip, 2, -1) == (1, 1)  # changed
    assert await store.votes.vote(clip, 3, 0) == (0, 1)  # withdrawn
    assert await store.votes.vote(clip, 3, -1, toggle=True) == (0, 2)  # a button click votes
    assert await store.votes.vote(clip, 3, -1, toggle=True) == (0, 1)  # the same click again withdraws
    assert await store.votes.vote(clip, 2, 1, toggle=True) == (1, 0)  # the other button changes the vote
    with pytest.raises(VoteRefused) as own:
        await store.votes.vote(clip, 1, 1)
    assert own.value.code == "own_clip"
    waiting = await submit(store, 1)
    with pytest.raises(VoteRefused):
        await store.votes.vote(waiting.id, 2, 1)
    assert await store.votes.vote_counts(clip) == (1, 0)


async def test_a_double_click_on_a_vote_button_takes_turns(store: Store, store_url: str) -> None:
    clip = await _finished(store, 1)
    other = await open_store(store_url)  # the second click lands on another connection (or shard)
    try:
        for _ in range(10):
            # vote, then withdraw: two toggles by one member leave no vote, whichever runs first
            await asyncio.gather(
                store.votes.vote(clip, 2, 1, toggle=True), other.votes.vote(clip, 2, 1, toggle=True)
            )
            assert await store.votes.vote_counts(clip) == (0, 0)
    finally:
        await other.close()


async def test_top_ranks_a_guilds_recent_clips_by_score(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    old = await _finished(store, 1)
    clock.advance(8 * 86_400)
    since = clock.now - 7 * 86_400
    good, better, other_guild = (
        await _finished(store, 1),
        await _finished(store, 2),
        await _finished(store, 3, guild_id=GUILD + 1),
    )
    for voter in (10, 11, 12):
        await store.votes.vote(old, voter, 1)
        await store.votes.vote(better, voter, 1)
        await store.votes.vote(other_guild, voter, 1)
    await store.votes.vote(good, 10, 1)
    top = await store.votes.top(GUILD, since, limit=5)
    assert [(c.job.id, c.votes.score) for c in top] == [(better, 3), (good, 1)]
    assert [c.job.id for c in await store.votes.top(GUILD, since, limit=1)] == [better]


# ---- settings --------------------------------------------------------------------------------------


async def test_settings_default_then_persist_changes(store: Store) -> None:
    defaults = await store.settings.get_settings(GUILD)
    assert (defaults.allowed_channel_ids, defaults.nsfw_allowed, defaults.role_weights) == ((), False, {})
    changed = await store.settings.update_settings(
        GUILD,
        allowed_channel_ids=[7, 5],
        role_weights={99: 2.0},
        nsfw_allowed=True,
        blocked_words=["gore", " Gore ", "gore", "\u200b", "\u00ad\u200d"],  # invisible ones are no words
        max_queued_per_user=4,
    )
    again = await store.settings.get_settings(GUILD)
    assert again == changed
    assert again.allowed_channel_ids == (5, 7) and again.max_queued_per_user == 4
    assert again.weight_for_roles([1, 99]) == 2.0 and again.weight_for_roles([1]) == 1.0
    assert again.allows_channel(5) and not again.allows_channel(6)
    assert again.blocked_word_in("so much GORE here") == "gore"
    assert again.blocked_word_in("gorgeous sunset") is None
    assert again.blocked_words == ("gore", "Gore") and again.blocked_word_in("a dog. a cat!") is None
    stored_before = replace(again, blocked_words=("\u200b", "gore"))  # kept by an older version
    assert stored_before.blocked_word_in("a dog. a cat!") is None
    assert stored_before.blocked_word_in("gore!") == "gore"
    assert (await store.settings.get_settings(GUILD + 1)).nsfw_allowed is False  # other guilds untouched


async def test_bad_settings_are_refused_with_the_field_named(store: Store) -> None:
    with pytest.raises(SettingsError, match="colour"):
        await store.settings.update_settings(GUILD, colour="red")
    with pytest.raises(SettingsError, match="max_running_per_user"):
        await store.settings.update_settings(GUILD, max_running_per_user=0)
    with pytest.raises(SettingsError, match="weights"):
        await store.settings.update_settings(GUILD, role_weights={1: 0})
    assert await store.settings.get_settings(GUILD) == GuildSettings(GUILD)


# ---- media -----------------------------------------------------------------------------------------


async def test_media_round_trip_and_reachable_from_another_process(store: Store, store_url: str) -> None:
    job = await submit(store, 1)
    video, poster = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + b"x" * 99
    ref = await store.jobs.put_media(job.id, video, poster)
    other = await open_store(store_url)  # as a bot on another connection (or host) would
    try:
        media = await other.jobs.get_media(job.id)
        assert media is not None and (media.video, media.poster) == (video, poster)
        assert await other.jobs.get_media(job.id + 1) is None
        assert await other.jobs.delete_media(job.id)
    finally:
        await other.close()
    assert await store.jobs.get_media(job.id) is None
    assert ref


async def test_a_members_picture_is_stored_once_by_its_hash_and_read_from_another_process(
    store: Store, store_url: str
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    ref = await store.jobs.put_input(picture, "png")
    assert ref == await store.jobs.put_input(picture, "png")  # the same picture twice: one copy
    other = await open_store(store_url)  # a GPU worker on another connection (or host)
    try:
        assert await other.jobs.get_input(ref) == picture
        assert await other.jobs.get_input("0" * 64 + ".png") is None
        with pytest.raises(ValueError):
            await other.jobs.get_input("../../etc/passwd")  # a reference is a hash, never a path
    finally:
        await other.close()


async def test_a_servers_extend_cap_and_sound_setting_persist(store: Store) -> None:
    assert (await store.settings.get_settings(GUILD)).max_extends == 4
    changed = await store.settings.update_settings(GUILD, max_extends=1, sound=False)
    assert (changed.max_extends, changed.sound) == (1, False)
    assert await store.settings.get_settings(GUILD) == changed
    with pytest.raises(SettingsError, match="max_extends"):
        await store.settings.update_settings(GUILD, max_extends=-1)


async def test_sqlite_media_lives_next_to_the_database(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/data/videobot.db")
    try:
        job = await submit(store, 1)
        await store.jobs.put_media(job.id, b"mp4", b"png")
    finally:
        await store.close()
    assert (tmp_path / "data" / "media" / f"{job.id}.mp4").read_bytes() == b"mp4"
    assert (tmp_path / "data" / "media" / f"{job.id}.png").read_bytes() == b"png"


# ---- wake-ups --------------------------------------------------------------------------------------


async def test_workers_wake_on_enqueue_from_another_connection(store: Store, store_url: str) -> None:
    await store.jobs.wait_for_work(0.2)  # the first wait may return at once (PostgreSQL listens from now on)
    assert not await store.jobs.wait_for_work(0.2)  # nothing happens: times out
    bot = await open_store(store_url)
    try:
        waiter = asyncio.create_task(store.jobs.wait_for_work(10))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await submit(bot, 1)
        assert await waiter
        assert time.monotonic() - started < 2
    finally:
        await bot.close()


async def test_bot_wakes_on_progress_and_finish(store: Store, store_url: str) -> None:
    job = await submit(store, 1)
    worker = await open_store(store_url)
    try:
        assert await worker.jobs.claim_next("w1", [MODEL], 60) is not None
        await store.jobs.wait_for_events(0.5)  # the claim itself is an event; consume it
        waiter = asyncio.create_task(store.jobs.wait_for_events(10))
        await asyncio.sleep(0.1)
        assert await worker.jobs.finish(job.id, "w1", result())
        assert await asyncio.wait_for(waiter, 5)
    finally:
        await worker.close()


# ---- opening ---------------------------------------------------------------------------------------


async def test_reopening_keeps_jobs_and_does_not_migrate_again(store: Store, store_url: str) -> None:
    job = await submit(store, 1)
    again = await open_store(store_url)
    try:
        assert await again.migrate() == []
        stored = await again.jobs.get(job.id)
        assert stored is not None and stored.spec == job.spec
    finally:
        await again.close()


async def test_database_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path}/env.db")
    store = await open_store()
    try:
        assert store.backend == "sqlite"
        await submit(store, 1)
    finally:
        await store.close()
    assert (tmp_path / "env.db").exists()
