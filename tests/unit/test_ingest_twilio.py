"""Twilio SMS/MMS/WhatsApp webhooks and status callbacks through the HTTP app."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, urlencode

import pytest

from ingest.providers.twilio import TWIML_EMPTY
from phoneunify.privacy import thread_key_hash
from tests.fakes import RECEIVED_AT, fixture_bytes, make_harness, schema_errors, twilio_signature

BUSINESS = "+16505550143"
CUSTOMER = "+14155550132"


@pytest.fixture
def h():
    return make_harness()


def only(h):
    envelopes = h.publisher.envelopes()
    assert len(envelopes) == 1
    return envelopes[0]


def test_plain_sms(h):
    response = h.send.twilio_fixture("sms.txt")
    assert response.status_code == 200
    assert response.content == TWIML_EMPTY
    assert response.headers["content-type"].startswith("text/xml")
    envelope = only(h)
    assert envelope.channel == "sms"
    assert envelope.provider == "twilio"
    assert (envelope.kind, envelope.direction) == ("message", "in")
    assert envelope.provider_message_id == "SM3f1a2b4c5d6e7f8091a2b3c4d5e6f7a8"
    assert envelope.thread_key == f"twilio:{BUSINESS}:{CUSTOMER}"
    assert envelope.business_account == BUSINESS
    assert envelope.customer.phone == CUSTOMER
    assert envelope.customer.id == CUSTOMER
    assert envelope.business.phone == BUSINESS
    assert envelope.text == "Hi, is the patio open tonight?"
    assert envelope.occurred_at == envelope.received_at == RECEIVED_AT  # Twilio sends no timestamp
    assert envelope.raw == dict(
        parse_qsl(fixture_bytes("twilio", "sms.txt").decode(), keep_blank_values=True)
    )
    record = h.publisher.records[0]
    assert record.topic == "test.raw.sms"
    assert record.key == thread_key_hash(envelope.thread_key, h.settings.phone_hash_key)
    assert CUSTOMER not in record.key
    assert schema_errors(record.value) == []
    assert h.requests_total("twilio", "accepted") == 1
    assert h.messages_total("twilio", "sms", "message") == 1


def test_phone_in_text_is_left_alone(h):
    h.send.twilio_fixture("sms_phone.txt")
    envelope = only(h)
    assert envelope.text == "New number: call my wife at 415 555 0199"
    assert envelope.customer.phone == CUSTOMER


def test_non_ascii_and_emoji_text(h):
    assert h.send.twilio_fixture("sms_unicode.txt").status_code == 200
    assert only(h).text == "¡Hola! ¿Tienen mesa para mañana? 😊🇪🇸"


@pytest.mark.parametrize("name", ["mms_empty_body.txt", "mms_no_body.txt"])
def test_media_only(h, name):
    assert h.send.twilio_fixture(name).status_code == 200
    envelope = only(h)
    assert envelope.kind == "message"
    assert envelope.text is None
    assert len(envelope.attachments) == 1
    assert envelope.attachments[0]["type"] == "image"
    assert envelope.attachments[0]["payload"]["content_type"] == "image/jpeg"
    assert envelope.attachments[0]["payload"]["url"].startswith("https://api.twilio.com/")
    assert envelope.provider_message_id.startswith("MM")


def test_status_callback_is_a_status_about_our_send(h):
    assert h.send.twilio_fixture("status_delivered.txt").status_code == 200
    envelope = only(h)
    assert (envelope.kind, envelope.direction, envelope.status) == ("status", "out", "delivered")
    assert envelope.text is None
    assert envelope.provider_message_id == "status:SM9f708192a3b4c5d6e7f8a9b0c1d2e3f4:delivered"
    assert envelope.refers_to == "SM9f708192a3b4c5d6e7f8a9b0c1d2e3f4"  # attaches to our send
    # the customer is To on a callback about our own message; the thread is the same as inbound
    assert envelope.customer.phone == CUSTOMER
    assert envelope.thread_key == f"twilio:{BUSINESS}:{CUSTOMER}"
    assert h.messages_total("twilio", "sms", "status") == 1


def test_whatsapp_through_twilio(h):
    assert h.send.twilio_fixture("whatsapp.txt").status_code == 200
    envelope = only(h)
    assert envelope.channel == "whatsapp"
    assert envelope.customer.phone == "whatsapp:+14155550132"  # raw, as sent
    assert envelope.customer.name == "Ana López"
    assert envelope.thread_key == "twilio:whatsapp:+14155238886:whatsapp:+14155550132"
    assert h.publisher.records[0].topic == "test.raw.whatsapp"


def test_stop_is_a_message_and_a_consent_event(h):
    assert h.send.twilio_fixture("stop.txt").status_code == 200
    message, consent = h.publisher.envelopes()
    assert message.text == "STOP"
    assert (consent.kind, consent.status) == ("consent", "opt_out")
    assert consent.provider_message_id == f"consent:{message.provider_message_id}"
    assert len(h.publisher.batches) == 1


def test_redelivery_publishes_the_same_idempotent_envelope(h):
    h.send.twilio_fixture("sms.txt")
    h.send.twilio_fixture("sms.txt")
    first, second = h.publisher.records
    assert first == second


def test_missing_signature_is_401(h):
    body = fixture_bytes("twilio", "sms.txt")
    response = h.client.post(
        "/webhooks/twilio/sms", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "missing X-Twilio-Signature"}
    assert h.publisher.records == []
    assert h.requests_total("twilio", "unauthorized") == 1


def test_forged_signature_is_403(h):
    response = h.send.twilio_fixture("sms.txt", token="not-the-auth-token")
    assert response.status_code == 403
    assert "error" in response.json()
    assert h.publisher.records == []
    assert h.requests_total("twilio", "forbidden") == 1


def test_tampered_body_is_403(h):
    body = fixture_bytes("twilio", "sms.txt")
    url = h.settings.public_base_url + "/webhooks/twilio/sms"
    signature = twilio_signature(
        h.settings.twilio_auth_token, url, parse_qsl(body.decode(), keep_blank_values=True)
    )
    tampered = body.replace(b"patio", b"bar")
    assert h.send.twilio(tampered, signature=signature).status_code == 403
    assert h.publisher.records == []


def test_signature_uses_the_configured_public_url_not_the_one_we_see(h):
    # Behind a proxy the app sees http://testserver; Twilio signed the public https URL.
    response = h.send.twilio_fixture("sms.txt", url="http://testserver/webhooks/twilio/sms")
    assert response.status_code == 403


def test_public_url_with_a_path_prefix_and_default_port():
    h = make_harness(public_base_url="https://edge.example.com/ingest/")
    signed = "https://edge.example.com:443/ingest/webhooks/twilio/sms"
    assert h.send.twilio_fixture("sms.txt", url=signed).status_code == 200


def test_query_string_is_part_of_the_signed_url(h):
    assert h.send.twilio_fixture("sms.txt", query="tenant=a&x=1").status_code == 200
    unsigned_query = h.settings.public_base_url + "/webhooks/twilio/sms"
    response = h.send.twilio_fixture("sms.txt", query="tenant=a&x=1", url=unsigned_query)
    assert response.status_code == 403


def test_json_body_with_body_sha256(h):
    body = json.dumps(
        {"MessageSid": "SM" + "1" * 32, "From": CUSTOMER, "To": BUSINESS, "Body": "json hi"}
    ).encode()
    query = urlencode({"bodySHA256": hashlib.sha256(body).hexdigest()})
    url = f"{h.settings.public_base_url}/webhooks/twilio/sms?{query}"
    signature = twilio_signature(h.settings.twilio_auth_token, url, [])
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": signature}
    response = h.client.post(f"/webhooks/twilio/sms?{query}", content=body, headers=headers)
    assert response.status_code == 200
    assert only(h).text == "json hi"
    forged = h.client.post(f"/webhooks/twilio/sms?{query}", content=body + b" ", headers=headers)
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"From=%2B14155550132&To=%2B16505550143&Body=hi", "MessageSid: missing"),
        (b"MessageSid=SM1&To=%2B16505550143&Body=hi", "From: missing"),
        (b"MessageSid=SM1&From=%2B14155550132&Body=hi", "To: missing"),
    ],
)
def test_signed_but_incomplete_is_400_with_a_reason(h, body, reason):
    response = h.send.twilio(body)
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert h.publisher.records == []
    assert h.requests_total("twilio", "malformed") == 1


def test_messaging_service_stands_in_for_a_missing_to(h):
    body = b"MessageSid=SM1&From=%2B14155550132&MessagingServiceSid=MG1&Body=hi"
    assert h.send.twilio(body).status_code == 200
    assert only(h).thread_key == f"twilio:MG1:{CUSTOMER}"


def test_non_utf8_body_is_400(h):
    headers = {"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"}
    response = h.client.post("/webhooks/twilio/sms", content=b"Body=\xff\xfe", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "form body is not UTF-8"}


def test_broker_down_is_503_and_the_provider_retries(h):
    h.publisher.down = True
    response = h.send.twilio_fixture("sms.txt")
    assert response.status_code == 503
    assert response.json()["error"].startswith("broker unavailable")
    assert response.headers["retry-after"]
    assert h.requests_total("twilio", "unavailable") == 1
    h.publisher.down = False
    assert h.send.twilio_fixture("sms.txt").status_code == 200


def test_unconfigured_auth_token_is_503_not_accepted():
    h = make_harness(twilio_auth_token="")
    response = h.send.twilio_fixture("sms.txt", token="")
    assert response.status_code == 503
    assert h.publisher.records == []
    assert h.requests_total("twilio", "not_configured") == 1


def test_get_is_405_with_a_json_error(h):
    response = h.client.get("/webhooks/twilio/sms")
    assert response.status_code == 405
    assert "error" in response.json()
