"""The records the job store hands out, and the errors a member can be told about."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, NamedTuple

from db.failures import failure_message, params_from_json
from db.spec import JobSpec

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
JobKind = Literal["new", "reroll", "remix", "extend", "hd", "loop", "bridge"]
JOB_STATES: tuple[JobState, ...] = ("queued", "running", "done", "failed", "cancelled")
JOB_KINDS: tuple[JobKind, ...] = ("new", "reroll", "remix", "extend", "hd", "loop", "bridge")
WorkerState = Literal["starting", "ready", "paused"]
WORKER_STATES: tuple[WorkerState, ...] = ("starting", "ready", "paused")
ACTIVE_STATES: tuple[JobState, ...] = ("queued", "running")
ENDED_STATES: tuple[JobState, ...] = ("done", "failed", "cancelled")
MAX_ATTEMPTS = 3  # a job whose worker died this many times while rendering it fails

# where a clip's frames were first encoded: (job id, first frame in that job's clip, frame count), in order
Segment = tuple[int, int, int]
Segments = tuple[Segment, ...]


def segments_to_json(segments: Segments | None) -> str | None:
    return None if segments is None else json.dumps([list(s) for s in segments])


def segments_from_json(text: str | None) -> Segments | None:
    """The stored segments; None for none, or for text that is not a list of three whole numbers each."""
    if not text:
        return None
    try:
        data = json.loads(text)
        found = tuple((int(a), int(b), int(c)) for a, b, c in data)
    except (ValueError, TypeError):
        return None
    return found


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer videobot: upgrade this one before it touches the data."""

    def __init__(self, found: int, known: int) -> None:
        self.found, self.known = found, known
        super().__init__(
            f"the database's schema is version {found}, newer than the {known} this videobot knows; "
            "upgrade it"
        )


class StoreError(Exception):
    """Something a member did that the store refuses. ``code`` and ``params`` let the bot say it in the
    member's language; ``str()`` is the English sentence."""

    MESSAGES: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(self.MESSAGES[code].format(**params))


class CapExceeded(StoreError):
    """A submission over one of the guild's caps; nothing was stored."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "too_many_queued": "You already have {count} clips waiting (the limit is {limit}); "
        "wait for one to start or cancel one.",
        "daily_limit": "You have made {limit} clips in the last 24 hours, the daily limit; "
        "you can make another in {retry_after_min} minutes.",
        "hd_exists": "Clip #{parent} already has its HD version: #{job}.",
    }


class VoteRefused(StoreError):
    MESSAGES: ClassVar[dict[str, str]] = {
        "own_clip": "You cannot vote on your own clip.",
        "not_a_clip": "Only finished clips can be voted on.",
        "bad_value": "A vote is up (+1), down (-1) or withdrawn (0); {value} is none of these.",
    }


class SettingsError(StoreError, ValueError):
    """An invalid change to guild settings (an admin's mistake; the message says which)."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "unknown_setting": "Unknown setting(s): {names}.",
        "bad_count": "{name} must be a whole number from {lowest} to {highest}.",
        "bad_id": "{name} must name a channel or role.",
        "bad_weight": "Role weights must be between 0.1 and 100.",
        "bad_words": "Blocked words must be a list of words.",
    }


def _small_capital(char: str) -> str:
    """A small capital letter (ɴ, ᴜ, ᴅ …) as its letter; any other character as it is."""
    name = unicodedata.name(char, "")
    prefix = "LATIN LETTER SMALL CAPITAL "
    return name[len(prefix) :].lower() if name.startswith(prefix) and len(name) == len(prefix) + 1 else char


def fold_for_matching(text: str) -> str:
    """``text`` as blocked words are matched against it: NFKC (fullwidth ｎ, mathematical 𝐧 and
    ligatures become n …, as T5's and UMT5's tokenizers normalise them), case folded, small capitals
    as their letters, and invisible format characters (zero-width joiners, soft hyphens) dropped."""
    text = unicodedata.normalize("NFKC", text)
    kept = (_small_capital(c) for c in text if unicodedata.category(c) != "Cf")
    return "".join(kept).casefold()


