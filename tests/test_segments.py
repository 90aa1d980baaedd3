"""Where a joined clip's frames were first encoded (generator/segments.py, ``Job.segments``): an extend
whose parent no longer fits beside the new part is encoded once from the first encodes of its frames,
never from a re-encoded copy; one that fits copies the parent's stream as it is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from db.cost import estimate_gpu_seconds
from db.presets import PresetCatalog
from db.spec import JobSpec, resolve_spec
from db.store import Job, JobResult, Segments, Store, open_store
from generator.clipio import probe, read_frames
from generator.encode import encode_mp4
from generator.loader import PipelineCache
from generator.segments import clip_segments, joined_segments, own_part, sources
from generator.worker import Worker, WorkerConfig

GUILD, CHANNEL = 1, 2
SIZE = (96, 64)  # the tiny LTX's 3:2 size
FRAMES = 24


def test_a_clip_without_a_record_is_its_own_first_encode() -> None:
    assert clip_segments(7, None, 48) == ((7, 0, 48),)
    assert clip_segments(7, ((3, 0, 24), (7, 24, 24)), 48) == ((3, 0, 24), (7, 24, 24))
    # a record that does not add up to the clip's frames is not trusted
    assert clip_segments(7, ((3, 0, 24), (7, 24, 24)), 50) == ((7, 0, 50),)
    assert sources(7, ((3, 0, 24), (7, 24, 24), (3, 24, 5))) == [3]
    assert sources(7, ((7, 0, 48),)) == []


def test_the_parts_of_a_join_follow_one_another_and_merge_where_they_continue() -> None:
    joined = joined_segments([((3, 0, 24), (5, 24, 10)), own_part(5, 34, 20), (), own_part(9, 54, 0)])
    assert joined == ((3, 0, 24), (5, 24, 30))


def clip(colour: tuple[int, int, int], frames: int, *, noise: bool = False, seed: int = 0) -> np.ndarray:
    """``frames`` frames of one colour, or of loud noise (that no small limit holds as it is)."""
    if noise:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, (frames, SIZE[1], SIZE[0], 3), dtype=np.uint8)
    return np.broadcast_to(np.array(colour, np.uint8), (frames, SIZE[1], SIZE[0], 3)).copy()


async def stored(
    store: Store,
    catalog: PresetCatalog,
    path: Path,
    segments: Callable[[int], Segments] | None = None,
    **job: int | str,
) -> Job:
    """A done clip whose video is the file at ``path``, recorded with ``segments(its id)``."""
    plan = resolve_spec(JobSpec("colours", model="tiny-ltx", seconds=1, seed=1), catalog)
    made = await store.jobs.enqueue(GUILD, CHANNEL, 3, plan.spec, estimate_gpu_seconds(plan), **job)  # type: ignore[arg-type]
    claimed = await store.jobs.claim_next("maker", ["tiny-ltx"])
    assert claimed is not None and claimed.id == made.id
    video = path.read_bytes()
    ref = await store.jobs.put_media(made.id, video, b"")
    facts = probe(path)
    result = JobResult(
        ref,
        len(video),
        facts.width,
        facts.height,
        facts.frames,
        facts.fps,
        0.1,
        segments=segments(made.id) if segments else None,
    )
    assert await store.jobs.finish(made.id, "maker", result)
    done = await store.jobs.get(made.id)
    assert done is not None
    return done


def redness(frames: np.ndarray) -> float:
    """How much redder than blue a clip's frames are on average (-255 all blue … 255 all red)."""
    return float(frames[..., 0].astype(np.float64).mean() - frames[..., 2].astype(np.float64).mean())


@pytest.mark.parametrize("limit", [None, 60_000])
async def test_an_extend_copies_its_parent_or_encodes_once_from_the_first_encodes(
    catalog: PresetCatalog, tmp_path: Path, limit: int | None
) -> None:
    # the first clip is red; the second, an extend of it, holds blue where its copy of the first would be
    # (as if that copy had been re-encoded beyond recognition) and loud noise of its own after it
    first_path = encode_mp4(clip((230, 20, 20), FRAMES), 24, tmp_path / "first.mp4").path
    frames = np.concatenate([clip((20, 20, 230), FRAMES), clip((0, 0, 0), FRAMES, noise=True, seed=1)])
    second_path = encode_mp4(frames, 24, tmp_path / "second.mp4").path
    assert second_path.stat().st_size > (limit or 0) * 1.2  # a small limit cannot hold it as it is
    store = await open_store(str(tmp_path / "videobot.db"))
    try:
        first = await stored(store, catalog, first_path)
        second = await stored(
            store,
            catalog,
            second_path,
            lambda own: ((first.id, 0, FRAMES), (own, FRAMES, FRAMES)),
            parent_id=first.id,
            kind="extend",
        )
        where = ((first.id, 0, FRAMES), (second.id, FRAMES, FRAMES))
        assert second.segments == where

        plan = resolve_spec(
            JobSpec("on", model="tiny-ltx", seconds=1, steps=1, seed=2, continues=second.id), catalog
        )
        job = await store.jobs.enqueue(
            GUILD, CHANNEL, 4, plan.spec, estimate_gpu_seconds(plan), parent_id=second.id, kind="extend"
        )
        config = WorkerConfig(worker_id="w1", models=("tiny-ltx",), max_bytes=limit, progress_interval_s=0.05)
        await Worker(store, catalog, PipelineCache(device="cpu"), config).run(asyncio.Event(), max_jobs=1)
        done = await store.jobs.get(job.id)
        assert done is not None and done.state == "done", done
        media = await store.jobs.get_media(done.id)
        assert media is not None
        (tmp_path / "third.mp4").write_bytes(media.video)
        third, _ = read_frames(tmp_path / "third.mp4")
        parent_frames = 2 * FRAMES
        assert done.segments == (*where, (done.id, parent_frames, len(third) - parent_frames))
        if limit is None:  # it fits: the parent's stream as it was, blue where the second clip has blue
            assert np.array_equal(third[:parent_frames], read_frames(second_path)[0])
        else:  # it does not: encoded once, the first stretch from the first clip's own file (red)
            assert redness(third[:FRAMES]) > 150
            assert len(media.video) <= limit
    finally:
        await store.close()
