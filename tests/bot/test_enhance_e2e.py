"""The model helps, through the spec-checked Discord with a real worker on the tiny LTX-2.5: an admin
turns prompt enhancement on with /settings; a clip asked for without a length gets the one its
duration head picks; its ℹ️ details show the member's prompt and the enhanced one; a reroll renders
the enhanced prompt again without a second enhancement."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import VideoBot
from bot.text import details_embed
from db.presets import PresetCatalog
from db.store import Store, VoteCounts
from tests.bot.conftest import WorkerProcess, job_in_state, wait_until
from tests.bot.test_build_on_clips_e2e import field
from tests.bot.test_video_e2e import clip_messages, make_clip
from tests.discord_fake import DiscordFake
from tests.tiny_models import HEAD_SECONDS, preset_entry

PROMPT = "a dragon flying over mountains"


@pytest.fixture(scope="module")
def presets_file(tiny_ltx25: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the tiny LTX-2.5 (its duration head, its prompt enhancer): the bot and the worker read this."""
    path = tmp_path_factory.mktemp("enhance") / "presets.json"
    path.write_text(json.dumps({"default": "tiny-25", "tiny-25": preset_entry("ltx-2", tiny_ltx25)}))
    return path


@pytest.fixture(scope="module")
def catalog(presets_file: Path) -> PresetCatalog:
    return PresetCatalog.load(presets_file)


async def test_enhanced_prompts_are_shown_beside_the_members_and_rerolls_reuse_them(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    guild = int(fake.guild.id)

    # admins only; off until one turns it on, and /settings says so
    denied = await fake.slash_command("settings enhance-prompts", {"enabled": True}, user="alice")
    await denied.wait_reply()
    assert denied.ephemeral and "manage the server" in denied.original["content"]  # type: ignore[index]
    assert (await store.settings.get_settings(guild)).enhance_prompts is False
    saved = await fake.slash_command("settings enhance-prompts", {"enabled": True})
    await saved.wait_reply()
    assert saved.ephemeral and "Prompts enhanced by the model: yes" in saved.original["content"]  # type: ignore[index]
    assert (await store.settings.get_settings(guild)).enhance_prompts is True

    worker.start()
    clip = await make_clip(fake, store, PROMPT)  # no seconds: the duration head picks the length
    job = await store.jobs.get(1)
    assert job is not None and job.spec.seconds is None and job.spec.enhance
    head_frames = ((round(HEAD_SECONDS * 24) - 1) // 8) * 8 + 1  # 1.5 s on the 8k + 1 grid: 33 frames
    assert job.frames == head_frames  # not the preset's default 17
    assert field(clip, "Length") == f"{head_frames / 24:.1f} s"
    enhanced = job.enhanced_prompt
    assert enhanced and enhanced != PROMPT

    info = await fake.click(clip, "vb:info:1", user="alice")
    details = await info.wait_reply()
    embed = details["embeds"][0]
    assert info.ephemeral and PROMPT in embed["description"]  # the member's own prompt …
    shown = field(details, "Enhanced prompt")  # … and what the model made of it
    assert shown.replace("\\", "") == enhanced[: len(shown.replace("\\", ""))] and len(shown) > 3

    reroll = await fake.click(clip, "vb:reroll:1")
    await reroll.wait_reply()
    assert "Queued as #2" in reroll.original["content"]  # type: ignore[index]
    again = await job_in_state(store, 2, "done", "failed")
    assert again.state == "done", (again.error_text, worker.log())
    # rendered from the same enhanced text with a new seed: enhanced again (sampled with that seed),
    # its text would be another
    assert again.spec.seed != job.spec.seed
    assert again.spec.enhanced_prompt == enhanced and again.enhanced_prompt == enhanced
    thread = await wait_until(lambda: fake.thread_of(clip["id"]), what="the clip's thread")
    rerolled = await wait_until(lambda: clip_messages(fake, thread), what="the reroll in the thread")
    assert PROMPT in rerolled[0]["embeds"][0]["description"]
    assert not fake.pinged_anyone()

    # a long enhanced prompt full of markdown stays within Discord's 1,024 characters a field, escaped;
    # a clip whose prompt was not enhanced has no such field
    marked = replace(job, enhanced_prompt="**bold** _under_ `code` " * 150)
    german = details_embed(marked, VoteCounts(0, 0), "de", "Tiny")
    value = next(f.value for f in german.fields if f.name == "Verbesserter Prompt")
    assert value is not None and len(value) <= 1024 and value.startswith("\\*\\*bold\\*\\* \\_under")
    plain = details_embed(replace(job, enhanced_prompt=None), VoteCounts(0, 0), "en-US", "Tiny")
    assert "Enhanced prompt" not in [f.name for f in plain.fields]
