"""What the fake keeps of each request, and the faults a test can see afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .mentions import Ping
from .spec import FieldError


@dataclass(frozen=True)
class RecordedFile:
    field: str  # "files[0]"
    filename: str
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class RecordedRequest:
    """One REST request as the fake received it, and what it answered."""

    seq: int
    method: str
    path: str  # below the API base, e.g. "/channels/1/messages"
    template: str | None  # the spec's path template, e.g. "/channels/{channel_id}/messages"
    params: dict[str, str]
    query: dict[str, str]
    json: Any  # the JSON body, or the multipart `payload_json`
    files: list[RecordedFile]
    at: float  # fake clock (monotonic)
    status: int = 0
    response: Any = None
    pings: list[Ping] = field(default_factory=list)
    injected: bool = False  # answered with a fault the test asked for

    @property
    def route(self) -> str:
        return f"{self.method} {self.template or self.path}"

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        body = self.json
        if isinstance(body, dict) and isinstance(body.get("data"), dict) and "type" in body:
            body = body["data"]  # interaction callback
        if isinstance(body, dict):
            return body.get("allowed_mentions")
        return None

    def __repr__(self) -> str:
        return f"<{self.route} -> {self.status}>"


@dataclass(frozen=True)
class Violation:
    """Something the bot did that real Discord would refuse or punish; fails the test at teardown."""

    kind: str  # spec | limit | late_ack | double_ack | expired_token | upload_too_large | unknown_route | ...
    route: str
    detail: str
    errors: tuple[FieldError, ...] = ()

    def __str__(self) -> str:
        lines = [f"[{self.kind}] {self.route}: {self.detail}"]
        lines += [f"    {e}" for e in self.errors[:20]]
        return "\n".join(lines)


@dataclass
class Fault:
    """An answer the test asked for on a route, for its next `times` calls."""

    method: str
    template: str
    status: int
    times: int
    retry_after: float = 0.05
    scope: str = "user"
    is_global: bool = False
    body: dict[str, Any] | None = None
