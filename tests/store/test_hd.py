"""One HD version per clip, on both backends: a second request is told which one exists; a failed,
cancelled or deleted HD version may be asked for again."""

from __future__ import annotations

import pytest

from db.store import CapExceeded, Store
from tests.store.helpers import CHANNEL, GUILD, MODEL, generous_caps, result, spec


async def test_a_clip_has_one_hd_version_at_a_time(store: Store) -> None:
    await generous_caps(store)
    draft = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a fox"), 30)
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and await store.jobs.finish(draft.id, "w1", result())
    assert await store.jobs.hd_of(draft.id) is None

    hd = await store.jobs.enqueue(GUILD, CHANNEL, 2, spec("a fox"), 90, parent_id=draft.id, kind="hd")
    assert hd.kind == "hd" and hd.parent_id == draft.id
    found = await store.jobs.hd_of(draft.id)
    assert found is not None and found.id == hd.id
    # another member's request, and the same member's again: refused, naming the one there is
    for member in (3, 2):
        with pytest.raises(CapExceeded) as refused:
            await store.jobs.enqueue(GUILD, CHANNEL, member, spec("a fox"), 90, parent_id=draft.id, kind="hd")
        assert refused.value.code == "hd_exists" and refused.value.params["job"] == hd.id

    # cancelled: it may be asked for again; deleted once done: again
    assert await store.jobs.cancel(hd.id, 2)
    again = await store.jobs.enqueue(GUILD, CHANNEL, 3, spec("a fox"), 90, parent_id=draft.id, kind="hd")
    claimed = await store.jobs.claim_next("w1", [MODEL])
    assert claimed is not None and claimed.id == again.id
    assert await store.jobs.finish(again.id, "w1", result())
    done = await store.jobs.hd_of(draft.id)
    assert done is not None and done.id == again.id and done.state == "done"
    assert await store.jobs.delete_clip(again.id)
    assert await store.jobs.hd_of(draft.id) is None
    third = await store.jobs.enqueue(GUILD, CHANNEL, 2, spec("a fox"), 90, parent_id=draft.id, kind="hd")
    assert third.id not in (hd.id, again.id)
