"""Small builders shared by the store tests."""

from __future__ import annotations

from db.spec import JobSpec
from db.store import Job, JobResult, Store

MODEL = "ltx-video"
OTHER_MODEL = "wan-1.3b"
GUILD = 100
CHANNEL = 200


def spec(prompt: str = "a red fox running through snow", model: str = MODEL, seed: int = 7) -> JobSpec:
    """A resolved spec, as the bot stores it."""
    return JobSpec(
        prompt=prompt,
        negative_prompt="blurry",
        seconds=5.0,
        aspect="3:2",
        model=model,
        seed=seed,
        steps=40,
        guidance=3.0,
        fps=24,
    )


def result(gpu_seconds: float = 30.0, media_ref: str = "file:1.mp4") -> JobResult:
    return JobResult(
        media_ref=media_ref,
        video_bytes=1234,
        width=768,
        height=512,
        frames=121,
        fps=24.0,
        gpu_seconds=gpu_seconds,
    )


async def submit(
    store: Store,
    user_id: int,
    cost: float = 30.0,
    *,
    guild_id: int = GUILD,
    weight: float = 1.0,
    model: str = MODEL,
    prompt: str = "a red fox",
) -> Job:
    return await store.jobs.enqueue(guild_id, CHANNEL, user_id, spec(prompt, model), cost, weight=weight)


async def generous_caps(store: Store, guild_id: int = GUILD) -> None:
    """Caps out of the way for tests about scheduling."""
    await store.settings.update_settings(
        guild_id, max_queued_per_user=10_000, daily_clips_per_user=10_000, max_running_per_user=10_000
    )
