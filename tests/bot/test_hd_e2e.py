"""⬆️ HD through the spec-checked Discord with a real worker: a draft of a two-stage preset finished at
twice its size in its thread, charged to and credited to whoever asked; one HD per clip."""

from __future__ import annotations

from pathlib import Path

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.bot.test_build_on_clips_e2e import field
from tests.bot.test_hostile_forms_e2e import press_forged
from tests.bot.test_video_e2e import clip_messages, custom_ids, make_clip
from tests.discord_fake import DiscordFake
from tests.mp4probe import audio_facts, probe


async def test_anyone_finishes_a_draft_in_hd_in_its_thread_once(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    worker.start()
    draft_message = await make_clip(fake, store, "rain on a tin roof", model="tiny-hd", seconds=1)
    assert "vb:hd:1" in custom_ids(draft_message)
    thread = await wait_until(lambda: fake.thread_of(draft_message["id"]), what="the clip's thread")
    draft = await store.jobs.get(1)
    assert draft is not None and (draft.width, draft.height) == (128, 64)  # half the preset's 256x128

    pressed = await fake.click(draft_message, "vb:hd:1", user="bob")
    reply = await pressed.wait_reply()
    assert pressed.ephemeral and "Queued as #2" in reply["content"]
    hd = await job_in_state(store, 2, "done", "failed")
    assert hd.state == "done", (hd.error_text, worker.log())
    bob = int(fake.user("bob").id)
    assert (hd.kind, hd.parent_id, hd.user_id) == ("hd", 1, bob)  # charged to whoever asked
    assert hd.spec.seed == draft.spec.seed and hd.spec.prompt == draft.spec.prompt
    assert hd.gpu_seconds is not None and hd.cost_estimate_s > draft.cost_estimate_s  # its own estimate

    posted = (await wait_until(lambda: clip_messages(fake, thread), what="the HD clip in the thread"))[0]
    assert "HD of #1" in posted["content"]
    owner = fake.user("owner").id
    credits = field(posted, "Credits")
    assert f"#1 by <@{owner}>" in credits and f"⬆️ HD #2 by <@{bob}>" in credits
    assert "vb:hd:2" not in custom_ids(posted) and "vb:reroll:2" not in custom_ids(posted)
    video = tmp_path / "hd.mp4"
    video.write_bytes(fake.attachments[posted["attachments"][0]["id"]][1])
    facts, sound = probe(video), audio_facts(video)
    assert (facts.width, facts.height) == (256, 128)  # 2x each side
    assert draft.frames is not None and facts.frames == draft.frames  # the draft's frames and length
    assert sound is not None and abs(sound.duration - facts.duration) < 0.05  # with its sound
    assert not fake.pinged_anyone()

    # one HD per clip: a second press shows the one there is and queues nothing
    again = await fake.click(draft_message, "vb:hd:1")
    answer = await again.wait_reply()
    assert again.ephemeral and "already has its HD version" in answer["content"]
    assert f"/{posted['channel_id']}/{posted['id']}" in answer["content"]  # a link to it
    assert await store.jobs.active_jobs() == []


async def test_hd_only_where_a_model_makes_it_and_not_of_a_deleted_clip(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    plain = await make_clip(fake, store, "a paper boat", model="tiny-ltx")
    assert not any(c.startswith("vb:hd:") for c in custom_ids(plain))
    draft_message = await make_clip(fake, store, "a lighthouse at night", model="tiny-hd", seconds=1)
    worker.stop()  # nothing renders from here on: the HD waits in the queue

    first = await fake.click(draft_message, "vb:hd:2")
    assert "Queued as #3" in (await first.wait_reply())["content"]
    second = await fake.click(draft_message, "vb:hd:2", user="owner")
    answer = (await second.wait_reply())["content"]
    assert second.ephemeral and "already queued as #3: position 1" in answer
    assert [j.id for j in await store.jobs.active_jobs()] == [3]

    # a forged HD button on a clip whose model makes none: refused, nothing queued
    refused = await press_forged(fake, plain, "vb:hd:1", "owner")
    assert "makes no HD versions" in refused
    assert [j.id for j in await store.jobs.active_jobs()] == [3]

    await store.jobs.cancel(3, None)
    assert await store.jobs.delete_clip(2)
    gone = await fake.click(draft_message, "vb:hd:2")
    assert "There is no clip #2" in (await gone.wait_reply())["content"] and gone.ephemeral
    assert await store.jobs.active_jobs() == []
