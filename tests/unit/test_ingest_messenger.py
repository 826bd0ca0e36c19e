"""Messenger webhooks (object "page") through the HTTP app, plus what all Meta endpoints share:
the hub.challenge handshake and X-Hub-Signature-256 over the raw body."""

from __future__ import annotations

import json

import pytest

from ingest.providers import meta
from tests.fakes import RECEIVED_AT, fixture_bytes, fixture_json, make_harness, meta_signature, schema_errors

PAGE = "109876543210987"
PSID = "6954325141259031"


@pytest.fixture
def h():
    return make_harness()


def only(h):
    envelopes = h.publisher.envelopes()
    assert len(envelopes) == 1
    return envelopes[0]


def test_plain_text(h):
    response = h.send.meta_fixture("messenger", "text.json")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "published": 1, "ignored": 0}
    envelope = only(h)
    assert (envelope.channel, envelope.provider, envelope.kind, envelope.direction) == (
        "messenger",
        "meta",
        "message",
        "in",
    )
    assert envelope.provider_message_id.startswith("m_1Vq6")
    assert envelope.thread_key == f"messenger:{PAGE}:{PSID}"
    assert envelope.customer.id == PSID
    assert envelope.customer.phone is None
    assert envelope.business.id == PAGE
    assert envelope.business_account == PAGE
    assert envelope.text == "Hi! Do you have a table for 4 tonight?"
    assert envelope.occurred_at == "2024-06-10T06:13:20.045Z"  # the event's ms timestamp
    assert envelope.received_at == RECEIVED_AT
    assert h.publisher.records[0].topic == "test.raw.messenger"
    assert schema_errors(h.publisher.records[0].value) == []


def test_phone_in_text_is_kept_verbatim(h):
    h.send.meta_fixture("messenger", "text_with_phone.json")
    envelope = only(h)
    assert envelope.text == "You can text me at (916) 555-0142 after 5pm"
    assert envelope.customer.phone is None  # no extraction at the edge


def test_spanish_and_emoji_signed_over_the_escaped_bytes(h):
    body = fixture_bytes("messenger", "spanish_emoji.json")
    assert b"\\u00f1" in body and b"\\ud83d\\ude0a" in body and b"\\/" in body
    assert h.send.meta("messenger", body).status_code == 200
    assert only(h).text == (
        "¡Hola! ¿Tienen mesa para mañana? Mi número es +34 612 34 56 78 😊 https://example.com/menú"
    )


def test_reserialised_json_no_longer_matches_the_signature(h):
    body = fixture_bytes("messenger", "spanish_emoji.json")
    reserialised = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    signature = meta_signature(h.settings.meta_app_secret, body)
    assert h.send.meta("messenger", reserialised, signature=signature).status_code == 403
    assert h.publisher.records == []


def test_echo_is_outbound_and_keeps_the_customer_as_customer(h):
    assert h.send.meta_fixture("messenger", "echo.json").status_code == 200
    envelope = only(h)
    assert envelope.direction == "out"
    assert envelope.customer.id == PSID  # the recipient of the echo
    assert envelope.business.id == PAGE
    assert envelope.thread_key == f"messenger:{PAGE}:{PSID}"
    assert envelope.raw["entry"][0]["messaging"][0]["message"]["app_id"] == 1517776481860111


def test_an_unsend_is_mapped_as_on_instagram(h):
    """The Messenger Platform documents no unsend event; an `is_deleted` message, should one
    arrive, is the same deleted event as Instagram's (one mapping serves both products)."""
    payload = fixture_json("messenger", "text.json")
    message = payload["entry"][0]["messaging"][0]["message"]
    payload["entry"][0]["messaging"][0]["message"] = {"mid": message["mid"], "is_deleted": True}
    h.send.meta("messenger", json.dumps(payload).encode())
    envelope = only(h)
    assert (envelope.kind, envelope.text, envelope.refers_to) == ("deleted", None, message["mid"])
    assert envelope.provider_message_id == f"deleted:{message['mid']}"


def test_media_only(h):
    h.send.meta_fixture("messenger", "media_only.json")
    envelope = only(h)
    assert envelope.text is None
    assert envelope.attachments[0]["type"] == "image"
    assert envelope.attachments[0]["payload"]["url"].startswith("https://scontent.xx.fbcdn.net/")


def test_delivery_is_a_status_not_text(h):
    h.send.meta_fixture("messenger", "delivery.json")
    envelope = only(h)
    assert (envelope.kind, envelope.status, envelope.text) == ("status", "delivered", None)
    assert envelope.provider_message_id == f"status:{PAGE}:{PSID}:delivered:1718000100000"
    assert envelope.customer.id == PSID
    # the receipt names one message: it is about that one
    assert envelope.refers_to == "m_Echo3Hd8Jf5Gs0Ea2Tu7Io4Kp9Zx1Cv6Bn3Mq8Wr5LyPx4Lm7Rt2Wq9Yk1Vb6Nc"


def test_read_is_a_status(h):
    h.send.meta_fixture("messenger", "read.json")
    envelope = only(h)
    assert (envelope.kind, envelope.status) == ("status", "read")
    assert envelope.provider_message_id == f"status:{PAGE}:{PSID}:read:1718000190000"
    assert envelope.refers_to is None  # a watermark covers many messages, names none


