"""WhatsApp Cloud API webhooks (object "whatsapp_business_account")."""

from __future__ import annotations

import json

import pytest

from ingest.providers import meta
from tests.fakes import RECEIVED_AT, fixture_bytes, fixture_json, make_harness, schema_errors

LINE = "106540352242922"
WA = "16505551234"
BSUID = "US.13491208655302741918"


@pytest.fixture
def h():
    return make_harness()


def only(h):
    envelopes = h.publisher.envelopes()
    assert len(envelopes) == 1
    return envelopes[0]


def test_plain_text(h):
    assert h.send.meta_fixture("whatsapp", "text.json").status_code == 200
    envelope = only(h)
    assert (envelope.channel, envelope.provider, envelope.kind, envelope.direction) == (
        "whatsapp",
        "meta",
        "message",
        "in",
    )
    assert envelope.provider_message_id.startswith("wamid.HBgL")
    assert envelope.thread_key == f"whatsapp:{LINE}:{BSUID}"
    assert envelope.business_account == LINE
    assert envelope.customer.id == BSUID
    assert envelope.customer.phone == WA  # digits, no "+", exactly as sent
    assert envelope.customer.name == "Sheena Nelson"
    assert envelope.business.phone == "15550783881"
    assert envelope.text == "Does it come in another color?"
    assert envelope.occurred_at == "2025-06-08T20:59:43.000Z"  # seconds, as a string
    assert h.publisher.records[0].topic == "test.raw.whatsapp"
    assert schema_errors(h.publisher.records[0].value) == []


def test_phone_in_text(h):
    h.send.meta_fixture("whatsapp", "text_with_phone.json")
    envelope = only(h)
    assert envelope.text == "this is my work phone, call 650 555 0199 instead"
    assert envelope.customer.phone == WA


def test_spanish_and_emoji(h):
    body = fixture_bytes("whatsapp", "spanish_emoji.json")
    assert b"\\ud83d\\ude4f" in body
    assert h.send.meta("whatsapp", body).status_code == 200
    envelope = only(h)
    assert envelope.text == "¿Lo tienen en otro color? ¡Gracias! 🙏🏽"
    assert envelope.customer.name == "José María"
    assert envelope.customer.phone == "5215512345678"


def test_image_caption_is_the_text(h):
    h.send.meta_fixture("whatsapp", "image_caption.json")
    envelope = only(h)
    assert envelope.text == "Este modelo, en azul"
    assert envelope.attachments[0]["type"] == "image"
    assert envelope.attachments[0]["payload"]["id"] == "1482391236215133"


def test_media_only(h):
    h.send.meta_fixture("whatsapp", "media_only.json")
    envelope = only(h)
    assert envelope.text is None
    assert envelope.attachments[0]["type"] == "audio"


