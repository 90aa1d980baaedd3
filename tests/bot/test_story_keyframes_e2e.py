"""Story keyframes through the spec-checked Discord with a real worker (issue 19): a scene proposed with a
picture ends on it once it wins, a bad picture or a model that cannot end on one is refused privately
with nothing stored, and ``/story finish loop:true`` first makes a scene back to the film's first frame,
charged to whoever finished, then posts the film (without the loop, saying so, when that scene failed)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import VideoBot
from bot.clips import first_frame
from db.media import FileMedia, input_ref
from db.presets import PresetCatalog
from db.store import Store
from db.store.stories import Story
from tests.bot.conftest import WorkerProcess, job_in_state, job_posted, run_sql, wait_until
from tests.bot.test_pictures_e2e import picture
from tests.bot.test_story_e2e import in_thread, propose, say
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake
from tests.mp4probe import probe

PLAIN = "tiny-plain"  # the tiny LTX that continues clips but ends on no picture


@pytest.fixture(scope="module")
def presets_file(presets_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's presets and one more of the tiny LTX's, without the end mode."""
    presets = json.loads(presets_file.read_text())
    presets[PLAIN] = {**presets["tiny-ltx"], "title": "Tiny plain", "modes": ["text", "image", "continue"]}
    path = tmp_path_factory.mktemp("story-keyframes") / "presets.json"
    path.write_text(json.dumps(presets, indent=2))
    return path


@pytest.fixture(scope="module")
def catalog(presets_file: Path) -> PresetCatalog:
    return PresetCatalog.load(presets_file)


