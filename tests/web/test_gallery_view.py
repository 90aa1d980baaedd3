"""What the gallery's pages say, as plain functions: no member id survives a prompt, authors are named
or "a member of <server>", lengths, titles, dates, pages, and the link-preview tags."""

from __future__ import annotations

import pytest

from videobot import gallery_view as view
from videobot.web import checked_public_url, default_public_url

MEMBER_ID = 312_345_678_901_234_567


def test_a_prompt_on_a_public_page_names_no_member_by_id() -> None:
    assert view.public_text(f"<@{MEMBER_ID}> and <@!{MEMBER_ID}> dance") == "@member and @member dance"
    assert view.public_text("<@&123456789012345678> in <#123456789012345679>") == "@role in #channel"
    assert view.public_text("a <:blobfox:123456789012345678> and <a:party:123456789012345678>") == (
        "a :blobfox: and :party:"
    )
    assert view.public_text(f"my id is {MEMBER_ID}!") == "my id is …!"  # shaped like one: taken out
    assert (
        view.public_text("the year 2025, 1234567890123456 stars") == "the year 2025, 1234567890123456 stars"
    )
    assert view.public_text("<script>") == "<script>"  # escaping is the template's job, not this one's


def test_an_author_is_their_name_or_a_member_of_the_server() -> None:
    assert view.author_label("Ana Fox", "Pixel Forge") == "Ana Fox"
    assert view.author_label(None, "Pixel Forge") == "a member of Pixel Forge"
    assert view.author_label(None, view.UNNAMED_SERVER) == "a member of this server"
    assert view.author_label(f"<@{MEMBER_ID}>", "Pixel Forge") == "@member"
    assert view.server_name(None) == "A Discord server" and view.server_name("Pixel Forge") == "Pixel Forge"


def test_model_titles_never_show_a_path_on_the_host() -> None:
    titles = {"ltx-video": "LTX-Video 2B"}
    assert view.model_title(titles, "ltx-video") == "LTX-Video 2B"
    assert view.model_title(titles, "/srv/models/my-ltx") == "my-ltx"
    assert view.model_title(titles, "C:\\models\\my-wan") == "my-wan"
    assert view.model_title(titles, "unknown-preset") == "unknown-preset"


def test_dates_and_shortened_titles() -> None:
    assert view.day(1_700_000_000.0) == "14 Nov 2023" and view.day(None) == ""
    assert view.iso(1_700_000_000.0) == "2023-11-14T22:13Z"
    assert view.shortened("a  fox\nin snow", 40) == "a fox in snow"
    assert view.shortened("a red fox running through deep snow", 20) == "a red fox running…"
    assert view.shortened("x" * 30, 10) == "x" * 9 + "…"


def test_which_list_and_which_page() -> None:
    assert view.view_of("new", "day") == "new"
    assert view.view_of(None, "day") == "day"
    assert view.view_of(None, "forever") == view.view_of(None, None) == "week"
    assert [view.page_of(q) for q in (None, "", "0", "-1", "x", "2", "99999999")] == [
        1,
        1,
        1,
        1,
        1,
        2,
        1_000_000,
    ]
    assert view.listing_path(7, "new") == "/g/7?sort=new"
    assert view.listing_path(7, "all", 3) == "/g/7?period=all&page=3"
    assert view.pages(7, "new", 1, True) == view.Pages(1, None, "/g/7?sort=new&page=2")
    assert view.pages(7, "week", 2, False) == view.Pages(2, "/g/7?period=week", None)


def card(width: int | None = 768, height: int | None = 512, length: str | None = "4.0 s") -> view.Card:
    return view.Card(
        number=12,
        path="/g/7/clip/12",
        video="/media/12.mp4",
        poster="/media/12.png",
        width=width,
        height=height,
        prompt="a red fox",
        author="Ana Fox",
        named=True,
        votes_up=3,
        votes_down=1,
        length=length,
        model="LTX-Video 2B",
        date="14 Nov 2023",
        date_iso="2023-11-14T22:13Z",
        relation=None,
    )


def test_link_previews_of_a_clip_are_absolute_and_say_what_it_is() -> None:
    tags = view.preview_tags(
        "https://clips.example.org/",
        path="/g/7/clip/12",
        title="a red fox",
        description=view.clip_description(card(), "Pixel Forge"),
        clip=card(),
        kind="video.other",
    )
    found = {key: content for _, key, content in tags}
    assert found["og:url"] == "https://clips.example.org/g/7/clip/12"
    assert found["og:image"] == found["twitter:image"] == "https://clips.example.org/media/12.png"
    assert found["og:video"] == found["og:video:secure_url"] == "https://clips.example.org/media/12.mp4"
    assert (found["og:video:type"], found["og:video:width"], found["og:video:height"]) == (
        "video/mp4",
        "768",
        "512",
    )
    assert found["og:description"] == "A 4.0 s clip by Ana Fox on Pixel Forge · LTX-Video 2B · ▲ 3 ▼ 1"
    assert found["twitter:card"] == "summary_large_image"
    assert {attribute for attribute, key, _ in tags if key.startswith("twitter:")} == {"name"}
    assert {attribute for attribute, key, _ in tags if key.startswith("og:")} == {"property"}
    unsized = {
        key
        for _, key, _ in view.preview_tags(
            "http://h", path="/", title="t", description="d", clip=card(None, None)
        )
    }
    assert "og:video:width" not in unsized and "og:image:width" not in unsized and "og:video" in unsized


def test_a_page_without_clips_is_a_plain_summary_card() -> None:
    tags = {
        k: c for _, k, c in view.preview_tags("http://h:1", path="/", title="t", description="d", clip=None)
    }
    assert tags["twitter:card"] == "summary" and "og:image" not in tags and "og:video" not in tags


def test_descriptions() -> None:
    anonymous = view.Card(
        **{**card().__dict__, "author": "a member of Pixel Forge", "named": False, "length": None}
    )
    assert (
        view.clip_description(anonymous, "Pixel Forge")
        == "A clip by a member of Pixel Forge · LTX-Video 2B · ▲ 3 ▼ 1"
    )
    assert (
        view.server_description("Pixel Forge", "new", 1)
        == "1 clip made together on Pixel Forge's own GPUs: the newest."
    )
    assert view.server_description("Pixel Forge", "day", 2).endswith("the best of today.")


def test_the_public_url() -> None:
    assert default_public_url("127.0.0.1", 8080) == "http://127.0.0.1:8080"
    assert default_public_url("::1", 8080) == "http://[::1]:8080"
    assert checked_public_url("https://clips.example.org/") == "https://clips.example.org"
    assert checked_public_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    for bad in (
        "clips.example.org",
        "ftp://example.org",
        "https://",
        "https://example.org/?x=1",
        "https://e.org/g",
    ):
        with pytest.raises(ValueError, match="--public-url"):
            checked_public_url(bad)
