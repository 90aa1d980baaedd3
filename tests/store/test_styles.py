"""A server's style library in the store (migration V20), on both backends: names are unique per server
(any case) among the styles not removed, a removed style still credits the clips made with it, a
server sees only its own, and a worker's report of a file it cannot load marks the style broken."""

from __future__ import annotations

import pytest

from db.store import Store
from db.store.styles import STYLES_MAX, StyleRefused

GUILD, OTHER = 10, 11
ADMIN = 1


async def test_a_server_adds_lists_and_removes_its_styles(store: Store) -> None:
    clay = await store.styles.add(
        GUILD,
        "Claymation",
        "someone/clay-lora/clay.safetensors",
        preset="ltx-video",
        family="ltx-video-2b",
        created_by=ADMIN,
        scale=0.8,
        trigger="claymation style,",
        author="Ana",
        author_id=4242,
        license="CC BY 4.0",
        link="https://example.org/clay",
    )
    await store.styles.add(
        GUILD, "anime", "/loras/anime.safetensors", preset="ltx-2", family="ltx-2", created_by=ADMIN
    )
    await store.styles.add(OTHER, "clay", "x/y", preset="ltx-video", family="ltx-video-2b", created_by=2)
    assert [s.name for s in await store.styles.library(GUILD)] == ["anime", "Claymation"]
    assert [s.name for s in await store.styles.for_family(GUILD, "ltx-video-2b")] == ["Claymation"]
    found = await store.styles.named(GUILD, "CLAYMATION")
    assert (
        found == clay
        and found.scale == 0.8
        and found.author_id == 4242
        and found.trigger == "claymation style,"
    )
    with pytest.raises(StyleRefused) as refused:
        await store.styles.add(
            GUILD, "claymation", "a/b", preset="ltx-video", family="ltx-video-2b", created_by=ADMIN
        )
    assert refused.value.code == "exists"

    removed = await store.styles.remove(GUILD, "claymation")
    assert removed is not None and removed.id == clay.id and removed.deleted_at is not None
    assert [s.name for s in await store.styles.library(GUILD)] == ["anime"]
    kept = await store.styles.get(clay.id)  # a clip made with it still credits it
    assert kept is not None and kept.name == "Claymation" and kept.deleted_at is not None
    assert await store.styles.remove(GUILD, "claymation") is None
    again = await store.styles.add(
        GUILD, "Claymation", "a/b", preset="ltx-video", family="ltx-video-2b", created_by=ADMIN
    )
    assert again.id != clay.id


async def test_a_style_a_worker_cannot_load_is_marked_broken_with_why(store: Store) -> None:
    style = await store.styles.add(
        GUILD, "bad", "x/bad", preset="ltx-video", family="ltx-video-2b", created_by=ADMIN
    )
    assert not style.broken
    await store.styles.mark_broken(style.id, "lora_unusable", {"reason": "it is not a LoRA for LTX-Video"})
    broken = await store.styles.named(GUILD, "bad")
    assert broken is not None and broken.broken and broken.broken_code == "lora_unusable"
    assert dict(broken.broken_params) == {"reason": "it is not a LoRA for LTX-Video"}


async def test_a_server_keeps_at_most_so_many_styles(store: Store) -> None:
    for n in range(STYLES_MAX):
        await store.styles.add(GUILD, f"s{n}", "a/b", preset="ltx-video", family="f", created_by=ADMIN)
    with pytest.raises(StyleRefused) as refused:
        await store.styles.add(GUILD, "one more", "a/b", preset="ltx-video", family="f", created_by=ADMIN)
    assert refused.value.code == "too_many"
    await store.styles.add(OTHER, "one more", "a/b", preset="ltx-video", family="f", created_by=ADMIN)
