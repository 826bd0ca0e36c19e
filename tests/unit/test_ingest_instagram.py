"""Instagram messaging webhooks (object "instagram"), signed with their own app secret."""

from __future__ import annotations

import pytest

from tests.fakes import fixture_bytes, make_harness, schema_errors

IG = "17841405793187218"
IGSID = "1914086468819283"


@pytest.fixture
def h():
    return make_harness()


def only(h):
    envelopes = h.publisher.envelopes()
    assert len(envelopes) == 1
    return envelopes[0]


def test_plain_text(h):
    assert h.send.meta_fixture("instagram", "text.json").status_code == 200
    envelope = only(h)
    assert (envelope.channel, envelope.kind, envelope.direction) == ("instagram", "message", "in")
    assert envelope.thread_key == f"instagram:{IG}:{IGSID}"
    assert envelope.customer.id == IGSID
    assert envelope.text == "hey! are you open on sundays?"
    assert envelope.occurred_at == "2024-06-11T10:00:00.021Z"
    assert h.publisher.records[0].topic == "test.raw.instagram"
    assert schema_errors(h.publisher.records[0].value) == []


def test_phone_in_text(h):
    h.send.meta_fixture("instagram", "text_with_phone.json")
    assert only(h).text == "whatsapp me on +44 7700 900123"


def test_spanish_and_emoji(h):
    body = fixture_bytes("instagram", "spanish_emoji.json")
    assert b"\\ud83d\\ude0d" in body
    assert h.send.meta("instagram", body).status_code == 200
    assert only(h).text.startswith("Me encantó la cena 😍🔥 ¿puedo reservar para el sábado?")


def test_echo_is_outbound(h):
    h.send.meta_fixture("instagram", "echo.json")
    envelope = only(h)
    assert envelope.direction == "out"
    assert envelope.customer.id == IGSID
    assert envelope.thread_key == f"instagram:{IG}:{IGSID}"


def test_unsend_is_a_deleted_event_with_its_own_id(h):
    h.send.meta_fixture("instagram", "deleted.json")
    envelope = only(h)
    assert envelope.kind == "deleted"
    assert envelope.text is None
    mid = envelope.raw["entry"][0]["messaging"][0]["message"]["mid"]
    assert envelope.provider_message_id == f"deleted:{mid}"  # never collides with the message itself
    assert envelope.refers_to == mid  # the message it hides


def test_seen_is_a_status(h):
    h.send.meta_fixture("instagram", "read.json")
    envelope = only(h)
    assert (envelope.kind, envelope.status, envelope.direction) == ("status", "read", "out")
    assert envelope.provider_message_id.startswith("status:") and envelope.provider_message_id.endswith(
        ":read"
    )
    assert envelope.refers_to == envelope.raw["entry"][0]["messaging"][0]["read"]["mid"]


def test_media_only(h):
    h.send.meta_fixture("instagram", "media_only.json")
    envelope = only(h)
    assert envelope.text is None
    assert envelope.attachments[0]["payload"]["url"].startswith(
        "https://lookaside.fbsbx.com/ig_messaging_cdn/"
    )


def test_message_to_self_is_ignored(h):
    response = h.send.meta_fixture("instagram", "self.json")
    assert response.status_code == 200
    assert h.publisher.records == []


def test_dashboard_test_payload_is_acknowledged_and_dropped(h):
    response = h.send.meta_fixture("instagram", "dashboard_test.json")
    assert response.status_code == 200
    assert h.publisher.records == []
    assert h.requests_total("instagram", "test_payload") == 1


def test_batch(h):
    response = h.send.meta_fixture("instagram", "batch.json")
    assert response.json() == {"status": "ok", "published": 2, "ignored": 1}
    one, two = h.publisher.envelopes()
    assert (one.text, two.text) == ("one", "two ✨")
    assert one.customer.id != two.customer.id
    assert len(h.publisher.batches) == 1


def test_instagram_uses_its_own_secret(h):
    response = h.send.meta_fixture("instagram", "text.json", secret=h.settings.meta_app_secret)
    assert response.status_code == 403
    assert h.publisher.records == []


def test_instagram_falls_back_to_the_meta_secret_when_it_has_none():
    h = make_harness(instagram_app_secret="")
    assert h.send.meta_fixture("instagram", "text.json", secret=h.settings.meta_app_secret).status_code == 200


def test_messenger_payload_on_the_instagram_endpoint_is_400(h):
    response = h.send.meta("instagram", fixture_bytes("messenger", "text.json"))
    assert response.status_code == 400
    assert response.json() == {"error": "object: expected 'instagram' on this endpoint"}


def test_missing_signature_is_401(h):
    response = h.client.post("/webhooks/meta/instagram", content=fixture_bytes("instagram", "text.json"))
    assert response.status_code == 401


def test_broker_down_is_503(h):
    h.publisher.down = True
    assert h.send.meta_fixture("instagram", "text.json").status_code == 503
