"""The resolve request may embed its envelope's raw-topic JSON as it is: same request decoded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.envelopes import Booking, Party, RawEnvelope
from schema.invalid import InvalidMessage
from workers.domain.requests import ResolveRequest, text_storable
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


# Where a string may sit in a request: text the resolver stores, and the provider's own payload
# (`raw`), which it does not store and so does not check.
PLACES = [
    ("envelope", "text"),
    ("envelope", "customer", "name"),
    ("envelope", "business", "id"),
    ("envelope", "booking", "notes"),
    ("envelope", "attachments", 0, "url"),
    ("envelope", "raw", "Body"),
    ("evidence", 0, "address"),
    ("consent", "keyword"),
]
# What matters to the scan: NUL, lone surrogates high and low, a Hangul syllable (whose UTF-8
# starts with the byte a surrogate's would), a backslash and text that looks like an escape.
tricky = st.sampled_from(["\x00", "\ud83d", "\udc00", "\ud7a3", "\\", "\\u0000", "é", "\U0001f600"])
texts = st.lists(tricky | st.text(max_size=3), max_size=4).map("".join)


def _outcome(decode: Any) -> object:
    try:
        return decode()
    except InvalidMessage as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=300)
@given(
    text=texts,
    place=st.sampled_from(PLACES),
    ascii_only=st.booleans(),
    booking=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-32-le"]),
)
def test_the_scan_of_the_whole_text_decides_as_the_field_by_field_scan(
    text: str, place: tuple[Any, ...], ascii_only: bool, booking: bool, encoding: str
) -> None:
    """The resolver skips scanning each field for what PostgreSQL cannot store when the message's
    JSON text shows none of it at all: the request, or the dead-letter reason, is the same as
    with the field-by-field scan, whichever way the JSON was written (escapes, or surrogates
    passed through as another encoder may write them, in any encoding json.loads reads)."""
    envelope = _envelopes()[1 if booking else 0]
    request, _ = gather(envelope, POLICY)
    wire = json.loads(request.to_json())
    wire["consent"] = wire["consent"] or {"status": "opted_out", "source": "keyword", "keyword": "STOP"}
    wire["envelope"]["booking"] = wire["envelope"]["booking"] or {"name": "Ana"}
    wire["evidence"] = wire["evidence"] or [
        {"e164": "+19165551234", "address": "x", "source": "text", "confidence": 0.5, "rule": "r"}
    ]
    *path, last = place
    target = wire
    for step in path:
        target = target[step]
    target[last] = text
    raw = json.dumps(wire, ensure_ascii=ascii_only).encode(encoding, "surrogatepass")
    fast = _outcome(lambda: ResolveRequest.from_json(raw))
    field_by_field = _outcome(lambda: ResolveRequest.from_dict(json.loads(raw)))
    assert fast == field_by_field


def test_the_usual_message_is_known_storable_from_its_text() -> None:
    """Without a NUL, an escape or a surrogate's bytes anywhere, the fields are not scanned."""
    for envelope in _envelopes():
        request, _ = gather(envelope, POLICY)
        assert text_storable(request.to_json(envelope_json=envelope.to_json()))
    assert not text_storable(b'{"text":"a\\u0000b"}')
    assert not text_storable('{"text":"a"}')  # only bytes say how they were decoded
