"""The public linked-customer contract: events on `customer.linked` (schema_version 1).

Every resolved timeline event with its customer, and every identity change. Keyed by the
(effective) customer id, or by the thread id while a thread is unlinked. JSON Schema:
schema/jsonschema/linked_event.v1.json. `event_id` is deterministic, so consumers can
deduplicate redeliveries by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from schema import jsoncodec
from schema.invalid import InvalidMessage, decode_json

LINKED_SCHEMA_VERSION = 1

# A fixed namespace: ids derived from natural keys are the same on every replay.
NAMESPACE = uuid.UUID("6f1c2d3e-8a4b-5c6d-9e7f-0a1b2c3d4e5f")

LinkedType = Literal[
    "timeline.event",
    "customer.created",
    "customer.updated",
    "phone.linked",
    "phone.unlinked",
    "identity.linked",
    "identity.updated",
    "identity.unlinked",
    "identity.verified",
    "identity.rejected",
    "thread.linked",
    "thread.unlinked",
    "thread.backlinked",
    "customers.merged",
    "customer.split",
    "phone.shared",
    "phone.unshared",
    "conflict.recorded",
    "consent.changed",
    "customer.erased",
]

LINKED_TYPES: tuple[str, ...] = LinkedType.__args__  # type: ignore[attr-defined]


class LinkedEventError(InvalidMessage):
    """A linked event whose data breaks what its type promises (a consumer's projection found
    a field missing or of the wrong shape); the message says which field and why."""


def derived_id(*parts: str) -> uuid.UUID:
    """A stable UUID from natural-key parts (deterministic replay needs stable ids)."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))


@dataclass(frozen=True)
class LinkedEvent:
    type: str
    event_id: str
    occurred_at: str
    customer_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    schema_version: int = LINKED_SCHEMA_VERSION

    @property
    def key(self) -> str:
        """Kafka key: the customer, or the thread while unlinked, so a customer's events stay in order."""
        return self.customer_id or str(self.data.get("thread_id") or self.event_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "type": self.type,
            "event_id": self.event_id,
            "occurred_at": self.occurred_at,
            "customer_id": self.customer_id,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return jsoncodec.dumps(self.to_dict(), default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkedEvent:
        """Raises InvalidMessage when `data` is not a linked event v1."""
        if not isinstance(data, dict):
            raise LinkedEventError("linked event must be a JSON object")
        if data.get("schema_version") != LINKED_SCHEMA_VERSION:
            raise LinkedEventError(f"unsupported schema_version {data.get('schema_version')!r}")
        if data.get("type") not in LINKED_TYPES:
            raise LinkedEventError(f"unknown linked event type {data.get('type')!r}")
        payload = data.get("data")
        if not isinstance(payload, dict):
            raise LinkedEventError("linked event data must be an object")
        for name in ("event_id", "occurred_at"):
            if not isinstance(data.get(name), str):
                raise LinkedEventError(f"linked event {name} must be a string")
        customer = data.get("customer_id")
        return cls(
            type=str(data["type"]),
            event_id=str(data["event_id"]),
            occurred_at=str(data["occurred_at"]),
            customer_id=str(customer) if customer else None,
            data=payload,
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> LinkedEvent:
        return cls.from_dict(decode_json(raw))


def events_array(payloads: Iterable[bytes]) -> str:
    """Encoded linked events as one JSON array: how the outbox stores what a message or a
    command produced (each event encoded once, for the outbox and for Kafka alike)."""
    return (b"[" + b",".join(payloads) + b"]").decode()


def make_event(
    type_: str, occurred_at: str, customer_id: object | None, data: dict[str, Any], *id_parts: str
) -> LinkedEvent:
    """Build an event whose id derives from its type and natural key parts."""
    return LinkedEvent(
        type=type_,
        event_id=str(derived_id(type_, *id_parts)),
        occurred_at=occurred_at,
        customer_id=str(customer_id) if customer_id else None,
        data=data,
    )
