"""Linked events to timeline rows: deterministic, idempotent keys, back-links become re-projections."""

from __future__ import annotations

import uuid

import pytest

from schema.invalid import InvalidMessage
from schema.linked import LinkedEvent, make_event
from workers.timeline.projection import Erase, project

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


def test_an_admin_relink_reprojects_every_row_of_the_thread_and_an_automatic_one_none() -> None:
    other = uuid.uuid4()
    data = {"thread_id": str(THREAD), "customer_id": str(other)}
    _, reproject = project(make_event("thread.linked", "2025-11-20T10:00:00.000Z", other, data, "a"))
    assert reproject is None  # the resolver's own links arrive as back-links
    admin = {**data, "actor": "admin", "by": "ops", "command_id": "c1"}
    _, reproject = project(make_event("thread.linked", "2025-11-20T10:00:00.000Z", other, admin, "b"))
    assert reproject is not None and not reproject.only_unlinked
    assert (reproject.thread_id, reproject.customer_id) == (THREAD, other)
    unlinked = {"thread_id": str(THREAD), "customer_id": None, "actor": "admin"}
    _, reproject = project(make_event("thread.unlinked", "2025-11-20T10:00:00.000Z", None, unlinked, "c"))
    assert reproject is not None and reproject.customer_id is None and not reproject.only_unlinked


def test_rows_keep_the_events_own_time_not_the_arrival_time() -> None:
    row, _ = project(_message())  # type: ignore[arg-type]
    assert row.values["occurred_at"].isoformat() == "2025-11-19T15:00:00+00:00"
    assert "written_at" not in row.values  # arrival is the database's business, never the order


def test_a_providers_consent_report_is_a_consent_row_not_an_empty_message() -> None:
    event = _message("sms:consent:SM1")
    event.data.update(kind="consent", content=None, status="opt_out")  # type: ignore[attr-defined]
    row, _ = project(event)  # type: ignore[arg-type]
    assert (row.values["type"], row.values["kind"]) == ("consent", "consent")
    assert row.values["content"] == "twilio reported opt-out"


def test_a_consent_change_names_the_keyword_or_the_source() -> None:
    def change(**data: object) -> str:
        event = make_event("consent.changed", "2025-11-20T10:00:00.000Z", CUSTOMER, dict(data), "k")
        row, _ = project(event)
        assert row.values["type"] == "consent" and "phone" not in row.values["payload"]
        return str(row.values["content"])

    keyword = change(status="opted_out", channel="sms", keyword="STOP", source="keyword", phone="+1")
    assert keyword == "Consent changed: opted_out on sms (STOP)"
    assert (
        change(status="opted_in", channel="sms", source="provider")
        == "Consent changed: opted_in on sms (provider)"
    )


def test_a_status_or_an_unsend_keeps_the_key_of_the_message_it_is_about() -> None:
    status = _message("sms:status:SM1:delivered")
    status.data.update(kind="status", status="delivered", content=None, refers_to="sms:SM1")  # type: ignore[attr-defined]
    row, _ = project(status)  # type: ignore[arg-type]
    assert (row.values["kind"], row.values["refers_to"]) == ("status", "sms:SM1")
    assert row.values["payload"]["status"] == "delivered"
    plain, _ = project(_message())  # type: ignore[arg-type]
    assert plain.values["refers_to"] is None


def test_an_erasure_blanks_its_customers_and_threads_and_its_own_row_names_nothing() -> None:
    merged = uuid.uuid4()
    event = make_event(
        "customer.erased",
        "2026-03-06T17:30:00.000Z",
        CUSTOMER,
        {
            "customer_id": str(CUSTOMER),
            "erased_ids": [str(CUSTOMER), str(merged)],
            "thread_ids": [str(THREAD)],
            "fence": [{"subject": "ph_x", "kind": "phone", "opt_outs": []}],
            "command_id": "cmd-1",
        },
        "cmd-1",
    )
    row, change = project(event)
    assert change == Erase((CUSTOMER, merged), (THREAD,))
    assert row.values["customer_id"] == CUSTOMER and row.values["content"] == "Customer erased"
    assert not {"fence", "erased_ids", "thread_ids"} & set(row.values["payload"])


def _with(data: dict[str, object], type_: str = "timeline.event", customer: object = CUSTOMER) -> LinkedEvent:
    return make_event(type_, "2025-11-19T15:00:00.000Z", customer, data, "bad")


_MESSAGE = _message().data  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_with({k: v for k, v in _MESSAGE.items() if k != "channel"}), "data.channel is missing"),
        (
            _with({k: v for k, v in _MESSAGE.items() if k != "idempotency_key"}),
            "data.idempotency_key is missing",
        ),
        (_with({**_MESSAGE, "idempotency_key": 7}), "data.idempotency_key must be a string"),
        (_with({**_MESSAGE, "thread_id": "not-a-uuid"}), "data.thread_id is not a UUID"),
        (_with({**_MESSAGE, "owner_customer_id": 12}), "data.owner_customer_id is not a UUID"),
        (_with({**_MESSAGE, "content": {"text": "hi"}}), "data.content must be a string"),
        (_with({**_MESSAGE, "content": "hi\x00"}), "data.content holds a NUL character"),
        (_with({**_MESSAGE, "sender": "\ud83d"}), "data.sender holds a lone surrogate"),
        (_with({**_MESSAGE, "direction": ["in"]}), "data.direction must be a string"),
        (_with({}, "customer.created", customer="c-1"), "customer_id is not a UUID"),
        (_with({"thread_id": 5}, "thread.linked"), "data.thread_id is not a UUID"),
        (
            _with({"thread_id": str(THREAD), "customer_id": "x", "actor": "admin"}, "thread.linked"),
            "data.customer_id is not a UUID",
        ),
        (_with({"erased_ids": "all"}, "customer.erased"), "data.erased_ids must be a list"),
        (_with({"thread_ids": ["nope"]}, "customer.erased"), r"data.thread_ids\[\] is not a UUID"),
        (_with({"platform": "messenger", "handle": "a\x00b"}, "identity.updated"), "summary .* NUL"),
    ],
)
def test_a_malformed_event_is_invalid_with_the_field_named(event: LinkedEvent, reason: str) -> None:
    """The writer dead-letters only InvalidMessage: a malformed event must raise exactly that,
    never a KeyError or ValueError that would read as a bug of ours."""
    with pytest.raises(InvalidMessage, match=reason):
        project(event)
