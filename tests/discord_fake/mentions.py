"""Who a message pings, by Discord's rules for `content` and `allowed_mentions`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)")


@dataclass(frozen=True)
class Ping:
    """One notification a message would cause: kind is "user", "role", "everyone" or "here"."""

    kind: str
    target: str  # user or role id; "everyone"/"here" for those


def pings(
    content: str | None, allowed_mentions: dict[str, Any] | None, replied_user_id: str | None = None
) -> list[Ping]:
    """The pings of a message body.

    Without `allowed_mentions` everything mentioned in the content pings (and a reply pings the
    replied-to author). With it, a user pings only if "users" is in `parse` or their id is in
    `users`; likewise roles; @everyone/@here only if "everyone" is in `parse`; the replied-to author
    only if `replied_user` is true. Embeds never ping.
    """
    content = content or ""
    found: list[Ping] = []
    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        users: set[str] = set()
        roles: set[str] = set()
        replied = True
    else:
        parse = set(allowed_mentions.get("parse") or [])
        users = {str(u) for u in allowed_mentions.get("users") or []}
        roles = {str(r) for r in allowed_mentions.get("roles") or []}
        replied = bool(allowed_mentions.get("replied_user"))
    for user_id in dict.fromkeys(USER_MENTION.findall(content)):
        if "users" in parse or user_id in users:
            found.append(Ping("user", user_id))
    for role_id in dict.fromkeys(ROLE_MENTION.findall(content)):
        if "roles" in parse or role_id in roles:
            found.append(Ping("role", role_id))
    for word in dict.fromkeys(EVERYONE_MENTION.findall(content)):
        if "everyone" in parse:
            found.append(Ping(word, word))
    if replied_user_id is not None and replied:
        found.append(Ping("user", replied_user_id))
    return found
