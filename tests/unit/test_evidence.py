"""gather(): from a raw envelope to the phone evidence the resolver weighs (invariant 6)."""

from __future__ import annotations

from typing import Any

import pytest

from schema.envelopes import Booking, Party, RawEnvelope
from workers.domain.model import ConsentSignal
from workers.services.evidence import (
    ATTESTED_CONFIDENCE,
    FORM_CONFIDENCE,
    EvidencePolicy,
    gather,
)

BUSINESS = "+19165550000"
POLICY = EvidencePolicy.build("US", [BUSINESS, "(916) 555-0001", "not a number"])
WHEN = "2026-03-01T12:00:00.000Z"


def envelope(
    channel: str = "instagram",
    *,
    text: str | None = None,
    phone: str | None = None,
    provider: str | None = None,
    kind: str = "message",
    direction: str = "in",
    booking: Booking | None = None,
    status: str | None = None,
    user: str = "user-1",
    name: str | None = None,
) -> RawEnvelope:
    providers = {"sms": "twilio", "whatsapp": "meta", "booking": "booking_form"}
    fields: dict[str, Any] = {
        "channel": channel,
        "provider": provider or providers.get(channel, "meta"),
        "kind": kind,
        "direction": direction,
        "provider_message_id": "m-1",
        "thread_key": f"{channel}:acct:{user}",
        "business_account": "acct",
        "customer": Party(id=user, phone=phone, name=name),
        "occurred_at": WHEN,
        "received_at": WHEN,
        "text": text,
        "booking": booking,
        "status": status,
    }
    return RawEnvelope(**fields)


def test_business_numbers_are_canonical_and_bad_ones_skipped() -> None:
    assert POLICY.business_numbers == frozenset({"+19165550000", "+19165550001"})
    assert POLICY.region == "US"


# --- attested addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "provider", "address", "e164"),
    [
        ("sms", "twilio", "+19165551234", "+19165551234"),
        ("sms", "ringcentral", "+19165551234", "+19165551234"),
        ("whatsapp", "meta", "19165551234", "+19165551234"),
        # Brazil: the wa_id without the 9th digit is the same line as the number with it.
        ("whatsapp", "meta", "551187654321", "+5511987654321"),
        ("whatsapp", "meta", "5511987654321", "+5511987654321"),
        ("whatsapp", "twilio", "whatsapp:+551187654321", "+5511987654321"),
        ("whatsapp", "twilio", "whatsapp:+19165551234", "+19165551234"),
    ],
)
def test_attested_address_is_strong_evidence(channel: str, provider: str, address: str, e164: str) -> None:
    request, rejected = gather(envelope(channel, provider=provider, phone=address, text="hi"), POLICY)
    assert rejected == []
    (evidence,) = request.evidence
    assert evidence.e164 == e164
    assert evidence.address == address  # the routable form is kept beside the canonical number
    assert (evidence.source, evidence.confidence, evidence.rule) == (
        "attested",
        ATTESTED_CONFIDENCE,
        "provider_attested",
    )
    assert evidence.identifies_sender
    assert request.best == evidence


def test_attested_business_number_is_never_evidence() -> None:
    request, _ = gather(envelope("sms", phone=BUSINESS, text="test from our own line"), POLICY)
    assert request.evidence == ()
    assert request.best is None


def test_attested_address_that_is_no_number_is_rejected_with_a_reason() -> None:
    request, rejected = gather(envelope("sms", phone="+1234", text="hi"), POLICY)
    assert request.evidence == ()
    assert [r.source for r in rejected] == ["attested"]
    assert rejected[0].reason  # a reason, never the digits
    assert "1234" not in rejected[0].reason


def test_outbound_sms_keeps_the_recipients_attested_number() -> None:
    """Twilio reports our own sends with the customer in To: that address is still theirs."""
    request, _ = gather(
        envelope("sms", phone="+19165551234", direction="out", kind="status", status="delivered"), POLICY
    )
    assert [(e.e164, e.source) for e in request.evidence] == [("+19165551234", "attested")]


