"""The outbound endpoint: the business's own sends, in the customer's thread, direction out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import fixture_bytes, make_harness, schema_errors, webhook_settings

KEY = {"Content-Type": "application/json", "X-Api-Key": webhook_settings().outbound_api_key}


@pytest.fixture
def h():
    return make_harness()


def report(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "channel": "sms",
        "provider": "twilio",
        "from": "+16505550143",
        "to": "+14155550132",
        "message_id": "SM9f708192a3b4c5d6e7f8a9b0c1d2e3f4",
        "text": "Yes! We do birthday parties. How many guests?",
        "sent_at": "2026-06-10T15:31:00Z",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_a_twilio_reply_is_an_out_message(h):
    response = h.send.post("outbound", fixture_bytes("outbound", "twilio_reply.json"), KEY)
    assert response.status_code == 202
    assert response.json() == {"status": "ok", "message_id": "SM9f708192a3b4c5d6e7f8a9b0c1d2e3f4"}
    (envelope,) = h.publisher.envelopes()
    assert (envelope.channel, envelope.provider, envelope.kind, envelope.direction) == (
        "sms",
        "twilio",
        "message",
        "out",
    )
    assert envelope.text == "Yes! We do birthday parties. How many guests?"
    assert envelope.customer.phone == "+14155550132"
    assert envelope.business.name == "My Hibachi"
    assert envelope.occurred_at == "2026-06-10T15:31:00.000Z"
    assert envelope.idempotency_key == "sms:SM9f708192a3b4c5d6e7f8a9b0c1d2e3f4"
    assert h.publisher.records[0].topic == "test.raw.sms"
    assert schema_errors(h.publisher.records[0].value) == []


# Each provider's inbound message, and a reply reported for the same conversation: the reply must
# land in the customer's thread (same thread key, so the same Kafka key and partition).
SAME_THREAD = [
    ("twilio", "sms.txt", report(**{"from": "+16505550143", "to": "+14155550132"})),
    (
        "twilio",
        "whatsapp.txt",
        report(channel="whatsapp", **{"from": "whatsapp:+14155238886", "to": "whatsapp:+14155550132"}),
    ),
    (
        "whatsapp",
        "text.json",
        report(
            channel="whatsapp",
            provider="meta",
            message_id="wamid.reply1",
            to_user_id="US.13491208655302741918",
            **{"from": "106540352242922", "to": "+16505551234"},
        ),
    ),
    (
        "messenger",
        "text.json",
        report(
            channel="messenger",
            provider="meta",
            message_id="m_reply1",
            **{"from": "109876543210987", "to": "6954325141259031"},
        ),
    ),
    (
        "instagram",
        "text.json",
        report(
            channel="instagram",
            provider="meta",
            message_id="ig_reply1",
            **{"from": "17841405793187218", "to": "1914086468819283"},
        ),
    ),
    (
        "ringcentral",
        "inbound.json",
        report(
            provider="ringcentral",
            message_id="606090030099",
            account="823476228762",
            conversation_id="7876416245344257449",
            **{"from": "+16508974563", "to": "+14157809227"},
        ),
    ),
]


@pytest.mark.parametrize(("provider", "fixture", "reply"), SAME_THREAD)
def test_the_reply_lands_in_the_customers_thread(h, provider, fixture, reply):
    if provider == "twilio":
        assert h.send.twilio_fixture(fixture).status_code == 200
    elif provider == "ringcentral":
        assert h.send.ringcentral_fixture(fixture).status_code == 200
    else:
        assert h.send.meta_fixture(provider, fixture).status_code == 200
    assert h.send.outbound(reply).status_code == 202, h.publisher.records
    inbound, out = h.publisher.envelopes()
    assert (inbound.direction, out.direction) == ("in", "out")
    assert out.thread_key == inbound.thread_key
    assert out.business_account == inbound.business_account
    assert out.customer.id == inbound.customer.id and out.customer.phone == inbound.customer.phone
    assert out.channel == inbound.channel
    first, second = h.publisher.records
    assert (first.topic, first.key) == (second.topic, second.key)


def test_a_later_status_callback_refers_to_the_reported_message(h):
    h.send.outbound(report())
    h.send.twilio_fixture("status_delivered.txt")
    sent, status = h.publisher.envelopes()
    assert status.kind == "status" and status.refers_to == sent.provider_message_id
    assert status.thread_key == sent.thread_key


def test_reporting_twice_publishes_the_same_idempotent_envelope(h):
    h.send.outbound(report())
    h.send.outbound(report())
    first, second = h.publisher.envelopes()
    assert first == second


def test_attachments_take_the_envelope_shape(h):
    h.send.outbound(
        report(text=None, attachments=[{"type": "image", "url": "https://cdn.example.com/m.jpg"}])
    )
    (envelope,) = h.publisher.envelopes()
    assert envelope.text is None
    assert envelope.attachments == ({"type": "image", "payload": {"url": "https://cdn.example.com/m.jpg"}},)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"provider": "telegram"}, "provider: one of twilio, meta, ringcentral"),
        ({"channel": "instagram"}, "channel: twilio reports one of sms, whatsapp, messenger"),
        (
            {"channel": "booking", "provider": "meta"},
            "channel: meta reports one of whatsapp, messenger, instagram",
        ),
        ({"to": None}, "message.to: missing"),
        ({"from": None}, "message.from: missing"),
        ({"message_id": None}, "message.message_id: missing"),
        ({"message_id": 12.5}, "message.message_id: not a string"),
        ({"text": None}, "text or attachments: a message needs one"),
        ({"text": 5}, "text: not a string"),
        ({"text": "x" * 9000}, "text: longer than 8192 characters"),
        ({"channel": "whatsapp"}, "to: a Twilio whatsapp address starts with whatsapp:"),
        ({"to": "whatsapp:+14155550132"}, "to: a Twilio sms address has no prefix"),
        (
            {"channel": "whatsapp", "provider": "meta", "to": "US.134912"},
            "to: a wa_id is digits (a BSUID goes in to_user_id)",
        ),
        ({"provider": "ringcentral"}, "message.account: missing"),
        ({"attachments": {"type": "image"}}, "attachments: not a list"),
        ({"attachments": [{"url": "x"}]}, "attachments[0].type: missing"),
        ({"attachments": ["x"]}, "attachments[0]: not an object"),
        ({"sender": ["x"]}, "sender: not a name of at most 200 characters"),
        ({"messageSid": "SM1"}, "unknown field(s): messageSid"),
    ],
)
def test_bad_reports_are_400_with_a_reason(h, fields, reason):
    response = h.send.outbound(report(**fields))
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert h.publisher.records == []


def test_a_body_that_is_not_an_object_is_400(h):
    response = h.send.post("outbound", b"[]", {"X-Api-Key": h.settings.outbound_api_key})
    assert (response.status_code, response.json()) == (400, {"error": "body is not a JSON object"})


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"X-Api-Key": "wrong"}, 403)])
def test_unauthenticated_or_forged(h, headers, status):
    response = h.send.post("outbound", json.dumps(report()).encode(), headers)
    assert response.status_code == status
    assert h.publisher.records == []


def test_the_booking_key_does_not_open_the_outbound_endpoint(h):
    assert h.send.outbound(report(), api_key=h.settings.booking_api_key).status_code == 403


def test_unconfigured_key_is_503():
    h = make_harness(outbound_api_key="")
    assert h.send.outbound(report(), api_key="x").status_code == 503


def test_the_raw_report_replays_to_the_same_envelope(h):
    from ingest.providers.outbound import map_report

    h.send.outbound(report())
    (envelope,) = h.publisher.envelopes()
    (again,) = map_report(envelope.raw, envelope.received_at).envelopes
    assert again == envelope
