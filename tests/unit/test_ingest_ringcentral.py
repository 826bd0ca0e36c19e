"""RingCentral message-store instant SMS events: handshake, verification token, direction."""

from __future__ import annotations

import json

import pytest

from tests.fakes import PATHS, fixture_bytes, fixture_json, make_harness, schema_errors

CUSTOMER = "+14157809227"
LINE = "+16508974563"


@pytest.fixture
def h():
    return make_harness()


def only(h):
    envelopes = h.publisher.envelopes()
    assert len(envelopes) == 1
    return envelopes[0]


def test_validation_handshake_echoes_the_token(h):
    response = h.client.post("/webhooks/ringcentral/sms", headers={"Validation-Token": "b6f5a3c4-1d2e-4f5a"})
    assert response.status_code == 200
    assert response.headers["validation-token"] == "b6f5a3c4-1d2e-4f5a"
    assert response.headers["content-type"].startswith("application/json")
    assert response.content == b""
    assert h.publisher.records == []
    assert h.requests_total("ringcentral", "handshake") == 1


def test_handshake_token_that_could_inject_headers_is_400(h):
    response = h.client.post("/webhooks/ringcentral/sms", headers={"Validation-Token": "a b"})
    assert response.status_code == 400


def test_inbound_sms(h):
    response = h.send.ringcentral_fixture("inbound.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    envelope = only(h)
    assert (envelope.channel, envelope.provider, envelope.kind, envelope.direction) == (
        "sms",
        "ringcentral",
        "message",
        "in",
    )
    assert envelope.provider_message_id == "606090030016"
    assert envelope.thread_key == "ringcentral:conversation:7876416245344257449"  # kept as a string
    assert envelope.business_account == "823476228762"
    assert envelope.customer.phone == CUSTOMER
    assert envelope.customer.name == "John Smith"
    assert envelope.business.phone == LINE
    assert envelope.text == "Hi there, do you deliver?"
    assert envelope.attachments == ()  # the Text attachment only repeats the subject
    assert envelope.occurred_at == "2026-06-10T15:29:58.000Z"
    assert envelope.raw == fixture_json("ringcentral", "inbound.json")
    assert schema_errors(h.publisher.records[0].value) == []


def test_phone_in_text(h):
    h.send.ringcentral_fixture("inbound_phone.json")
    assert only(h).text == "my other number is 415-555-0123"


def test_unicode_text(h):
    h.send.ringcentral_fixture("inbound_unicode.json")
    assert only(h).text == "¿Tienen mesa para dos? 😊 Grüße"


def test_outbound_record_is_direction_out_with_the_recipient_as_customer(h):
    h.send.ringcentral_fixture("outbound.json")
    envelope = only(h)
    assert envelope.direction == "out"
    assert envelope.customer.phone == CUSTOMER
    assert envelope.business.phone == LINE


@pytest.mark.parametrize("name", ["mms_no_subject.json", "mms_empty_subject.json"])
def test_media_only(h, name):
    h.send.ringcentral_fixture(name)
    envelope = only(h)
    assert envelope.text is None
    assert envelope.attachments[0]["type"] == "image"


def test_thread_without_a_conversation_id_uses_extension_and_sender(h):
    payload = fixture_json("ringcentral", "inbound.json")
    del payload["body"]["conversationId"]
    h.send.ringcentral(json.dumps(payload).encode())
    assert only(h).thread_key == f"ringcentral:823476228762:{CUSTOMER}"


def test_change_counts_are_acknowledged_and_counted(h):
    response = h.send.ringcentral_fixture("message_store_changes.json")
    assert response.status_code == 200
    assert h.publisher.records == []
    assert h.requests_total("ringcentral", "ignored") == 1


def test_other_message_types_are_acknowledged_and_counted(h):
    payload = fixture_json("ringcentral", "inbound.json")
    payload["body"]["type"] = "VoiceMail"
    assert h.send.ringcentral(json.dumps(payload).encode()).status_code == 200
    assert h.publisher.records == []
    assert h.messages_total("ringcentral", "sms", "ignored") == 1


def test_missing_verification_token_is_401(h):
    response = h.client.post(
        "/webhooks/ringcentral/sms", content=fixture_bytes("ringcentral", "inbound.json")
    )
    assert response.status_code == 401
    assert h.publisher.records == []


def test_wrong_verification_token_is_403(h):
    assert h.send.ringcentral_fixture("inbound.json", token="guess").status_code == 403
    assert h.publisher.records == []


def test_without_a_configured_token_the_endpoint_fails_closed():
    """An unsigned (forged) notification must never be published because a secret is missing:
    503 (RingCentral retries), handshake included, nothing published."""
    h = make_harness(ringcentral_verification_token="")
    response = h.send.ringcentral_fixture("inbound.json", token="")
    assert response.status_code == 503
    assert "not configured" in response.json()["error"]
    handshake = h.client.post(PATHS["ringcentral"], content=b"", headers={"Validation-Token": "abc"})
    assert handshake.status_code == 503
    assert h.publisher.records == []


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p.pop("body"), "notification.body: missing"),
        (lambda p: p.pop("event"), "event: missing"),
        (lambda p: p["body"].pop("id"), "body.id: missing"),
        (lambda p: p["body"].pop("type"), "body.type: missing"),
        (lambda p: p["body"].update({"direction": "Sideways"}), "body.direction: not Inbound or Outbound"),
        (lambda p: p["body"]["from"].pop("phoneNumber"), "body.from: no phoneNumber"),
        (lambda p: p["body"].update({"to": "x"}), "body.to: not a list"),
    ],
)
def test_malformed_is_400_with_a_reason(h, mutate, reason):
    payload = fixture_json("ringcentral", "inbound.json")
    mutate(payload)
    response = h.send.ringcentral(json.dumps(payload).encode())
    assert response.status_code == 400
    assert response.json() == {"error": reason}


def test_broker_down_is_503(h):
    h.publisher.down = True
    assert h.send.ringcentral_fixture("inbound.json").status_code == 503