# --- booking form ----------------------------------------------------------------------------


def test_booking_phone_field_is_form_evidence() -> None:
    booking = Booking(name="Sarah Johnson", email="sarah@example.com", phone="(916) 555-1234", guests=4)
    request, _ = gather(envelope("booking", kind="booking", phone="(916) 555-1234", booking=booking), POLICY)
    (evidence,) = request.evidence  # the form field, not an "attested" copy of it
    assert (evidence.e164, evidence.address) == ("+19165551234", "(916) 555-1234")
    assert (evidence.source, evidence.confidence, evidence.rule) == (
        "form",
        FORM_CONFIDENCE,
        "booking_form_field",
    )


def test_booking_with_the_business_number_in_the_phone_field_is_no_evidence() -> None:
    booking = Booking(name="Test", phone="916-555-0000")
    request, _ = gather(envelope("booking", kind="booking", booking=booking), POLICY)
    assert request.evidence == ()


def test_booking_with_a_bad_phone_is_rejected() -> None:
    booking = Booking(name="Test", phone="12")
    request, rejected = gather(envelope("booking", kind="booking", booking=booking), POLICY)
    assert request.evidence == ()
    assert [r.source for r in rejected] == ["form"]


def test_booking_notes_are_read_as_text() -> None:
    booking = Booking(
        name="Sarah", phone="916-555-1234", notes="If I'm late call my husband at 916-555-9999 please"
    )
    request, _ = gather(envelope("booking", kind="booking", booking=booking), POLICY)
    by_phone = {e.e164: e for e in request.evidence}
    assert by_phone["+19165551234"].source == "form"
    husband = by_phone["+19165559999"]
    assert (husband.source, husband.owner) == ("text", "other_person")
    assert request.best is not None and request.best.e164 == "+19165551234"


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "low", "high"),
    [
        ("hi! my number is 916-555-1234", "text_self_cue", 0.9, 1.0),
        ("you can text me at (916) 555-1234 anytime", "text_self_cue", 0.9, 1.0),
        ("916 555 1234", "text_bare", 0.6, 0.89),
        ("9165551234", "text_bare", 0.6, 0.89),
    ],
)
def test_number_typed_by_the_customer(text: str, rule: str, low: float, high: float) -> None:
    request, _ = gather(envelope("instagram", text=text), POLICY)
    (evidence,) = request.evidence
    assert evidence.e164 == "+19165551234"
    assert (evidence.source, evidence.rule, evidence.owner) == ("text", rule, "sender")
    assert low <= evidence.confidence <= high
    assert evidence.span is not None
    start, end = evidence.span
    assert text[start:end] == evidence.address


def test_a_cue_is_stronger_than_a_bare_number() -> None:
    cued, _ = gather(envelope(text="my cell is 916-555-1234"), POLICY)
    bare, _ = gather(envelope(text="916-555-1234"), POLICY)
    assert cued.evidence[0].confidence > bare.evidence[0].confidence


def test_brazilian_number_in_text_is_canonical() -> None:
    request, _ = gather(envelope("messenger", text="meu número é +55 11 98765-4321"), POLICY)
    assert [e.e164 for e in request.evidence] == ["+5511987654321"]


@pytest.mark.parametrize(
    "text",
    [
        "my friend's number is 916-555-2222, she wants to book too",
        "my wife's number is 916-555-2222",
        "text my friend at 916-555-2222, he wants a table too",
    ],
)
def test_someone_elses_number_does_not_identify_the_sender(text: str) -> None:
    request, _ = gather(envelope(text=text), POLICY)
    (evidence,) = request.evidence
    assert evidence.e164 == "+19165552222"
    assert evidence.owner == "other_person"
    assert not evidence.identifies_sender
    assert request.sender_evidence == ()
    assert request.best is None


