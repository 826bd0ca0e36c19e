"""The booking form endpoint: API key or HMAC, validated fields, booking events."""

from __future__ import annotations

import json

import pytest

from tests.fakes import fixture_bytes, make_harness, schema_errors


@pytest.fixture
def h():
    return make_harness()


def only(h):
    envelopes = h.publisher.envelopes()
    assert len(envelopes) == 1
    return envelopes[0]


def test_booking_with_api_key(h):
    response = h.send.booking(fixture_bytes("booking", "booking.json"))
    assert response.status_code == 202
    body = response.json()
    assert body == {"status": "ok", "booking_id": "web-2026-000123", "version": body["version"]}
    assert len(body["version"]) == 16
    envelope = only(h)
    assert (envelope.channel, envelope.provider, envelope.kind, envelope.direction) == (
        "booking",
        "booking_form",
        "booking",
        "in",
    )
    assert envelope.booking is not None
    assert envelope.booking.name == "Ana López"
    assert envelope.booking.email == "ana.lopez@example.com"
    assert envelope.booking.phone == "(916) 555-0142"  # as typed
    assert envelope.booking.guests == 4
    assert envelope.booking.date == "2026-07-01T19:30"
    assert envelope.booking.total == "180.00"
    assert envelope.booking.notes == "Window seat if possible 🙂"
    assert envelope.customer.phone == "(916) 555-0142"
    assert envelope.customer.email == "ana.lopez@example.com"
    assert envelope.occurred_at == "2026-06-20T10:00:00.000Z"
    assert envelope.thread_key == "booking:website:web-2026-000123"
    assert envelope.provider_message_id == "web-2026-000123#" + body["version"]
    assert h.publisher.records[0].topic == "test.raw.booking"
    assert schema_errors(h.publisher.records[0].value) == []


def test_booking_with_hmac(h):
    response = h.send.booking(fixture_bytes("booking", "booking.json"), hmac_key=h.settings.booking_api_key)
    assert response.status_code == 202


def test_minimal_booking_gets_a_content_id_stable_across_resubmits(h):
    body = fixture_bytes("booking", "booking_minimal.json")
    h.send.booking(body)
    reformatted = json.dumps(json.loads(body), indent=4).encode()
    h.send.booking(reformatted)
    first, second = h.publisher.envelopes()
    assert first.provider_message_id.startswith("sha256:")
    assert first.provider_message_id == second.provider_message_id
    assert first.booking.guests == 2
    assert first.booking.phone == "916.555.0142"


def test_a_changed_booking_is_a_new_version_of_the_same_booking(h):
    form = json.loads(fixture_bytes("booking", "booking.json"))
    first = h.send.booking(json.dumps(form).encode()).json()
    again = h.send.booking(json.dumps(form, indent=2).encode()).json()  # a redelivery
    changed = {**form, "guests": 6, "updated_at": "2026-06-21T09:00:00Z"}
    update = h.send.booking(json.dumps(changed).encode()).json()
    assert first == again
    assert update["booking_id"] == first["booking_id"] and update["version"] != first["version"]
    v1, v1_again, v2 = h.publisher.envelopes()
    assert v1 == v1_again  # same content, same idempotency key: a no-op downstream
    assert v2.idempotency_key != v1.idempotency_key
    assert v2.thread_key == v1.thread_key  # one booking: its versions share its thread
    assert v1.occurred_at == "2026-06-20T10:00:00.000Z"
    assert v2.occurred_at == "2026-06-21T09:00:00.000Z"  # the version's own time orders it


