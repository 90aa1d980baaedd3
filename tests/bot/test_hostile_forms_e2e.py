"""The forms and buttons under a clip, pressed by several members at once or forged, through the
spec-checked Discord with a real worker: every form is answered on its own, a form for a clip deleted
meanwhile is refused privately, and a button acts only from its own clip's message."""

from __future__ import annotations

from typing import Any

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_posted, wait_until
from tests.bot.test_build_on_clips_e2e import text_input
from tests.bot.test_video_e2e import make_clip
from tests.discord_fake import DiscordFake
from tests.discord_fake.interactions import MESSAGE_COMPONENT


async def finished_clip(
    fake: DiscordFake, store: Store, worker: WorkerProcess, prompt: str
) -> dict[str, Any]:
    """A clip rendered and posted, its worker stopped again: what the test makes from it only needs
    to be queued."""
    worker.start()
    clip = await make_clip(fake, store, prompt, model="tiny-ltx")
    worker.stop()
    return clip


async def test_two_members_submitting_the_same_clips_forms_are_each_queued(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    fake.add_user("carol")
    await (await fake.slash_command("settings extends", {"times": 3})).wait_reply()
    clip = await finished_clip(fake, store, worker, "a lighthouse at night")

    for kind in ("remix", "extend"):
        bob = await fake.click(clip, f"vb:{kind}:1", user="bob")
        carol = await fake.click(clip, f"vb:{kind}:1", user="carol")
        await bob.wait_ack()
        await carol.wait_ack()
        assert bob.modal is not None and carol.modal is not None
        carols = await fake.submit_modal(carol, {text_input(carol.modal): f"carol's {kind}"})
        bobs = await fake.submit_modal(bob, {text_input(bob.modal): f"bob's {kind}"})
        for sent in (carols, bobs):
            reply = await sent.wait_reply()
            assert sent.ephemeral and "Queued as #" in reply["content"], reply["content"]

    jobs = [job for job in await store.jobs.active_jobs() if job.parent_id == 1]
    made = sorted((job.kind, job.spec.prompt, job.user_id) for job in jobs)
    bob_id, carol_id = int(fake.user("bob").id), int(fake.user("carol").id)
    assert made == [
        ("extend", "bob's extend", bob_id),
        ("extend", "carol's extend", carol_id),
        ("remix", "bob's remix", bob_id),
        ("remix", "carol's remix", carol_id),
    ]


async def test_a_form_for_a_clip_deleted_meanwhile_is_refused_privately(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("bob", locale="de")
    worker.start()
    clip = await make_clip(fake, store, "a secret garden", model="tiny-ltx")

    opened = await fake.click(clip, "vb:remix:1", user="bob")
    await opened.wait_ack()
    assert opened.modal is not None
    deleted = await fake.click(clip, "vb:delete:1")  # the author deletes it while bob writes
    await deleted.wait_reply()
    await wait_until(lambda: clip["id"] in fake.deleted_messages, what="the deleted clip")
    sent = await fake.submit_modal(opened, {text_input(opened.modal): "the garden, overgrown"})
    reply = await sent.wait_reply()
    assert sent.ephemeral and reply["content"] == "Auf diesem Server gibt es keinen Clip #1."
    assert await store.jobs.get(2) is None  # nothing queued, nothing posted in the deleted clip's thread
    assert not fake.pinged_anyone()


def forged(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    """``message`` as a hostile client sends it: its delete button swapped for ``custom_id``."""
    rows = [
        dict(
            row,
            components=[
                dict(c, custom_id=custom_id) if c["custom_id"].startswith("vb:delete:") else c
                for c in row["components"]
            ],
        )
        for row in message["components"]
    ]
    return dict(message, components=rows)


async def press_forged(fake: DiscordFake, message: dict[str, Any], custom_id: str, user: str) -> str:
    data = {"custom_id": custom_id, "component_type": 2, "id": 9}
    handle = await fake.send_interaction(
        MESSAGE_COMPONENT, data, user=user, message=forged(message, custom_id)
    )
    reply = await handle.wait_reply()
    assert handle.ephemeral
    return str(reply["content"])


async def test_a_forged_delete_of_an_own_finished_clip_leaves_another_members_clip_alone(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    worker.start()
    clip = await make_clip(fake, store, "the owner's clip", model="tiny-ltx")
    made = await fake.slash_command("video", {"prompt": "bob's clip", "model": "tiny-ltx"}, user="bob")
    await made.wait_reply()
    await job_posted(store, 2)

    # bob's client sends his own clip's delete button as if it were on the owner's clip
    reply = await press_forged(fake, clip, "vb:delete:2", "bob")
    assert reply == "Clip #2's buttons work only under clip #2."
    assert fake.message(clip["id"])["id"] == clip["id"]  # the other clip is still there
    for job_id in (1, 2):
        job = await store.jobs.get(job_id)
        assert job is not None and not job.deleted


async def test_a_forged_delete_of_a_queued_job_is_refused_and_it_stays_queued(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    clip = await finished_clip(fake, store, worker, "the owner's clip")
    queued = await fake.slash_command("video", {"prompt": "bob's clip", "model": "tiny-ltx"}, user="bob")
    assert "Queued as #2" in (await queued.wait_reply())["content"]

    reply = await press_forged(fake, clip, "vb:delete:2", "bob")
    assert reply == "Clip #2 is not finished."
    assert fake.message(clip["id"])["id"] == clip["id"]  # the owner's clip is still there
    job, posted = await store.jobs.get(2), await store.jobs.get(1)
    assert job is not None and job.state == "queued" and not job.deleted
    assert posted is not None and not posted.deleted


async def test_the_buttons_under_a_show_of_a_clip_still_work(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    worker.start()
    await make_clip(fake, store, "a clip shown again", model="tiny-ltx")
    show = await fake.slash_command("show", {"job": 1}, user="bob")
    shown = await show.wait_reply()
    assert not show.ephemeral and shown["components"]

    vote = await fake.click(shown, "vb:vote:1:up", user="bob")
    assert await vote.wait_ack() == 7  # the shown message is updated with the count
    assert (await store.votes.vote_counts(1)).up == 1
    info = await fake.click(shown, "vb:info:1", user="bob")
    details = await info.wait_reply()
    assert info.ephemeral and details["embeds"]


async def test_a_form_sent_after_the_bot_restarted_is_answered_and_queued(
    discord_fake: DiscordFake, bot: VideoBot, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    """discord.py keeps open forms in memory only: one sent after a restart (a deploy while the
    member was writing) used to fail ("This interaction failed") and lose the member's words."""
    fake = discord_fake
    bob = fake.add_user("bob")
    clip = await finished_clip(fake, store, worker, "a harbour at dawn")
    for kind, words in (("remix", "the harbour at dusk"), ("extend", "the boats sail out")):
        opened = await fake.click(clip, f"vb:{kind}:1", user="bob")
        await opened.wait_ack()
        assert opened.modal is not None
        await bot_runner.stop()  # the bot restarts while bob writes
        await bot_runner.start()
        sent = await fake.submit_modal(opened, {text_input(opened.modal): words})
        reply = await sent.wait_reply()
        assert sent.ephemeral and "Queued as #" in reply["content"], reply["content"]
    made = sorted(
        (j.kind, j.spec.prompt, j.user_id) for j in await store.jobs.active_jobs() if j.parent_id == 1
    )
    assert made == [
        ("extend", "the boats sail out", int(bob.id)),
        ("remix", "the harbour at dusk", int(bob.id)),
    ]
