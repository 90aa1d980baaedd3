"""Stories told together, on the real store (both backends): rounds of proposals, one vote per member,
the winner queued once, timers that end rounds, and scenes that take only their fair share."""

from __future__ import annotations

from dataclasses import replace

import pytest

from db.store import Job, Store
from db.store.stories import STORY_MAX_SCENES, StoryRefused
from tests.store.conftest import FakeClock
from tests.store.helpers import CHANNEL, GUILD, MODEL, generous_caps, result, spec, submit

THREAD = 300
STARTER, BOB, CAROL, DAVE = 1, 2, 3, 4
ROUND_S = 3600.0


async def scene_job(store: Store, user_id: int, parent: Job | None, prompt: str) -> Job:
    """A scene's render as the bot queues it: scene 1 a new clip, the next an extend charged to its author."""
    job_spec = spec(prompt) if parent is None else replace(spec(prompt), continues=parent.id)
    return await store.jobs.enqueue(
        GUILD,
        THREAD,
        user_id,
        job_spec,
        30.0,
        parent_id=parent.id if parent else None,
        kind="new" if parent is None else "extend",
    )


async def render(store: Store, job: Job) -> None:
    claimed = await store.jobs.claim_next("gpu", [MODEL])
    assert claimed is not None and claimed.id == job.id
    assert await store.jobs.finish(job.id, "gpu", result())


async def test_a_round_of_proposals_elects_the_most_voted_and_queues_it_once(
    store: Store, clock: FakeClock
) -> None:
    first = await scene_job(store, STARTER, None, "a paper boat on a pond")
    story = await store.stories.create_story(
        GUILD, CHANNEL, THREAD, STARTER, "The boat", first.id, first.spec.prompt
    )
    assert (await store.stories.story_in_thread(THREAD)) == story
    with pytest.raises(StoryRefused) as refused:  # scene 1 is still rendering
        await store.stories.propose(story.id, BOB, "the boat sails")
    assert refused.value.code == "no_round"

    await render(store, first)
    assert await store.stories.open_round(story.id, clock.now + ROUND_S)
    assert not await store.stories.open_round(story.id, clock.now + ROUND_S)  # once
    sails = await store.stories.propose(story.id, BOB, "the boat sails", weight=2.0)
    sinks = await store.stories.propose(story.id, CAROL, "the boat sinks")
    with pytest.raises(StoryRefused) as refused:
        await store.stories.propose(story.id, BOB, "a second idea")
    assert refused.value.code == "already_proposed"
    with pytest.raises(StoryRefused) as refused:
        await store.stories.vote_proposal(sails.id, BOB)
    assert refused.value.code == "own_proposal"

    assert await store.stories.vote_proposal(sinks.id, STARTER) == 1
    assert await store.stories.vote_proposal(sinks.id, DAVE) == 2
    assert await store.stories.vote_proposal(sinks.id, DAVE) == 1  # a second click takes it back
    assert await store.stories.vote_proposal(sails.id, DAVE) == 1
    assert await store.stories.vote_proposal(sails.id, CAROL) == 2
    assert [p.id for p in await store.stories.round_proposals(story.id)] == [sails.id, sinks.id]

    winner = await store.stories.end_round(story.id)
    assert winner is not None and (winner.id, winner.user_id, winner.votes) == (sails.id, BOB, 2)
    assert await store.stories.end_round(story.id) is None  # the round ended once
    with pytest.raises(StoryRefused) as refused:
        await store.stories.vote_proposal(sinks.id, DAVE)
    assert refused.value.code == "round_over"

    second = await scene_job(store, BOB, first, winner.prompt)
    scene = await store.stories.add_scene(story.id, second.id, BOB, winner.prompt)
    assert scene is not None and scene.number == 2
    assert await store.stories.add_scene(story.id, second.id, BOB, winner.prompt) is None  # queued once
    scenes = await store.stories.story_scenes(story.id)
    assert [(s.number, s.user_id, s.prompt) for s in scenes] == [
        (1, STARTER, "a paper boat on a pond"),
        (2, BOB, "the boat sails"),
    ]
    story = await store.stories.get_story(story.id) or story
    assert story.phase == "rendering"
    assert await store.stories.finish_story(story.id) and not await store.stories.finish_story(story.id)
    with pytest.raises(StoryRefused) as refused:
        await store.stories.propose(story.id, CAROL, "too late")
    assert refused.value.code == "finished"


