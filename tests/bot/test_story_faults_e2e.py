"""Stories under faults, through the spec-checked Discord with a real worker: a scene deleted with 🗑️
(the story goes on from the scene before it, or from text when every scene is gone, and the film leaves
the deleted ones out), and a film whose upload fails (posted once, later, also after a restart, and the
starter told it is coming)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_in_state, job_posted, wait_until
from tests.bot.test_story_e2e import in_thread, propose, say
from tests.bot.test_story_keyframes_e2e import begun
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.mp4probe import probe

MESSAGES = "/channels/{channel_id}/messages"


def films_in(fake: DiscordFake, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(channel) if m.get("attachments")]


async def delete_clip(fake: DiscordFake, store: Store, thread: Any, job_id: int, user: str) -> None:
    """``user`` presses 🗑️ under clip ``job_id`` in the story's thread."""
    await job_posted(store, job_id)
    clip = await wait_until(
        lambda: next((m for m in clip_messages(fake, thread) if f"#{job_id}" in m["content"]), None),
        what=f"clip #{job_id}",
    )
    pressed = await fake.click(clip, f"vb:delete:{job_id}", user=user)
    await pressed.wait_reply()
    assert pressed.ephemeral

    async def deleted() -> bool:
        job = await store.jobs.get(job_id)
        return job is not None and job.deleted

    await wait_until(deleted, what=f"clip #{job_id} to be deleted")


