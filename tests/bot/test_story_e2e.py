"""A story told together, through the spec-checked Discord with a real worker: scene 1 from /story start,
proposals voted on with buttons, rounds a moderator closes (or a timer that ran out while the bot was
down), winners rendered as extends charged to their authors, and the whole film with its credits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from bot.clips import extend_spec
from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import resolve_spec
from db.store import Store, open_store
from tests.bot.conftest import BotRunner, WorkerProcess, job_in_state, wait_until
from tests.bot.credentials_check import verdict_of
from tests.discord_fake import DiscordFake
from tests.mp4probe import probe


def in_thread(fake: DiscordFake, thread: Any, text: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(thread) if text in m["content"]]


async def say(fake: DiscordFake, command: str, thread: Any, user: str = "owner", **options: Any) -> str:
    handle = await fake.slash_command(command, options or None, user=user, channel=thread)
    reply = await handle.wait_reply()
    assert handle.ephemeral, reply
    return str(reply["content"])


async def propose(fake: DiscordFake, thread: Any, user: str, prompt: str) -> dict[str, Any]:
    assert "is posted" in await say(fake, "story next", thread, user, prompt=prompt)
    author = fake.user(user).id
    return await wait_until(
        lambda: next(iter(in_thread(fake, thread, f"by <@{author}>: **")), None), what="the proposal"
    )


async def vote(fake: DiscordFake, proposal: dict[str, Any], user: str) -> dict[str, Any]:
    custom_id = proposal["components"][0]["components"][0]["custom_id"]
    handle = await fake.click(proposal, custom_id, user=user)
    await handle.wait_ack()
    return fake.message(proposal["id"])


def votes(message: dict[str, Any]) -> str:
    return str(message["components"][0]["components"][0]["label"])


async def test_a_story_of_three_scenes_from_proposals_votes_and_renders_to_the_stitched_film(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    fake.add_user("carol")
    owner, bob, carol = (int(fake.user(name).id) for name in ("owner", "bob", "carol"))
    worker.start()
    started = await fake.slash_command(
        "story start", {"title": "The *paper* boat", "prompt": "a paper boat on a pond"}
    )
    reply = await started.wait_reply()
    assert started.ephemeral and "scene 1 is queued as #1" in reply["content"]
    thread = await wait_until(lambda: next(iter(fake.threads("general")), None), what="the story's thread")
    assert "\\*paper\\*" in fake.messages_in("general")[0]["content"]  # the title, escaped

    first = await job_in_state(store, 1, "done", "failed")
    assert first.state == "done", first.error_text
    assert first.channel_id == int(thread.id)
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 2"), what="the round for scene 2")

    sails = await propose(fake, thread, "bob", "the boat sails into the sunset")
    sinks = await propose(fake, thread, "carol", "the boat sinks <@everyone>")
    assert "already proposed scene 2" in await say(fake, "story next", thread, "bob", prompt="again")
    own = await fake.click(sails, sails["components"][0]["components"][0]["custom_id"], user="bob")
    assert "your own proposal" in (await own.wait_reply())["content"] and own.ephemeral
    assert votes(await vote(fake, sails, "owner")) == "1"
    assert votes(await vote(fake, sails, "carol")) == "2"
    assert votes(await vote(fake, sinks, "owner")) == "1"

    assert "Only moderators" in await say(fake, "story close", thread, "bob")
    assert "scene 2 is queued" in await say(fake, "story close", thread)
    second = await job_in_state(store, 2, "done", "failed")
    assert second.state == "done", second.error_text
    assert (second.kind, second.parent_id, second.user_id) == ("extend", 1, bob)  # charged to its author
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 3"), what="the round for scene 3")

    storm = await propose(fake, thread, "carol", "a storm lifts the boat into the sky")
    await vote(fake, storm, "bob")
    assert "scene 3 is queued" in await say(fake, "story close", thread)
    third = await job_in_state(store, 3, "done", "failed")
    assert third.state == "done", third.error_text
    assert (third.kind, third.parent_id, third.user_id) == ("extend", 2, carol)
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 4"), what="the round for scene 4")

    assert "Only the story's starter" in await say(fake, "story finish", thread, "bob")
    assert "The film is posted (1 file(s))" in await say(fake, "story finish", thread)
    film = await wait_until(
        lambda: next((m for m in fake.messages_in("general") if m.get("attachments")), None), what="the film"
    )
    assert "the whole film, 3 scenes" in film["content"]
    credits = film["embeds"][0]["description"]
    assert f"**Scene 1** by <@{owner}>: a paper boat on a pond" in credits
    assert f"**Scene 2** by <@{bob}>: the boat sails into the sunset" in credits
    assert f"**Scene 3** by <@{carol}>: a storm lifts the boat into the sky" in credits
    path = tmp_path / "film.mp4"
    data = fake.attachments[film["attachments"][0]["id"]][1]
    assert len(data) <= fake.upload_limit(fake.channel("general"))
    path.write_bytes(data)
    assert second.frames is not None and probe(path).frames > second.frames  # all three scenes
    # signed, with each scene the one before it was made from, down to the first
    verdict = await verdict_of(data, store)
    assert verdict.status == "valid" and verdict.ai_generated
    chain, ingredients = [], verdict.ingredients
    while ingredients:
        chain.append(ingredients[0].title)
        ingredients = ingredients[0].ingredients
    assert chain == ["videobot clip #2", "videobot clip #1"]
    assert not fake.pinged_anyone()
    assert "finished" in await say(fake, "story next", thread, "bob", prompt="one more")


async def test_a_round_whose_time_ran_out_while_the_bot_was_down_ends_when_it_is_back(
    discord_fake: DiscordFake,
    bot_runner: BotRunner,
    worker: WorkerProcess,
    store: Store,
    db_path: Path,
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    await bot_runner.start()
    worker.start()
    await say(fake, "story start", "general", title="Night", prompt="a quiet street at night")
    thread = await wait_until(lambda: next(iter(fake.threads("general")), None), what="the story's thread")
    assert (await job_in_state(store, 1, "done", "failed")).state == "done"
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 2"), what="the round")
    assert "stays open" in await say(fake, "story close", thread)  # nobody proposed yet

    await bot_runner.stop()
    # while the bot is down, bob's proposal starts the round's timer, and its hour passes
    earlier = await open_store(str(db_path), clock=lambda: time.time() - 2 * 3600)
    try:
        story = await earlier.stories.story_in_thread(int(thread.id))
        assert story is not None
        await earlier.stories.propose(
            story.id, int(fake.user("bob").id), "a cat crosses the street", round_s=3600
        )
    finally:
        await earlier.close()

    await bot_runner.start()
    second = await job_in_state(store, 2, "queued", "running", "done", timeout=30)
    assert (second.kind, second.user_id) == ("extend", int(fake.user("bob").id))
    await wait_until(lambda: in_thread(fake, thread, "wins with 0 votes"), what="the winner's announcement")


async def test_a_winner_queued_just_before_a_crash_is_adopted_as_the_scene_not_queued_twice(
    discord_fake: DiscordFake,
    bot_runner: BotRunner,
    worker: WorkerProcess,
    store: Store,
    catalog: PresetCatalog,
) -> None:
    fake = discord_fake
    bob = fake.add_user("bob")
    await bot_runner.start()
    worker.start()
    await say(fake, "story start", "general", title="Dawn", prompt="a field at dawn")
    thread = await wait_until(lambda: next(iter(fake.threads("general")), None), what="the story's thread")
    first = await job_in_state(store, 1, "done")
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 2"), what="the round")
    await propose(fake, thread, "bob", "a hare runs across it")
    await bot_runner.stop()

    # what a bot killed in queue_winner leaves: the round ended, its winner's extend queued, no scene
    story = await store.stories.story_in_thread(int(thread.id))
    assert story is not None
    winner = await store.stories.end_round(story.id)
    assert winner is not None
    plan = resolve_spec(extend_spec(first, winner.prompt), catalog)
    cost = estimate_gpu_seconds(plan)
    queued = await store.jobs.enqueue(
        first.guild_id, int(thread.id), int(bob.id), plan.spec, cost, parent_id=first.id, kind="extend"
    )

    await bot_runner.start()
    deadline = time.monotonic() + 30
    while len(scenes := await store.stories.story_scenes(story.id)) < 2:
        assert time.monotonic() < deadline, scenes
        await asyncio.sleep(0.1)
    assert [s.job_id for s in scenes] == [first.id, queued.id]
    assert [c.id for c in await store.jobs.children(first.id)] == [queued.id]  # queued once, not twice
    await job_in_state(store, queued.id, "done")
