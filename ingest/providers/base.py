"""What every provider mapping shares: the result type, the error type and typed field access.

Mappings are pure functions from a decoded provider payload (plus the receive time) to raw
envelopes; they never verify, publish or log. Field access is strict for what a message
cannot exist without (ids) and forgiving for content, and every error names the JSON path
that was wrong, never its value: values can be phone numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from schema.envelopes import RawEnvelope


class PayloadError(ValueError):
    """The request is not a well-formed delivery; the message is the 400 reason."""


@dataclass(frozen=True)
class Mapped:
    """What one provider request turned into.

    `ignored` counts events we acknowledge without publishing (event types we do not ingest);
    `test_payload` marks the Meta dashboard's "Test" button, acknowledged and dropped.
    """

    envelopes: tuple[RawEnvelope, ...] = ()
    ignored: int = 0
    test_payload: bool = False

    def __add__(self, other: Mapped) -> Mapped:
        return Mapped(
            self.envelopes + other.envelopes,
            self.ignored + other.ignored,
            self.test_payload or other.test_payload,
        )


def load_json(body: bytes) -> Any:
    """Decode a JSON body strictly: UTF-8 only, no NaN/Infinity; absurd nesting is the
    decoder's RecursionError, reported like any other malformed body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("body is not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("body is not valid JSON") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def obj(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key}: {'missing' if value is None else 'not an object'}")
    return value


def opt_obj(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key}: not an object")
    return value


def objects(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """An optional list of objects (absent means empty)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}.{key}: not a list")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise PayloadError(f"{where}.{key}[{index}]: not an object")
    return value


def ident(data: dict[str, Any], key: str, where: str) -> str:
    """A required id: a non-empty string, or an integer (some ids arrive as JSON numbers)."""
    value = opt_ident(data, key, where)
    if value is None:
        raise PayloadError(f"{where}.{key}: missing")
    return value


def opt_ident(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{where}.{key}: not a string")
    text = str(value)
    if len(text) > 512 or not text.strip():
        raise PayloadError(f"{where}.{key}: not a usable id")
    return text


def text_or_none(data: dict[str, Any], key: str) -> str | None:
    """Content fields are taken when they are strings and skipped otherwise."""
    value = data.get(key)
    return value if isinstance(value, str) else None
