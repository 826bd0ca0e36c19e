"""Timeline order by the event's own time, through the real broker and the real writer process.

1. The whole stack: signed webhooks whose provider timestamps disagree with the order they are
   sent in; the API lists them by when they were sent.
2. The writer on its own: linked events made by the real resolver and CommandHandler, produced
   to the customer.linked topic with kafka-python in reverse order (the worst a lagging
   partition can do), consumed by `phoneunify writer`; the API still gives each customer the
   right rows, by time, with the back-link and the admin re-link applied.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, select

from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import Settings
from schema import tables as t
from schema.topics import Topics
from tests.e2e.conftest import Stack
from tests.harness import Process, wait_for, with_ports
from tests.identity_scenarios import thread
from tests.integration.builders import Pipeline, api_client, at, retimed

pytestmark = pytest.mark.infra

BUSINESS = "+19165550000"
IG = "17841400000000300"


def test_webhooks_sent_out_of_order_are_listed_by_when_they_happened(stack: Stack) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    phone = "+19165553001"

    def minute(n: int) -> datetime:
        return t0 + timedelta(minutes=n)

    # Sent in this order; happened in the order of the minutes.
    sim = stack.sim
    sends = [
        sim.ringcentral_sms("930000000003", phone, BUSINESS, "third", at=minute(3)),
        sim.meta_dm("instagram", IG, "ig-order-1", "mid.order.2", "second, on Instagram", at=minute(2)),
        sim.ringcentral_sms("930000000005", phone, BUSINESS, "fifth", at=minute(5)),
        sim.ringcentral_sms("930000000001", phone, BUSINESS, "first", at=minute(1)),
        sim.ringcentral_sms("930000000004", phone, BUSINESS, "fourth, our reply", "Outbound", minute(4)),
        # The Instagram user gives the phone last: the earlier DM is back-linked into place.
        sim.meta_dm(
            "instagram", IG, "ig-order-1", "mid.order.6", "sixth, my number is 916-555-3001", minute(6)
        ),
    ]
    assert all(s.status == 200 for s in sends), sends
    expected = ["first", "second, on Instagram", "third", "fourth, our reply", "fifth"]
    expected.append("sixth, my number is 916-555-3001")

    def listed() -> list[str] | None:
        body = stack.api.timeline_for_phone("916-555-3001")
        if not body:
            return None
        texts = [c["content"] for c in body["conversations"] if c["kind"] == "message"]
        return texts if len(texts) == len(expected) else None

    assert wait_for(listed, timeout=90, what="six messages on the timeline") == expected

    # Paging two at a time gives the same order, each item once.
    customer = stack.api.timeline_for_phone(phone)["customer"]["id"]  # type: ignore[index]
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        status, body = stack.api.get(f"/api/v1/customers/{customer}/timeline", **params)
        assert status == 200
        seen.extend(body["conversations"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [c["content"] for c in seen if c["kind"] == "message"] == expected
    assert len({c["id"] for c in seen}) == len(seen)
    stamps = [c["timestamp"] for c in seen]
    assert stamps == sorted(stamps)


@pytest.fixture
def writer(settings: Settings) -> Any:
    settings = with_ports(settings)
    ensure_topics(settings)
    process = Process("writer", settings).start()
    yield process
    process.stop()


def test_the_writer_puts_reversed_events_in_time_order_with_relinks_applied(
    settings: Settings, engine: Engine, writer: Process
) -> None:
    pipe = Pipeline(engine=engine)
    # A: SMS, then an Instagram DM (unlinked) that later gives A's phone: a back-link.
    pipe.send(retimed(pipe.sms("+19165551234", "A1: hi, table for two?"), at(1)))
    dm = retimed(pipe.instagram("igsid-pat", "A2: Friday at 8?", name="Pat"), at(2))
    pipe.send(dm)
    pipe.send(retimed(pipe.instagram("igsid-pat", "A3: my number is 916-555-1234", name="Pat"), at(3)))
    pipe.send(retimed(pipe.sms("+19165551234", "A4: see you then"), at(4)))
    # B, and an admin who decides the Instagram conversation is B's.
    pipe.send(retimed(pipe.sms("+19165557777", "B1: hello"), at(0)))
    pipe.send(retimed(pipe.sms("+19165557777", "B2: any news?"), at(5)))
    pipe.command("link_thread", thread_id=str(thread(dm)), customer_id=_owner(engine, "+19165557777"))

    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap.split(","), acks="all", request_timeout_ms=10000
    )
    try:
        topic = Topics(settings.topic_prefix).linked
        for event in reversed(pipe.stream):
            producer.send(topic, key=event.key.encode(), value=event.to_json())
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)

    with api_client(settings, engine) as client:

        def texts(phone: str) -> list[str]:
            found = client.get("/api/v1/customers", params={"phone": phone}).json()
            me = found["customers"][0]["id"]
            body = client.get(f"/api/v1/customers/{me}/timeline", params={"limit": 500}).json()
            return [c["content"] for c in body["conversations"] if c["kind"] == "message"]

        def all_written() -> bool:
            return len(texts("+19165551234")) + len(texts("+19165557777")) == 6

        wait_for(all_written, timeout=60, what=f"the writer's rows\n{writer.log_tail()}")
        assert texts("+19165551234") == ["A1: hi, table for two?", "A4: see you then"]
        assert texts("+19165557777") == [
            "B1: hello",
            "A2: Friday at 8?",
            "A3: my number is 916-555-1234",
            "B2: any news?",
        ]
    assert writer.alive()


def _owner(engine: Engine, phone: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(t.phones.c.customer_id).where(t.phones.c.e164 == phone)).scalar_one())
