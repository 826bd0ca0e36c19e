"""The resolve request may embed its envelope's raw-topic JSON as it is: same request decoded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schema.envelopes import Booking, Party, RawEnvelope
from schema.invalid import InvalidMessage
from workers.domain.requests import ResolveRequest
from workers.services.evidence import EvidencePolicy, gather

POLICY = EvidencePolicy.build("US", ["+19165550000"])


def _envelopes() -> list[RawEnvelope]:
    base = {
        "channel": "sms",
        "provider": "twilio",
        "kind": "message",
        "direction": "in",
        "provider_message_id": "SM1",
        "thread_key": "twilio:+19165550000:+19165551234",
        "business_account": "+19165550000",
        "customer": Party(id="+19165551234", phone="+19165551234", name="Ana"),
        "occurred_at": "2026-01-05T10:00:00.000Z",
        "received_at": "2026-01-05T10:00:00.100Z",
        "text": "STOP, or call my wife at 916-555-9876",
        "attachments": ({"url": "https://example.com/a.jpg", "content_type": "image/jpeg"},),
        "raw": {"Body": "x", "NumMedia": "1"},
    }
    booking = {
        **base,
        "channel": "booking",
        "provider": "booking_form",
        "kind": "booking",
        "provider_message_id": "web-1",
        "thread_key": "booking:website:web-1",
        "customer": Party(id="ana@example.com", email="ana@example.com"),
        "booking": Booking(name="Ana", email="ana@example.com", phone="(916) 555-1234", guests=4),
        "text": "window seat",
    }
    return [RawEnvelope(**base), RawEnvelope(**booking)]  # type: ignore[arg-type]


def test_embedded_envelope_decodes_to_the_same_request() -> None:
    for envelope in _envelopes():
        raw = envelope.to_json()
        request, _ = gather(RawEnvelope.from_json(raw), POLICY, seen_ms=123)
        embedded = ResolveRequest.from_json(request.to_json(envelope_json=raw))
        assert embedded == ResolveRequest.from_json(request.to_json())
        assert embedded == request
        assert json.loads(request.to_json(envelope_json=raw))["envelope"] == json.loads(raw)


def test_a_lone_surrogate_travels_as_it_arrived_and_the_resolver_says_why_it_refuses_it() -> None:
    """Our edge replaces a cut emoji with U+FFFD, but an envelope that still carries one (from an
    older edge or another adapter) is passed on by the extract stage as it arrived (re-encoding
    it as UTF-8 would fail; embedding the raw JSON does not).
    PostgreSQL cannot store a lone surrogate, so the resolver refuses the request as invalid,
    with the reason, instead of failing on it later."""
    envelope = _envelopes()[0]
    raw = json.dumps({**envelope.to_dict(), "text": "hi \ud83d"}, separators=(",", ":")).encode()
    request, _ = gather(RawEnvelope.from_json(raw), POLICY)
    wire = request.to_json(envelope_json=raw)
    assert json.loads(wire)["envelope"]["text"] == "hi \ud83d"
    with pytest.raises(InvalidMessage, match="lone surrogate"):
        ResolveRequest.from_json(wire)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda body: body.replace(b'"text":"STOP', b'"text":"ST\\u0000OP'), "NUL"),
        (lambda body: body.replace(b'"e164":"+19165551234"', b'"e164":"5551234"'), "E.164"),
        (lambda body: body.replace(b'"confidence":1.0', b'"confidence":7'), "confidence"),
        (lambda body: body.replace(b'"source":"attested"', b'"source":"rumour"'), "source"),
        (lambda body: body.replace(b'"name":"Ana"', b'"name":{"first":"Ana"}'), "customer.name"),
        (lambda body: body.replace(b'"evidence":[', b'"evidence":[7,'), "bad resolve request"),
        (lambda body: body[:-1], "not JSON"),
    ],
)
def test_a_request_that_breaks_the_contract_is_refused_with_the_reason(change: Any, reason: str) -> None:
    envelope = _envelopes()[0]
    raw = envelope.to_json()
    request, _ = gather(RawEnvelope.from_json(raw), POLICY)
    body = request.to_json(envelope_json=raw)
    changed = change(body)
    assert changed != body
    with pytest.raises(InvalidMessage, match=reason):
        ResolveRequest.from_json(changed)
