"""/video to a posted clip, as members see it in the channel."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_in_state, job_posted, wait_until
from tests.bot.credentials_check import verdict_of
from tests.discord_fake import DiscordFake
from tests.mp4probe import probe


def clip_messages(fake: DiscordFake, channel: str | Any) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(channel) if m.get("attachments")]


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


def button(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    for row in message["components"]:
        for comp in row["components"]:
            if comp.get("custom_id") == custom_id:
                return comp
    raise AssertionError(f"no button {custom_id}")


async def make_clip(
    fake: DiscordFake, store: Store, prompt: str = "a cat on a beach", **options: Any
) -> dict[str, Any]:
    handle = await fake.slash_command("video", {"prompt": prompt, **options})
    await handle.wait_reply()
    assert handle.ephemeral and "Queued as #" in handle.original["content"]  # type: ignore[index]
    job_id = int(handle.original["content"].split("#")[1].split(":")[0])  # type: ignore[index]
    await job_in_state(store, job_id, "done")
    message = await wait_until(
        lambda: next((m for m in clip_messages(fake, "general") if f"#{job_id}" in m["content"]), None),
        what="the clip message",
    )
    await job_posted(store, job_id)  # its thread is open and its post recorded, a moment after it appears
    return message


async def test_video_command_posts_a_playable_clip_with_buttons_and_a_thread(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store, tmp_path: Path
) -> None:
    fake = discord_fake
    handle = await fake.slash_command(
        "video", {"prompt": "a red fox in snow", "model": "tiny-ltx", "seconds": 2}
    )
    await handle.wait_reply()
    assert handle.ack_latency is not None and handle.ack_latency < 3.0
    assert handle.ephemeral
    reply = handle.original["content"]  # type: ignore[index]
    assert "Queued as #1" in reply and "position 1" in reply
    assert "No GPU worker is online" in reply  # the worker starts below

    # a status message appears in the channel at once
    status = await wait_until(
        lambda: next((m for m in fake.messages_in("general") if "Waiting" in m["content"]), None),
        what="the status message",
    )
    assert "a red fox in snow" in status["content"]

    worker.start()
    await job_in_state(store, 1, "done")
    clip = await wait_until(lambda: next(iter(clip_messages(fake, "general")), None), what="the clip")
    attachment = clip["attachments"][0]
    assert attachment["filename"].endswith(".mp4") and attachment["size"] <= 10 * 1024 * 1024
    video = tmp_path / "posted.mp4"
    video.write_bytes(fake.attachments[attachment["id"]][1])
    facts = probe(video)
    assert (facts.codec, facts.pix_fmt, facts.faststart) == ("h264", "yuv420p", True)
    assert facts.frames == 49
    credentials = await verdict_of(video.read_bytes(), store)  # signed by this installation's bot
    assert credentials.status == "valid" and credentials.ai_generated and credentials.model is not None
    assert credentials.model_facts["server"] == fake.guild.name and credentials.model.startswith("Tiny LTX")
    assert credentials.model_facts["source"] == "tiny-ltx"  # its folder, not the GPU host's path to it

    embed = clip["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert "a red fox in snow" in embed["description"]
    assert fields["Model"] == "Tiny LTX" and fields["Length"] == "2.0 s" and "Seed" in fields
    assert embed["author"]["name"] == "🤖 AI-generated video · Tiny LTX"  # a model made it, and which
    assert {"vb:vote:1:up", "vb:vote:1:down", "vb:reroll:1", "vb:remix:1", "vb:info:1", "vb:delete:1"} <= set(
        custom_ids(clip)
    )
    await wait_until(lambda: fake.thread_of(clip["id"]), what="the clip's thread")
    # the status message became the clip: one message in the channel, not two
    assert clip["id"] == status["id"]
    assert [m["id"] for m in fake.messages_in("general")] == [status["id"]]
    job = await job_posted(store, 1)
    assert job.message_id == int(clip["id"])


async def test_votes_count_once_per_member_and_not_for_the_author(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    fake.add_user("bob")
    worker.start()
    clip = await make_clip(fake, store, model="tiny-wan")
    job_id = int(clip["embeds"][0]["footer"]["text"].lstrip("#"))

    click = await fake.click(clip, f"vb:vote:{job_id}:up", user="alice")
    await click.wait_reply()
    clip = fake.message(clip["id"])
    assert button(clip, f"vb:vote:{job_id}:up")["label"] == "1"
    # alice changes her mind: her vote moves, it is not added
    await (await fake.click(clip, f"vb:vote:{job_id}:down", user="alice")).wait_reply()
    await (await fake.click(fake.message(clip["id"]), f"vb:vote:{job_id}:up", user="bob")).wait_reply()
    clip = fake.message(clip["id"])
    assert (
        button(clip, f"vb:vote:{job_id}:up")["label"],
        button(clip, f"vb:vote:{job_id}:down")["label"],
    ) == ("1", "1")
    # the author cannot vote on their own clip
    own = await fake.click(clip, f"vb:vote:{job_id}:up", user="owner")
    await own.wait_reply()
    assert own.ephemeral and "own clip" in own.original["content"]  # type: ignore[index]
    assert tuple(await store.votes.vote_counts(job_id)) == (1, 1)
    # bob clicks 👍 again: like a reaction, his vote is taken back
    await (await fake.click(fake.message(clip["id"]), f"vb:vote:{job_id}:up", user="bob")).wait_reply()
    assert button(fake.message(clip["id"]), f"vb:vote:{job_id}:up")["label"] == "0"
    assert tuple(await store.votes.vote_counts(job_id)) == (0, 1)


async def test_reroll_and_remix_are_posted_in_the_clips_thread(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    clip = await make_clip(fake, store, "waves on rocks", model="tiny-ltx")
    job_id = int(clip["embeds"][0]["footer"]["text"].lstrip("#"))
    thread = await wait_until(lambda: fake.thread_of(clip["id"]), what="the clip's thread")

    reroll = await fake.click(clip, f"vb:reroll:{job_id}")
    await reroll.wait_reply()
    assert "Queued as" in reroll.original["content"]  # type: ignore[index]
    remix_button = await fake.click(clip, f"vb:remix:{job_id}")
    await remix_button.wait_ack()
    assert remix_button.modal is not None
    remix = await fake.submit_modal(
        remix_button, {next(iter(_text_inputs(remix_button.modal))): "waves on rocks at night"}
    )
    await remix.wait_reply()

    in_thread = await wait_until(
        lambda: len(clip_messages(fake, thread)) >= 2 and clip_messages(fake, thread),
        what="two clips in the thread",
    )
    texts = " ".join(m["content"] for m in in_thread)
    assert f"Reroll of #{job_id}" in texts and f"Remix of #{job_id}" in texts and "at night" in texts
    children = await store.jobs.children(job_id)
    assert sorted(c.kind for c in children) == ["remix", "reroll"]
    original = await store.jobs.get(job_id)
    assert original is not None
    by_kind = {c.kind: c for c in children}
    assert by_kind["reroll"].spec.seed != original.spec.seed  # a new seed
    assert by_kind["remix"].spec.seed == original.spec.seed  # the same seed, new words
    assert len(clip_messages(fake, "general")) == 1  # nothing new in the channel itself


def _text_inputs(modal: dict[str, Any]) -> list[str]:
    return [
        c["custom_id"] for row in modal["components"] for c in row.get("components", []) if c.get("type") == 4
    ]


async def test_cancel_stops_a_queued_and_a_running_job(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    queued = await fake.slash_command("video", {"prompt": "a slow storm", "model": "tiny-slow"}, user="alice")
    await queued.wait_reply()
    cancel = await fake.slash_command("cancel", {}, user="alice")
    await cancel.wait_reply()
    assert "Cancelled #1" in cancel.original["content"]  # type: ignore[index]
    assert (await store.jobs.get(1)).state == "cancelled"  # type: ignore[union-attr]
    await wait_until(
        lambda: any("Cancelled" in m["content"] for m in fake.messages_in("general")),
        what="the status to say cancelled",
    )

    running = await fake.slash_command(
        "video", {"prompt": "another slow storm", "model": "tiny-slow"}, user="alice"
    )
    await running.wait_reply()
    worker.start()
    await job_in_state(store, 2, "running")
    cancel = await fake.slash_command("cancel", {"job": 2}, user="alice")
    await cancel.wait_reply()
    assert "Cancelled #2" in cancel.original["content"]  # type: ignore[index]
    job = await job_in_state(store, 2, "cancelled")
    assert job.step < job.total_steps
    # the worker let go of it: the next job renders
    done = await fake.slash_command("video", {"prompt": "a quick cat", "model": "tiny-ltx"}, user="alice")
    await done.wait_reply()
    await job_in_state(store, 3, "done")


async def test_a_clip_finished_while_the_bot_was_down_is_posted_once_and_its_buttons_work(
    discord_fake: DiscordFake, bot_runner: BotRunner, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    await bot_runner.start()
    handle = await fake.slash_command("video", {"prompt": "a lighthouse", "model": "tiny-ltx"})
    await handle.wait_reply()
    await bot_runner.stop()
    worker.start()
    await job_in_state(store, 1, "done")
    assert clip_messages(fake, "general") == []

    await bot_runner.start()
    clip = await wait_until(
        lambda: next(iter(clip_messages(fake, "general")), None), what="the clip after restart"
    )
    await wait_until(lambda: store.jobs.get(1), what="job")
    await bot_runner.stop()
    await bot_runner.start()  # a second restart posts nothing again
    vote = await fake.click(clip, "vb:vote:1:up", user="alice")
    await vote.wait_reply()
    assert button(fake.message(clip["id"]), "vb:vote:1:up")["label"] == "1"
    assert len(clip_messages(fake, "general")) == 1
    assert len(fake.threads("general")) == 1


async def test_the_status_message_shows_progress_at_most_every_3_seconds(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    worker.start()
    await wait_until(store.workers.live_workers, what="the worker to register")
    handle = await fake.slash_command("video", {"prompt": "a candle burning down", "model": "tiny-slow"})
    await handle.wait_reply()
    status = await wait_until(lambda: next(iter(fake.messages_in("general")), None), what="status")

    def rendering_edits() -> list[str]:
        texts = [e.json["content"] for e in fake.edits_of(status["id"]) if e.json]
        return [text for text in texts if "Rendering" in text]

    await wait_until(lambda: len(rendering_edits()) >= 3, timeout=60, what="three progress edits")
    await (await fake.slash_command("cancel", {})).wait_reply()
    await wait_until(
        lambda: "Cancelled" in fake.message(status["id"])["content"], what="the status to say so"
    )

    rendering = rendering_edits()
    bars = [re.search(r"Rendering [▰▱]{12} (\d+)/100000 steps", text) for text in rendering]
    assert all(bars), rendering  # a bar and the step count
    steps = [int(bar.group(1)) for bar in bars if bar]
    assert steps == sorted(steps) and steps[-1] > steps[0]  # progress moves forward
    edits = fake.edits_of(status["id"])
    progress_edits = [e for e in edits if e.json and "Cancelled" not in e.json["content"]]
    gaps = [b.at - a.at for a, b in itertools.pairwise(progress_edits)]
    assert all(gap >= 2.9 for gap in gaps), gaps  # no more often than every 3 s (clock jitter aside)
    assert all(
        (e.template or "").startswith("/channels/") for e in edits
    )  # the bot token, not the interaction's
