"""How long a challenge runs, as members write it (English and German)."""

from __future__ import annotations

import pytest

from bot.cogs.challenge import DurationError, duration_refusal, parse_duration

M, H, D = 60, 3600, 86_400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 30 * M),
        ("2h", 2 * H),
        ("3d", 3 * D),
        ("1w", 7 * D),
        ("1h30m", 90 * M),
        ("1h 30m", 90 * M),
        ("90 min", 90 * M),
        ("1.5h", 90 * M),
        ("1,5 h", 90 * M),
        ("2 Hours", 2 * H),
        ("2 Std", 2 * H),
        ("2 Std.", 2 * H),
        ("3 Tage", 3 * D),
        ("1 Woche", 7 * D),
        ("45 Minuten", 45 * M),
        ("1m", M),
        ("30d", 30 * D),
        ("4w 2d", 30 * D),
    ],
)
def test_durations_members_write(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "bad"),
        ("soon", "bad"),
        ("90", "bad"),  # minutes? hours? say which
        ("2x", "bad"),
        ("-2h", "bad"),
        ("2h and more", "bad"),
        ("30s", "bad"),
        ("0m", "too_short"),
        ("0.5m", "too_short"),
        ("31d", "too_long"),
        ("5w", "too_long"),
        ("9" * 40 + "w", "too_long"),
    ],
)
def test_what_is_no_duration_or_out_of_bounds(text: str, code: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert caught.value.code == code


def test_refusals_name_the_bounds_in_the_members_language() -> None:
    assert duration_refusal("en-US", DurationError("too_long"), "5w") == "A challenge runs at most 30 days."
    assert (
        duration_refusal("de", DurationError("too_short"), "0m")
        == "Ein Wettbewerb läuft mindestens eine Minute."
    )
    assert "**soon**" not in duration_refusal("en-US", DurationError("bad"), "**soon**")  # escaped