@dataclass(frozen=True)
class JobResult:
    """What a worker reports when a clip is done (the bytes went to :meth:`Store.put_media`)."""

    media_ref: str
    video_bytes: int
    width: int
    height: int
    frames: int
    fps: float
    gpu_seconds: float
    enhanced_prompt: str | None = None  # what the model's prompt enhancer made of the prompt, if it ran
    # where the clip's frames were first encoded, in its order (Job.segments); None: all its own
    segments: Segments | None = None


@dataclass(frozen=True)
class Job:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    parent_id: int | None
    locale: str
    model: str
    spec: JobSpec
    cost_estimate_s: float
    weight: float
    state: JobState
    attempts: int  # leases that expired (worker vanished)
    created_at: float
    started_at: float | None
    finished_at: float | None
    worker_id: str | None
    lease_expires_at: float | None
    step: int
    total_steps: int
    progress_at: float | None
    error: str | None  # why it failed or was cancelled, in English
    cancelled_by: int | None
    media_ref: str | None
    video_bytes: int | None
    width: int | None
    height: int | None
    frames: int | None
    fps: float | None
    gpu_seconds: float | None
    status_message_id: int | None
    message_id: int | None
    thread_id: int | None
    posted_at: float | None
    error_code: str | None = None  # why it failed or was cancelled (db.failures), for the member's language
    error_params: Mapping[str, Any] = field(default_factory=dict)
    deleted_at: float | None = None  # deleted by its author or a moderator
    # made in an age-restricted channel, or built on a clip that was (migration V14; False before it):
    # shown again only in age-restricted channels, never in the web gallery
    age_restricted: bool = False
    # the prompt as the model's prompt enhancer rewrote it and the clip was rendered from (migration V16;
    # None when it was not enhanced)
    enhanced_prompt: str | None = None
    # where its frames were first encoded (migration V18): (job id, first frame in that job's clip,
    # frames), in the clip's order; None for a clip whose frames are all its own first encode
    segments: Segments | None = None
    # the bytes of its content credentials' manifest store once the bot signed it at post time
    # (migration V21; None before): a clip made from it carries that store inside its own manifest
    manifest_bytes: int | None = None
    # whether @everyone could view the channel (or thread) it was posted in, when it was posted (migration
    # V22; None: not known, as for clips posted before it): the web gallery shows only clips where it is
    # true. SQLite hands it back as 0 or 1: test it for truth or for None, never with ``is True``
    public_channel: bool | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def error_text(self) -> str | None:
        """Why it ended without a clip, in English (logs, the CLI)."""
        if self.error_code:
            return failure_message(self.error_code, self.error_params)
        return self.error

    @property
    def posted(self) -> bool:
        return self.posted_at is not None

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def progress(self) -> float:
        """0..1 through the denoising steps (1 when done)."""
        if self.state == "done":
            return 1.0
        return self.step / self.total_steps if self.total_steps > 0 else 0.0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        values = {
            f.name: row[f.name] for f in fields(cls) if f.name not in ("spec", "error_params", "segments")
        }
        values["age_restricted"] = bool(values["age_restricted"])  # SQLite keeps it as 0 or 1
        public = values["public_channel"]
        values["public_channel"] = None if public is None else bool(public)  # None: not known yet
        values["segments"] = segments_from_json(row.get("segments"))
        return cls(
            spec=JobSpec.from_json(row["spec"]), error_params=params_from_json(row["error_params"]), **values
        )


class QueuePosition(NamedTuple):
    position: int  # 1 = next to start; 0 = running or ended
    eta_s: float | None  # seconds until the clip should be ready; None when no live worker serves it


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    host: str
    gpu: str
    models: tuple[str, ...]
    started_at: float
    last_seen: float
    state: WorkerState = "ready"  # starting: loading, not claiming yet; paused: its host has a fault
    note: str = ""  # why it serves what it serves, or why it paused
    pid: int | None = None  # its process on ``host``, when it said
    pid_space: str | None = None  # the process namespace ``pid`` is from (generator.processes.pid_space)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> WorkerInfo:
        return cls(
            row["worker_id"],
            row["host"],
            row["gpu"],
            tuple(json.loads(row["models"])),
            row["started_at"],
            row["last_seen"],
            row["state"],
            row["note"],
            row.get("pid"),
            row.get("pid_space"),
        )


