"""Right after the job store was away, a worker that waited it out is counted as on its way: it renews
its registry row only when its next try reaches the store (seconds later), so for those seconds its
row looks stale. /video then says a worker is reconnecting, not that none is online."""

from __future__ import annotations

import time

from bot.app import VideoBot
from db.store import Store, open_store
from tests.bot.conftest import wait_until
from tests.discord_fake import DiscordFake


async def video_reply(fake: DiscordFake, prompt: str) -> str:
    member = fake.add_user(f"member-{len(fake.users)}")  # one clip each: no member reaches the cap
    handle = await fake.slash_command("video", {"prompt": prompt, "model": "tiny-ltx"}, user=member)
    await handle.wait_reply()
    assert handle.ephemeral and handle.original is not None
    return str(handle.original["content"])


async def worker_last_heard(db_path: object, seconds_ago: float) -> None:
    """A ready worker's registry row as it is when the worker was last heard from ``seconds_ago``."""
    then = time.time() - seconds_ago
    past = await open_store(str(db_path), clock=lambda: then)
    try:
        await past.workers.register_worker(
            "gpu-host-1-4242-cuda", "gpu-host-1", "cuda", ["tiny-ltx"], state="ready"
        )
    finally:
        await past.close()


async def test_a_worker_silent_through_an_outage_is_reconnecting_and_one_gone_long_is_not_online(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: object
) -> None:
    fake = discord_fake
    assert "No GPU worker is online" in await video_reply(fake, "a lighthouse")

    # the row of a worker last heard from 90 s ago, as after a 60-s outage of the store
    await worker_last_heard(db_path, seconds_ago=90)
    reply = await video_reply(fake, "a storm over the sea")
    assert "lost touch with the queue a moment ago" in reply and "No GPU worker" not in reply

    # heard from again: no note at all
    await store.workers.worker_heartbeat("gpu-host-1-4242-cuda")
    assert "\n" not in await wait_until(lambda: video_reply(fake, "a calm sea"), what="an answer")

    # a worker gone for ten minutes is not on its way
    await worker_last_heard(db_path, seconds_ago=600)
    assert "No GPU worker is online" in await video_reply(fake, "a foggy harbour")
