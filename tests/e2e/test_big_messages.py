"""The largest messages the edge accepts travel the whole pipeline: edge, extract, resolve,
writer, API. Every consumer on the way (faust's, the writer's kafka-python) reads a record as
large as the topics take, and every producer (the edge's, the workers') sends it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from tests.e2e.conftest import Stack
from tests.harness import wait_for

pytestmark = pytest.mark.infra


def test_a_1_2_mb_booking_becomes_a_timeline_entry(stack: Stack, engine: Engine) -> None:
    booking = {
        "id": "web-big-1",
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "phone": "(916) 555-0142",
        "guests": 4,
        "notes": "Birthday party, " + "é" * 3000,
        "submitted_at": "2026-06-20T10:00:00Z",
        # What a website's form handler may pass along: 1.2 MB the pipeline keeps in the raw payload.
        "page_html": "<p>" + "Lorem ipsum dolor sit amet. " * 43_000 + "</p>",
    }
    sent = stack.sim.booking(booking)
    assert sent.status == 202, sent.body
    # An ordinary message after it is not held up behind it.
    assert stack.sim.twilio_sms("SM" + "c" * 32, "+19165550142", "+19165550000", "see you then").status == 200

    def rows() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("select count(*) from timeline_events where kind in ('booking', 'message')")
                ).scalar_one()
            )

    wait_for(lambda: rows() == 2, timeout=90, what="the big booking and the SMS on the timeline")
    body = stack.api.timeline_for_phone("9165550142")
    assert body is not None
    assert {"booking", "message"} <= {c["kind"] for c in body["conversations"]}


def test_a_whatsapp_text_near_the_body_limit_becomes_a_timeline_entry(stack: Stack, engine: Engine) -> None:
    """The largest record a body can make: a 2.5 MB text is kept twice in its envelope (the raw
    payload and the text), and its timeline event carries it to the writer's consumer."""
    text_body = "Hello, is the patio open tonight? " * 75_000  # 2.55 MB
    sent = stack.sim.whatsapp("106540352242922", "19165550143", "wamid.big-1", text_body, name="Lee")
    assert sent.status == 200, sent.body

    def stored() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("select length(content) from timeline_events where kind = 'message'")
                ).scalar_one_or_none()
                or 0
            )

    assert wait_for(stored, timeout=120, what="the big WhatsApp message on the timeline") == len(text_body)
