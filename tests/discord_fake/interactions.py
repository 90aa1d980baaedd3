"""Interactions the fake sends, and the handle a test awaits their responses with."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from .server import DiscordFake

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

# Callback types
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9

ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
}

ACK_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60.0


@dataclass
class InteractionState:
    """The fake's record of one interaction: what was sent and how the bot answered."""

    id: str
    token: str
    type: int
    payload: dict[str, Any]
    channel_id: str
    guild_id: str | None
    user_id: str
    source_message_id: str | None = None  # the message a component/modal interaction was on
    triggered_by: InteractionState | None = None  # for a modal submit: the interaction that opened it
    dispatched_at: float | None = None  # fake clock, when INTERACTION_CREATE went out
    dispatched_perf: float | None = None  # perf_counter, for latency figures
    callback_type: int | None = None
    callback_body: dict[str, Any] | None = None
    ack_latency: float | None = None  # seconds from dispatch to callback (real time)
    original_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    acked: asyncio.Event = field(default_factory=asyncio.Event)

    def mark_dispatched(self, now: float) -> None:
        if self.dispatched_at is None:
            self.dispatched_at = now
            self.dispatched_perf = time.perf_counter()


class InteractionHandle:
    """What `DiscordFake.slash_command` & co. return: await the bot's answer to one interaction."""

    def __init__(self, fake: DiscordFake, state: InteractionState) -> None:
        self.fake = fake
        self.state = state

    def __repr__(self) -> str:
        return f"<InteractionHandle id={self.id} type={self.state.type} callback={self.callback_type}>"

    @property
    def id(self) -> str:
        return self.state.id

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def payload(self) -> dict[str, Any]:
        """The INTERACTION_CREATE data as sent to the bot."""
        return self.state.payload

    @property
    def callback_type(self) -> int | None:
        return self.state.callback_type

    @property
    def ack_latency(self) -> float | None:
        return self.state.ack_latency

    @property
    def response(self) -> dict[str, Any] | None:
        """The body of the interaction callback the bot sent (type + data)."""
        return self.state.callback_body

    @property
    def ephemeral(self) -> bool:
        original = self.original
        return bool(original and original["flags"] & 64)

    @property
    def original(self) -> dict[str, Any] | None:
        """The response message as it is now (after edits), or None."""
        if self.state.original_message_id is None:
            return None
        return self.fake.messages.get(self.state.original_message_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [self.fake.messages[m] for m in self.state.followup_ids if m in self.fake.messages]

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """Autocomplete choices the bot answered with."""
        if self.state.callback_type != AUTOCOMPLETE_RESULT or self.response is None:
            return None
        return list((self.response.get("data") or {}).get("choices") or [])

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (its data: custom_id, title, components)."""
        if self.state.callback_type != MODAL or self.response is None:
            return None
        return dict(self.response["data"])

    async def wait_ack(self, timeout: float = 5.0) -> int:
        """Wait for the interaction callback; returns its type (4 message, 5 deferred, ...)."""
        await asyncio.wait_for(self.state.acked.wait(), timeout)
        assert self.state.callback_type is not None
        return self.state.callback_type

    async def wait_original(
        self, predicate: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until the response message exists (and satisfies `predicate`, e.g. no longer loading)."""

        def ready() -> bool:
            msg = self.original
            return msg is not None and (predicate is None or predicate(msg))

        await self.fake.wait_for(ready, timeout=timeout)
        assert self.original is not None
        return self.original

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        await self.fake.wait_for(lambda: len(self.followups) >= count, timeout=timeout)
        return self.followups

    async def wait_reply(self, timeout: float = 5.0) -> dict[str, Any]:
        """The first visible answer: the original response once it is not a 'thinking…' placeholder."""
        return await self.wait_original(lambda m: not m["flags"] & 128, timeout=timeout)


def option_type_for(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3
