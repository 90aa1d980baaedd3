"""Every reply right: buttons and modals that fail still answer, deleted clips are gone, totals are
exact, a starting worker is announced, and one message per clip stays in the channel."""

from __future__ import annotations

from pathlib import Path

from bot.app import VideoBot
from bot.cogs.video import seconds_range
from db.store import Job, Store
from tests.bot.conftest import WorkerProcess, job_in_state, run_sql, wait_until
from tests.bot.test_video_e2e import clip_messages, make_clip
from tests.discord_fake import DiscordFake
from tests.store.helpers import spec


async def posted_job(store: Store, job_id: int) -> Job | None:
    """The job once the bot recorded where its clip was posted (that comes after the post itself)."""
    job = await store.jobs.get(job_id)
    return job if job is not None and job.posted_at is not None else None


async def break_table(db_path: Path, table: str) -> None:
    """A real fault in the job store: the table the next call needs is gone."""
    await run_sql(db_path, f"ALTER TABLE {table} RENAME TO {table}_gone")


async def test_a_failing_button_answers_with_an_apology_and_a_reference_in_german(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, db_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("jonas", locale="de")
    worker.start()
    clip = await make_clip(fake, store, "a kite", model="tiny-ltx")
    await break_table(db_path, "votes")
    click = await fake.click(clip, "vb:vote:1:up", user="jonas", locale="de")
    reply = await click.wait_reply()
    assert click.ephemeral and reply["content"].startswith("Bei uns ist etwas schiefgegangen (Fehler ")


async def test_a_failing_modal_answers_with_an_apology_and_a_reference(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, db_path: Path
) -> None:
    fake = discord_fake
    worker.start()
    clip = await make_clip(fake, store, "a kite", model="tiny-ltx")
    opened = await fake.click(clip, "vb:remix:1")
    await opened.wait_ack()
    assert opened.modal is not None
    field = opened.modal["components"][0]["components"][0]["custom_id"]
    await break_table(db_path, "jobs")
    submitted = await fake.submit_modal(opened, {field: "a kite at night"})
    reply = await submitted.wait_reply()
    assert submitted.ephemeral and "Something went wrong on our side (error " in reply["content"]


async def test_a_deleted_clip_leaves_top_and_show(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    worker.start()
    clip = await make_clip(fake, store, "a paper boat", model="tiny-ltx")
    await (await fake.click(clip, "vb:vote:1:up", user="alice")).wait_reply()
    top = await fake.slash_command("top", {"period": "day"})
    assert "a paper boat" in (await top.wait_reply())["embeds"][0]["description"]

    await (await fake.click(clip, "vb:delete:1")).wait_reply()
    await wait_until(lambda: clip["id"] in fake.deleted_messages, what="the clip to be deleted")
    await wait_until(lambda: store.jobs.get(1), what="the job")
    await job_in_state(store, 1, "done")
    await wait_until(lambda: _deleted(store, 1), what="the clip to be marked deleted")
    top = await fake.slash_command("top", {"period": "day"})
    # "thinking…" first (the list would be public); with nothing to list it goes, and only the asker is told
    (empty,) = await top.wait_followups(timeout=30)
    assert "No voted clips" in empty["content"] and empty["flags"] & 64
    show = await fake.slash_command("show", {"job": 1})
    assert "There is no clip #1" in (await show.wait_reply())["content"]


async def _deleted(store: Store, job_id: int) -> bool:
    job = await store.jobs.get(job_id)
    return job is not None and job.deleted


async def test_queue_counts_exactly_the_clips_waiting_on_this_server(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    guild = int(discord_fake.guild.id)
    for user in range(250):  # more than one page of active jobs, in this server
        await store.jobs.enqueue(guild, 1, 10_000 + user, spec(), 1.0)
    for user in range(30):  # and another server's queue, which is none of ours
        await store.jobs.enqueue(guild + 1, 1, 20_000 + user, spec(), 1.0)
    queue = await discord_fake.slash_command("queue", {})
    assert "250 waiting on this server" in (await queue.wait_reply())["content"]


async def test_a_worker_that_is_starting_is_announced_instead_of_none_online(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    await store.workers.register_worker("w-starting", "host", "cpu", ["tiny-ltx"], state="starting")
    handle = await discord_fake.slash_command("video", {"prompt": "a kite", "model": "tiny-ltx"})
    reply = (await handle.wait_reply())["content"]
    assert "A GPU worker is starting" in reply and "No GPU worker is online" not in reply


async def test_video_declares_the_lengths_the_presets_allow(discord_fake: DiscordFake, bot: VideoBot) -> None:
    video = next(c for c in discord_fake.registered_commands() if c["name"] == "video")
    seconds = next(o for o in video["options"] if o["name"] == "seconds")
    low, high = seconds_range(bot)
    assert (seconds["min_value"], seconds["max_value"]) == (low, high)
    assert low <= min(p.min_seconds for p in bot.catalog) < low + 0.1 and low >= 1.0
    assert high >= max(p.max_seconds for p in bot.catalog)


async def test_a_clip_whose_status_message_was_deleted_is_posted_once_as_a_message_of_its_own(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    handle = await fake.slash_command("video", {"prompt": "a lighthouse", "model": "tiny-ltx"})
    await handle.wait_reply()
    status = await wait_until(lambda: next(iter(fake.messages_in("general")), None), what="status")
    await fake.delete_message(status["id"])  # a moderator tidied the channel
    worker.start()
    await job_in_state(store, 1, "done")
    clip = await wait_until(lambda: next(iter(clip_messages(fake, "general")), None), what="the clip")
    assert clip["id"] != status["id"] and "#1" in clip["content"]
    job = await wait_until(lambda: posted_job(store, 1), what="the clip recorded as posted")
    assert job.message_id == int(clip["id"])
    assert len(clip_messages(fake, "general")) == 1


async def test_a_member_who_picks_no_model_gets_one_a_worker_serves(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    await store.workers.register_worker(
        "w-wan", "host", "cpu", ["tiny-wan"]
    )  # the default, tiny-ltx, is offline
    handle = await discord_fake.slash_command("video", {"prompt": "a kite"})
    assert "Queued as #1" in (await handle.wait_reply())["content"]
    job = await store.jobs.get(1)
    assert job is not None and job.model == "tiny-wan"


MARKED = "*_~|`>#[]\\"  # each one escaped where it is shown: twice as long


async def test_the_details_of_a_clip_with_the_longest_texts_are_shown_within_discords_limits(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, db_path: Path
) -> None:
    """A prompt and a negative prompt full of markdown, a style with long words, author and license, an
    enhanced prompt and a chain of 25 clips: ℹ️ shows the member the details (within 6,000 characters),
    not an error."""
    fake = discord_fake
    guild = int(fake.guild.id)
    worker.start()
    prompt = ("a *kite* " + MARKED * 100)[:1000]
    clip = await make_clip(fake, store, prompt, model="tiny-ltx", negative=("no *rain* " + MARKED * 50)[:500])
    worker.stop()
    claymation = await store.styles.add(
        guild,
        "Clay*" * 10,
        "acme/clay",
        preset="tiny-ltx",
        family="ltx-video-2b",
        created_by=1,
        trigger="*_" * 100,
        author="_" * 100,
        license="~" * 100,
        link="https://example.com/" + "a" * 280,
    )
    previous = None  # clips #2-#26, each extending the one before (never rendered)
    for n in range(25):
        made = await store.jobs.enqueue(
            guild,
            1,
            312_345_678_901_234_500 + n,
            spec(),
            1.0,
            parent_id=previous,
            kind="extend" if previous else "new",
        )
        previous = made.id
    enhanced = "an *enhanced* " + MARKED * 300
    await run_sql(
        db_path,
        "UPDATE jobs SET state = 'cancelled', posted_at = 1.0 WHERE id > 1",
        f"UPDATE jobs SET parent_id = {previous}, kind = 'extend', enhanced_prompt = '{enhanced}',"
        f" spec = json_set(spec, '$.style', {claymation.id}, '$.trigger', '{'*_' * 100}') WHERE id = 1",
    )
    info = await fake.click(clip, "vb:info:1")
    reply = await info.wait_reply()
    assert info.ephemeral and reply["embeds"], reply
    embed = reply["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Credits"].startswith("#") and "→ … →" in fields["Credits"]
    assert (
        "Enhanced prompt" in fields
        and "Style" in fields
        and embed["description"].startswith("**a \\*kite\\*")
    )
