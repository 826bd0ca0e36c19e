"""The code's events validate against the JSON Schema files downstream teams use."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, fields
from pathlib import Path

import jsonschema
import pytest

from schema.envelopes import Booking, EnvelopeError, Party, RawEnvelope, storable
from schema.linked import LinkedEvent, make_event

SCHEMAS = Path(__file__).resolve().parents[2] / "schema" / "jsonschema"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _envelope(**overrides: object) -> RawEnvelope:
    base = dict(
        channel="sms",
        provider="twilio",
        kind="message",
        direction="in",
        provider_message_id="SM1",
        thread_key="twilio:+19165550000:+19165551234",
        business_account="+19165550000",
        customer=Party(id="+19165551234", phone="+19165551234"),
        occurred_at="2025-11-19T15:00:00.000Z",
        received_at="2025-11-19T15:00:00.123Z",
        text="Do you do birthdays?",
    )
    base.update(overrides)
    return RawEnvelope(**base)  # type: ignore[arg-type]


def test_raw_envelope_round_trips_and_validates() -> None:
    envelope = _envelope()
    _validator("raw_envelope.v1.json").validate(json.loads(envelope.to_json()))
    assert RawEnvelope.from_json(envelope.to_json()) == envelope


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "booking": Booking(name="Ana", guests=4, date="2026-01-05"),
            "business": Party(id="page", name="Cafe"),
            "attachments": ({"type": "image", "url": "https://example.test/a.jpg"},),
            "raw": {"entry": [{"id": "1", "messaging": [{"message": {"mid": "m1"}}]}]},
            "status": "delivered",
        },
    ],
)
def test_raw_envelope_to_dict_is_asdict_without_the_copies(overrides: dict[str, object]) -> None:
    """to_dict shares raw and attachments instead of deep-copying them: same data as asdict."""
    envelope = _envelope(**overrides)
    assert envelope.to_dict() == {**asdict(envelope), "attachments": list(envelope.attachments)}
    assert list(envelope.to_dict()) == [f.name for f in fields(RawEnvelope)]
    assert RawEnvelope.from_json(envelope.to_json()) == envelope


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"schema_version": 2}, "schema_version"),
        ({"channel": "fax"}, "channel"),
        ({"occurred_at": "yesterday"}, "timestamp"),
    ],
)
def test_bad_envelopes_say_why(change: dict, reason: str) -> None:
    data = {**_envelope().to_dict(), **change}
    with pytest.raises(EnvelopeError, match=reason):
        RawEnvelope.from_dict(data)


def test_linked_events_validate() -> None:
    validator = _validator("linked_event.v1.json")
    customer = str(uuid.uuid4())
    events = [
        make_event("customer.created", "2025-11-19T15:00:00.000Z", customer, {"customer_id": customer}, "k"),
        make_event(
            "customers.merged",
            "2025-11-19T15:00:00.000Z",
            customer,
            {"survivor_id": customer, "merged_ids": [str(uuid.uuid4())]},
            "m",
        ),
        make_event(
            "timeline.event",
            "2025-11-19T15:00:00.000Z",
            customer,
            {
                "idempotency_key": "sms:SM1",
                "thread_id": str(uuid.uuid4()),
                "owner_customer_id": customer,
                "type": "sms",
                "channel": "sms",
                "platform": "twilio",
                "kind": "message",
                "direction": "in",
                "content": "hi",
                "sender": "customer",
                "evidence": [],
                "received_at": "2025-11-19T15:00:00.123Z",
            },
            "sms:SM1",
        ),
    ]
    for event in events:
        validator.validate(event.to_dict())
        assert LinkedEvent.from_json(event.to_json()) == event
    bad = {**events[1].to_dict(), "data": {"survivor_id": customer}}
    assert list(validator.iter_errors(bad)), "a merge without merged_ids must not validate"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain text", "plain text"),
        ("caf\u00e9 \U0001f600", "caf\u00e9 \U0001f600"),  # whole characters are left alone
        ("a\x00b\x00", "a\ufffdb\ufffd"),
        ("cut \ud83d", "cut \ufffd"),
        ("\ude00 low half first", "\ufffd low half first"),
        ({"k\x00": ["x\ud800", 7, None, True]}, {"k\ufffd": ["x\ufffd", 7, None, True]}),
        ((1.5, "\x00"), [1.5, "\ufffd"]),
    ],
)
def test_storable_replaces_what_postgresql_and_utf8_refuse(value: object, expected: object) -> None:
    assert storable(value) == expected
