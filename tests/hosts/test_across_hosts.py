"""Across hosts, on one machine: two GPU-worker hosts and a database host in network namespaces, the
bot on a fourth (this process). A worker host whose cable is pulled mid-render loses its lease and
the other host finishes the clip, posted once; a PostgreSQL restarted mid-render costs nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.app import VideoBot
from db.store import Job, Store
from tests.discord_fake import DiscordFake
from tests.hosts.conftest import ONLY_ON, Hosts, HostWorker, NetLab, NetnsCluster, job_where, mentions, poll

LEASE_S = 10.0

# the longest a wait for a job's state may take: it ends the moment the state is reached, so only a
# slow machine comes near it (two workers and the bot on two busy cores render several times slower)
WAIT_S = 300.0


async def video(fake: DiscordFake, prompt: str, model: str) -> int:
    """/video in #general; the job's number from the private reply."""
    handle = await fake.slash_command("video", {"prompt": prompt, "model": model})
    reply = await handle.wait_reply(timeout=15)
    assert handle.ephemeral and "Queued as #" in reply["content"], reply["content"]
    return int(reply["content"].split("#")[1].split(":")[0])


def messages_about(fake: DiscordFake, job_id: int) -> list[dict[str, Any]]:
    """What the channel shows of one job: its status message, which becomes its clip."""
    return [m for m in fake.messages_in("general") if mentions(job_id).search(m["content"])]


async def posted_clip(fake: DiscordFake, store: Store, job_id: int, timeout: float = 30) -> dict[str, Any]:
    """The job's one message in the channel, once it carries the clip (and the store says posted)."""

    def clip() -> dict[str, Any] | None:
        shown = messages_about(fake, job_id)
        return shown[0] if shown and shown[0].get("attachments") else None

    message = await poll(clip, timeout, f"the clip of job {job_id} in the channel")
    await job_where(store, job_id, lambda j: j.posted_at is not None, timeout, "to be marked posted")
    return message


async def rendering(store: Store, job_id: int) -> Job:
    return await job_where(
        store, job_id, lambda j: j.state == "running" and j.step >= 1, WAIT_S, "mid-render"
    )


async def served_by(store: Store, hosts: Hosts, worker: HostWorker, prompt: str, fake: DiscordFake) -> Job:
    """A clip of the model only ``worker``'s host serves: queued, rendered there, posted (once that
    worker is live in the registry again: a host whose link was down beats again only once it is back)."""

    async def live() -> bool:
        return worker in (await hosts.worker_ids(store)).values()

    await poll(live, WAIT_S, f"the worker of {worker.host} to be live")
    job_id = await video(fake, prompt, ONLY_ON[worker.host])
    done = await job_where(store, job_id, lambda j: j.state in ("done", "failed"), WAIT_S, "to end")
    assert done.state == "done", (done, hosts.logs())
    assert (await hosts.worker_ids(store)).get(done.worker_id or "") is worker, (done, hosts.logs())
    await posted_clip(fake, store, job_id)
    return done


async def test_a_host_cut_off_mid_render_loses_its_lease_and_the_other_host_posts_the_clip_once(
    netlab: NetLab, worker_hosts: Hosts, bot: VideoBot, discord_fake: DiscordFake, store: Store
) -> None:
    fake = discord_fake
    job_id = await video(fake, "a lighthouse in a storm", "tiny-mid")  # both hosts serve it
    running = await rendering(store, job_id)
    by_id = await worker_hosts.worker_ids(store)
    cut = by_id[running.worker_id or ""]
    other = worker_hosts.other(cut)
    netlab.link_down(cut.host)  # the cable is pulled: no error, just silence
    cut_at = time.monotonic()
    try:
        done = await job_where(store, job_id, lambda j: j.state in ("done", "failed"), WAIT_S, "to end")
        assert done.state == "done", (done, worker_hosts.logs())
        assert by_id.get(done.worker_id or "") is other, (done, worker_hosts.logs())
        assert done.attempts == 1 and done.started_at != running.started_at  # one lease ran out
        assert time.monotonic() - cut_at >= LEASE_S - 1.5  # not before the lease could have ended
        clip = await posted_clip(fake, store, job_id)
        posted = await store.jobs.get(job_id)
    finally:
        netlab.link_up(cut.host)
    # the cut-off host comes back: it serves a clip of its own model again. It renders that one only
    # after its claim went through, and delivers it only after its delivery of the lost job ended:
    # by then it has tried to store its late render of the first clip and been refused
    await served_by(store, worker_hosts, cut, "a kite after the storm", fake)
    after = await store.jobs.get(job_id)
    assert after == posted, (after, posted)  # its late render changed nothing: same result, one post
    shown = messages_about(fake, job_id)
    assert [m["id"] for m in shown] == [clip["id"]] and len(clip["attachments"]) == 1  # posted once
    media = await store.jobs.get_media(job_id)  # what /show posts again is the clip members saw
    assert media is not None and media.video == fake.attachments[clip["attachments"][0]["id"]][1]
    assert cut.alive() and other.alive(), worker_hosts.logs()


async def test_postgres_restarted_mid_render_workers_and_bot_reconnect_and_nothing_is_lost(
    db_host: NetnsCluster, worker_hosts: Hosts, bot: VideoBot, discord_fake: DiscordFake, store: Store
) -> None:
    fake = discord_fake
    job_id = await video(fake, "a train through snow", "tiny-mid")
    running = await rendering(store, job_id)
    status = await poll(lambda: next(iter(messages_about(fake, job_id)), None), 15, "the status message")
    await asyncio.to_thread(db_host.restart)  # every connection, the bot's and the workers', drops
    done = await job_where(store, job_id, lambda j: j.state in ("done", "failed", "queued"), WAIT_S, "to end")
    assert done.state == "done", (done, worker_hosts.logs())
    # the same render, finished and stored by the same worker: nothing was rendered twice
    assert (done.attempts, done.worker_id, done.started_at) == (0, running.worker_id, running.started_at)
    clip = await posted_clip(fake, store, job_id)
    assert clip["id"] == status["id"] and [m["id"] for m in messages_about(fake, job_id)] == [clip["id"]]
    media = await store.jobs.get_media(job_id)
    assert media is not None and media.video[4:8] == b"ftyp"
    # the bot takes /video again and each host serves again, through its new connections
    for worker in worker_hosts.workers:
        await served_by(store, worker_hosts, worker, f"after the restart, on {worker.host}", fake)
        assert worker.alive(), worker_hosts.logs()
    assert not bot.is_closed()
    assert await store.jobs.active_jobs() == []  # nothing left behind
