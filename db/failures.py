"""Why a job ended without a clip, as a code with parameters. The job store keeps the code and the
parameters; the bot says it in the member's language from its catalog (``failure.<code>``), and the
English sentence here is what logs, the CLI and old rows show.

Codes of :class:`db.spec.SpecError` are failure codes too (a worker may refuse a spec that the bot
accepted, when the presets changed in between); :func:`failure_message` renders both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from db.spec import SpecError

FAILURE_MESSAGES: dict[str, str] = {
    "out_of_memory": "The GPU ran out of memory for this clip. Try fewer seconds or another model.",
    "model_unavailable": "The model {model} is not available on this machine.",
    "pipeline_error": "The model failed while rendering ({error}).",
    "worker_error": "Something went wrong on the GPU worker; the admins can see why in its log.",
    "encode_failed": "The clip could not be encoded within Discord's upload limit ({limit_mib} MiB).",
    "store_failed": "The finished clip could not be stored.",
    "gave_up": "The GPU worker rendering this clip stopped responding {attempts} times; giving up.",
    "media_unreadable": "The finished clip could not be read back for posting.",
    "too_large_to_post": "The clip ({size}) is too large for this server; Discord refused it.",
    "input_missing": "The picture this clip starts from is no longer stored.",
    "end_input_missing": "The picture this clip ends on is no longer stored.",
    "parent_missing": "Clip #{job}, which this one continues, is no longer stored.",
    "bridge_end_missing": "Clip #{job}, which this bridge leads to, is no longer stored.",
    "lora_unusable": "The style {style} cannot be used with {model}: {reason}.",
    "lora_unavailable": "The style {style} could not be fetched: {reason}.",
    "parent_unreadable": "The clip to continue cannot be read.",
    "source_deleted": "Clip #{job}, which this one is made from, was deleted.",
    "channel_gone": (
        "The channel or thread this clip was to be posted in was deleted, or the bot left the server."
    ),
    "cannot_post_here": "The bot may not post in this channel (an admin took its permission away).",
    "cancelled_by_author": "Cancelled by its author.",
    "cancelled_by_moderator": "Cancelled by a moderator.",
    "no_image_support": "{model} cannot start from a picture.",
    "no_continue_support": "{model} cannot continue a clip.",
    "unusable_input": "The picture or clip to start from cannot be used: {reason}.",
}


def is_known(code: str) -> bool:
    return code in FAILURE_MESSAGES or code in SpecError.MESSAGES


def failure_message(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The English sentence for a failure code (unknown codes are shown as they are)."""
    template = FAILURE_MESSAGES.get(code) or SpecError.MESSAGES.get(code)
    if template is None:
        return code
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        return template


def params_to_json(params: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(params or {}), ensure_ascii=False, sort_keys=True, default=str)


def params_from_json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
