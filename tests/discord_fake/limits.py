"""Documented Discord limits that the OpenAPI spec leaves out (or states more loosely)."""

from __future__ import annotations

from typing import Any

from .spec import FieldError

CONTENT_MAX = 2000
EMBEDS_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
AUTOCOMPLETE_CHOICES_MAX = 25
MODAL_TITLE_MAX = 45


def _too_long(path: tuple[str | int, ...], limit: int) -> FieldError:
    return FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_message_body(body: dict[str, Any], prefix: tuple[str | int, ...] = ()) -> list[FieldError]:
    """Limits of a message-creating or -editing body (channel message, webhook, interaction data)."""
    errors: list[FieldError] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        errors.append(_too_long((*prefix, "content"), CONTENT_MAX))
    errors += check_embeds(body.get("embeds") or [], (*prefix, "embeds"))
    errors += check_components(
        body.get("components") or [], (*prefix, "components"), flags=int(body.get("flags") or 0)
    )
    mentions = body.get("allowed_mentions") or {}
    parse = mentions.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and mentions.get(kind):
            errors.append(
                FieldError(
                    (*prefix, "allowed_mentions"),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
                )
            )
    return errors


def embed_length(embed: dict[str, Any]) -> int:
    """Characters that count toward the 6000 total (title, description, fields, footer, author)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def check_embeds(embeds: list[dict[str, Any]], prefix: tuple[str | int, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        at = (*prefix, i)
        for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
            if len(embed.get(key) or "") > limit:
                errors.append(_too_long((*at, key), limit))
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            errors.append(_too_long((*at, "fields"), EMBED_FIELDS_MAX))
        for j, field in enumerate(fields):
            if len(field.get("name") or "") > EMBED_FIELD_NAME_MAX:
                errors.append(_too_long((*at, "fields", j, "name"), EMBED_FIELD_NAME_MAX))
            if len(field.get("value") or "") > EMBED_FIELD_VALUE_MAX:
                errors.append(_too_long((*at, "fields", j, "value"), EMBED_FIELD_VALUE_MAX))
        if len((embed.get("footer") or {}).get("text") or "") > EMBED_FOOTER_MAX:
            errors.append(_too_long((*at, "footer", "text"), EMBED_FOOTER_MAX))
        if len((embed.get("author") or {}).get("name") or "") > EMBED_AUTHOR_MAX:
            errors.append(_too_long((*at, "author", "name"), EMBED_AUTHOR_MAX))
        total += embed_length(embed)
    if total > EMBEDS_TOTAL_MAX:
        errors.append(
            FieldError(
                prefix, "MESSAGE_EMBEDS_TOO_LONG", f"Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}"
            )
        )
    return errors


def _walk_components(
    components: list[Any], prefix: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    found: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    for i, comp in enumerate(components):
        if not isinstance(comp, dict):
            continue
        found.append(((*prefix, i), comp))
        for key in ("components",):
            if isinstance(comp.get(key), list):
                found += _walk_components(comp[key], (*prefix, i, key))
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                found += _walk_components([comp[key]], (*prefix, i, key))[:1]
    return found


def check_components(
    components: list[Any], prefix: tuple[str | int, ...], *, flags: int = 0
) -> list[FieldError]:
    errors: list[FieldError] = []
    is_v2 = bool(flags & (1 << 15))
    if not is_v2 and len(components) > ACTION_ROWS_MAX:
        errors.append(_too_long(prefix, ACTION_ROWS_MAX))
    seen: set[str] = set()
    for path, comp in _walk_components(components, prefix):
        custom_id = comp.get("custom_id")
        if isinstance(custom_id, str):
            if len(custom_id) > CUSTOM_ID_MAX:
                errors.append(_too_long((*path, "custom_id"), CUSTOM_ID_MAX))
            if custom_id in seen:
                errors.append(
                    FieldError(
                        (*path, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                )
            seen.add(custom_id)
        if comp.get("type") == 2 and len(comp.get("label") or "") > BUTTON_LABEL_MAX:
            errors.append(_too_long((*path, "label"), BUTTON_LABEL_MAX))
        if comp.get("type") == 1 and len(comp.get("components") or []) > ROW_BUTTONS_MAX:
            errors.append(_too_long((*path, "components"), ROW_BUTTONS_MAX))
    return errors


def check_interaction_callback(body: dict[str, Any]) -> list[FieldError]:
    data = body.get("data") or {}
    kind = body.get("type")
    if kind in (4, 7) and isinstance(data, dict):
        return check_message_body(data, ("data",))
    if kind == 8:
        choices = data.get("choices") or []
        if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
            return [_too_long(("data", "choices"), AUTOCOMPLETE_CHOICES_MAX)]
    if kind == 9:
        errors = []
        if len(data.get("title") or "") > MODAL_TITLE_MAX:
            errors.append(_too_long(("data", "title"), MODAL_TITLE_MAX))
        errors += check_components(data.get("components") or [], ("data", "components"), flags=1 << 15)
        if len(data.get("custom_id") or "") > CUSTOM_ID_MAX:
            errors.append(_too_long(("data", "custom_id"), CUSTOM_ID_MAX))
        return errors
    return []
