"""The thin slice, for real: a signed Twilio webhook in, the unified timeline out of the API."""

from __future__ import annotations

import urllib.request

import pytest
from sqlalchemy import Engine, text

from tests.e2e.conftest import Stack
from tests.harness import wait_for

pytestmark = pytest.mark.infra


def test_signed_twilio_sms_becomes_a_timeline_entry(stack: Stack, engine: Engine) -> None:
    sent = stack.sim.twilio_sms("SM" + "a" * 32, "+19165551234", "+19165550000", "Do you do birthdays?")
    assert sent.status == 200, sent.body

    def timeline() -> dict | None:
        body = stack.api.timeline_for_phone("916.555.1234")
        return (
            body
            if body
            and body["conversations"]
            and any(c.get("content") == "Do you do birthdays?" for c in body["conversations"])
            else None
        )

    body = wait_for(timeline, timeout=60, what="the SMS in the timeline API")
    assert body["customer"]["phone"] == "+19165551234"
    message = next(c for c in body["conversations"] if c["kind"] == "message")
    assert message["type"] == "sms" and message["platform"] == "twilio" and message["direction"] == "in"
    assert body["stats"]["total_messages"] == 1

    # The same phone written three other ways finds the same customer.
    for spelling in ("(916) 555-1234", "+1 916 555 1234", "9165551234"):
        status, found = stack.api.get("/api/v1/customers", phone=spelling)
        assert status == 200 and found["customers"][0]["id"] == body["customer"]["id"]

    # Twilio retries the same delivery: still one timeline entry.
    assert (
        stack.sim.twilio_sms("SM" + "a" * 32, "+19165551234", "+19165550000", "Do you do birthdays?").status
        == 200
    )
    stack.sim.twilio_sms("SM" + "b" * 32, "+19165551234", "+19165550000", "Still there?")
    wait_for(
        lambda: (
            (stack.api.timeline_for_phone("9165551234") or {}).get("stats", {}).get("total_messages") == 2
        ),
        timeout=60,
        what="the second message",
    )
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from timeline_events where kind='message'")).scalar() == 2


def test_forged_webhook_is_refused_and_nothing_reaches_the_timeline(stack: Stack, engine: Engine) -> None:
    forged = urllib.request.Request(
        f"http://127.0.0.1:{stack.settings.ingest_port}/webhooks/twilio/sms",
        data=b"MessageSid=SMforged&From=%2B19165557777&To=%2B19165550000&Body=hi",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl",
        },
        method="POST",
    )
    try:
        urllib.request.urlopen(forged, timeout=10)
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 403
    # A genuine message sent afterwards arrives; the forged one never does.
    stack.sim.twilio_sms("SM" + "c" * 32, "+19165558888", "+19165550000", "real one")
    wait_for(lambda: stack.api.timeline_for_phone("+19165558888"), timeout=60, what="the genuine message")
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from phones where e164 = '+19165557777'")).scalar() == 0


def test_api_requires_a_token(stack: Stack) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.settings.api_port}/api/v1/customers?phone=9165551234"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 401
