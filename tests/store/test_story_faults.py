"""A story's film posted for sure, on the real store (both backends, migration V23): the story is
``posting`` until every part is sent, takes nothing more meanwhile, and a failed upload is tried again
after a back-off by one process at a time, sending only the parts Discord has not taken yet."""

from __future__ import annotations

import pytest

from db.store import Store, stories
from db.store.stories import Story, StoryRefused
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, GUILD
from tests.store.test_stories import BOB, ROUND_S, STARTER, THREAD, render, scene_job

LEASE_S, RETRY_S, MAX_S = 60.0, 10.0, 900.0
LIMIT = 10 * 1024 * 1024


async def in_round(store: Store, clock: FakeClock) -> tuple[Story, int]:
    """A story whose scene 1 is posted and whose round for scene 2 is open; the scene's job id."""
    first = await scene_job(store, STARTER, None, "a paper boat on a pond")
    story = await store.stories.create_story(
        GUILD, CHANNEL, THREAD, STARTER, "The boat", first.id, first.spec.prompt
    )
    await render(store, first)
    assert await store.stories.open_round(story.id, clock.now + ROUND_S)
    return story, first.id


async def test_a_film_is_posting_until_every_part_is_sent_and_a_failed_upload_waits_its_back_off(
    store: Store, clock: FakeClock
) -> None:
    story, film = await in_round(store, clock)
    assert not await store.stories.start_posting(story.id, film, LIMIT, from_phase="closing", lease_s=LEASE_S)
    assert await store.stories.start_posting(story.id, film, LIMIT, from_phase="round", lease_s=LEASE_S)
    assert not await store.stories.start_posting(story.id, film, LIMIT, from_phase="round", lease_s=LEASE_S)
    posting = await store.stories.get_story(story.id)
    assert posting is not None and posting.phase == "posting"
    assert (posting.film_job_id, posting.film_limit, posting.film_parts_sent) == (film, LIMIT, 0)
    assert [s.id for s in await store.stories.unfinished_stories()] == [story.id]  # the timer sees it
    with pytest.raises(StoryRefused) as refused:  # nothing more: the film is on its way
        await store.stories.propose(story.id, BOB, "one more scene")
    assert refused.value.code == "posting"
    assert await store.stories.end_round(story.id) is None

    assert await store.stories.claim_film(story.id, LEASE_S) is None  # the command that began it holds it
    assert await store.stories.film_part_sent(story.id, 1)
    assert not await store.stories.film_part_sent(story.id, 1)  # once
    assert await store.stories.film_failed(story.id, RETRY_S, MAX_S) == 1  # part 2's upload failed
    assert await store.stories.claim_film(story.id, LEASE_S) is None
    clock.advance(RETRY_S)
    again = await store.stories.claim_film(story.id, LEASE_S)
    assert again is not None and again.film_parts_sent == 1  # part 2 and on are sent, not part 1 again
    assert await store.stories.claim_film(story.id, LEASE_S) is None  # one process at a time
    assert await store.stories.film_failed(story.id, RETRY_S, MAX_S) == 2
    clock.advance(RETRY_S)
    assert await store.stories.claim_film(story.id, LEASE_S) is None  # twice as long the second time
    clock.advance(RETRY_S)
    assert await store.stories.claim_film(story.id, LEASE_S) is not None
    for _ in range(20):
        await store.stories.film_failed(story.id, RETRY_S, MAX_S)
    clock.advance(MAX_S)
    assert await store.stories.claim_film(story.id, LEASE_S) is not None  # never longer than MAX_S

    assert await store.stories.film_part_sent(story.id, 2)
    assert await store.stories.finish_story(story.id)
    done = await store.stories.get_story(story.id)
    assert done is not None and done.phase == "finished" and done.finished_at == clock.now
    assert await store.stories.claim_film(story.id, LEASE_S) is None
    assert await store.stories.film_failed(story.id, RETRY_S, MAX_S) == 0
    assert await store.stories.unfinished_stories() == []


async def test_a_process_that_stopped_mid_upload_leaves_the_film_to_the_next_once_its_lease_ends(
    store: Store, clock: FakeClock
) -> None:
    story, film = await in_round(store, clock)
    assert await store.stories.start_posting(story.id, film, LIMIT, from_phase="round", lease_s=LEASE_S)
    clock.advance(LEASE_S - 1)
    assert await store.stories.claim_film(story.id, LEASE_S) is None
    clock.advance(1)
    claimed = await store.stories.claim_film(story.id, LEASE_S)
    assert claimed is not None and (claimed.film_parts_sent, claimed.film_tries) == (0, 0)


def test_the_time_a_film_has_failed_for_is_the_back_offs_between_its_tries() -> None:
    failing = stories.film_failing_s  # the least time from the first failed upload to the n-th
    assert [failing(n, RETRY_S, MAX_S) for n in range(1, 5)] == [0.0, 10.0, 30.0, 70.0]
    assert failing(0, RETRY_S, MAX_S) == 0.0
    # 10 + 20 + … + 640 s, then a try every 15 minutes: a day of tries is about a hundred of them
    assert failing(8, RETRY_S, MAX_S) == 1270.0
    assert failing(9, RETRY_S, MAX_S) == 1270.0 + MAX_S
    assert failing(102, RETRY_S, MAX_S) < 24 * 3600 <= failing(103, RETRY_S, MAX_S)
    assert failing(10**9, RETRY_S, MAX_S) == 1270.0 + (10**9 - 8) * MAX_S  # no loop of a billion


async def test_a_film_given_up_ends_its_story_so_its_scenes_may_be_pruned(
    store: Store, clock: FakeClock
) -> None:
    story, film = await in_round(store, clock)
    assert await store.stories.start_posting(story.id, film, LIMIT, from_phase="round", lease_s=LEASE_S)
    assert await store.stories.film_failed(story.id, RETRY_S, MAX_S) == 1
    assert await store.stories.give_up_film(story.id)  # its channel is gone
    assert not await store.stories.give_up_film(story.id)  # once
    done = await store.stories.get_story(story.id)
    assert done is not None and done.phase == "finished" and done.finished_at == clock.now
    assert done.film_job_id == film  # what the film was to be made from is kept
    assert await store.stories.unfinished_stories() == []
    clock.advance(MAX_S)
    assert await store.stories.claim_film(story.id, LEASE_S) is None  # nobody tries again
    assert await store.stories.film_failed(story.id, RETRY_S, MAX_S) == 0