@pytest.mark.parametrize(
    ("message_id", "parts"),
    [
        ("web-1#0123456789abcdef", ("web-1", "0123456789abcdef")),
        ("a#b#0123456789abcdef", ("a#b", "0123456789abcdef")),
        ("sha256:" + "0" * 32, ("sha256:" + "0" * 32, None)),
        ("legacy-id", ("legacy-id", None)),
    ],
)
def test_booking_version_splits_a_message_id(message_id, parts):
    from ingest.providers.booking import booking_version

    assert booking_version(message_id) == parts


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-Api-Key": "wrong"}, 403),
        ({"X-Signature-256": "sha256=" + "0" * 64}, 403),
        ({"X-Api-Key": "booking-test-api-key", "X-Signature-256": "sha256=00"}, 403),
    ],
)
def test_unauthenticated_or_forged(h, headers, status):
    response = h.send.post("booking", fixture_bytes("booking", "booking.json"), headers)
    assert response.status_code == status
    assert "error" in response.json()
    assert h.publisher.records == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"guests": 2}, "one of name, email or phone is required"),
        ({"phone": 9165550142}, "phone: not a string"),
        ({"phone": "1", "guests": -1}, "guests: not a whole number between 0 and 100000"),
        ({"phone": "1", "guests": True}, "guests: not a whole number between 0 and 100000"),
        ({"phone": "1", "guests": "²"}, "guests: not a whole number between 0 and 100000"),
        ({"phone": "1", "total": [1]}, "total: not a number or a string"),
        ({"phone": "1", "notes": "x" * 5000}, "notes: longer than 4000 characters"),
        ([], "body is not a JSON object"),
    ],
)
def test_invalid_bookings_are_400(h, payload, reason):
    response = h.send.booking(json.dumps(payload).encode())
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert h.publisher.records == []


def test_numeric_total_is_kept_as_text(h):
    h.send.booking(json.dumps({"email": "a@example.com", "total": 49.5}).encode())
    assert only(h).booking.total == "49.5"


def test_unconfigured_key_is_503():
    h = make_harness(booking_api_key="")
    assert h.send.booking(fixture_bytes("booking", "booking.json"), api_key="").status_code == 503


def test_broker_down_is_503(h):
    h.publisher.down = True
    assert h.send.booking(fixture_bytes("booking", "booking.json")).status_code == 503


AGREED = "I agree to receive booking texts from Cafe Rosa. Msg & data rates may apply. Reply STOP to opt out."


def test_an_opt_in_given_with_the_form_travels_with_the_booking(h):
    body = {**json.loads(fixture_bytes("booking", "booking.json")), "consent": True, "consent_text": AGREED}
    assert h.send.booking(json.dumps(body).encode()).status_code == 202
    booking = only(h).booking
    # The exact text (not trimmed), when (the submit time unless given), for SMS unless told.
    assert (booking.consent_text, booking.consent_at, booking.consent_channels) == (
        AGREED,
        "2026-06-20T10:00:00.000Z",
        ("sms",),
    )
    assert schema_errors(h.publisher.records[0].value) == []

    body.update(
        id="web-2", consent_at="2026-06-20T09:58:00+02:00", consent_channels=["sms", "whatsapp", "sms"]
    )
    h.send.booking(json.dumps(body).encode())
    second = h.publisher.envelopes()[-1].booking
    assert (second.consent_at, second.consent_channels) == ("2026-06-20T07:58:00.000Z", ("sms", "whatsapp"))
    assert schema_errors(h.publisher.records[-1].value) == []


@pytest.mark.parametrize("given", [False, None])
def test_an_unticked_box_records_nothing(h, given):
    body = {"phone": "916 555 0142", "consent": given, "consent_text": AGREED}
    h.send.booking(json.dumps(body).encode())
    booking = only(h).booking
    assert (booking.consent_text, booking.consent_at, booking.consent_channels) == (None, None, ())


@pytest.mark.parametrize(
    ("consent", "reason"),
    [
        ({"consent": "yes", "consent_text": AGREED}, "consent: true or false"),
        ({"consent": True}, "consent_text: the exact text the customer agreed to is required with consent"),
        (
            {"consent": True, "consent_text": "  "},
            "consent_text: the exact text the customer agreed to is required with consent",
        ),
        (
            {"consent": True, "consent_text": AGREED, "consent_channels": ["fax"]},
            "consent_channels: a list of sms, whatsapp, messenger, instagram",
        ),
        (
            {"consent": True, "consent_text": AGREED, "consent_channels": []},
            "consent_channels: a list of sms, whatsapp, messenger, instagram",
        ),
    ],
)
def test_a_malformed_opt_in_is_400(h, consent, reason):
    response = h.send.booking(json.dumps({"phone": "916 555 0142", **consent}).encode())
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert h.publisher.records == []
