"""Hostile input through Discord: a short private answer, nothing queued; what is shown is escaped and
pings nobody; other members' and other servers' jobs stay out of reach."""

from __future__ import annotations

import re

import pytest

from bot.app import VideoBot
from db.store import Store
from tests.bot.conftest import BotRunner, WorkerProcess, job_in_state, wait_until
from tests.bot.test_video_e2e import make_clip
from tests.discord_fake import DiscordFake

BREAKOUT = "```\n@everyone **bold** ||spoiler|| __under__ ~~gone~~\n> quote\n# Heading\n-# small [link](https://x.y/```)```"


def unescaped(text: str, chars: str = "`*|_~") -> list[str]:
    """The markdown characters in ``text`` that no backslash escapes."""
    return re.findall(rf"(?<!\\)[{re.escape(chars)}]", text)


async def reply_to(fake: DiscordFake, command: str, options: dict[str, object], **kwargs: object) -> str:
    handle = await fake.slash_command(command, options, **kwargs)  # type: ignore[arg-type]
    await handle.wait_reply()
    assert handle.ephemeral, handle.original
    return str(handle.original["content"])  # type: ignore[index]


@pytest.mark.parametrize(
    "prompt",
    ["\u200b\u200d\ufeff\u2060", "\u202e\u2066\u2069", "\u0301\u0302\u0303", "\u3164\u3164"],
    ids=["zero-width", "bidi", "combining-only", "filler"],
)
async def test_an_invisible_prompt_is_refused_privately_and_nothing_is_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, prompt: str
) -> None:
    assert "prompt is empty" in await reply_to(discord_fake, "video", {"prompt": prompt})
    assert await store.jobs.active_jobs() == []
    assert discord_fake.messages_in("general") == []


async def test_a_markdown_breakout_is_shown_escaped_in_the_status_message(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    assert "Queued as #1" in await reply_to(fake, "video", {"prompt": BREAKOUT, "model": "tiny-ltx"})
    status = await wait_until(lambda: next(iter(fake.messages_in("general")), None), what="status")
    header = status["content"].splitlines()[0]
    assert header.startswith("**") and "** — <@" in header  # the prompt stays inside its bold
    prompt = header[2 : header.index("** — <@")]
    assert unescaped(prompt) == [], prompt
    assert "\n" not in prompt and "```" not in status["content"].replace("\\`", "")
    assert not fake.pinged_anyone()


async def test_the_clip_escapes_both_prompts_and_pings_nobody_named_in_the_negative(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    alice = fake.add_user("alice")
    role = fake.guild.role("Moderator")
    worker.start()
    negative = f"@everyone @here <@&{role.id}> <@{alice.id}> <@!{alice.id}> ``` **x**"
    clip = await make_clip(fake, store, BREAKOUT, model="tiny-ltx", negative=negative)
    assert not fake.pinged_anyone()
    embed = clip["embeds"][0]
    description = embed["description"]
    assert description.startswith("**") and description.endswith("**")
    assert unescaped(description[2:-2]) == [], description
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert unescaped(fields["Negative prompt"]) == [] and "@everyone" in fields["Negative prompt"]
    thread = await wait_until(lambda: fake.thread_of(clip["id"]), what="the clip's thread")
    assert "\n" not in thread.name and len(thread.name) <= 100


async def test_cancel_on_another_members_job_is_refused_and_it_stays_queued(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    fake.add_user("mallory")
    assert "Queued as #1" in await reply_to(
        fake, "video", {"prompt": "a slow storm", "model": "tiny-slow"}, user="alice"
    )
    answer = await reply_to(fake, "cancel", {"job": 1}, user="mallory")
    assert "Only the author or a moderator" in answer
    assert (await store.jobs.get(1)).state == "queued"  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["show", "cancel"])
@pytest.mark.parametrize("job", [2**53 - 1, 2**62, -1, 0], ids=["discord-max", "huge", "negative", "zero"])
async def test_a_job_number_that_is_no_job_is_answered_in_a_line(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, command: str, job: int
) -> None:
    answer = await reply_to(discord_fake, command, {"job": job})
    assert f"There is no clip #{job} on this server" in answer
    assert discord_fake.messages_in("general") == []


@pytest.mark.parametrize("command", ["show", "cancel"])
async def test_a_job_of_another_server_is_no_job_here(
    discord_fake: DiscordFake, bot_runner: BotRunner, store: Store, command: str
) -> None:
    fake = discord_fake
    other = fake.add_guild("Another Server", channels=("elsewhere",))
    await bot_runner.start()
    assert "Queued as #1" in await reply_to(
        fake, "video", {"prompt": "a slow storm", "model": "tiny-slow"}, channel="elsewhere"
    )
    answer = await reply_to(fake, command, {"job": 1})  # the owner, in the first server's #general
    assert "There is no clip #1 on this server" in answer
    job = await job_in_state(store, 1, "queued")
    assert job.guild_id == int(other.id)


@pytest.mark.parametrize(
    "prompt",
    [
        "so much go\u200bre",  # a zero-width space inside
        "so much go\u200dre",  # a zero-width joiner inside
        "so much ｇｏｒｅ",  # fullwidth letters
        "so much 𝐠𝐨𝐫𝐞",  # mathematical bold
        "so much ɢᴏʀᴇ",  # small capitals
        "so much GO\u00adRE",  # a soft hyphen, in capitals
    ],
    ids=["zero-width-space", "zero-width-joiner", "fullwidth", "math-bold", "small-capitals", "soft-hyphen"],
)
async def test_a_blocked_word_in_disguise_is_still_refused(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, prompt: str
) -> None:
    """Tokenizers read these spellings as the word itself (T5's NFKC), so the model would draw it."""
    await store.settings.update_settings(int(discord_fake.guild.id), blocked_words=["gore"])
    handle = await discord_fake.slash_command("video", {"prompt": prompt, "model": "tiny-ltx"})
    reply = await handle.wait_reply()
    assert handle.ephemeral and "does not allow (“gore”)" in reply["content"]
    assert await store.jobs.active_jobs() == []
