"""The AI mark in the store, on both backends: a server's setting (off by default) is recorded in each
job's spec when it is queued, so the worker marks the frames of the clips asked for while it is on."""

from __future__ import annotations

from dataclasses import replace

from db.store import Store
from tests.store.helpers import CHANNEL, GUILD, generous_caps, spec


async def test_the_servers_ai_mark_is_recorded_in_each_job_it_queues(store: Store) -> None:
    await generous_caps(store)
    assert (await store.settings.get_settings(GUILD)).ai_mark is False  # off by default
    before = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    assert before.spec.mark is False
    settings = await store.settings.update_settings(GUILD, ai_mark=True)
    assert settings.ai_mark and (await store.settings.get_settings(GUILD)).ai_mark
    after = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    stored = await store.jobs.get(after.id)
    assert after.spec.mark and stored is not None and stored.spec.mark
    # a job copied from a marked one (a reroll, a remix) follows the setting when it is asked for
    await store.settings.update_settings(GUILD, ai_mark=False)
    copied = await store.jobs.enqueue(GUILD, CHANNEL, 1, replace(stored.spec, prompt="a wolf"), 30)
    assert copied.spec.mark is False
    # each server its own: another server's clips are not marked
    await store.settings.update_settings(GUILD, ai_mark=True)
    other = await store.jobs.enqueue(GUILD + 1, CHANNEL, 1, spec("a hare"), 30)
    assert other.spec.mark is False
    assert (await store.settings.get_settings(GUILD)).enhance_prompts is False  # the others stay
