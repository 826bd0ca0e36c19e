"""Linked events to timeline rows: deterministic, idempotent keys, back-links become re-projections."""

from __future__ import annotations

import uuid

from schema.linked import make_event
from workers.timeline.projection import project

CUSTOMER = uuid.uuid4()
THREAD = uuid.uuid4()


def _message(key: str = "sms:SM1") -> object:
    return make_event(
        "timeline.event",
        "2025-11-19T15:00:00.000Z",
        CUSTOMER,
        {
            "idempotency_key": key,
            "thread_id": str(THREAD),
            "owner_customer_id": str(CUSTOMER),
            "type": "sms",
            "channel": "sms",
            "platform": "twilio",
            "kind": "message",
            "direction": "in",
            "content": "hi",
            "sender": "customer",
        },
        key,
    )


def test_a_message_becomes_one_row_keyed_by_channel_and_provider_id() -> None:
    row, reproject = project(_message())  # type: ignore[arg-type]
    assert reproject is None
    assert row.values["idempotency_key"] == "sms:SM1"
    assert row.values["customer_id"] == CUSTOMER and row.values["thread_id"] == THREAD
    again, _ = project(_message())  # type: ignore[arg-type]
    assert again.values["id"] == row.values["id"]


def test_a_backlink_reprojects_only_the_unlinked_rows_of_its_thread() -> None:
    event = make_event(
        "thread.backlinked",
        "2025-11-20T10:00:00.000Z",
        CUSTOMER,
        {
            "thread_id": str(THREAD),
            "customer_id": str(CUSTOMER),
            "from": "2025-11-19T15:00:00Z",
            "to": "2025-11-20T10:00:00Z",
            "messages": 2,
        },
        "x",
    )
    row, reproject = project(event)
    assert reproject is not None and reproject.only_unlinked and reproject.customer_id == CUSTOMER
    assert row.values["type"] == "identity" and "2 earlier" in row.values["content"]


def test_identity_rows_never_carry_the_phone() -> None:
    event = make_event(
        "customer.created",
        "2025-11-20T10:00:00.000Z",
        CUSTOMER,
        {"customer_id": str(CUSTOMER), "phone": "+19165551234"},
        "c",
    )
    row, _ = project(event)
    assert "phone" not in row.values["payload"]
