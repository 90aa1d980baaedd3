"""The job store: the one door between the bot and the GPU workers.

``store = await open_store(url)`` opens a :class:`Store`: one small object holding the connection and
the media, with each feature's data a part of it (``store.jobs``, ``store.workers``, ``store.votes``,
``store.settings``, ``store.challenges``, ``store.hall``, ``store.stories``, ``store.stats``,
``store.gallery``, ``store.profiles``, ``store.metrics``, ``store.retention``, ``store.shards``), each
in a module of its own (:mod:`db.store.part`) with its queries in ``db/sql/<part>.sql``. The store
itself has ``migrate()``, ``close()``, ``backend`` and ``clock``.

``open_store(url)`` picks the backend from ``url`` or ``VIDEOBOT_DATABASE_URL``:
``postgresql://…`` (or ``postgres://…``) → PostgreSQL via asyncpg, clips stored in the database;
``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, a plain path, or nothing →
SQLite file (default ``./videobot.db``), clips in a ``media/`` directory next to it. Migrations in
``db/migrations`` are applied at open. All times are UTC epoch seconds; ``clock`` replaces ``time.time``
(tests move time without sleeping).

Submitting (bot): ``store.jobs``
    ``enqueue(guild_id, channel_id, user_id, spec, cost_estimate_s, *, weight=1.0, parent_id=None,
    kind="new", locale="en-US", age_restricted=False) -> Job`` — raises :class:`CapExceeded` (``code``
    "too_many_queued" or "daily_limit", ``params``, English ``str``); nothing is stored then.
    ``age_restricted``: asked for in an age-restricted channel; a job whose parent is age-restricted
    is too, whatever it is given (``Job.age_restricted``, migration V14; False for jobs made before).
    ``enqueue_and_place(Submission) -> (Job, QueuePosition)`` — the same and the job's place, in one
    transaction committed before it returns (the bot's answer to a member). On SQLite the requests
    that arrive while one transaction runs go together in the next (:mod:`db.store.batching`); a
    refused request is refused alone.
    ``cancel(job_id, user_id | None) -> bool`` — by the author, or None for a moderator.

Rendering (workers): ``store.jobs``, the registry ``store.workers``
    ``claim_next(worker_id, models, lease_s=10) -> Job | None`` — fair order (two-level start-time
    fair queueing, :mod:`db.fairness`); a member's jobs wait while they have ``max_running_per_user``
    jobs running (a lease that ran out does not count). ``heartbeat(job_id, worker_id, *, step,
    total_steps, lease_s=10, rendered=False) -> bool`` — False: stop (cancelled or lease lost);
    ``rendered=True`` once the render is done, so a death while encoding or storing is no attempt.
    ``put_media(job_id, video, poster) -> media_ref``, then
    ``finish(job_id, worker_id, JobResult) -> bool``, or ``fail(job_id, worker_id, code, *,
    params=None, gpu_seconds=None) -> bool`` (a code of :mod:`db.failures`: the bot words it in the
    member's language); ``release(job_id, worker_id) -> bool`` on shutdown.
    ``requeue_expired(now=None) -> int`` (claims also do it): attempts + 1 unless rendered; failed
    after 3 deaths while rendering. ``release_dead_worker(worker_id) -> list[int]``: a worker known
    dead — its jobs go back at once (same counting), its row goes.
    ``store.workers``: ``register_worker(worker_id, host, gpu, models, *, state="ready", note="", pid=None)``,
    ``workers_on_host(host)``, ``prune_workers(max_age_s=600)`` (claims also do it),
    ``set_worker_state(worker_id, state, note)``, ``worker_heartbeat(worker_id) -> bool``,
    ``unregister_worker(worker_id)``, ``wait_for_work(timeout) -> bool``.

Posting (bot): ``store.jobs``
    ``unposted(limit) -> list[Job]`` (done, failed or cancelled, not yet posted),
    ``mark_posted(job_id, message_id, thread_id) -> bool`` (True only the first time),
    ``set_status_message(job_id, message_id)``, ``active_jobs(limit)``, ``get_media(job_id)``,
    ``put_signed(job_id, video, poster, manifest_bytes) -> bool`` (the clip's signed mp4 in place of
    its worker's; False for a deleted clip), ``wait_for_events(timeout) -> bool`` (progress, start, end).

Reading: ``store.jobs`` (``live_workers``, ``served_models``: ``store.workers``)
    ``get(job_id)``, ``jobs_for_user(guild_id, user_id, states, limit)``, ``queued_count(guild_id)``,
    ``queue_position(job_id) -> QueuePosition(position, eta_s)``, ``queue_positions()`` (every
    active job's, from one read), ``live_workers(max_age_s)``, ``served_models(max_age_s)``.

Community
    ``store.votes``: ``vote(job_id, user_id, +1 | -1 | 0) -> VoteCounts`` (raises
    :class:`VoteRefused` on your own clip), ``vote_counts(job_id)``, ``top(guild_id, since, limit, *,
    with_age_restricted=False) -> list[RankedClip]`` (age-restricted clips only when asked: a list for
    an age-restricted channel).
    ``store.jobs``: ``lineage(job_id)``, ``children(job_id)``, ``delete_clip(job_id)``.
    ``store.settings``: ``get_settings(guild_id) -> GuildSettings``,
    ``update_settings(guild_id, **changes) -> GuildSettings``.
    ``store.challenges`` (:mod:`db.store.challenges`): ``start_challenge(guild_id, channel_id,
    created_by, theme, ends_at, *, locale) -> Challenge``, ``set_challenge_thread``, ``get_challenge``,
    ``challenge_by_thread``, ``open_challenges``, ``unannounced_challenges``, ``guild_challenges``,
    ``latest_finished_challenge``, ``move_challenge_end``, ``challenge_standings``,
    ``close_challenge(id, *, ended_by=None) -> bool`` (once: snapshots the votes and the ranking),
    ``challenge_results``, ``challenge_audit``, ``mark_challenge_results_posted``,
    ``challenge_wins(guild_id, user_id) -> int``.
    Hall of fame and /me, ``store.hall`` (:mod:`db.store.halloffame`): ``claim_hall_post(guild_id, job_id,
    channel_id, votes) -> HallPost | None`` (None: claimed before; claim before sending),
    ``record_hall_post(job_id, message_id, shown) -> bool``, ``hall_post(job_id)``,
    ``set_hall_shown(job_id, shown)``, ``remove_hall_post(job_id) -> HallPost | None`` (for good),
    ``unfinished_hall_posts(guild_id)``, ``stale_hall_posts(guild_id)``,
    ``hall_candidates(guild_id, threshold, since, limit, *, with_age_restricted=False)``,
    ``standing(guild_id, user_id, since) ->
    Standing`` (clips, votes received, every member's GPU-seconds and weight since ``since``).
    ``store.stories`` (:mod:`db.store.stories`, raising ``StoryRefused``): ``create_story(guild_id,
    channel_id, thread_id, starter_id, title, first_job_id, first_prompt, *, locale) -> Story``,
    ``get_story``, ``story_in_thread(thread_id)``, ``unfinished_stories()``, ``story_scenes(story_id)``,
    ``may_propose(story_id, user_id)`` (raises what ``propose`` would, before a picture is stored),
    ``propose(story_id, user_id, prompt, *, weight, round_s, end_image_ref=None) -> Proposal``,
    ``set_proposal_message``, ``get_proposal``, ``vote_proposal(proposal_id, user_id) -> int``,
    ``round_proposals(story_id)``, ``end_round(story_id) -> Proposal | None``, ``due_rounds(now)``,
    ``add_scene(story_id, job_id, user_id, prompt)``, ``open_round(story_id, ends_at)``,
    ``reopen_round(story_id, number, ends_at)``, ``start_closing(story_id, job_id) -> bool`` (phase
    ``closing``: the scene back to the first frame of ``/story finish loop:true``),
    ``finish_story(story_id) -> bool``.

Styles: ``store.styles`` (:mod:`db.store.styles`, raising ``StyleRefused``): ``add(guild_id, name, source,
    *, preset, family, created_by, scale, trigger, author, author_id, license, link) -> Style``,
    ``remove(guild_id, name)``, ``library(guild_id)``, ``named(guild_id, name)``, ``get(style_id)``
    (removed ones too: clips credit them), ``for_family(guild_id, family)``, ``mark_broken(style_id,
    code, params)``.

Content credentials: ``store.credentials`` (:mod:`db.store.credentials`): ``record_signer(root_pem,
    signer_pem)`` (a bot host's signing certificate and its root, public, once), ``trust() -> Trust``
    (every root, one PEM bundle, and every signing certificate's serial: what makes a clip the
    installation's own).

Sharded bot: ``store.shards`` (:mod:`db.store.shards`)
    ``unposted_in(shards, limit)``, ``active_jobs_in(shards, limit)`` (a :class:`ShardRange`'s
    guilds only; None: all), ``claim_bot_state(key, value) -> bool`` (True only for the caller that
    changed it: the synced command tree's digest), ``put_bot_state``, ``release_bot_state``,
    ``bot_state(key)``.

Web gallery: ``store.gallery`` (:mod:`db.store.gallery`, read by ``videobot web``)
    ``gallery_guilds() -> list[GalleryGuild]`` (public servers: name, icon, clip count),
    ``gallery_guild(guild_id)``, ``gallery_best(guild_id, period, limit, offset)`` and
    ``gallery_newest(guild_id, limit, offset) -> list[GalleryEntry] | None`` (each with
    ``author_name`` only if the author agreed to be named), ``gallery_clip(guild_id, job_id)``,
    ``gallery_job(job_id)``, ``gallery_media(job_id)``, ``gallery_icon(guild_id)``. None for a server
    that did not opt in, exactly as for one that does not exist. A clip made in an age-restricted
    channel is never in the gallery: in no list, count or chain, and None as if it did not exist.
    Names kept by the bot, ``store.profiles`` (:mod:`db.store.profiles`): ``record_guild(guild_id, name)``,
    ``record_guild_icon(guild_id, icon_hash, png)``, ``guild_profile(guild_id)``,
    ``set_gallery_name(guild_id, user_id, show, display_name)`` (``/me gallery-name``; withdrawing
    erases the name), ``record_member_name(guild_id, user_id, name) -> bool`` (only for a member who
    agreed), ``member_profile(guild_id, user_id)``.

Operations: ``store.metrics`` (:mod:`db.store.metrics`)
    ``ping()`` (one cheap read of the jobs table; raises when the database does not answer: the
    health checks), ``queued_by_guild() -> {guild_id: n}`` (the bot's queue-depth gauge).
    /stats and `videobot status`, ``store.stats`` (:mod:`db.store.stats`): ``guild_stats(guild_id, days=7) ->
    GuildStats`` (every member's GPU-seconds and weight, queue waits p50/p95 per UTC day),
    ``store_status() -> StoreStatus`` (waiting and rendering per guild, live workers with their jobs,
    clips per hour over 24 h).

Media retention: ``store.retention`` (:mod:`db.store.retention`)
    ``prune_media(older_than) -> PruneReport`` (the video and poster of clips posted before
    ``older_than`` that nothing still needs, and the pictures no job still needs; the job row stays,
    ``media_ref`` NULL: :func:`db.store.retention.media_pruned`).

Outages
    ``store_unavailable(error) -> bool``: the store is down, restarting, unreachable or full (wait, or
    tell the member to try again in a minute), as opposed to a refusal or a bug. A full media folder
    raises :class:`StoreFull` from ``put_media``/``put_input``: an outage, not a fault of the host.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from db.media import DatabaseMedia, FileMedia, Media, MediaStore, StoreFull
from db.store.connector import Connector
from db.store.models import (
    ACTIVE_STATES,
    ENDED_STATES,
    JOB_STATES,
    MAX_ATTEMPTS,
    CapExceeded,
    GuildSettings,
    Job,
    JobKind,
    JobResult,
    JobState,
    QueuePosition,
    RankedClip,
    SchemaTooNew,
    Segments,
    SettingsError,
    StoreError,
    VoteCounts,
    VoteRefused,
    WorkerInfo,
    WorkerState,
)
from db.store.outages import store_unavailable
from db.store.part import Clock
from db.store.store import Store

DATABASE_URL_ENV = "VIDEOBOT_DATABASE_URL"
DEFAULT_SQLITE_PATH = "videobot.db"


def sqlite_path(url: str) -> Path:
    """``sqlite:///rel.db`` → rel.db, ``sqlite:////abs.db`` → /abs.db, anything else is a path."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://"):
        raise ValueError(f"cannot read SQLite URL {url!r}; write sqlite:///relative.db or sqlite:////abs.db")
    return Path(url)


