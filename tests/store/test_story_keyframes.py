"""Story keyframes on the real store, both backends (issue 19, migration V19): a proposal keeps the
reference of the picture its scene ends on, a story closes into a loop by waiting for its closing scene
(phase 'closing'), and retention keeps a proposal's picture while its story is unfinished."""

from __future__ import annotations

import time

import pytest

from db.store import Store, open_store
from db.store.retention import DAY_S
from db.store.stories import Story, StoryRefused
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, GUILD, generous_caps
from tests.store.test_retention import PICTURE, WEEK, age_picture
from tests.store.test_stories import BOB, CAROL, ROUND_S, STARTER, THREAD, render, scene_job

OTHER_PICTURE = b"\x89PNG\r\n\x1a\n a picture nobody proposed"


async def story_with_open_round(store: Store, clock: FakeClock) -> Story:
    """A story whose first scene is rendered and whose round for scene 2 is open."""
    first = await scene_job(store, STARTER, None, "a paper boat on a pond")
    story = await store.stories.create_story(
        GUILD, CHANNEL, THREAD, STARTER, "The boat", first.id, first.spec.prompt
    )
    await render(store, first)
    assert await store.stories.open_round(story.id, clock.now + ROUND_S)
    return story


async def test_a_proposal_keeps_the_picture_its_scene_ends_on_and_wins_with_it(
    store: Store, clock: FakeClock
) -> None:
    story = await story_with_open_round(store, clock)
    ref = await store.jobs.put_input(PICTURE, "png")
    sails = await store.stories.propose(story.id, BOB, "the boat sails to the island", end_image_ref=ref)
    plain = await store.stories.propose(story.id, CAROL, "the boat sinks")
    assert (sails.end_image_ref, plain.end_image_ref) == (ref, None)
    fetched = await store.stories.get_proposal(sails.id)
    assert fetched is not None and fetched.end_image_ref == ref
    assert [p.end_image_ref for p in await store.stories.round_proposals(story.id)] == [ref, None]

    # may_propose says beforehand what propose would say, so no picture is stored for nothing
    await store.stories.may_propose(story.id, STARTER)
    with pytest.raises(StoryRefused) as refused:
        await store.stories.may_propose(story.id, BOB)
    assert refused.value.code == "already_proposed"

    await store.stories.vote_proposal(sails.id, CAROL)
    winner = await store.stories.end_round(story.id)
    assert winner is not None and (winner.id, winner.end_image_ref) == (sails.id, ref)
    with pytest.raises(StoryRefused) as refused:
        await store.stories.may_propose(story.id, STARTER)
    assert refused.value.code == "no_round"


async def test_a_story_closing_into_a_loop_waits_for_its_closing_scene_and_takes_no_proposals(
    store: Store, clock: FakeClock
) -> None:
    await generous_caps(store)
    story = await story_with_open_round(store, clock)
    [first] = await store.stories.story_scenes(story.id)
    parent = await store.jobs.get(first.job_id)
    assert parent is not None
    closing = await scene_job(store, STARTER, parent, first.prompt)

    assert await store.stories.start_closing(story.id, closing.id)
    assert not await store.stories.start_closing(story.id, closing.id)  # once
    waiting = await store.stories.get_story(story.id)
    assert waiting is not None
    assert (waiting.phase, waiting.closing_job_id, waiting.round_ends_at) == ("closing", closing.id, None)
    assert [s.id for s in await store.stories.unfinished_stories()] == [story.id]  # the timer watches it
    for refusal in (store.stories.may_propose(story.id, BOB), store.stories.propose(story.id, BOB, "more")):
        with pytest.raises(StoryRefused) as refused:
            await refusal
        assert refused.value.code == "closing"
    assert await store.stories.end_round(story.id) is None
    assert [s.job_id for s in await store.stories.story_scenes(story.id)] == [parent.id]  # not a scene

    assert await store.stories.finish_story(story.id)
    finished = await store.stories.get_story(story.id)
    assert finished is not None and finished.phase == "finished" and finished.closing_job_id == closing.id


async def test_a_story_renders_scenes_before_it_can_close(store: Store, clock: FakeClock) -> None:
    first = await scene_job(store, STARTER, None, "a forest")
    story = await store.stories.create_story(GUILD, CHANNEL, THREAD, STARTER, "Woods", first.id, "a forest")
    assert not await store.stories.start_closing(story.id, first.id)  # scene 1 is still rendering
    still = await store.stories.get_story(story.id)
    assert still is not None and (still.phase, still.closing_job_id) == ("rendering", None)


async def test_retention_keeps_a_proposals_picture_while_its_story_is_unfinished(store_url: str) -> None:
    clock = FakeClock(time.time() - 30 * DAY_S)
    async with await open_store(store_url, clock=clock) as store:
        await generous_caps(store)
        story = await story_with_open_round(store, clock)
        ref = await store.jobs.put_input(PICTURE, "png")
        unused = await store.jobs.put_input(OTHER_PICTURE, "png")
        for picture in (ref, unused):
            await age_picture(store, store_url, picture, 60 * DAY_S)
        proposal = await store.stories.propose(
            story.id, BOB, "the boat reaches the island", end_image_ref=ref
        )
        clock.advance(WEEK + 60)

        # the proposal's picture stays while its round is open; a picture nothing needs goes
        report = await store.retention.prune_media(clock.now - WEEK)
        assert report.pictures == (unused,)
        assert await store.jobs.get_input(ref) == PICTURE and await store.jobs.get_input(unused) is None

        # a round that ended without it (or a story closing into its loop): still unfinished, still kept
        [first] = await store.stories.story_scenes(story.id)
        assert await store.stories.start_closing(story.id, first.job_id)
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == ()
        assert await store.jobs.get_input(ref) == PICTURE
        assert (await store.stories.get_proposal(proposal.id)) is not None

        # the story is finished: nothing will be rendered from the picture any more
        assert await store.stories.finish_story(story.id)
        assert (await store.retention.prune_media(clock.now - WEEK)).pictures == (ref,)
        assert await store.jobs.get_input(ref) is None
