"""/bridge through the spec-checked Discord: two clips joined into one by a transition, queued fairly and
charged to whoever asked, posted in the first clip's thread with the second clip's thread told where,
crediting all three without pinging anyone; every clip that cannot be bridged is refused privately, in
the member's language, with nothing queued.

The refusals and the queueing use clips a worker "rendered" straight into the store (no worker runs);
``test_two_members_clips_are_bridged_into_one_posted_in_the_first_clips_thread`` renders with a real
worker, and needs the worker's bridge (``generator/bridge.py``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from db.cost import estimate_gpu_seconds
from db.spec import JobSpec, resolve_spec
from db.store import Job, JobResult, Store
from tests.bot.conftest import WorkerProcess, job_in_state, job_posted, run_sql, wait_until
from tests.bot.test_build_on_clips_e2e import field
from tests.bot.test_delivery_faults_e2e import mp4
from tests.bot.test_video_e2e import clip_messages, make_clip
from tests.discord_fake import DiscordFake
from tests.discord_fake.models import Channel
from tests.mp4probe import probe

__all__ = ["mp4"]  # the module's small H.264 clip, a fixture

NSFW = "after-dark"


async def stored_clip(
    store: Store,
    fake: DiscordFake,
    video: bytes,
    prompt: str,
    *,
    user: str = "owner",
    channel: str | Channel = "general",
    model: str = "tiny-ltx",
    age_restricted: bool = False,
    finished: bool = True,
) -> Job:
    """A clip asked for in ``channel`` that a worker rendered and stored (``finished``; else still
    queued): the bot posts it as it would any other."""
    where = fake.channel(channel)
    spec = JobSpec(prompt=prompt, model=model, aspect="3:2", seed=7, steps=2, guidance=3.0, fps=12)
    job = await store.jobs.enqueue(
        int(where.guild_id), int(where.id), int(fake.user(user).id), spec, 1.0, age_restricted=age_restricted
    )
    if finished:
        claimed = await store.jobs.claim_next("w1", [model])
        assert claimed is not None and claimed.id == job.id
        ref = await store.jobs.put_media(job.id, video, b"\x89PNG poster")
        assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(video), 48, 32, 12, 12.0, 1.0))
    return job


async def posted_clip(store: Store, fake: DiscordFake, video: bytes, prompt: str, **how: Any) -> Job:
    """:func:`stored_clip`, once the bot posted it (and opened its thread, in a channel)."""
    return await job_posted(store, (await stored_clip(store, fake, video, prompt, **how)).id)


def count_jobs(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])


async def bridge(fake: DiscordFake, options: dict[str, Any], **how: Any) -> tuple[bool, str]:
    """/bridge with ``options``: whether the answer was private, and what it said."""
    handle = await fake.slash_command("bridge", options, **how)
    reply = await handle.wait_reply()
    return handle.ephemeral, str(reply["content"])


def link(job: Job) -> str:
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"


async def test_clips_that_cannot_be_bridged_are_refused_privately_and_nothing_is_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    fake.add_user("jonas", locale="de")
    after_dark = fake.add_channel(NSFW, nsfw=True)
    elsewhere = fake.add_guild("Elsewhere")
    elsewhere_general = next(c for c in elsewhere.channels.values() if c.name == "general")

    first = await posted_clip(store, fake, mp4, "a paper boat")
    second = await posted_clip(store, fake, mp4, "a lighthouse", user="bob")
    adult = await posted_clip(store, fake, mp4, "after midnight", channel=after_dark, age_restricted=True)
    deleted = await posted_clip(store, fake, mp4, "gone soon", user="bob")
    assert await store.jobs.delete_clip(deleted.id)
    pruned = await posted_clip(store, fake, mp4, "long ago", user="bob")
    await run_sql(db_path, f"UPDATE jobs SET media_ref = NULL WHERE id = {pruned.id}")
    foreign = await stored_clip(
        store, fake, mp4, "another server's", channel=elsewhere_general, finished=False
    )
    waiting = await stored_clip(store, fake, mp4, "still waiting", model="tiny-slow", finished=False)
    jobs_before = count_jobs(db_path)
    messages_before = len(fake.messages_in("general"))

    refusals = {
        f"There is no clip #{deleted.id} on this server.": {"from": str(deleted.id), "to": "2"},
        f"There is no clip #{foreign.id} on this server.": {"from": "1", "to": f"#{foreign.id}"},
        f"Clip #{waiting.id} is not finished yet": {"from": "1", "to": str(waiting.id)},
        f"Clip #{adult.id} was made in an age-restricted channel": {"from": str(adult.id), "to": "2"},
        f"Clip #{pruned.id} is older than 7 days": {"from": "1", "to": str(pruned.id)},
        "A bridge joins two different clips. To make clip #1 play seamlessly on repeat, press ♾️": {
            "from": "1",
            "to": link(first),
        },
        "“twelve” names no clip": {"from": "twelve", "to": "2"},
        "That link is to a message on another server": {
            "from": f"https://discord.com/channels/{elsewhere.id}/{elsewhere_general.id}/{first.message_id}",
            "to": "2",
        },
        "That link is not to one of my clips": {
            "from": f"https://discord.com/channels/{fake.guild.id}/{first.channel_id}/{first.id}",
            "to": "2",
        },
    }
    for words, options in refusals.items():
        private, said = await bridge(fake, options, user="bob")
        assert private and words in said, (options, said)

    # in the member's language, under the German names
    private, said = await bridge(fake, {"von": str(deleted.id), "nach": "2"}, user="jonas", locale="de")
    assert private and said == f"Auf diesem Server gibt es keinen Clip #{deleted.id}."
    private, said = await bridge(fake, {"von": "1", "nach": str(adult.id)}, user="jonas", locale="de")
    assert private and "kann deshalb nur in einem altersbeschränkten Kanal verbunden werden" in said

    assert count_jobs(db_path) == jobs_before  # nothing queued or stored
    assert [j.id for j in await store.jobs.active_jobs()] == [foreign.id, waiting.id]
    assert len(fake.messages_in("general")) == messages_before
    assert fake.messages_in(fake.thread_of(second.message_id or 0) or "general") == []
    assert not fake.pinged_anyone()


async def test_a_bridge_is_charged_to_whoever_asked_and_queued_in_the_first_clips_thread(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    fake.add_user("bob")
    fake.add_user("carol")
    after_dark = fake.add_channel(NSFW, nsfw=True)
    first = await posted_clip(store, fake, mp4, "a paper boat on a pond")
    second = await posted_clip(store, fake, mp4, "a lighthouse at night", user="bob")
    wan = await posted_clip(store, fake, mp4, "a quiet lake", model="tiny-wan")
    adult = await posted_clip(store, fake, mp4, "after midnight", channel=after_dark, age_restricted=True)
    thread = fake.thread_of(first.message_id or 0)
    assert thread is not None

    # by a link to the first clip's message and the second's number: carol pays for it
    private, said = await bridge(fake, {"from": link(first), "to": f"#{second.id}"}, user="carol")
    assert private and "Queued as #5" in said
    job = await store.jobs.get(5)
    assert job is not None
    carol = int(fake.user("carol").id)
    assert (job.kind, job.parent_id, job.user_id, job.model) == ("bridge", first.id, carol, "tiny-ltx")
    assert (job.spec.continues, job.spec.bridges_to) == (first.id, second.id)
    assert job.spec.prompt == "a lighthouse at night"  # the clip it flows into
    assert job.cost_estimate_s == estimate_gpu_seconds(resolve_spec(job.spec, bot.catalog)) > 0
    assert job.channel_id == int(thread.id) and not job.age_restricted
    status = await wait_until(lambda: fake.messages_in(thread), what="the bridge's status in the thread")
    assert "Bridge from #1 to #2" in status[0]["content"] and "a lighthouse at night" in status[0]["content"]

    # from a clip of a model that makes no bridges, with a prompt of its own: a model that does
    private, said = await bridge(
        fake, {"from": str(wan.id), "to": "1", "prompt": "mist rolls in"}, user="bob"
    )
    assert private and "Queued as #6" in said
    other = await store.jobs.get(6)
    assert (
        other is not None
        and other.spec.prompt == "mist rolls in"
        and other.user_id == int(fake.user("bob").id)
    )
    preset = bot.catalog.get(other.model)
    assert preset is not None and "bridge" in preset.modes and other.model != "tiny-wan"

    # an age-restricted clip in an age-restricted channel: the bridge is one too, and stays there
    private, said = await bridge(fake, {"from": "1", "to": str(adult.id)}, user="carol", channel=after_dark)
    assert private and "Queued as #7" in said
    restricted = await store.jobs.get(7)
    assert restricted is not None and restricted.age_restricted
    assert restricted.channel_id == int(after_dark.id)
    assert not fake.pinged_anyone()


async def test_two_members_clips_are_bridged_into_one_posted_in_the_first_clips_thread(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    """Needs the worker's bridge (generator/bridge.py)."""
    fake = discord_fake
    fake.add_user("bob")
    fake.add_user("carol")
    worker.start()
    first_message = await make_clip(fake, store, "a paper boat on a pond", model="tiny-ltx", seconds=1)
    handle = await fake.slash_command(
        "video", {"prompt": "a lighthouse at night", "model": "tiny-ltx", "seconds": 1}, user="bob"
    )
    assert "Queued as #2" in (await handle.wait_reply())["content"]
    second = await job_posted(store, 2)
    first_thread = await wait_until(lambda: fake.thread_of(first_message["id"]), what="the first thread")
    second_thread = await wait_until(lambda: fake.thread_of(second.message_id or 0), what="the second thread")

    private, said = await bridge(fake, {"from": "1", "to": "2"}, user="carol")
    assert private and "Queued as #3" in said
    joined = await job_in_state(store, 3, "done", "failed", timeout=120)
    assert joined.state == "done", (joined.error_text, worker.log())
    posted = next(
        m
        for m in await wait_until(lambda: clip_messages(fake, first_thread), what="the bridge in the thread")
        if "#3" in m["content"]
    )
    owner, bob, carol = (fake.user(name).id for name in ("owner", "bob", "carol"))
    assert "Bridge from #1 to #2" in posted["content"]
    assert field(posted, "Credits") == f"#1 by <@{owner}> → 🌉 #3 by <@{carol}> → #2 by <@{bob}>"
    whole = tmp_path / "bridge.mp4"
    whole.write_bytes(fake.attachments[posted["attachments"][0]["id"]][1])
    first = await store.jobs.get(1)
    assert first is not None and first.frames is not None and second.frames is not None
    assert probe(whole).frames > first.frames + second.frames  # both clips and the way between them

    # the second clip's thread is told where the bridge is
    note = await wait_until(
        lambda: next((m for m in fake.messages_in(second_thread) if "🌉" in m["content"]), None),
        what="the link in the second clip's thread",
    )
    assert f"<@{carol}>" in note["content"] and f"/{posted['channel_id']}/{posted['id']}" in note["content"]
    assert not fake.pinged_anyone()

    # /show of it credits the three of them again
    show = await fake.slash_command("show", {"job": 3})
    await show.wait_reply()
    assert show.original is not None and "🌉 #3" in field(show.original, "Credits")


