"""Prompt enhancement in the store, on both backends: a server's setting (off by default) is recorded in
each job's spec when it is queued, and the enhanced prompt a worker reports is kept with the clip
(migration V16), only by the worker that holds the job."""

from __future__ import annotations

from dataclasses import replace

from db.store import Store
from tests.store.helpers import CHANNEL, GUILD, MODEL, generous_caps, result, spec

ENHANCED = "A red fox runs through deep snow at dawn, low tracking shot, soft golden light, crunching steps."


async def test_the_servers_setting_is_recorded_in_each_job_it_queues(store: Store) -> None:
    await generous_caps(store)
    assert (await store.settings.get_settings(GUILD)).enhance_prompts is False  # off by default
    before = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    assert before.spec.enhance is False
    settings = await store.settings.update_settings(GUILD, enhance_prompts=True)
    assert settings.enhance_prompts and (await store.settings.get_settings(GUILD)).enhance_prompts
    after = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    stored = await store.jobs.get(after.id)
    assert after.spec.enhance and stored is not None and stored.spec.enhance
    # a job copied from an enhanced one (a remix) follows the setting at the time it is asked for
    await store.settings.update_settings(GUILD, enhance_prompts=False)
    copied = await store.jobs.enqueue(GUILD, CHANNEL, 1, replace(stored.spec, prompt="a wolf"), 30)
    assert copied.spec.enhance is False
    assert (await store.settings.get_settings(GUILD)).sound  # the other settings stay as they were


async def test_the_enhanced_prompt_is_kept_with_the_clip_by_its_worker_only(store: Store) -> None:
    await generous_caps(store)
    plain = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a hare"), 30)
    job = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    assert job.enhanced_prompt is None  # not before it is rendered
    for expected in (plain, job):
        claimed = await store.jobs.claim_next("w1", [MODEL])
        assert claimed is not None and claimed.id == expected.id
    # another worker's report (the lease went elsewhere) stores nothing
    assert not await store.jobs.finish(job.id, "w2", replace(result(), enhanced_prompt="not this"))
    assert (await store.jobs.get(job.id)).enhanced_prompt is None  # type: ignore[union-attr]

    assert await store.jobs.finish(plain.id, "w1", result())
    assert await store.jobs.finish(job.id, "w1", replace(result(), enhanced_prompt=ENHANCED))
    done, unenhanced = await store.jobs.get(job.id), await store.jobs.get(plain.id)
    assert done is not None and done.state == "done" and done.enhanced_prompt == ENHANCED
    assert done.spec.prompt == "a fox"  # the member's own, beside it
    assert unenhanced is not None and unenhanced.state == "done" and unenhanced.enhanced_prompt is None
