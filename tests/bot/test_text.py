"""What members read, as pure functions: bars, ETAs, quoted prompts, thread names."""

from __future__ import annotations

from bot.i18n import CATALOG, DE, EN, t
from bot.text import format_eta, progress_bar, quoted_prompt, short, thread_name
from db.spec import SpecError


def test_progress_bar_fills_with_the_steps() -> None:
    assert progress_bar(0, 40) == "▱" * 12
    assert progress_bar(20, 40) == "▰" * 6 + "▱" * 6
    assert progress_bar(40, 40) == "▰" * 12
    assert progress_bar(5, 0) == "▱" * 12  # unknown total: an empty bar, no error


def test_eta_reads_naturally_in_both_languages() -> None:
    assert format_eta(None, "en-US") is None
    assert format_eta(12, "en-US") == "10 s"
    assert format_eta(200, "en-US") == "3 min"
    assert format_eta(200, "de") == "3 Min."
    assert format_eta(2 * 3600, "de") == "2.0 Std."


def test_prompts_are_shortened_and_escaped() -> None:
    assert short("a  b\n c", 10) == "a b c"
    assert short("x" * 50, 10) == "x" * 9 + "…"
    assert quoted_prompt("**bold** _it_") == r"\*\*bold\*\* \_it\_"


def test_every_string_has_german_and_every_spec_error_is_translated() -> None:
    assert all(entry.get(EN) and entry.get(DE) for entry in CATALOG.values())
    for code, english in SpecError.MESSAGES.items():
        assert CATALOG[f"spec.{code}"][EN] == english
        assert CATALOG[f"spec.{code}"][DE] != english
    assert t("de-DE", "cancel.done", job=3) == "#3 abgebrochen."
    assert t("fr", "cancel.done", job=3) == "Cancelled #3."


def test_thread_names_fit_discords_limit() -> None:
    from types import SimpleNamespace

    job = SimpleNamespace(id=12, spec=SimpleNamespace(prompt="a very long prompt " * 20))
    name = thread_name(job, "en-US")  # type: ignore[arg-type]
    assert name.startswith("#12 a very long prompt") and len(name) <= 100


def test_the_details_of_a_clip_with_every_text_at_its_longest_fit_discords_embed_limits() -> None:
    """A prompt and negative prompt full of markdown (each character escaped, so twice as long), a style
    with long words, author and license, a long enhanced prompt and a chain of 30 extends: the details
    embed stays within 6,000 characters, each field within 1,024, and still says what matters."""
    from dataclasses import replace

    from bot.text import EMBED_MAX, FIELD_MAX, details_embed
    from db.spec import NEGATIVE_MAX_CHARS, PROMPT_MAX_CHARS
    from db.store import VoteCounts
    from tests.bot.test_bridge_text import job
    from tests.bot.test_hostile_e2e import unescaped
    from tests.bot.test_style_text import style

    marked = "*_~|`>#[]\\"
    prompt = ("a *cat* " + marked * 100)[:PROMPT_MAX_CHARS]
    clip = job(31, 312_345_678_901_234_531, "extend", 30, enhanced_prompt="an *enhanced* " + marked * 400)
    clip = replace(
        clip,
        spec=replace(
            clip.spec,
            prompt=prompt,
            negative_prompt=("no *dogs* " + marked * 60)[:NEGATIVE_MAX_CHARS],
            trigger="clay_" * 40,
            style=1,
        ),
    )
    lineage = [job(1, 312_345_678_901_234_501)] + [
        job(n, 312_345_678_901_234_500 + n, "extend", n - 1) for n in range(2, 31)
    ]
    lineage.append(clip)
    claymation = style(
        name="Clay*" * 10,
        author="_" * 100,
        license="~" * 100,
        trigger="clay_" * 40,
        link="https://x.y/" + "a" * 280,
    )
    for locale in ("en-US", "de"):
        embed = details_embed(clip, VoteCounts(3, 1), locale, "LTX-Video 2B", lineage, claymation)
        assert len(embed) <= EMBED_MAX, len(embed)
        assert all(len(f.value or "") <= FIELD_MAX and len(f.name or "") <= 256 for f in embed.fields)
        assert len(embed.fields) <= 25 and len(embed.description or "") <= 4096
        description = embed.description or ""
        assert description.startswith("**a \\*cat\\* ") and description.endswith("**")
        assert unescaped(description[2:-2]) == []  # the bold is not ended early
        fields = {f.name: f.value or "" for f in embed.fields}
        credit = fields["Credits" if locale == "en-US" else "Mitwirkende"]
        assert credit.startswith("#1 ") and "→ … →" in credit and credit.endswith("<@312345678901234531>")
        assert fields["Seed"] and fields["Steps" if locale == "en-US" else "Schritte"]