class VoteCounts(NamedTuple):
    up: int
    down: int

    @property
    def score(self) -> int:
        return self.up - self.down


@dataclass(frozen=True)
class RankedClip:
    job: Job
    votes: VoteCounts


@dataclass(frozen=True)
class GuildSettings:
    """A guild's rules. Empty ``allowed_channel_ids`` means every channel."""

    guild_id: int
    allowed_channel_ids: tuple[int, ...] = ()
    max_queued_per_user: int = 3
    max_running_per_user: int = 1
    daily_clips_per_user: int = 50
    role_weights: Mapping[int, float] = field(default_factory=dict)  # role id -> share of the GPUs
    nsfw_allowed: bool = False
    blocked_words: tuple[str, ...] = ()
    max_extends: int = 4  # how many times a chain of clips may be extended (about 20 s with LTX-Video)
    sound: bool = True  # keep the sound of models that make it
    # community (bot/cogs: hall of fame, challenges, story)
    hall_of_fame_channel_id: int | None = None  # None: no hall of fame
    hall_of_fame_threshold: int = 5  # net 👍 (up less down) that put a clip there
    challenge_min_member_hours: int = 24  # members who joined more recently cannot vote in challenges
    challenge_winner_role_id: int | None = None  # given to a challenge's winner, if set
    story_round_minutes: int = 60  # how long a story's round of proposals stays open
    gallery_public: bool = False  # the web gallery shows this server's best clips (opt-in)
    enhance_prompts: bool = False  # the model's prompt enhancer rewrites prompts (models that have one)
    ai_mark: bool = False  # clips carry a small visible "AI" mark in a corner of every frame (issue 21)

    def weight_for_roles(self, role_ids: Iterable[int]) -> float:
        """A member's weight: the best of their roles' weights, 1 without any."""
        weights = [self.role_weights[r] for r in role_ids if r in self.role_weights]
        return max(weights, default=1.0)

    def allows_channel(self, channel_id: int) -> bool:
        return not self.allowed_channel_ids or channel_id in self.allowed_channel_ids

    def blocked_word_in(self, text: str) -> str | None:
        """The first blocked word that occurs in ``text`` as a whole word (any case), if any. Both are
        compared as a model's tokenizer reads them (:func:`fold_for_matching`): a word spelt in
        fullwidth or mathematical letters, small capitals, or with an invisible joiner inside is the
        word."""
        folded = fold_for_matching(text)
        for word in self.blocked_words:
            target = fold_for_matching(word).strip()
            if target and re.search(rf"(?<!\w){re.escape(target)}(?!\w)", folded):
                return word
        return None

    # storage: the caps are columns (the claim query reads max_running), the rest one JSON object
    def to_row(self) -> dict[str, Any]:
        data = {
            "allowed_channel_ids": list(self.allowed_channel_ids),
            "role_weights": {str(k): v for k, v in self.role_weights.items()},
            "blocked_words": list(self.blocked_words),
            "max_extends": self.max_extends,
            "sound": self.sound,
            "hall_of_fame_channel_id": self.hall_of_fame_channel_id,
            "hall_of_fame_threshold": self.hall_of_fame_threshold,
            "challenge_min_member_hours": self.challenge_min_member_hours,
            "challenge_winner_role_id": self.challenge_winner_role_id,
            "story_round_minutes": self.story_round_minutes,
            "gallery_public": self.gallery_public,
            "enhance_prompts": self.enhance_prompts,
            "ai_mark": self.ai_mark,
        }
        return {
            "guild_id": self.guild_id,
            "max_queued": self.max_queued_per_user,
            "max_running": self.max_running_per_user,
            "daily_limit": self.daily_clips_per_user,
            "nsfw_allowed": int(self.nsfw_allowed),
            "data": json.dumps(data, sort_keys=True),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GuildSettings:
        data = json.loads(row["data"])
        return cls(
            guild_id=row["guild_id"],
            allowed_channel_ids=tuple(int(c) for c in data.get("allowed_channel_ids", ())),
            max_queued_per_user=row["max_queued"],
            max_running_per_user=row["max_running"],
            daily_clips_per_user=row["daily_limit"],
            role_weights={int(k): float(v) for k, v in data.get("role_weights", {}).items()},
            nsfw_allowed=bool(row["nsfw_allowed"]),
            blocked_words=tuple(data.get("blocked_words", ())),
            max_extends=int(data.get("max_extends", cls.max_extends)),
            sound=bool(data.get("sound", cls.sound)),
            hall_of_fame_channel_id=_id_or_none(data.get("hall_of_fame_channel_id")),
            hall_of_fame_threshold=int(data.get("hall_of_fame_threshold", cls.hall_of_fame_threshold)),
            challenge_min_member_hours=int(
                data.get("challenge_min_member_hours", cls.challenge_min_member_hours)
            ),
            challenge_winner_role_id=_id_or_none(data.get("challenge_winner_role_id")),
            story_round_minutes=int(data.get("story_round_minutes", cls.story_round_minutes)),
            gallery_public=bool(data.get("gallery_public", cls.gallery_public)),
            enhance_prompts=bool(data.get("enhance_prompts", cls.enhance_prompts)),
            ai_mark=bool(data.get("ai_mark", cls.ai_mark)),
        )


def _id_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


# the whole numbers of GuildSettings: (lowest, highest) allowed
_COUNTS = {
    "max_queued_per_user": (0, 10_000),
    "daily_clips_per_user": (0, 10_000),
    "max_running_per_user": (1, 10_000),
    "max_extends": (0, 10_000),
    "hall_of_fame_threshold": (1, 10_000),
    "challenge_min_member_hours": (0, 24 * 365),
    "story_round_minutes": (1, 7 * 24 * 60),
}


def validated_settings_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise ``update_settings`` keyword arguments."""
    known = {f.name for f in fields(GuildSettings)} - {"guild_id"}
    unknown = set(changes) - known
    if unknown:
        raise SettingsError("unknown_setting", names=", ".join(sorted(unknown)))
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "allowed_channel_ids":
            out[name] = tuple(sorted({int(c) for c in value}))
        elif name in _COUNTS:
            lowest, highest = _COUNTS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
                raise SettingsError("bad_count", name=name, lowest=lowest, highest=highest)
            out[name] = value
        elif name in ("hall_of_fame_channel_id", "challenge_winner_role_id"):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise SettingsError("bad_id", name=name)
            out[name] = value
        elif name == "role_weights":
            weights = {int(k): float(v) for k, v in dict(value).items()}
            if any(not 0.1 <= w <= 100 for w in weights.values()):
                raise SettingsError("bad_weight")
            out[name] = weights
        elif name in ("nsfw_allowed", "sound", "gallery_public", "enhance_prompts", "ai_mark"):
            out[name] = bool(value)
        elif name == "blocked_words":
            if isinstance(value, str):
                raise SettingsError("bad_words")
            # a word that is only invisible characters (a zero-width space pasted alone) would match
            # between any two words once folded: it is no word
            out[name] = tuple(dict.fromkeys(w.strip() for w in value if fold_for_matching(w).strip()))
    return out


def posting_order(job: Job) -> tuple[float, int]:
    """Where an ended job stands in the bot's posting order (oldest ending first)."""
    return (job.finished_at or 0.0, job.id)


def unposted_cursor(after: tuple[float, int] | None) -> dict[str, float | int]:
    """The query parameters that page unposted jobs after ``after`` (a :func:`posting_order`), or from
    the first one."""
    at, job_id = after if after is not None else (-1.0, 0)
    return {"after_at": at, "after_id": job_id}
