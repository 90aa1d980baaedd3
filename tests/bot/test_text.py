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
