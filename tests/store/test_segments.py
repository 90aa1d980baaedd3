"""Where a joined clip's frames were first encoded, kept with the clip (migration V18) on both backends:
a later join that must encode them again decodes them from there, never from a re-encoded copy."""

from __future__ import annotations

from dataclasses import replace

from db.store import Store
from tests.store.helpers import CHANNEL, GUILD, MODEL, generous_caps, result, spec


async def test_a_joined_clip_keeps_where_its_frames_were_first_encoded_by_its_worker_only(
    store: Store,
) -> None:
    await generous_caps(store)
    first = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == first.id
    assert await store.jobs.finish(first.id, "w1", result())
    joined = await store.jobs.enqueue(
        GUILD, CHANNEL, 2, replace(spec("on"), continues=first.id), 30, parent_id=first.id, kind="extend"
    )
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == joined.id
    where = ((first.id, 0, 121), (joined.id, 121, 48))
    # another worker's report (the lease went elsewhere) stores nothing
    assert not await store.jobs.finish(joined.id, "w2", replace(result(), segments=where))
    assert await store.jobs.finish(joined.id, "w1", replace(result(), segments=where))
    done, original = await store.jobs.get(joined.id), await store.jobs.get(first.id)
    assert done is not None and done.segments == where
    assert original is not None and original.segments is None  # a clip from a prompt is all its own
