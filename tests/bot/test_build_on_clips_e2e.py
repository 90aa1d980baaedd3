"""Clips that build on clips, through the spec-checked Discord with a real worker: a picture animated
with /video, and anyone's clip extended in its thread, credited, up to the server's cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.bot.credentials_check import verdict_of
from tests.bot.test_gallery_names_e2e import me
from tests.bot.test_pictures_e2e import picture
from tests.bot.test_video_e2e import clip_messages, make_clip
from tests.discord_fake import DiscordFake
from tests.mp4probe import probe


def field(message: dict[str, Any], name: str) -> str:
    return next(f["value"] for f in message["embeds"][0]["fields"] if f["name"] == name)


def text_input(modal: dict[str, Any]) -> str:
    return str(modal["components"][0]["components"][0]["custom_id"])


async def test_a_picture_is_animated_into_a_posted_clip(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    handle = await fake.slash_command(
        "video", {"prompt": "the cat starts to dance", "model": "tiny-ltx", "image": ("cat.png", picture())}
    )
    assert "Queued as #1" in (await handle.wait_reply())["content"]
    job = await job_in_state(store, 1, "done", "failed")
    assert job.state == "done", job.error_text
    assert job.spec.start_image and job.spec.image_ref is not None
    assert await store.jobs.get_input(job.spec.image_ref) == picture()
    (posted,) = await wait_until(lambda: clip_messages(fake, "general"), what="the clip")
    # its content credentials: made by the model from the member's picture
    verdict = await verdict_of(fake.attachments[posted["attachments"][0]["id"]][1], store)
    assert verdict.status == "valid" and verdict.ai_generated
    assert [(i.title, i.relationship) for i in verdict.ingredients] == [("starting picture", "inputTo")]


async def test_anyone_extends_a_clip_in_its_thread_credited_until_the_servers_cap(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    await (await fake.slash_command("settings extends", {"times": 1})).wait_reply()
    worker.start()
    clip = await make_clip(fake, store, "a paper boat on a pond", model="tiny-ltx")
    thread = await wait_until(lambda: fake.thread_of(clip["id"]), what="the clip's thread")
    await me(fake, "bob", {"gallery-name": True})  # bob agrees to be named outside the server; owner not

    opened = await fake.click(clip, "vb:extend:1", user="bob")
    await opened.wait_ack()
    assert opened.modal is not None
    form = opened.modal["components"][0]["components"][0]
    assert form["value"] == "a paper boat on a pond"  # prefilled with the clip's prompt
    sent = await fake.submit_modal(opened, {text_input(opened.modal): "the boat sails into the sunset"})
    assert "Queued as #2" in (await sent.wait_reply())["content"]

    extended = await job_in_state(store, 2, "done", "failed")
    assert extended.state == "done", extended.error_text
    assert (extended.kind, extended.parent_id, extended.user_id) == ("extend", 1, int(fake.user("bob").id))
    longer = await wait_until(lambda: clip_messages(fake, thread), what="the extended clip in the thread")
    posted = longer[0]
    credits = field(posted, "Credits")
    owner, bob = fake.user("owner").id, fake.user("bob").id
    assert f"#1 by <@{owner}>" in credits and f"➕ #2 by <@{bob}>" in credits
    assert "Extend of #1" in posted["content"]
    whole = tmp_path / "whole.mp4"
    whole.write_bytes(fake.attachments[posted["attachments"][0]["id"]][1])
    parent = await store.jobs.get(1)
    assert parent is not None and parent.frames is not None
    assert probe(whole).frames > parent.frames  # the parent plus its continuation
    assert not fake.pinged_anyone()
    # its content credentials name bob, who agreed, and not the owner, and carry the parent's own
    verdict = await verdict_of(whole.read_bytes(), store)
    assert verdict.status == "valid" and verdict.ai_generated and verdict.model == "Tiny LTX (tiny-ltx)"
    assert verdict.authors == ("a member of Videobot Test Server", "Bob")
    assert b"Owner" not in whole.read_bytes()
    (source,) = verdict.ingredients
    assert (source.title, source.relationship, source.signed) == ("videobot clip #1", "componentOf", True)
    assert source.authors == ("a member of Videobot Test Server",) and source.model == verdict.model

    # the chain is at the server's cap: a second extend is refused before anyone writes a prompt
    again = await fake.click(posted, "vb:extend:2", user="bob")
    reply = await again.wait_reply()
    assert again.ephemeral and "allows 1 extends per chain" in reply["content"]
    assert [j.id for j in await store.jobs.active_jobs()] == []
