"""The one exception that means "this message is itself invalid".

A message that cannot be decoded or fails its contract (an envelope, a resolve request, a
linked event, an admin command that names nothing or cannot apply) raises `InvalidMessage`
or a subclass: the stage sends it to its dead-letter topic with this reason and goes on. Any
other exception while handling a message is a bug in our own code, or a store in trouble: it
stops the stage loudly, nothing of the batch is acked, and the batch is read again after the
restart (as arroyo separates an invalid message from a crash).
"""

from __future__ import annotations

from typing import Any

from schema import jsoncodec


class InvalidMessage(ValueError):
    """The message is undecodable or breaks its contract; the text says which field and why."""


def decode_json(raw: bytes | str, error: type[InvalidMessage] = InvalidMessage) -> Any:
    """A message's JSON, or `error` saying why it is not JSON."""
    try:
        return jsoncodec.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"not JSON: {exc}") from exc
