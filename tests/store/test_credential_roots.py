"""The installation's signing roots and signed clips in the store (migration V21), on both backends: two
bot hosts with keys of their own are both recognised as the installation (a clip signed by either reads
valid against the store's roots, and only the installation's), a bot that starts again records nothing
twice, and a signed clip replaces its unsigned file with its manifest's size kept, unless it was deleted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from db.credentials import ClipFacts, ensure_keys, manifest_store_bytes, read_credentials, sign_clip
from db.store import JobResult, Store
from generator.encode import encode_mp4
from tests.store.helpers import spec

FACTS = ClipFacts(model="tiny-ltx", model_title="Tiny LTX", pipeline="LTXPipeline", source="tiny")


def clip(folder: Path) -> Path:
    frames = np.linspace(0, 255, 6 * 32 * 48 * 3).astype(np.uint8).reshape(6, 32, 48, 3)
    encode_mp4(frames, 12, folder / "clip.mp4")
    return folder / "clip.mp4"


async def test_every_bot_hosts_root_is_the_installations_and_no_other(store: Store, tmp_path: Path) -> None:
    source = clip(tmp_path)
    hosts = [ensure_keys(tmp_path / name) for name in ("host-a", "host-b", "stranger")]
    signed = []
    for n, keys in enumerate(hosts):
        out = tmp_path / f"signed-{n}.mp4"
        sign_clip(source, out, FACTS, keys)
        signed.append(out)
    for keys in hosts[:2]:  # two bot hosts start, one of them twice
        await store.credentials.record_root(keys.root_pem)
    await store.credentials.record_root(hosts[0].root_pem)
    roots = await store.credentials.roots()
    assert roots.count(b"BEGIN CERTIFICATE") == 2
    verdicts = [read_credentials(path, roots) for path in signed]
    assert [v.status for v in verdicts] == ["valid", "valid", "untrusted"]
    assert [v.this_installation for v in verdicts] == [True, True, False]


async def test_a_signed_clip_replaces_its_file_unless_it_was_deleted(store: Store, tmp_path: Path) -> None:
    source = clip(tmp_path)
    out = tmp_path / "signed.mp4"
    sign_clip(source, out, FACTS, ensure_keys(tmp_path / "keys"))
    unsigned, signed = source.read_bytes(), out.read_bytes()
    jobs = []
    for user in (1, 2):
        job = await store.jobs.enqueue(10, 20, user, spec(), 1.0)
        assert await store.jobs.claim_next("w1", [job.model]) is not None
        ref = await store.jobs.put_media(job.id, unsigned, b"poster")
        assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(unsigned), 48, 32, 6, 12.0, 1.0))
        jobs.append(job)
    kept, gone = jobs
    assert await store.jobs.put_signed(kept.id, signed, b"poster", manifest_store_bytes(out))
    media, row = await store.jobs.get_media(kept.id), await store.jobs.get(kept.id)
    assert media is not None and media.video == signed and media.poster == b"poster"
    assert row is not None and row.video_bytes == len(signed)
    assert row.manifest_bytes == manifest_store_bytes(out) > 0
    assert await store.jobs.delete_clip(gone.id)
    assert not await store.jobs.put_signed(gone.id, signed, b"poster", 1)
    assert await store.jobs.get_media(gone.id) is None  # not brought back by the signing
