"""/me: a member's clips, the votes they received, wins, and GPU time this week against the fair share,
privately and in the member's language; and the fair-share arithmetic on its own."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import VideoBot
from bot.cogs.me import fair_share, seconds
from db.store import Store
from tests.bot.conftest import WorkerProcess, job_in_state
from tests.bot.test_video_e2e import make_clip
from tests.discord_fake import DiscordFake


def test_the_fair_share_is_the_weighted_part_of_the_servers_gpu_time() -> None:
    assert fair_share(100.0, 1.0, [1.0, 2.0]) == 25.0
    assert fair_share(100.0, 2.0, [1.0, 1.0]) == 50.0
    assert fair_share(100.0, 1.0, []) == 100.0  # alone: all of it
    assert fair_share(0.0, 1.0, [1.0]) == 0.0  # nothing used: nothing to share
    assert fair_share(90.0, 1.0, [0.5, 0.5, 1.0]) == pytest.approx(30.0)


def fields(reply: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply["embeds"][0]["fields"]}


async def me(fake: DiscordFake, user: str) -> dict[str, Any]:
    handle = await fake.slash_command("me", {}, user=user)
    reply = await handle.wait_reply()
    assert handle.ephemeral
    return reply


async def test_me_shows_clips_votes_wins_and_gpu_time_against_the_fair_share(
    discord_fake: DiscordFake, bot: VideoBot, worker: WorkerProcess, store: Store
) -> None:
    fake = discord_fake
    fake.add_user("alice")
    fake.add_user("bob")
    vip_role = fake.add_role("VIP")
    fake.add_user("vip", roles=("VIP",))
    fake.add_user("greta", locale="de")
    guild_id = int(fake.guild.id)
    await store.settings.update_settings(guild_id, role_weights={int(vip_role.id): 2.0})
    worker.start()
    mine = await make_clip(fake, store, "a red fox in snow", model="tiny-ltx")
    theirs = await fake.slash_command("video", {"prompt": "a blue whale", "model": "tiny-ltx"}, user="alice")
    await job_in_state(store, int((await theirs.wait_reply())["content"].split("#")[1].split(":")[0]), "done")
    job_id = int(mine["embeds"][0]["footer"]["text"].lstrip("#"))
    for voter, direction in (("alice", "up"), ("bob", "up"), ("vip", "down")):
        await (await fake.click(mine, f"vb:vote:{job_id}:{direction}", user=voter)).wait_reply()

    owner = await store.jobs.get(job_id)
    alices = await store.jobs.jobs_for_user(guild_id, int(fake.user("alice").id), ["done"])
    assert owner is not None and owner.gpu_seconds is not None and alices[0].gpu_seconds is not None
    total = owner.gpu_seconds + alices[0].gpu_seconds

    reply = await me(fake, "owner")
    shown = fields(reply)
    assert shown["Clips"] == "1 this week · 1 in all"
    assert shown["Votes received"] == "👍 2 · 👎 1"
    assert shown["Challenge wins"] == "0"
    share = fair_share(total, 1.0, [1.0])  # the owner and alice made clips this week, weight 1 each
    assert shown["GPU time this week"].startswith(
        f"{seconds(owner.gpu_seconds)} s of your fair share of {seconds(share)} s"
    )
    assert "2 members" in reply["embeds"][0]["footer"]["text"]

    # a member with twice the weight and no clips: what they would have had, counted among the others
    vip = fields(await me(fake, "vip"))
    assert vip["Clips"] == "0 this week · 0 in all"
    assert vip["GPU time this week"].startswith(f"0.0 s of your fair share of {seconds(total / 2)} s")

    # in German for a German member
    greta = await me(fake, "greta")
    assert greta["embeds"][0]["title"].startswith("Dein Stand auf")
    assert fields(greta)["Clips"] == "0 diese Woche · 0 insgesamt"
    assert not fake.pinged_anyone()
