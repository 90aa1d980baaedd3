"""Every text a member can meet exists in English and German: each error code of the store, the spec
and the generator, each key the bot's code asks for, and each command, option and choice it registers
with Discord."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import VideoBot
from bot.i18n import CATALOG, DE, EN, t
from db.failures import FAILURE_MESSAGES
from db.spec import SpecError
from db.store import CapExceeded, SettingsError, VoteRefused
from tests.discord_fake import DiscordFake

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"

CODED = {
    "failure": FAILURE_MESSAGES,
    "spec": SpecError.MESSAGES,
    "cap": CapExceeded.MESSAGES,
    "vote": VoteRefused.MESSAGES,
    "settings_error": SettingsError.MESSAGES,
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("prefix", sorted(CODED))
def test_every_error_code_reads_in_both_languages_with_the_same_parameters(prefix: str) -> None:
    for code, english in CODED[prefix].items():
        entry = CATALOG.get(f"{prefix}.{code}")
        assert entry is not None, f"{prefix}.{code} is not in the catalog"
        assert entry[EN] == english, f"{prefix}.{code}: the English differs from the store's"
        assert entry.get(DE) and entry[DE] != english, f"{prefix}.{code} has no German"
        assert placeholders(entry[DE]) == placeholders(english), f"{prefix}.{code}: other parameters"


def test_every_catalog_entry_has_german_with_the_english_parameters() -> None:
    for key, entry in CATALOG.items():
        assert entry.get(EN) and entry.get(DE), f"{key} lacks a language"
        assert placeholders(entry[DE]) == placeholders(entry[EN]), f"{key}: other parameters in German"


def keys_the_code_asks_for() -> Iterator[tuple[str, str]]:
    call = re.compile(r"""\bt\(\s*[\w.]+\s*,\s*"([\w.\-]+)"|key="([\w.\-]+)\"""")
    for path in sorted(BOT_DIR.rglob("*.py")):
        for match in call.finditer(path.read_text(encoding="utf-8")):
            yield path.name, match.group(1) or match.group(2)


def test_every_key_the_bot_uses_is_in_the_catalog() -> None:
    used = list(keys_the_code_asks_for())
    assert len(used) > 80  # the scan finds the bot's texts (a broken pattern would find none)
    missing = sorted({f"{where}: {key}" for where, key in used if key not in CATALOG})
    assert not missing, missing


def localized(node: dict[str, Any], path: str) -> Iterator[str]:
    """What a registered command, option or choice lacks in German."""
    name = node.get("name")
    if not (node.get("name_localizations") or {}).get("de"):
        yield f"{path}{name}: no German name"
    if "description" in node and not (node.get("description_localizations") or {}).get("de"):
        yield f"{path}{name}: no German description"
    for option in node.get("options") or []:
        yield from localized(option, f"{path}{name} ")
    for choice in node.get("choices") or []:
        yield from localized(choice, f"{path}{name} choice ")


async def test_every_command_option_and_choice_is_registered_in_german(
    discord_fake: DiscordFake, bot: VideoBot
) -> None:
    commands = discord_fake.registered_commands()
    assert {c["name"] for c in commands} >= {"video", "queue", "cancel", "top", "show", "settings"}
    gaps = [gap for command in commands for gap in localized(command, "/")]
    assert not gaps, gaps


def test_a_german_member_reads_german_failures() -> None:
    assert t("de", "failure.out_of_memory").startswith("Der GPU ist")
    assert t("de", "failure.gave_up", attempts=3) == (
        "Der GPU-Worker, der diesen Clip renderte, hat 3-mal nicht mehr geantwortet; wir geben auf."
    )
