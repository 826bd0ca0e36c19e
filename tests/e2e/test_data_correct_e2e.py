"""Issue 14's "Done when" flows through the real edge: the business's reply reported on the
outbound endpoint becomes the "out" line of the customer's timeline (with the delivery status
Twilio reports later), and a booking re-sent with new content shows its latest version.

One stack serves the module (processes start once); each test has its own numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import create_database, drop_database, make_settings
from tests.e2e.conftest import Stack, running_stack
from tests.harness import wait_for

pytestmark = pytest.mark.infra

BUSINESS = "+19165550000"  # the business's own line in the test settings
T0 = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    unique = uuid.uuid4().hex[:10]
    name = f"pu_test_{unique}"
    try:
        with running_stack(make_settings(create_database(name), unique)) as running:
            yield running
    finally:
        drop_database(name)


def conversations(stack: Stack, phone: str, **params: Any) -> list[dict[str, Any]]:
    status, found = stack.api.get("/api/v1/customers", phone=phone)
    if status != 200:
        return []
    customer = found["customers"][0]["id"]
    status, body = stack.api.get(f"/api/v1/customers/{customer}/timeline", limit=200, **params)
    return list(body["conversations"]) if status == 200 else []


def test_an_outbound_report_is_the_out_line_of_the_timeline(stack: Stack) -> None:
    customer, sid = "+19165553401", "SM" + "e" * 32
    assert stack.sim.twilio_sms("SM" + "d" * 32, customer, BUSINESS, "Do you do birthdays?").status == 200
    reported = stack.sim.outbound(
        "sms",
        "twilio",
        BUSINESS,
        customer,
        sid,
        "Yes! We do birthday parties. How many guests?",
        at=datetime.now(UTC) + timedelta(seconds=5),
        sender="My Hibachi",
    )
    assert reported.status == 202, reported.body
    # Twilio's status callback about that send comes later and attaches to it.
    assert stack.sim.twilio_status(sid, BUSINESS, customer, "delivered").status == 200

    def replied() -> list[dict[str, Any]] | None:
        lines = [c for c in conversations(stack, customer) if c["kind"] == "message"]
        out = [c for c in lines if c.get("direction") == "out"]
        return lines if out and out[0].get("status") == "delivered" else None

    lines = wait_for(replied, timeout=90, what="the reported reply, delivered, on the timeline")
    assert [(c["direction"], c["content"]) for c in lines] == [
        ("in", "Do you do birthdays?"),
        ("out", "Yes! We do birthday parties. How many guests?"),
    ]
    out = lines[1]
    assert (out["type"], out["platform"], out["sender"], out["status"]) == (
        "sms",
        "twilio",
        "My Hibachi",
        "delivered",
    )
    # The same report again (a retry of the business's system) stays one line.
    assert (
        stack.sim.outbound(
            "sms", "twilio", BUSINESS, customer, sid, "Yes! We do birthday parties. How many guests?"
        ).status
        == 202
    )
    assert stack.sim.twilio_sms("SM" + "f" * 32, customer, BUSINESS, "8 guests").status == 200
    wait_for(
        lambda: len([c for c in conversations(stack, customer) if c["kind"] == "message"]) == 3,
        timeout=60,
        what="the next message",
    )
    assert len([c for c in conversations(stack, customer) if c.get("direction") == "out"]) == 1


def test_a_booking_update_shows_the_latest_version(stack: Stack) -> None:
    phone = "+19165553402"
    form = {
        "id": "web-e2e-14",
        "name": "Kim Lee",
        "email": "kim@example.com",
        "phone": "(916) 555-3402",
        "guests": 4,
        "date": "2026-05-20",
        "total": "$320",
        "submitted_at": T0.isoformat(),
    }
    update = {**form, "guests": 6, "total": "$480", "updated_at": (T0 + timedelta(hours=2)).isoformat()}

    # The update sent first and the original after (delivery order is not the form's order).
    first = stack.sim.booking(update)
    assert first.status == 202, first.body
    assert stack.sim.booking(form).status == 202

    def latest() -> dict[str, Any] | None:
        everything = conversations(stack, phone, include_superseded="true")
        if len([c for c in everything if c["kind"] == "booking"]) < 2:
            return None
        (shown,) = [c for c in conversations(stack, phone) if c["kind"] == "booking"]
        return shown

    shown = wait_for(latest, timeout=90, what="both versions of the booking")
    assert (shown["guests"], shown["total"], shown["event"], shown["version"]) == (
        6,
        "$480",
        "booking_updated",
        2,
    )

    # A redelivery of the first version changes nothing; a later message proves it was read.
    assert stack.sim.booking(form).status == 202
    assert stack.sim.twilio_sms("SM" + "9" * 32, phone, BUSINESS, "See you then").status == 200
    wait_for(
        lambda: any(c.get("content") == "See you then" for c in conversations(stack, phone)),
        timeout=60,
        what="the message after the redelivery",
    )
    (shown_again,) = [c for c in conversations(stack, phone) if c["kind"] == "booking"]
    assert shown_again == shown
    older = [c for c in conversations(stack, phone, include_superseded="true") if c.get("superseded_by")]
    assert [(c["guests"], c["version"], c["superseded_by"]) for c in older] == [(4, 1, shown["id"])]
    status, found = stack.api.get("/api/v1/customers", phone=phone)
    customer = found["customers"][0]["id"]
    status, body = stack.api.get(f"/api/v1/customers/{customer}/timeline")
    assert status == 200 and body["stats"]["leads_created"] == 1
