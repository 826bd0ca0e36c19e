"""The one webhook builder (cli/provider_webhooks.py) that the simulator and the benchmark share:
every body it builds passes the edge's own verification and mapping, and its Meta bodies are
escaped as Meta escapes them, so a signature over re-serialised JSON would not match."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cli import provider_webhooks as webhooks
from phoneunify.settings import Settings
from tests.fakes import PATHS, make_harness

AT = datetime(2026, 6, 10, 15, 30, tzinfo=UTC)
CUSTOMER = "+19165551234"
BUSINESS = "+19165550000"
TEXT = "Table for 2 on 6/12? ¿Sí? 😊"

BUILDERS: dict[str, Callable[[Settings], webhooks.Delivery]] = {
    "twilio_sms": lambda s: webhooks.twilio_sms(s, "SM" + "1" * 32, CUSTOMER, BUSINESS, TEXT),
    "twilio_status": lambda s: webhooks.twilio_status(s, "SM" + "2" * 32, BUSINESS, CUSTOMER, "delivered"),
    "ringcentral_in": lambda s: webhooks.ringcentral_sms(s, "7001", CUSTOMER, BUSINESS, TEXT, AT),
    "ringcentral_out": lambda s: webhooks.ringcentral_sms(
        s, "7002", CUSTOMER, BUSINESS, "ok", AT, direction="Outbound"
    ),
    "messenger": lambda s: webhooks.meta_dm(
        s, "messenger", "109876543210987", "6100000000000001", "m_1", TEXT, AT
    ),
    "instagram_echo": lambda s: webhooks.meta_dm(
        s, "instagram", "17841405793187218", "17841499990000001", "m_2", "ok", AT, echo=True
    ),
    "whatsapp": lambda s: webhooks.whatsapp(
        s, "106540352242922", "19165551234", "wamid.1", TEXT, AT, name="Lee"
    ),
    "booking": lambda s: webhooks.booking(
        s, {"id": "web-1", "name": "Lee", "phone": CUSTOMER, "notes": TEXT}
    ),
    "outbound": lambda s: webhooks.outbound(
        s,
        {
            "channel": "sms",
            "provider": "twilio",
            "from": BUSINESS,
            "to": CUSTOMER,
            "message_id": "SM" + "3" * 32,
            "text": "ok",
            "sent_at": "2026-06-10T15:30:00.000Z",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_built_webhook_is_verified_and_published_by_the_edge(name: str) -> None:
    h = make_harness()
    delivery = BUILDERS[name](h.settings)
    assert delivery.path in PATHS.values()
    response = h.client.post(delivery.path, content=delivery.body, headers=dict(delivery.headers))
    assert response.status_code in (200, 202), response.text
    assert h.publisher.records, "nothing was published"


# The ones signed over their body (RingCentral, booking and outbound carry a key instead).
SIGNED = ("twilio_sms", "twilio_status", "messenger", "instagram_echo", "whatsapp")


@pytest.mark.parametrize("name", SIGNED)
def test_a_body_changed_after_signing_is_refused(name: str) -> None:
    h = make_harness()
    delivery = BUILDERS[name](h.settings)
    body = (
        delivery.body.replace(b"delivered", b"failed")
        if b"delivered" in delivery.body
        else delivery.body + b" "
    )
    response = h.client.post(delivery.path, content=body, headers=dict(delivery.headers))
    assert response.status_code == 403
    assert not h.publisher.records


def test_meta_bodies_are_escaped_as_meta_sends_them() -> None:
    delivery = BUILDERS["whatsapp"](make_harness().settings)
    assert b"6\\/12" in delivery.body and b"\\u00bf" in delivery.body and b"\\ud83d\\ude0a" in delivery.body
    assert json.loads(delivery.body)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] == TEXT


def test_instagram_is_signed_with_its_own_secret() -> None:
    settings = make_harness().settings
    instagram = webhooks.meta_dm(settings, "instagram", "1", "2", "m", "hi", AT)
    messenger = webhooks.meta_dm(settings, "messenger", "1", "2", "m", "hi", AT)
    assert dict(instagram.headers)["X-Hub-Signature-256"] != dict(messenger.headers)["X-Hub-Signature-256"]
