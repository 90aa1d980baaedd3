"""Styles through the spec-checked Discord: admins keep the server's library (/style add, remove), anyone
lists it (admins see a broken style and why, in their language), /video style: offers the styles that
fit the chosen model and queues a clip whose spec carries the style's LoRA and trigger words, rerolls and
extends keep it, and the clip's card credits the style's author without pinging anyone. Every refusal is
private and stores or queues nothing.

Most tests need no worker: the styled clip is "rendered" straight into the store, as in
test_bridge_e2e, and the bot posts it as any other. The last renders with a real worker and a LoRA made
with peft for the tiny LTX, and needs the worker's styles (generator/styles.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from db.spec import JobSpec
from db.store import Job, JobResult, Store
from db.store.styles import Style
from tests.bot.conftest import WorkerProcess, job_in_state, job_posted, wait_until
from tests.bot.test_build_on_clips_e2e import field, text_input
from tests.bot.test_delivery_faults_e2e import mp4
from tests.bot.test_video_e2e import clip_messages
from tests.discord_fake import DiscordFake

__all__ = ["mp4"]  # the module's small H.264 clip, a fixture


async def said(fake: DiscordFake, command: str, options: dict[str, Any], **how: Any) -> tuple[bool, str]:
    """/command with ``options``: whether the answer was private, and what it said."""
    handle = await fake.slash_command(command, options, **how)
    reply = await handle.wait_reply()
    return handle.ephemeral, str(reply.get("content") or "")


def count_jobs(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])


async def add_style(fake: DiscordFake, options: dict[str, Any], **how: Any) -> str:
    private, text = await said(fake, "style add", options, **how)
    assert private, text
    return text


async def offered(fake: DiscordFake, options: dict[str, Any]) -> list[str]:
    typing = await fake.autocomplete("video", {"prompt": "a door", "style": "", **options}, focused="style")
    await typing.wait_ack()
    return [c["value"] for c in typing.choices or []]


async def styled_clip(store: Store, fake: DiscordFake, video: bytes, style: Style, prompt: str) -> Job:
    """A clip made with ``style`` that a worker rendered and stored; the bot posts it."""
    where = fake.channel("general")
    spec = JobSpec(
        prompt=prompt,
        model="tiny-ltx",
        aspect="3:2",
        seed=7,
        steps=2,
        guidance=3.0,
        fps=12,
        loras=((style.source, style.scale),),
        style=style.id,
        trigger=style.trigger,
    )
    job = await store.jobs.enqueue(int(where.guild_id), int(where.id), int(fake.user("owner").id), spec, 1.0)
    claimed = await store.jobs.claim_next("w1", ["tiny-ltx"])
    assert claimed is not None and claimed.id == job.id
    ref = await store.jobs.put_media(job.id, video, b"\x89PNG poster")
    assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(video), 48, 32, 12, 12.0, 1.0))
    return await job_posted(store, job.id)


async def test_admins_add_and_remove_styles_and_members_are_refused_privately(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    bob = fake.add_user("bob")
    guild_id = int(fake.guild.id)

    # a member may not add or remove styles: privately, in their language, nothing stored
    private, text = await said(fake, "style add", {"name": "Clay", "source": "acme/clay-lora"}, user="alice")
    assert private and "Only members who may manage the server" in text
    assert await store.styles.library(guild_id) == []

    text = await add_style(
        fake,
        {
            "name": "Claymation",
            "source": "https://huggingface.co/acme/clay-lora/blob/main/clay.safetensors",
            "scale": 0.8,
            "trigger": "claymation style",
            "author": f"<@{bob.id}>",
            "license": "CC BY 4.0",
            "link": "https://example.com/clay",
        },
    )
    assert "Added the style **Claymation**" in text
    clay = await store.styles.named(guild_id, "claymation")
    assert clay is not None
    assert (clay.source, clay.scale, clay.trigger) == (
        "acme/clay-lora/clay.safetensors",
        0.8,
        "claymation style",
    )
    assert (clay.author, clay.author_id, clay.license) == ("", int(bob.id), "CC BY 4.0")
    default = bot.catalog.get("tiny-ltx")
    assert default is not None and (clay.preset, clay.family) == ("tiny-ltx", default.family)

    # what cannot be a style is refused, and nothing is stored
    refusals = {
        "There is no model called “sora”": {"name": "Ink", "source": "acme/ink", "preset": "sora"},
        "is no LoRA": {"name": "Ink", "source": "ink.ckpt"},
        "is a name or one member's @mention": {
            "name": "Ink",
            "source": "acme/ink",
            "author": f"Ana <@{bob.id}>",
        },
        "must be an https:// address": {"name": "Ink", "source": "acme/ink", "link": "javascript:alert(1)"},
        "has a style called “CLAYMATION” already": {"name": "CLAYMATION", "source": "acme/other"},
    }
    for words, options in refusals.items():
        text = await add_style(fake, options)
        assert words in text, (options, text)
    assert [s.name for s in await store.styles.library(guild_id)] == ["Claymation"]

    private, text = await said(fake, "style remove", {"name": "Claymation"}, user="alice")
    assert private and "Only members who may manage the server" in text
    private, text = await said(fake, "style remove", {"name": "claymation"})
    assert private and "Removed the style **Claymation**" in text
    assert await store.styles.library(guild_id) == []
    private, text = await said(fake, "style remove", {"name": "Claymation"})
    assert private and "no style called “Claymation”" in text


async def test_video_offers_the_styles_of_its_model_and_queues_the_style_with_the_clip(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, db_path: Path
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    jonas = fake.add_user("jonas", locale="de")
    guild_id = int(fake.guild.id)
    await add_style(
        fake, {"name": "Claymation", "source": "acme/clay", "trigger": "clay style", "scale": 1.5}
    )
    await add_style(fake, {"name": "Ink wash", "source": "/loras/ink.safetensors", "preset": "tiny-wan"})
    await add_style(fake, {"name": "Broken", "source": "acme/broken"})
    broken = await store.styles.named(guild_id, "Broken")
    assert broken is not None
    await store.styles.mark_broken(
        broken.id, "lora_unavailable", {"style": "Broken", "reason": "404 Not Found"}
    )

    # the styles of the model chosen (the default without one), broken ones left out
    assert await offered(fake, {}) == ["Claymation"]
    assert await offered(fake, {"model": "tiny-wan"}) == ["Ink wash"]
    assert await offered(fake, {"model": "tiny-ltx2"}) == []

    # a style that does not fit, is broken or unknown: private, coded, nothing queued
    refusals = {
        "fits Tiny": {"prompt": "a cat", "style": "Ink wash"},
        "does not work at the moment": {"prompt": "a cat", "style": "Broken"},
        "no style called “Pastel”": {"prompt": "a cat", "style": "Pastel"},
    }
    for words, options in refusals.items():
        private, text = await said(fake, "video", options, user="alice")
        assert private and words in text, (options, text)
    private, text = await said(fake, "video", {"prompt": "eine Katze", "style": "Pastell"}, user=jonas)
    assert private and "keinen Stil namens „Pastell“" in text
    assert count_jobs(db_path) == 0

    private, text = await said(fake, "video", {"prompt": "a fox", "style": "claymation"}, user="alice")
    assert private and "Queued as #1" in text
    job = await store.jobs.get(1)
    clay = await store.styles.named(guild_id, "Claymation")
    assert job is not None and clay is not None
    assert (job.spec.loras, job.spec.style, job.spec.trigger) == (
        (("acme/clay", 1.5),),
        clay.id,
        "clay style",
    )
    assert job.spec.rendered_prompt == "clay style a fox"


async def test_a_styled_clip_credits_its_style_and_rerolls_and_extends_keep_it(
    discord_fake: DiscordFake, bot: VideoBot, store: Store, mp4: bytes
) -> None:
    fake = discord_fake
    bob = fake.add_user("bob")
    await add_style(
        fake,
        {
            "name": "Claymation",
            "source": "acme/clay",
            "trigger": "clay",
            "author": f"<@{bob.id}>",
            "license": "CC BY 4.0",
        },
    )
    clay = await store.styles.named(int(fake.guild.id), "Claymation")
    assert clay is not None
    clip = await styled_clip(store, fake, mp4, clay, "a fox in the snow")
    message = (await wait_until(lambda: clip_messages(fake, "general"), what="the styled clip"))[0]
    assert field(message, "Style") == f"Claymation by <@{bob.id}>, CC BY 4.0"

    # the details say it too, and the trigger words the model was given
    info = await fake.click(message, f"vb:info:{clip.id}", user="bob")
    details = await info.wait_reply()
    fields = {f["name"]: f["value"] for f in details["embeds"][0]["fields"]}
    assert fields["Style"] == f"Claymation by <@{bob.id}>, CC BY 4.0"
    assert fields["Style's trigger words"] == "clay"

    # a reroll keeps the style; so does an extend
    rerolled = await fake.click(message, f"vb:reroll:{clip.id}", user="bob")
    assert "Queued as #2" in (await rerolled.wait_reply())["content"]
    opened = await fake.click(message, f"vb:extend:{clip.id}", user="bob")
    await opened.wait_ack()
    assert opened.modal is not None
    sent = await fake.submit_modal(opened, {text_input(opened.modal): "the fox runs off"})
    assert "Queued as #3" in (await sent.wait_reply())["content"]
    for job_id, kind in ((2, "reroll"), (3, "extend")):
        job = await store.jobs.get(job_id)
        assert job is not None and job.kind == kind
        assert (job.spec.style, job.spec.loras, job.spec.trigger) == (clay.id, (("acme/clay", 1.0),), "clay")

    # the Extend form shows the clip's style; the member may name another of the server's, or none
    await add_style(fake, {"name": "Ink wash", "source": "acme/ink", "scale": 0.5})
    ink = await store.styles.named(int(fake.guild.id), "Ink wash")
    assert ink is not None
    fake.add_user("carol")  # bob has three clips waiting, the server's cap
    for wanted, job_id, who in (("ink WASH", 4, "bob"), ("", 5, "carol")):
        opened = await fake.click(message, f"vb:extend:{clip.id}", user=who)
        await opened.wait_ack()
        assert opened.modal is not None
        style_field = opened.modal["components"][1]["components"][0]
        assert style_field["value"] == "Claymation" and not style_field.get("required", True)
        sent = await fake.submit_modal(
            opened, {text_input(opened.modal): "the fox runs off", style_field["custom_id"]: wanted}
        )
        assert f"Queued as #{job_id}" in (await sent.wait_reply())["content"]
    with_ink, without = await store.jobs.get(4), await store.jobs.get(5)
    assert with_ink is not None and (with_ink.spec.style, with_ink.spec.loras) == (
        ink.id,
        (("acme/ink", 0.5),),
    )
    assert without is not None and (without.spec.style, without.spec.loras, without.spec.trigger) == (
        None,
        (),
        "",
    )

    # once the style is removed, the clip still credits it, and a reroll is refused privately
    await said(fake, "style remove", {"name": "Claymation"})
    rerolled = await fake.click(message, f"vb:reroll:{clip.id}", user="bob")
    reply = await rerolled.wait_reply()
    assert rerolled.ephemeral and "has been removed from this server" in reply["content"]
    assert await store.jobs.get(6) is None
    shown = await fake.slash_command("show", {"job": clip.id})
    card = await shown.wait_reply()
    assert field(card, "Style") == f"Claymation by <@{bob.id}>, CC BY 4.0"
    assert not fake.pinged_anyone()


async def test_style_list_shows_each_style_and_admins_see_a_broken_one_and_why_in_their_language(
    discord_fake: DiscordFake, bot: VideoBot, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    jonas = fake.add_user("jonas", locale="de", roles=("Admin",))
    private, text = await said(fake, "style list", {}, user="alice")
    assert private and "no styles yet" in text
    await add_style(
        fake,
        {
            "name": "Claymation",
            "source": "acme/clay",
            "author": "Ana Lima",
            "license": "CC BY 4.0",
            "scale": 0.7,
        },
    )
    await add_style(fake, {"name": "Ink wash", "source": "acme/ink", "preset": "tiny-wan"})
    ink = await store.styles.named(int(fake.guild.id), "Ink wash")
    assert ink is not None
    await store.styles.mark_broken(
        ink.id, "lora_unusable", {"style": "Ink wash", "model": "Tiny", "reason": "no such layers"}
    )

    private, text = await said(fake, "style list", {}, user="alice")
    assert private
    assert "Claymation by Ana Lima, CC BY 4.0 · " in text and "scale 0.7" in text
    assert "Ink wash · " in text and "broken" not in text  # members do not see why

    private, text = await said(fake, "style list", {})
    assert (
        "⚠️ broken, members cannot choose it: The style Ink wash cannot be used with Tiny: no such layers."
        in text
    )

    private, text = await said(fake, "style list", {}, user=jonas)
    assert "Claymation von Ana Lima, CC BY 4.0 · " in text and "Stärke 0.7" in text
    assert (
        "⚠️ defekt, Mitglieder können ihn nicht wählen: Der Stil Ink wash passt nicht zu Tiny: no such layers."
        in text
    )


async def test_a_worker_renders_a_styled_clip_and_a_broken_style_is_marked_for_the_admins(
    discord_fake: DiscordFake,
    bot: VideoBot,
    worker: WorkerProcess,
    store: Store,
    tiny_ltx: Path,
    tmp_path: Path,
) -> None:
    """Needs the worker's styles (generator/styles.py): a LoRA made with peft for the tiny LTX."""
    from bench.styles import make_lora

    fake = discord_fake
    bob = fake.add_user("bob")
    lora = make_lora(tiny_ltx, tmp_path / "clay.safetensors", seed=1)
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(lora.read_bytes()[:-100])
    await add_style(
        fake, {"name": "Claymation", "source": str(lora), "author": f"<@{bob.id}>", "license": "CC0"}
    )
    await add_style(fake, {"name": "Cut", "source": str(truncated)})
    # the operator's folder of styles: a server's style may name files on the GPU host only in it
    worker.env["VIDEOBOT_LORA_DIR"] = str(tmp_path)
    worker.start()
    private, text = await said(fake, "video", {"prompt": "a fox", "seconds": 1, "style": "Claymation"})
    assert private and "Queued as #1" in text
    done = await job_in_state(store, 1, "done", "failed")
    assert done.state == "done", done.error_text
    message = await wait_until(
        lambda: next((m for m in clip_messages(fake, "general") if "#1" in m["content"]), None),
        what="the styled clip",
    )
    assert field(message, "Style") == f"Claymation by <@{bob.id}>, CC0"

    private, text = await said(fake, "video", {"prompt": "a fox", "seconds": 1, "style": "Cut"})
    assert private and "Queued as #2" in text
    failed = await job_in_state(store, 2, "done", "failed")
    assert failed.state == "failed" and failed.error_code in ("lora_unusable", "lora_unavailable")
    private, text = await said(fake, "style list", {})
    assert "⚠️ broken, members cannot choose it: The style " in text
    private, text = await said(fake, "video", {"prompt": "a fox", "style": "Cut"})
    assert private and "does not work at the moment" in text
    assert not fake.pinged_anyone()