async def test_a_deleted_scene_is_left_out_and_the_story_goes_on_from_the_scene_before_it(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    fake = discord_fake
    bob, carol = (int(fake.add_user(name).id) for name in ("bob", "carol"))
    owner = int(fake.user("owner").id)
    worker.start()
    thread, story = await begun(fake, store)
    await propose(fake, thread, "bob", "the boat sails into the sunset")
    assert "scene 2 is queued" in await say(fake, "story close", thread)
    assert (await job_in_state(store, 2, "done", "failed")).state == "done"
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 3"), what="the round for scene 3")

    worker.stop()  # scene 3 waits in the queue when its parent is deleted
    await propose(fake, thread, "carol", "a storm lifts the boat into the sky")
    assert "scene 3 is queued" in await say(fake, "story close", thread)
    await job_in_state(store, 3, "queued")
    await delete_clip(fake, store, thread, 2, "bob")  # scene 2's author deletes it
    cancelled = await job_in_state(store, 3, "cancelled")
    assert cancelled.error_code == "source_deleted"
    await wait_until(lambda: in_thread(fake, thread, "Scene 3 could not be made"), what="the round again")

    # the same winner is made again, now from scene 1, the last scene that still exists
    assert "scene 3 is queued" in await say(fake, "story close", thread)
    worker.start()
    again = await job_in_state(store, 4, "done", "failed")
    assert again.state == "done", again.error_text
    assert (again.kind, again.parent_id, again.user_id) == ("extend", 1, carol)
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 4"), what="the round for scene 4")
    assert [s.job_id for s in await store.stories.story_scenes(story.id)] == [1, 2, 4]

    assert "The film is posted (1 file(s))" in await say(fake, "story finish", thread)
    [film] = films_in(fake, "general")
    assert "the whole film, 2 scenes" in film["content"]
    credits = film["embeds"][0]["description"]
    assert f"**Scene 1** by <@{owner}>" in credits
    assert f"**Scene 3** by <@{carol}>: a storm lifts the boat into the sky" in credits
    assert "Scene 2" not in credits and f"<@{bob}>" not in film["content"]
    path = tmp_path / "film.mp4"
    path.write_bytes(fake.attachments[film["attachments"][0]["id"]][1])
    assert probe(path).frames == again.frames  # scene 1 and scene 3, without the deleted scene 2
    assert not fake.pinged_anyone()


async def test_a_story_whose_every_scene_was_deleted_goes_on_from_text(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    bob = int(fake.add_user("bob").id)
    worker.start()
    thread, story = await begun(fake, store)
    await delete_clip(fake, store, thread, 1, "owner")  # the starter deletes scene 1
    await propose(fake, thread, "bob", "a lighthouse in the fog")
    assert "scene 2 is queued" in await say(fake, "story close", thread)
    second = await job_in_state(store, 2, "done", "failed")
    assert second.state == "done", second.error_text
    assert (second.kind, second.parent_id, second.user_id) == ("new", None, bob)
    assert second.spec.continues is None and second.spec.prompt == "a lighthouse in the fog"
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 3"), what="the round for scene 3")

    assert "The film is posted (1 file(s))" in await say(fake, "story finish", thread)
    [film] = films_in(fake, "general")
    assert "the whole film, 1 scenes" in film["content"]
    credits = film["embeds"][0]["description"]
    assert f"**Scene 2** by <@{bob}>: a lighthouse in the fog" in credits and "Scene 1" not in credits
    finished = await store.stories.get_story(story.id)
    assert finished is not None and finished.phase == "finished"


async def test_a_film_whose_upload_fails_is_posted_once_later_and_the_starter_told_it_is_coming(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    thread, story = await begun(fake, store)
    fake.fail_next("POST", MESSAGES, 503)  # Discord is unavailable for the film's upload

    words = await say(fake, "story finish", thread)
    assert "could not be posted just now" in words and "tried again" in words, words
    assert "is on its way" in await say(fake, "story finish", thread)  # not "finished", not a second film
    assert "is on its way" in await say(fake, "story next", thread, "owner", prompt="one more")

    film = await wait_until(lambda: films_in(fake, "general"), timeout=30, what="the film, posted later")
    await wait_until(lambda: in_thread(fake, thread, "The story is finished"), what="the thread's goodbye")
    assert len(films_in(fake, "general")) == 1 == len(film)
    assert "the whole film, 1 scenes" in film[0]["content"]
    finished = await store.stories.get_story(story.id)
    assert finished is not None and finished.phase == "finished"
    assert "This story is finished" in await say(fake, "story finish", thread)


async def test_a_film_the_bot_may_not_post_is_posted_after_a_restart_once_it_may(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    await bot_runner.start()
    worker.start()
    thread, story = await begun(fake, store)
    missing = {"message": "Missing Permissions", "code": 50013}
    fake.fail_next("POST", MESSAGES, 403, body=missing)  # Attach Files was taken away

    assert "could not be posted just now" in await say(fake, "story finish", thread)
    await wait_until(lambda: in_thread(fake, thread, "could not be posted in"), what="the thread told")
    await bot_runner.stop()  # the bot restarts before it tries again
    assert films_in(fake, "general") == []

    await bot_runner.start()
    film = await wait_until(lambda: films_in(fake, "general"), timeout=30, what="the film after a restart")
    await wait_until(lambda: in_thread(fake, thread, "The story is finished"), what="the thread's goodbye")
    assert len(films_in(fake, "general")) == 1 == len(film)
    finished = await store.stories.get_story(story.id)
    assert finished is not None and finished.phase == "finished"


def film_posts(fake: DiscordFake) -> list[dict[str, Any]]:
    """The film's messages, wherever they were posted (each part carries a nonce of its own)."""
    return [m for m in fake.messages.values() if str(m.get("nonce", "")).startswith("vb-film-")]


def film_uploads(fake: DiscordFake) -> int:
    """How many times the bot tried to upload a part of a film (taken or refused)."""
    return sum(
        1
        for r in fake.requests_to("POST", MESSAGES)
        if r.files and str((r.json or {}).get("nonce", "")).startswith("vb-film-")
    )


async def ended(store: Store, story_id: int, timeout: float = 30) -> Any:
    async def check() -> Any:
        story = await store.stories.get_story(story_id)
        return story if story is not None and story.phase == "finished" else None

    return await wait_until(check, timeout=timeout, what=f"story {story_id} to be finished")


async def test_a_film_whose_channel_is_deleted_while_it_waits_is_given_up_and_the_story_ends(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    cog: Any = bot.get_cog("StoryCog")
    cog.retry_s = 0.5  # ten seconds in production
    worker.start()
    thread, story = await begun(fake, store)
    fake.fail_next("POST", MESSAGES, 503)  # the first upload fails: the story waits in 'posting'
    assert "could not be posted just now" in await say(fake, "story finish", thread)
    posting = await store.stories.get_story(story.id)
    assert posting is not None and posting.phase == "posting"

    fake.delete_channel("general")  # an admin deletes the channel, the story's thread with it
    finished = await ended(store, story.id)  # Discord says 404 Unknown Channel: no use trying again
    assert finished.film_tries <= 2, finished  # given up at the first 404, not tried for ever
    uploads = film_uploads(fake)
    await asyncio.sleep(3 * 0.5 + 2.5)  # a few back-offs and ticks later, nothing is tried any more
    assert film_uploads(fake) == uploads
    assert film_posts(fake) == []
    assert await store.stories.unfinished_stories() == []  # retention may prune its scenes now


async def test_a_film_the_bot_stays_locked_out_of_is_given_up_after_the_give_up_time(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    cog: Any = bot.get_cog("StoryCog")
    cog.retry_s = 0.5  # ten seconds in production
    cog.not_allowed_give_up_s = 3.0  # a day in production: time for the admins to give the right back
    worker.start()
    thread, story = await begun(fake, store)
    missing = {"message": "Missing Permissions", "code": 50013}
    fake.fail_next("POST", MESSAGES, 403, times=1000, body=missing)  # Attach Files was taken away for good

    assert "could not be posted just now" in await say(fake, "story finish", thread)
    finished = await ended(store, story.id)
    assert finished.film_tries >= 3, finished  # tried again until the give-up time was over
    uploads = film_uploads(fake)
    assert uploads >= 3
    fake.faults.clear()  # allowed again, too late: the story is over, its film is not posted any more
    await asyncio.sleep(3 * 0.5 + 2.5)
    assert film_uploads(fake) == uploads
    assert film_posts(fake) == []
    assert "This story is finished" in await say(fake, "story finish", thread)