def test_standby_events_are_ingested_too(h):
    h.send.meta_fixture("messenger", "standby.json")
    assert only(h).text == "Is anyone there?"


def test_unknown_event_is_acknowledged_and_counted(h):
    response = h.send.meta_fixture("messenger", "reaction.json")
    assert response.status_code == 200
    assert response.json()["ignored"] == 1
    assert h.publisher.records == []
    assert h.requests_total("messenger", "ignored") == 1
    assert h.messages_total("messenger", "messenger", "ignored") == 1


def test_batch_is_split_and_published_in_one_acknowledged_call(h):
    response = h.send.meta_fixture("messenger", "batch.json")
    assert response.json() == {"status": "ok", "published": 3, "ignored": 1}
    assert len(h.publisher.batches) == 1
    first, second, delivery = h.publisher.envelopes()
    assert first.text == "First message"
    assert second.customer.id == "7120448321905516"
    assert delivery.kind == "status"
    assert {e.provider_message_id for e in (first, second, delivery)} == {
        first.provider_message_id,
        second.provider_message_id,
        delivery.provider_message_id,
    }
    # each envelope keeps only its own event, so replaying raw gives that envelope back
    for envelope in (first, second, delivery):
        assert len(envelope.raw["entry"]) == 1
        assert meta.map_payload(envelope.raw, RECEIVED_AT).envelopes == (envelope,)


@pytest.mark.parametrize("product", ["messenger", "instagram", "whatsapp"])
def test_handshake_echoes_the_challenge(h, product):
    response = h.send.meta_verify(product, "verify_get.json")
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")
    assert h.requests_total(product, "handshake") == 1


@pytest.mark.parametrize("product", ["messenger", "instagram", "whatsapp"])
def test_handshake_with_the_wrong_token_is_403(h, product):
    response = h.send.meta_verify(product, "verify_get_wrong_token.json")
    assert response.status_code == 403
    assert response.json() == {"error": "hub.verify_token does not match"}


def test_handshake_accepts_php_style_names(h):
    params = {k.replace(".", "_"): v for k, v in fixture_json("messenger", "verify_get.json").items()}
    response = h.client.get("/webhooks/meta/messenger", params=params)
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"hub.mode": "unsubscribe", "hub.verify_token": "meatyhamhock", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock"},
        {"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock", "hub.challenge": "9" * 300},
    ],
)
def test_malformed_handshake_is_400(h, params):
    assert h.client.get("/webhooks/meta/messenger", params=params).status_code == 400


def test_handshake_without_a_configured_token_never_succeeds():
    h = make_harness(meta_verify_token="")
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert h.client.get("/webhooks/meta/messenger", params=params).status_code == 503


def test_missing_signature_is_401(h):
    body = fixture_bytes("messenger", "text.json")
    response = h.client.post(
        "/webhooks/meta/messenger", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "missing X-Hub-Signature-256"}
    assert h.publisher.records == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "wrong-secret"},
        {"secret": "instagram-test-app-secret"},  # another product's secret
        {"signature": "sha1=0123456789abcdef0123456789abcdef01234567"},
        {"signature": "sha256=zz"},
    ],
)
def test_forged_is_403_and_publishes_nothing(h, kwargs):
    response = h.send.meta_fixture("messenger", "text.json", **kwargs)
    assert response.status_code == 403
    assert h.publisher.records == []
    assert h.requests_total("messenger", "forbidden") == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[]", "body is not a JSON object"),
        (b'{"object":"page"}', "entry: missing or not a list"),
        (b'{"object":"page","entry":[1]}', "entry[0]: not an object"),
        (
            b'{"object":"page","entry":[{"id":"1","messaging":[{"recipient":{"id":"1"},"message":{"mid":"m"}}]}]}',
            "entry[0].messaging[0].sender: missing",
        ),
        (
            b'{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},'
            b'"message":{"text":"hi"}}]}]}',
            "entry[0].messaging[0].message.mid: missing",
        ),
        (b'{"object":"instagram","entry":[]}', "object: expected 'page' on this endpoint"),
        (
            b'{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},'
            b'"timestamp":NaN,"message":{"mid":"m"}}]}]}',
            "body is not valid JSON",
        ),
    ],
)
def test_signed_but_malformed_is_400_with_a_reason(h, body, reason):
    response = h.send.meta("messenger", body)
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert h.publisher.records == []


def test_a_bad_event_rejects_the_whole_batch(h):
    batch = fixture_json("messenger", "batch.json")
    del batch["entry"][1]["messaging"][0]["sender"]
    assert h.send.meta("messenger", json.dumps(batch).encode()).status_code == 400
    assert h.publisher.records == []


def test_broker_down_is_503(h):
    h.publisher.down = True
    response = h.send.meta_fixture("messenger", "batch.json")
    assert response.status_code == 503
    assert h.requests_total("messenger", "unavailable") == 1


def test_unconfigured_secret_is_503():
    h = make_harness(meta_app_secret="")
    assert h.send.meta_fixture("messenger", "text.json", secret="").status_code == 503
    assert h.publisher.records == []
