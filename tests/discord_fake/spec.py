"""Discord's official OpenAPI spec: find the operation for a request and check its body."""

from __future__ import annotations

import copy
import functools
import json
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

# the repository's own copy (MIT, see LICENSE and VERSION beside it): a clone stands alone
SPEC_PATH = Path(__file__).resolve().parent / "openapi" / "openapi.json"


@dataclass(frozen=True)
class FieldError:
    """One reason a body is invalid, at a path inside the body (as Discord's 50035 `errors` tree)."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<body>"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # e.g. "/channels/{channel_id}/messages"
    operation_id: str
    params: dict[str, str]


def _load_spec(path: Path) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(path.read_text())
    schemas = spec["components"]["schemas"]
    # Discord accepts snowflakes as JSON integers as well as strings (discord.py sends ints in
    # allowed_mentions and attachments); the spec only says string.
    snowflake = schemas["SnowflakeType"]
    schemas["SnowflakeType"] = {
        "anyOf": [copy.deepcopy(snowflake), {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}]
    }
    return spec


class DiscordSpec:
    """The spec, its path templates compiled, and one cached validator per request body schema."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.spec = _load_spec(path)
        self._routes: list[tuple[re.Pattern[str], str, int]] = []
        for template in self.spec["paths"]:
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            literal_segments = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
            self._routes.append((re.compile(regex), template, literal_segments))
        # A literal segment beats a parameter: /messages/@original before /messages/{message_id}.
        self._routes.sort(key=lambda r: -r[2])
        self._validators: dict[tuple[str, str, str], Draft202012Validator | None] = {}

    def find_operation(self, method: str, path: str) -> Operation | None:
        method = method.lower()
        for regex, template, _ in self._routes:
            match = regex.match(path)
            if match is None:
                continue
            item = self.spec["paths"][template]
            if method not in item:
                continue
            params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
            return Operation(method.upper(), template, item[method].get("operationId", ""), params)
        return None

    def has_body(self, op: Operation) -> bool:
        return "requestBody" in self.spec["paths"][op.template][op.method.lower()]

    def _validator(self, op: Operation, content_type: str) -> Draft202012Validator | None:
        key = (op.method, op.template, content_type)
        if key not in self._validators:
            body = self.spec["paths"][op.template][op.method.lower()].get("requestBody")
            if body is None or content_type not in body["content"]:
                self._validators[key] = None
            else:
                pointer = "/".join(
                    p.replace("~", "~0").replace("/", "~1")
                    for p in ("paths", op.template, op.method.lower(), "requestBody", "content", content_type)
                )
                root = dict(self.spec)
                root["$ref"] = "#/" + urllib.parse.quote(pointer, safe="~/") + "/schema"
                self._validators[key] = Draft202012Validator(root)
        return self._validators[key]

    def validate_body(
        self, op: Operation, body: Any, content_type: str = "application/json"
    ) -> list[FieldError]:
        """Errors of `body` against the operation's request schema; [] when it is valid."""
        spec_op = self.spec["paths"][op.template][op.method.lower()]
        request_body = spec_op.get("requestBody")
        if request_body is None:
            return []
        if body is None:
            if request_body.get("required"):
                return [FieldError((), "BASE_TYPE_REQUIRED", "This request needs a body.")]
            return []
        validator = self._validator(op, content_type)
        if validator is None:
            return [FieldError((), "CONTENT_TYPE_INVALID", f"Content type {content_type} not accepted.")]
        errors: list[FieldError] = []
        for error in validator.iter_errors(body):
            errors.extend(_leaf_errors(error))
        return errors


def _discriminator_mismatch(errors: Iterable[ValidationError]) -> bool:
    """True when a branch of a union failed on its `type` tag, i.e. it is not the branch meant."""
    for e in errors:
        path = list(e.relative_path)
        if path and path[-1] == "type" and e.validator in ("enum", "const", "type"):
            return True
        if e.validator == "required" and "'type'" in e.message:
            return True
    return False


def _leaf_errors(error: ValidationError) -> list[FieldError]:
    if error.context and error.validator in ("anyOf", "oneOf"):
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values() if not _discriminator_mismatch(errs)]
        # A value that is not null fails the {"type": "null"} branch; that branch is never the one meant.
        meant = [
            errs
            for errs in meant
            if not all(e.validator == "type" and e.validator_value == "null" for e in errs)
        ]
        if meant:
            chosen = min(meant, key=len)
            return [leaf for sub in chosen for leaf in _leaf_errors(sub)]
    code = {
        "maxLength": "BASE_TYPE_MAX_LENGTH",
        "minLength": "BASE_TYPE_MIN_LENGTH",
        "required": "BASE_TYPE_REQUIRED",
        "type": "BASE_TYPE_BAD_TYPE",
        "enum": "BASE_TYPE_CHOICES",
        "maxItems": "BASE_TYPE_MAX_LENGTH",
        "pattern": "STRING_TYPE_REGEX",
    }.get(str(error.validator), "BASE_TYPE_INVALID")
    if error.validator == "maxLength":
        message = f"Must be {error.validator_value} or fewer in length."
    elif error.validator == "minLength":
        message = f"Must be {error.validator_value} or more in length."
    else:
        message = error.message[:300]
    return [FieldError(tuple(error.absolute_path), code, message)]


@functools.cache
def load_spec() -> DiscordSpec:
    """The spec, parsed once per process."""
    return DiscordSpec()


def errors_tree(errors: Iterable[FieldError]) -> dict[str, Any]:
    """Discord's nested `errors` object of a 50035 reply."""
    tree: dict[str, Any] = {}
    for err in errors:
        node = tree
        for part in err.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return tree


def validate_response(spec: DiscordSpec, op: Operation, status: int, body: Any) -> list[FieldError]:
    """Errors of a response body against the spec's schema for that status (used to keep the fake honest)."""
    responses = spec.spec["paths"][op.template][op.method.lower()].get("responses", {})
    response = responses.get(str(status))
    if response is None or body is None:
        return []
    schema = (response.get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    pointer = "/".join(
        p.replace("~", "~0").replace("/", "~1")
        for p in (
            "paths",
            op.template,
            op.method.lower(),
            "responses",
            str(status),
            "content",
            "application/json",
        )
    )
    root = dict(spec.spec)
    root["$ref"] = "#/" + urllib.parse.quote(pointer, safe="~/") + "/schema"
    errors: list[FieldError] = []
    for error in Draft202012Validator(root).iter_errors(body):
        errors.extend(_leaf_errors(error))
    return errors