def test_statuses_are_one_idempotent_event_each(h):
    response = h.send.meta_fixture("whatsapp", "statuses.json")
    assert response.json()["published"] == 3
    delivered, read, failed = h.publisher.envelopes()
    wamid = delivered.raw["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    assert delivered.provider_message_id == f"status:{wamid}:delivered"
    assert read.provider_message_id == f"status:{wamid}:read"
    assert delivered.refers_to == read.refers_to == wamid
    assert all(
        e.kind == "status" and e.direction == "out" and e.text is None for e in (delivered, read, failed)
    )
    assert (delivered.status, read.status, failed.status) == ("delivered", "read", "failed")
    assert delivered.thread_key == f"whatsapp:{LINE}:{BSUID}"
    assert failed.thread_key == f"whatsapp:{LINE}:{WA}"  # no recipient_user_id: wa_id fallback
    assert failed.occurred_at == "2025-06-08T21:02:10.000Z"
    assert h.messages_total("whatsapp", "whatsapp", "status") == 3


def test_username_user_without_a_phone(h):
    h.send.meta_fixture("whatsapp", "username_no_phone.json")
    envelope = only(h)
    assert envelope.customer.phone is None
    assert envelope.customer.id == "US.77730215648890012345"
    assert envelope.customer.handle == "@mara.travels"
    assert envelope.thread_key == f"whatsapp:{LINE}:US.77730215648890012345"


def test_coexistence_echo_is_outbound_to_the_customer(h):
    h.send.meta_fixture("whatsapp", "smb_echo.json")
    envelope = only(h)
    assert envelope.direction == "out"
    assert envelope.customer.phone == WA
    assert envelope.customer.id == BSUID
    assert envelope.thread_key == f"whatsapp:{LINE}:{BSUID}"


def test_batch_across_entries_lines_and_fields(h):
    response = h.send.meta_fixture("whatsapp", "batch.json")
    assert response.json() == {"status": "ok", "published": 3, "ignored": 1}
    first, second, status = h.publisher.envelopes()
    assert (first.text, second.text) == ("first", "segundo ❤️")
    assert second.customer.name == "José María"  # matched to its own contact
    assert status.business_account == "113577922461007"
    assert len(h.publisher.batches) == 1
    for envelope in (first, second, status):
        assert meta.map_payload(envelope.raw, RECEIVED_AT).envelopes == (envelope,)


def test_system_message(h):
    h.send.meta_fixture("whatsapp", "system.json")
    envelope = only(h)
    assert envelope.kind == "system"
    assert envelope.customer.name is None  # system messages carry no contacts
    assert envelope.text.startswith("User Sheena Nelson changed")


def test_dashboard_test_payload(h):
    assert h.send.meta_fixture("whatsapp", "dashboard_test.json").status_code == 200
    assert h.publisher.records == []
    assert h.requests_total("whatsapp", "test_payload") == 1


def test_unknown_field_is_acknowledged(h):
    response = h.send.meta_fixture("whatsapp", "account_update.json")
    assert response.status_code == 200
    assert response.json()["ignored"] == 1
    assert h.requests_total("whatsapp", "ignored") == 1


def test_country_code_beside_wa_id_is_kept_in_raw(h):
    payload = fixture_json("whatsapp", "text.json")
    payload["entry"][0]["changes"][0]["value"]["contacts"][0]["country_code"] = "US"
    h.send.meta("whatsapp", json.dumps(payload).encode())
    assert only(h).raw["entry"][0]["changes"][0]["value"]["contacts"][0]["country_code"] == "US"


def _edit(mutate):
    payload = fixture_json("whatsapp", "text.json")
    mutate(payload["entry"][0]["changes"][0]["value"])
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda v: v.pop("metadata"), "entry[0].changes[0].value.metadata: missing"),
        (
            lambda v: v["metadata"].pop("phone_number_id"),
            "entry[0].changes[0].value.metadata.phone_number_id: missing",
        ),
        (lambda v: v["messages"][0].pop("id"), "entry[0].changes[0].value.messages[0].id: missing"),
        (
            lambda v: (v.pop("contacts"), v["messages"][0].update({"from": "", "from_user_id": ""})),
            "entry[0].changes[0].value.messages[0]: no wa_id and no user id",
        ),
        (lambda v: v.update({"messages": {}}), "entry[0].changes[0].value.messages: not a list"),
        (
            lambda v: v["messages"][0].update({"from": 1.5}),
            "entry[0].changes[0].value.messages[0].from: not a string",
        ),
    ],
)
def test_signed_but_malformed_is_400(h, mutate, reason):
    response = h.send.meta("whatsapp", _edit(mutate))
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert h.publisher.records == []


def test_forged_is_403(h):
    assert h.send.meta_fixture("whatsapp", "text.json", secret="nope").status_code == 403
    assert h.publisher.records == []


def test_broker_down_is_503(h):
    h.publisher.down = True
    assert h.send.meta_fixture("whatsapp", "statuses.json").status_code == 503
