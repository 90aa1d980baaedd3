"""A bridge's lineage, on both backends: the first clip's chain, the bridge, then the chain of the clip
it ends on, each clip once, so a bridge's card credits everyone whose clip is in its frames."""

from __future__ import annotations

from dataclasses import replace

from db.store import Store
from tests.store.helpers import CHANNEL, GUILD, generous_caps, spec


async def test_a_bridge_is_credited_with_both_chains_each_clip_once(store: Store) -> None:
    await generous_caps(store)
    first = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("a"), 30)
    first_extended = await store.jobs.enqueue(
        GUILD, CHANNEL, 2, spec("a, later"), 30, parent_id=first.id, kind="extend"
    )
    second = await store.jobs.enqueue(GUILD, CHANNEL, 3, spec("b"), 30)
    second_remixed = await store.jobs.enqueue(
        GUILD, CHANNEL, 4, spec("b again"), 30, parent_id=second.id, kind="remix"
    )

    bridge = await store.jobs.enqueue(
        GUILD,
        CHANNEL,
        5,
        replace(spec("between"), continues=first_extended.id, bridges_to=second_remixed.id),
        30,
        parent_id=first_extended.id,
        kind="bridge",
    )
    chain = [(j.id, j.kind) for j in await store.jobs.lineage(bridge.id)]
    assert chain == [
        (first.id, "new"),
        (first_extended.id, "extend"),
        (bridge.id, "bridge"),
        (second.id, "new"),
        (second_remixed.id, "remix"),
    ]
    assert await store.jobs.extends_in_chain(bridge.id) == 1

    # an extend of the bridge goes on from the second clip; a bridge to a clip of the same chain names
    # each clip once
    after = await store.jobs.enqueue(GUILD, CHANNEL, 6, spec("then"), 30, parent_id=bridge.id, kind="extend")
    assert [j.id for j in await store.jobs.lineage(after.id)][-1] == after.id
    back = await store.jobs.enqueue(
        GUILD,
        CHANNEL,
        7,
        replace(spec("back"), continues=first_extended.id, bridges_to=first.id),
        30,
        parent_id=first_extended.id,
        kind="bridge",
    )
    assert [j.id for j in await store.jobs.lineage(back.id)] == [first.id, first_extended.id, back.id]


async def test_deleting_a_clip_cancels_the_clips_that_would_hold_its_frames(store: Store) -> None:
    from dataclasses import replace as changed

    from tests.store.helpers import CHANNEL, GUILD, generous_caps, spec

    await generous_caps(store)
    first = await store.jobs.enqueue(GUILD, CHANNEL, 1, spec("first"), 30)
    second = await store.jobs.enqueue(GUILD, CHANNEL, 2, spec("second"), 30)
    bridge = await store.jobs.enqueue(
        GUILD, CHANNEL, 3, changed(spec("between"), continues=first.id, bridges_to=second.id), 30,
        parent_id=first.id, kind="bridge",
    )  # fmt: skip
    extend = await store.jobs.enqueue(
        GUILD, CHANNEL, 4, changed(spec("on"), continues=second.id), 30, parent_id=second.id, kind="extend"
    )
    reroll = await store.jobs.enqueue(
        GUILD, CHANNEL, 4, spec("second"), 30, parent_id=second.id, kind="reroll"
    )
    other = await store.jobs.enqueue(
        GUILD, CHANNEL, 4, changed(spec("on"), continues=first.id), 30, parent_id=first.id, kind="extend"
    )

    assert await store.jobs.delete_clip(second.id)
    ended = {j.id: j for j in [await store.jobs.get(x.id) for x in (bridge, extend, reroll, other)] if j}
    for cancelled in (bridge, extend):  # they would post the deleted clip's frames again
        assert ended[cancelled.id].state == "cancelled"
        assert ended[cancelled.id].error_code == "source_deleted"
        assert dict(ended[cancelled.id].error_params) == {"job": second.id}
    assert ended[reroll.id].state == "queued"  # a new render of its prompt holds none of its frames
    assert ended[other.id].state == "queued"
    assert not await store.jobs.delete_clip(second.id)  # deleted already