def painted(colour: tuple[int, int, int], width: int = 128, height: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


ISLAND = painted((30, 160, 60))
FIRST_PROMPT = "a paper boat on a pond"


async def begun(fake: DiscordFake, store: Store, user: str = "owner") -> tuple[Any, Story]:
    """A story started by ``user`` whose first scene is posted and whose round for scene 2 is open."""
    await say(fake, "story start", "general", user, title="The boat", prompt=FIRST_PROMPT)
    thread = await wait_until(lambda: next(iter(fake.threads("general")), None), what="the story's thread")
    first = await job_in_state(store, 1, "done", "failed")
    assert first.state == "done", first.error_text
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 2"), what="the round for scene 2")
    story = await store.stories.story_in_thread(int(thread.id))
    assert story is not None
    return thread, story


def stored_pictures(store: Store) -> list[str]:
    media = store._media
    assert isinstance(media, FileMedia)
    folder = media.directory / "inputs"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def film_in(fake: DiscordFake, channel: str) -> dict[str, Any] | None:
    return next((m for m in fake.messages_in(channel) if m.get("attachments")), None)


async def test_a_scene_proposed_with_a_picture_ends_on_it_once_it_wins(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    bob = int(fake.add_user("bob").id)
    fake.add_user("carol")
    worker.start()
    thread, story = await begun(fake, store)

    handle = await fake.slash_command(
        "story next",
        {"prompt": "the boat reaches a green island", "end_image": ("island.png", ISLAND)},
        user="bob",
        channel=thread,
    )
    assert "is posted" in (await handle.wait_reply())["content"] and handle.ephemeral
    shown = await wait_until(
        lambda: next(iter(in_thread(fake, thread, "ending on this picture")), None), what="the proposal"
    )
    assert fake.attachments[shown["attachments"][0]["id"]][1] == ISLAND  # voters see where it ends
    await propose(fake, thread, "carol", "the boat sinks")
    [first_choice, _] = await store.stories.round_proposals(story.id)
    assert first_choice.user_id == bob and first_choice.end_image_ref is not None

    assert "scene 2 is queued" in await say(fake, "story close", thread)  # a tie: the earlier one wins
    second = await job_in_state(store, 2, "done", "failed")
    assert second.state == "done", second.error_text
    assert (second.kind, second.parent_id, second.user_id) == ("extend", 1, bob)
    assert second.spec.continues == 1 and second.spec.end_image and not second.spec.start_image
    assert second.spec.end_image_ref == first_choice.end_image_ref
    assert await store.jobs.get_input(second.spec.end_image_ref) == ISLAND
    await job_posted(store, 2)
    assert any("#2" in m["content"] for m in clip_messages(fake, thread))
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 3"), what="the round for scene 3")
    assert not fake.pinged_anyone()


async def test_a_bad_end_picture_or_a_model_that_cannot_end_on_one_is_refused_and_nothing_is_stored(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, db_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    worker.start()
    thread, story = await begun(fake, store)
    assert stored_pictures(store) == []

    async def proposed(upload: tuple[str, bytes]) -> str:
        return await say(fake, "story next", thread, "bob", prompt="an island", end_image=upload)

    assert "not a picture I can read" in await proposed(("notes.png", b"this is not a picture"))
    assert "each side must be 64–4096 pixels" in await proposed(("tiny.png", picture(32, 32)))
    german = await fake.slash_command(
        "story next",
        {"beschreibung": "das Boot erreicht eine Insel", "endbild": ("klein.png", picture(32, 32))},
        user="bob",
        channel=thread,
        locale="de",
    )
    words = str((await german.wait_reply())["content"])
    assert german.ephemeral and "jede Seite muss 64–4096 Pixel haben" in words, words

    # a story told with a model that ends on no picture (the installation's default when it began)
    await run_sql(
        db_path,
        f"UPDATE jobs SET model = '{PLAIN}', spec = json_set(spec, '$.model', '{PLAIN}') WHERE id = 1",
    )
    words = await proposed(("island.png", ISLAND))
    assert "Tiny plain cannot end on a picture" in words and "tiny-ltx" in words
    words = await say(fake, "story finish", thread, loop=True)  # its loop would end on a picture too
    assert "Tiny plain cannot end on a picture" in words

    assert await store.stories.round_proposals(story.id) == []
    assert stored_pictures(store) == [] and await store.jobs.get_input(input_ref(ISLAND, "png")) is None
    assert in_thread(fake, thread, "Proposal for scene 2") == []
    assert await store.jobs.active_jobs() == []
    still = await store.stories.get_story(story.id)
    assert still is not None and still.phase == "round"


async def test_finish_with_loop_makes_a_scene_back_to_the_first_frame_then_posts_the_film(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    fake = discord_fake
    bob, carol = (int(fake.add_user(name).id) for name in ("bob", "carol"))
    owner = int(fake.user("owner").id)
    worker.start()
    thread, story = await begun(fake, store, user="bob")  # bob began it; a moderator finishes it
    await propose(fake, thread, "carol", "the boat drifts under a bridge")
    assert "scene 2 is queued" in await say(fake, "story close", thread)
    second = await job_in_state(store, 2, "done", "failed")
    assert second.state == "done", second.error_text
    await wait_until(lambda: in_thread(fake, thread, "Propose scene 3"), what="the round for scene 3")

    assert "Only the story's starter" in await say(fake, "story finish", thread, "carol", loop=True)
    words = await say(fake, "story finish", thread, loop=True)
    assert "queued as #3" in words and "the film is posted once it is made" in words
    closing = await job_in_state(store, 3, "done", "failed")
    assert closing.state == "done", closing.error_text
    # an extend of the last scene, charged to the moderator who asked for it, not to the starter
    assert (closing.kind, closing.parent_id, closing.user_id) == ("extend", 2, owner)
    assert closing.spec.prompt == FIRST_PROMPT and closing.spec.continues == 2
    assert closing.spec.end_image and closing.spec.end_image_ref is not None
    first_media = await store.jobs.get_media(1)
    assert first_media is not None
    frame = first_frame(first_media.video)
    assert await store.jobs.get_input(closing.spec.end_image_ref) == frame  # the film's first frame
    assert in_thread(fake, thread, "closes the story into a loop")

    film = await wait_until(lambda: film_in(fake, "general"), what="the film")
    posted = await job_posted(store, 3)
    assert posted.message_id is not None and int(film["id"]) > posted.message_id  # after the closing scene
    assert "the whole film, 2 scenes and back to its first frame" in film["content"]
    credits = film["embeds"][0]["description"]
    assert f"**Scene 1** by <@{bob}>: {FIRST_PROMPT}" in credits
    assert f"**Scene 2** by <@{carol}>" in credits
    assert f"**♾️ Back to the start** by <@{owner}>: {FIRST_PROMPT}" in credits
    path = tmp_path / "film.mp4"
    path.write_bytes(fake.attachments[film["attachments"][0]["id"]][1])
    assert second.frames is not None and probe(path).frames > second.frames  # the closing scene too
    # finished once every part of the film is posted
    await wait_until(lambda: in_thread(fake, thread, "The story is finished"), what="the thread's goodbye")
    finished = await store.stories.get_story(story.id)
    assert finished is not None and (finished.phase, finished.closing_job_id) == ("finished", 3)
    assert not fake.pinged_anyone()


async def test_a_closing_scene_that_fails_posts_the_film_without_the_loop_and_says_so(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    thread, story = await begun(fake, store)
    worker.stop()  # the closing scene waits in the queue, and is cancelled there

    assert "queued as #2" in await say(fake, "story finish", thread, loop=True)
    assert "This story is closing" in await say(fake, "story finish", thread)
    assert "This story is closing" in await say(fake, "story next", thread, prompt="one more scene")
    assert film_in(fake, "general") is None  # the film waits for its closing scene
    assert await store.jobs.cancel(2, None)

    film = await wait_until(lambda: film_in(fake, "general"), what="the film without its loop")
    assert "the whole film, 1 scenes" in film["content"]
    assert "could not be made, so the film is posted without the loop" in film["content"]
    assert "Back to the start" not in film["embeds"][0]["description"]
    assert in_thread(fake, thread, "posted without the loop")
    await wait_until(lambda: in_thread(fake, thread, "The story is finished"), what="the thread's goodbye")
    finished = await store.stories.get_story(story.id)
    assert finished is not None and finished.phase == "finished"