def test_own_and_wifes_number_in_one_message() -> None:
    request, _ = gather(envelope(text="my number is 916 555 1234 and my wife's is 916 555 4321"), POLICY)
    owners = {e.e164: e.owner for e in request.evidence}
    assert owners == {"+19165551234": "sender", "+19165554321": "other_person"}
    assert request.best is not None and request.best.e164 == "+19165551234"


@pytest.mark.parametrize(
    "text",
    [
        "Call us at 916-555-0000 to confirm",
        "I tried calling 916-555-0000 but nobody answered",
        "(916) 555-0001",
    ],
)
def test_business_number_in_inbound_text_belongs_to_the_business(text: str) -> None:
    request, _ = gather(envelope(text=text), POLICY)
    assert request.evidence, "the number is found, and attributed"
    assert all(e.owner == "business" for e in request.evidence)
    assert request.sender_evidence == ()


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for booking! Questions? Call 916-555-0000",
        "Our manager's cell is 916-555-8888 if you need anything",
        "See you Friday!\n--\nBella Cucina | 916-555-0000 | 916-555-7777",
        "Your table is confirmed. Reply here or text 916 555 7777",
    ],
)
def test_numbers_in_outbound_messages_never_identify_a_customer(text: str) -> None:
    request, _ = gather(envelope("instagram", text=text, direction="out"), POLICY)
    assert request.evidence, "the numbers are found"
    assert all(e.owner == "business" for e in request.evidence)
    assert request.sender_evidence == ()
    assert request.best is None


def test_status_and_deleted_messages_are_not_read_as_text() -> None:
    request, _ = gather(envelope(kind="deleted", text="my number is 916-555-1234"), POLICY)
    assert request.evidence == ()


def test_no_phone_no_evidence() -> None:
    request, rejected = gather(envelope(text="Hi! do you have a table for 4 on Friday?"), POLICY)
    assert (request.evidence, rejected, request.consent) == ((), [], None)


def test_seen_ms_is_carried() -> None:
    request, _ = gather(envelope(text="hi"), POLICY, seen_ms=1234)
    assert request.seen_ms == 1234


# --- consent ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "text", "expected"),
    [
        ("sms", "STOP", ConsentSignal("opted_out", "keyword", "STOP")),
        ("sms", "stop.", ConsentSignal("opted_out", "keyword", "STOP")),
        ("sms", "Unsubscribe", ConsentSignal("opted_out", "keyword", "UNSUBSCRIBE")),
        ("sms", "revoke", ConsentSignal("opted_out", "keyword", "REVOKE")),
        ("whatsapp", "opt out", ConsentSignal("opted_out", "keyword", "OPT OUT")),
        ("sms", "START", ConsentSignal("opted_in", "keyword", "START")),
        ("sms", "stop by tomorrow?", None),
        ("instagram", "STOP", None),
    ],
)
def test_consent_keywords(channel: str, text: str, expected: ConsentSignal | None) -> None:
    request, _ = gather(envelope(channel, text=text, phone="+19165551234"), POLICY)
    assert request.consent == expected
    if channel == "sms":
        assert request.best is not None and request.best.source == "attested"


def test_stop_sent_by_the_business_is_not_an_opt_out() -> None:
    request, _ = gather(envelope("sms", text="STOP", phone="+19165551234", direction="out"), POLICY)
    assert request.consent is None


def test_provider_opt_out_callback() -> None:
    request, _ = gather(envelope("sms", kind="consent", status="opted_out", phone="+19165551234"), POLICY)
    assert request.consent == ConsentSignal("opted_out", "provider")


def test_request_round_trips_through_json() -> None:
    request, _ = gather(envelope(text="my number is 916-555-1234, my wife's is 916-555-4321"), POLICY)
    from workers.domain.requests import ResolveRequest

    assert ResolveRequest.from_json(request.to_json()) == request
