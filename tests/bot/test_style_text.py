"""The pure parts of styles: what /style add accepts as a source, an author and a link, how a clip's card
credits a style, and when /video refuses one for the model."""

from __future__ import annotations

import pytest

from bot.cogs.style import lora_source, messages_of, scale_refusal, style_author, style_link, style_name
from bot.submit import style_refusal
from bot.text import style_broken_reason, style_credit
from db.presets import PresetCatalog
from db.store.styles import Style


def style(**how: object) -> Style:
    values: dict[str, object] = {
        "id": 1,
        "guild_id": 10,
        "name": "Claymation",
        "source": "acme/clay",
        "scale": 1.0,
        "trigger": "",
        "preset": "ltx-video",
        "family": "ltx-video-2b",
        "author": "",
        "author_id": None,
        "license": "",
        "link": "",
        "created_by": 2,
        "created_at": 0.0,
    }
    return Style(**(values | how))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "source"),
    [
        ("acme/clay-lora", "acme/clay-lora"),
        (" acme/clay-lora/clay_v2.safetensors ", "acme/clay-lora/clay_v2.safetensors"),
        ("https://huggingface.co/acme/clay-lora", "acme/clay-lora"),
        (
            "https://huggingface.co/acme/clay-lora/blob/main/x/clay.safetensors",
            "acme/clay-lora/x/clay.safetensors",
        ),
        ("/srv/loras/My Clay.safetensors", "/srv/loras/My Clay.safetensors"),
        ("loras/clay.SAFETENSORS", "loras/clay.SAFETENSORS"),
        ("clay.ckpt", None),
        ("acme/clay/model.bin", None),
        ("acme", None),
        ("/srv/../etc/x.safetensors", None),
        ("https://example.com/clay.safetensors", None),
        ("https://huggingface.co/acme/clay/blob/dev/clay.safetensors", None),  # a branch is not kept
        ("acme/clay\n.safetensors", None),
        ("", None),
    ],
)
def test_a_source_is_a_hub_id_or_a_safetensors_path(typed: str, source: str | None) -> None:
    assert lora_source(typed) == source


def test_an_author_is_a_name_or_one_members_mention() -> None:
    assert style_author("<@123456789012345678>") == ("", 123456789012345678)
    assert style_author("<@!123456789012345678>") == ("", 123456789012345678)
    assert style_author("  Ana Lima ") == ("Ana Lima", None)
    assert style_author(None) == ("", None)
    assert style_author("Ana <@123456789012345678>") is None  # the gallery must never see the id
    assert style_author("<@&123456789012345678>") is None
    assert style_author("x" * 101) is None


def test_names_links_and_scales() -> None:
    assert style_name("  Clay   mation ") == "Clay mation"
    assert style_name("x" * 51) is None and style_name("   ") is None
    assert style_link("https://civitai.com/models/1") == "https://civitai.com/models/1"
    assert style_link("") == "" and style_link("javascript:alert(1)") is None
    assert scale_refusal(2.0, "en") is None and scale_refusal(-2.0, "en") is None
    assert "between -2 and 2; you gave 2.5" in (scale_refusal(2.5, "en") or "")
    assert scale_refusal(float("nan"), "en") is not None


def test_the_card_credits_the_style_its_author_and_license_without_a_ping() -> None:
    assert style_credit(style(author_id=42, license="CC BY 4.0"), "en") == "Claymation by <@42>, CC BY 4.0"
    assert style_credit(style(author="Ana *Lima*"), "de") == "Claymation von Ana \\*Lima\\*"
    assert style_credit(style(license="MIT"), "en") == "Claymation, MIT"
    assert style_credit(style(), "en") == "Claymation"


def test_a_broken_style_says_why_in_the_admins_language() -> None:
    broken = style(broken_code="lora_unavailable", broken_params={"reason": "404"})
    assert style_broken_reason(broken, "en", "LTX") == "The style Claymation could not be fetched: 404."
    assert style_broken_reason(broken, "de", "LTX") == "Der Stil Claymation ließ sich nicht laden: 404."


def test_video_refuses_a_broken_style_or_one_of_another_family() -> None:
    catalog = PresetCatalog.load()
    assert style_refusal(style(), catalog, "ltx-video", "en") is None
    assert style_refusal(style(), catalog, "ltx-video-cpu", "en") is None  # the same family
    wrong = style_refusal(style(), catalog, "wan-1.3b", "en") or ""
    assert "fits" in wrong and "ltx" in wrong.lower()
    broken = style(broken_code="lora_unusable", broken_params={})
    assert "does not work at the moment" in (style_refusal(broken, catalog, "ltx-video", "en") or "")


def test_a_long_library_is_split_into_messages_under_discords_limit() -> None:
    lines = [f"line {n} " + "x" * 90 for n in range(100)]
    messages = messages_of(lines)
    assert all(len(m) <= 2000 for m in messages) and len(messages) == 5
    assert "\n".join(messages) == "\n".join(lines)