async def test_a_reroll_of_a_bridge_whose_clip_was_deleted_is_refused_privately(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path, mp4: bytes
) -> None:
    """A reroll joins the same two clips again: once one of them is deleted there is nothing to join."""
    fake = discord_fake
    fake.add_user("bob")
    first = await posted_clip(store, fake, mp4, "a paper boat")
    second = await posted_clip(store, fake, mp4, "a lighthouse", user="bob")
    _, text = await bridge(fake, {"from": str(first.id), "to": str(second.id)})
    assert "Queued as #3" in text
    claimed = await store.jobs.claim_next("w1", ["tiny-ltx"])
    assert claimed is not None and claimed.id == 3
    ref = await store.jobs.put_media(3, mp4, b"\x89PNG poster")
    assert await store.jobs.finish(3, "w1", JobResult(ref, len(mp4), 48, 32, 12, 12.0, 1.0))
    posted = await job_posted(store, 3)
    message = fake.messages[str(posted.message_id)]

    assert await store.jobs.delete_clip(second.id)
    before = count_jobs(db_path)
    reroll = await fake.click(message, "vb:reroll:3", user="bob")
    reply = await reroll.wait_reply()
    assert reroll.ephemeral and f"There is no clip #{second.id} on this server." in reply["content"]
    assert count_jobs(db_path) == before  # nothing queued