async def test_a_tie_goes_to_the_earlier_proposal_and_an_empty_round_stays_open(
    store: Store, clock: FakeClock
) -> None:
    first = await scene_job(store, STARTER, None, "a lighthouse")
    story = await store.stories.create_story(
        GUILD, CHANNEL, THREAD, STARTER, "Light", first.id, first.spec.prompt
    )
    await render(store, first)
    assert await store.stories.open_round(story.id, clock.now + ROUND_S)

    clock.advance(ROUND_S + 1)
    assert [s.id for s in await store.stories.due_rounds()] == [story.id]
    assert await store.stories.end_round(story.id) is None  # nobody proposed: the round stays open, untimed
    waiting = await store.stories.get_story(story.id)
    assert waiting is not None and waiting.phase == "round" and waiting.round_ends_at is None
    assert await store.stories.due_rounds() == []

    early = await store.stories.propose(story.id, BOB, "a storm comes", round_s=ROUND_S)
    late = await store.stories.propose(story.id, CAROL, "a ship passes", round_s=ROUND_S)
    timed = await store.stories.get_story(story.id)
    assert timed is not None and timed.round_ends_at == clock.now + ROUND_S  # the first proposal's
    assert await store.stories.vote_proposal(late.id, DAVE) == 1
    assert await store.stories.vote_proposal(early.id, STARTER) == 1
    winner = await store.stories.end_round(story.id)
    assert winner is not None and winner.id == early.id


async def test_a_failed_scene_opens_its_round_again(store: Store, clock: FakeClock) -> None:
    first = await scene_job(store, STARTER, None, "a forest")
    story = await store.stories.create_story(
        GUILD, CHANNEL, THREAD, STARTER, "Woods", first.id, first.spec.prompt
    )
    await render(store, first)
    await store.stories.open_round(story.id, clock.now + ROUND_S)
    proposal = await store.stories.propose(story.id, BOB, "a deer appears")
    await store.stories.vote_proposal(proposal.id, CAROL)
    assert await store.stories.end_round(story.id) is not None
    second = await scene_job(store, BOB, first, proposal.prompt)
    await store.stories.add_scene(story.id, second.id, BOB, proposal.prompt)

    assert await store.stories.reopen_round(story.id, 2, clock.now + ROUND_S)
    assert [s.number for s in await store.stories.story_scenes(story.id)] == [1]
    again = await store.stories.round_proposals(story.id)
    assert [(p.id, p.votes) for p in again] == [(proposal.id, 1)]  # proposals and votes kept


async def test_a_story_has_at_most_its_own_number_of_scenes(store: Store, clock: FakeClock) -> None:
    await generous_caps(store)
    parent = await scene_job(store, STARTER, None, "scene 1")
    story = await store.stories.create_story(GUILD, CHANNEL, THREAD, STARTER, "Long", parent.id, "scene 1")
    await render(store, parent)
    for number in range(2, STORY_MAX_SCENES + 1):
        await store.stories.open_round(story.id, clock.now + ROUND_S)
        proposal = await store.stories.propose(story.id, BOB if number % 2 else CAROL, f"scene {number}")
        assert await store.stories.end_round(story.id) is not None
        parent = await scene_job(store, proposal.user_id, parent, proposal.prompt)
        assert (
            await store.stories.add_scene(story.id, parent.id, proposal.user_id, proposal.prompt) is not None
        )
        await render(store, parent)
    await store.stories.open_round(story.id, clock.now + ROUND_S)
    with pytest.raises(StoryRefused) as refused:
        await store.stories.propose(story.id, DAVE, "one scene too many")
    assert refused.value.code == "too_many_scenes"


async def test_story_scenes_never_push_another_members_clip_back_beyond_its_fair_share(
    store: Store, clock: FakeClock
) -> None:
    """Members A and B each have story scenes waiting (extends charged to them, in several stories),
    and C asks for one clip of their own: C's clip is claimed after at most one job of each of the
    members ahead of it, as fair queueing says, however many scenes the stories have queued."""
    await generous_caps(store)
    a, b, c = 11, 12, 13
    parents = []
    for thread in range(3):  # three stories, their first scenes rendered
        job = await store.jobs.enqueue(GUILD, THREAD + thread, STARTER, spec(f"story {thread}"), 30.0)
        await render(store, job)
        parents.append(job)
    scenes = [await scene_job(store, author, parent, "next") for parent in parents for author in (a, b)]
    assert {s.kind for s in scenes} == {"extend"}
    # a GPU is busy with one scene of A's; C arrives with nothing queued
    running = await store.jobs.claim_next("gpu", [MODEL])
    assert running is not None and running.user_id in (a, b)
    mine = await submit(store, c, cost=30.0)
    order: list[int] = []
    assert await store.jobs.finish(running.id, "gpu", result(gpu_seconds=30.0))
    while (claimed := await store.jobs.claim_next("gpu", [MODEL])) is not None:
        order.append(claimed.user_id)
        assert await store.jobs.finish(claimed.id, "gpu", result(gpu_seconds=30.0))
    assert c in order[:2], order  # at most one other member's scene before C's clip
    assert len(order) == 6 and order.count(c) == 1 and mine.user_id == c