def existing_store(url: str | None) -> str:
    """The store URL for a command that only reads (``videobot status``, ``videobot web``): a SQLite
    file must exist already, so a command started in the wrong folder says so instead of creating an
    empty store. Raises ValueError with the one line to print."""
    url = url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_SQLITE_PATH
    if url.startswith(("postgresql://", "postgres://")):
        return url
    path = sqlite_path(url)
    if not path.is_file():
        raise ValueError(
            f"no job store at {path.absolute()} (run it where `videobot run` keeps videobot.db, "
            "or name the store with --database)"
        )
    return url


async def open_store(
    url: str | None = None, *, clock: Clock = time.time, media_dir: str | Path | None = None
) -> Store:
    """Open (and migrate) the store named by ``url``, else ``$VIDEOBOT_DATABASE_URL``, else
    ``./videobot.db``. ``media_dir`` overrides where SQLite keeps clips (default: ``media/`` beside
    the database file)."""
    url = url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_SQLITE_PATH
    connector: Connector
    media: MediaStore
    if url.startswith(("postgresql://", "postgres://")):
        from db.postgres import PostgresConnector

        connector = await PostgresConnector.open(url)
        media = DatabaseMedia(connector)
    else:
        from db.sqlite import SQLiteConnector

        path = sqlite_path(url)
        connector = await SQLiteConnector.open(path)
        media = FileMedia(Path(media_dir) if media_dir is not None else path.parent / "media")
    store = Store(connector, media, clock)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store


__all__ = [
    "ACTIVE_STATES",
    "DATABASE_URL_ENV",
    "ENDED_STATES",
    "JOB_STATES",
    "MAX_ATTEMPTS",
    "CapExceeded",
    "GuildSettings",
    "Job",
    "JobKind",
    "JobResult",
    "JobState",
    "Media",
    "QueuePosition",
    "RankedClip",
    "SchemaTooNew",
    "Segments",
    "SettingsError",
    "Store",
    "StoreError",
    "StoreFull",
    "VoteCounts",
    "VoteRefused",
    "WorkerInfo",
    "WorkerState",
    "existing_store",
    "open_store",
    "store_unavailable",
]
