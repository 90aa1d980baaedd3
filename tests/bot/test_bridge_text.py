"""/bridge as pure functions: what a member may type for a clip, which clips are refused and in whose
words, the spec it queues, and how a bridge and a loop are credited on their cards, in the thread of
the clip a bridge ends on and in the web gallery (by number only)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.cogs.bridge import MessageLink, bridge_seconds_range, bridge_spec, clip_reference, clip_refusal
from bot.submit import default_model, modes_asked, spec_modes
from bot.text import bridge_note, clip_embed, credits, header
from db.presets import PresetCatalog
from db.spec import JobSpec, SpecError, resolve_spec
from db.store import Job, VoteCounts
from videobot import gallery_view as view

GUILD = 111_111_111_111_111_111
ANA, BEN, CAROL = 312_345_678_901_234_501, 312_345_678_901_234_502, 312_345_678_901_234_503


def job(number: int, user: int, kind: Any = "new", parent: int | None = None, **changes: Any) -> Job:
    """A posted clip of ``GUILD`` as the store gives it back."""
    spec = JobSpec(prompt=f"clip {number}", model="ltx-video", aspect="3:2")
    made = Job(
        id=number,
        guild_id=GUILD,
        channel_id=200 + number,
        user_id=user,
        kind=kind,
        parent_id=parent,
        locale="en-US",
        model="ltx-video",
        spec=spec,
        cost_estimate_s=10.0,
        weight=1.0,
        state="done",
        attempts=0,
        created_at=1.0,
        started_at=2.0,
        finished_at=3.0,
        worker_id=None,
        lease_expires_at=None,
        step=40,
        total_steps=40,
        progress_at=None,
        error=None,
        cancelled_by=None,
        media_ref=f"file:{number}.mp4",
        video_bytes=1000,
        width=768,
        height=512,
        frames=121,
        fps=24.0,
        gpu_seconds=5.0,
        status_message_id=None,
        message_id=900 + number,
        thread_id=None,
        posted_at=4.0,
    )
    return replace(made, **changes)


def bridge(number: int, user: int, start: int, end: int) -> Job:
    made = job(number, user, "bridge", start)
    return replace(made, spec=replace(made.spec, continues=start, bridges_to=end))


# ---- what a member types for a clip --------------------------------------------------------------------


def test_a_clip_is_named_by_its_number_or_a_link_to_its_message() -> None:
    assert clip_reference("12") == clip_reference("#12") == clip_reference(" # 12 ") == 12
    link = "https://discord.com/channels/111/222/333"
    assert clip_reference(link) == clip_reference(f"<{link}>") == MessageLink(111, 222, 333)
    assert clip_reference("https://ptb.discord.com/channels/1/2/3/") == MessageLink(1, 2, 3)
    for nonsense in (
        "twelve",
        "12 13",
        "https://discord.com/channels/111/222",
        "http://evil.example/1/2/3",
        "",
    ):
        assert clip_reference(nonsense) is None, nonsense


# ---- which clips are refused -------------------------------------------------------------------------------


def refusal(found: Job | None, *, here: bool = False, days: float = 7.0, locale: str = "en-US") -> str | None:
    return clip_refusal(found, 5, guild_id=GUILD, age_restricted_here=here, media_days=days, locale=locale)


def test_clips_that_cannot_be_bridged_are_refused_in_the_members_words() -> None:
    clip = job(5, ANA)
    assert refusal(clip) is None
    for missing in (None, replace(clip, guild_id=GUILD + 1), replace(clip, deleted_at=9.0)):
        assert refusal(missing) == "There is no clip #5 on this server."
    for unfinished in (
        replace(clip, state="queued"),
        replace(clip, state="failed"),
        replace(clip, message_id=None),
    ):
        assert refusal(unfinished) == "Clip #5 is not finished yet: bridge it once it is posted."
    adult = replace(clip, age_restricted=True)
    assert "can be bridged only in an age-restricted channel" in (refusal(adult) or "")
    assert refusal(adult, here=True) is None
    pruned = replace(clip, media_ref=None)
    assert refusal(pruned) == (
        "Clip #5 is older than 7 days: its video is no longer stored, so it cannot be bridged."
    )
    assert refusal(pruned, locale="de") == (
        "Clip #5 ist älter als 7 Tage: sein Video ist nicht mehr gespeichert, "
        "deshalb kann er nicht verbunden werden."
    )
    assert refusal(None, locale="de") == "Auf diesem Server gibt es keinen Clip #5."


# ---- the spec it queues ------------------------------------------------------------------------------------


CATALOG = PresetCatalog.load()  # the built-in presets: the LTX models bridge, Wan's do not


def test_a_bridge_is_made_by_the_first_clips_model_when_it_can_else_by_one_that_can() -> None:
    first, second = job(1, ANA), job(2, BEN)
    first = replace(first, model="ltx-2", spec=replace(first.spec, model="ltx-2", aspect="16:9"))
    spec = bridge_spec(first, second, CATALOG, None, None)
    # without a prompt, the transition is rendered from the clip it flows into
    assert (spec.prompt, spec.model, spec.aspect) == ("clip 2", "ltx-2", "16:9")
    assert (spec.continues, spec.bridges_to, spec.seconds, spec.seed) == (1, 2, None, None)
    assert spec_modes(spec) == {"text", "continue", "bridge"} == modes_asked(bridge=True)
    assert resolve_spec(spec, CATALOG).spec.model == "ltx-2"

    # a clip of a model that makes no bridges: the default choice among those that do and are served
    wan = replace(first, model="wan-2.2-5b", spec=replace(first.spec, model="wan-2.2-5b"))
    spec = bridge_spec(wan, second, CATALOG, "a door between them", 1.0)
    assert (spec.model, spec.aspect, spec.prompt, spec.seconds) == (None, None, "a door between them", 1.0)
    assert default_model(CATALOG, ["wan-2.2-5b", "ltx-2"], spec) == "ltx-2"
    assert default_model(CATALOG, [], spec) == "ltx-video"
    # a model that cannot: the coded refusal names the models that could
    with pytest.raises(SpecError) as refused:
        resolve_spec(replace(spec, model="wan-2.2-5b"), CATALOG)
    assert refused.value.code == "no_bridge" and "ltx-2" in refused.value.params["choices"]
    assert "wan" not in refused.value.params["choices"]
    assert bridge_seconds_range(CATALOG) == (1.0, 10.8)  # the LTX models' lengths


# ---- credits -----------------------------------------------------------------------------------------------


def test_a_bridge_credits_both_clips_and_whoever_bridged_them_without_pinging() -> None:
    first, second, joined = job(1, ANA), job(2, BEN), bridge(5, CAROL, 1, 2)
    lineage = [first, joined, second]  # store.jobs.lineage: as its frames are
    assert credits(lineage, "en-US") == f"#1 by <@{ANA}> → 🌉 #5 by <@{CAROL}> → #2 by <@{BEN}>"
    assert credits(lineage, "de") == f"#1 von <@{ANA}> → 🌉 #5 von <@{CAROL}> → #2 von <@{BEN}>"
    assert header(joined, "en-US").startswith("🌉 Bridge from #1 to #2: **clip 5**")
    assert header(joined, "de").startswith("🌉 Brücke von #1 nach #2: ")
    card = clip_embed(joined, VoteCounts(0, 0), "en-US", "LTX-Video 2B", lineage)
    fields = {f.name: f.value for f in card.fields}
    assert fields["Credits"] == credits(lineage, "en-US") and "Made from" not in fields

    posted = replace(joined, channel_id=77, message_id=88)
    assert bridge_note(posted, "en-US") == (
        f"🌉 #5 by <@{CAROL}> joins #1 to this clip: https://discord.com/channels/{GUILD}/77/88"
    )
    assert bridge_note(posted, "de").startswith(f"🌉 #5 von <@{CAROL}> verbindet #1 mit diesem Clip: ")


def test_a_loop_names_its_source_and_who_looped_it() -> None:
    source, loop = job(3, ANA), job(7, BEN, "loop", 3)
    assert credits([source, loop], "en-US") == f"#3 by <@{ANA}> → ♾️ #7 by <@{BEN}>"
    assert header(loop, "en-US").startswith("♾️ Loop of #3: ")
    assert header(loop, "de").startswith("♾️ Schleife aus #3: ")


# ---- the web gallery ------------------------------------------------------------------------------------


def test_the_gallery_names_a_bridges_two_clips_and_a_loops_source_by_number() -> None:
    joined, loop = bridge(5, CAROL, 1, 2), job(7, BEN, "loop", 3)
    assert view.relation_of(joined) == "bridge from #1 to #2"
    assert view.relation_of(loop) == "loop of #3"
    assert view.relation_of(job(1, ANA)) is None
    made = view.card(joined, 1, 0, None, "Pixel Forge", {})
    assert made.relation == "bridge from #1 to #2" and made.author == "a member of Pixel Forge"
    assert view.chain_link(joined, made.author, this=True).how == "bridge from #1 to #2"
    assert view.child_link(joined, made.author).how == "bridge to #2"
    assert str(CAROL) not in repr(made)  # no member's id on a page


def test_extend_hd_and_loop_of_a_bridge_go_on_from_the_whole_and_do_not_bridge_again() -> None:
    from bot.clips import extend_spec, hd_spec, loop_spec

    bridge = job(5, CAROL, "bridge", parent=1)
    bridge = replace(bridge, spec=replace(bridge.spec, continues=1, bridges_to=2))
    catalog = PresetCatalog.load()
    for spec in (extend_spec(bridge, "on and on"), hd_spec(bridge), loop_spec(bridge)):
        assert spec.bridges_to is None
    assert extend_spec(bridge, "on and on").continues == 5
    plan = resolve_spec(extend_spec(bridge, "on and on"), catalog)  # a continuation, not a bridge
    assert plan.spec.continues == 5 and plan.spec.bridges_to is None
    assert resolve_spec(loop_spec(bridge), catalog).spec.loop


def test_a_clips_card_says_a_model_made_it_and_which_in_the_members_language() -> None:
    clip = job(1, ANA)
    votes = VoteCounts(up=0, down=0)
    english = clip_embed(clip, votes, "en-US", "LTX-Video 2B")
    german = clip_embed(clip, votes, "de", "LTX-Video 2B")
    assert english.author.name == "🤖 AI-generated video · LTX-Video 2B"
    assert german.author.name == "🤖 KI-generiertes Video · LTX-Video 2B"
