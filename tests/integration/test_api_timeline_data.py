"""Timeline data that stays correct, as the API serves it: a booking's latest version shown,
an unsend hiding its message, a delivery status on the business's reply. Whatever order the
writer receives the rows in (they may sit on different partitions, and replays read the
channels in any order), the result is the same.

Events come from the real resolver and reach `timeline_events` through the real projection and
`write_batch`, one event per batch, in the order each test picks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from schema.envelopes import RawEnvelope
from tests.integration.builders import Pipeline, at, retimed

pytestmark = pytest.mark.infra

TEL = "+19165551234"
ORDERS = ["emitted", "reversed", "together"]


def timeline(client: TestClient, phone: str = TEL, **params: Any) -> dict[str, Any]:
    found = client.get("/api/v1/customers", params={"phone": phone}).json()
    customer = found["customers"][0]["id"]
    body: dict[str, Any] = client.get(
        f"/api/v1/customers/{customer}/timeline", params={"limit": 500, **params}
    ).json()
    return body


def items(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in body["conversations"] if c["kind"] == kind]


def version_of(first: RawEnvelope, version: str, moment_minutes: float, **changes: Any) -> RawEnvelope:
    """Another version of a booking: same booking (thread), a new message id, new content."""
    assert first.booking is not None
    changed = dataclasses.replace(
        first,
        provider_message_id=f"bk-30#{version}",
        booking=dataclasses.replace(first.booking, **changes),
    )
    return retimed(changed, at(moment_minutes))


@pytest.mark.parametrize("order", ORDERS)
def test_a_booking_update_shows_the_latest_version(
    pipe: Pipeline, client: TestClient, engine: Engine, order: str
) -> None:
    first = retimed(
        dataclasses.replace(
            pipe.booking("bk-30", name="Kim Lee", email="kim@example.com", phone=TEL),
            provider_message_id="bk-30#0000000000000001",
        ),
        at(10),
    )
    update = version_of(first, "0000000000000002", 20, guests=6, date="2026-03-14")
    pipe.send(first)
    pipe.send(update)
    pipe.flush(order=order)

    body = timeline(client)
    (booking,) = items(body, "booking")
    assert (booking["guests"], booking["date"], booking["version"]) == (6, "2026-03-14", 2)
    assert booking["event"] == "booking_updated"
    assert body["stats"]["leads_created"] == 1  # one booking, whatever its versions

    older, latest = items(timeline(client, include_superseded="true"), "booking")
    assert (older["guests"], older["version"], older["event"]) == (4, 1, "booking_created")
    assert older["superseded_by"] == latest["id"] and "superseded_by" not in latest

    # The first version delivered again changes nothing.
    pipe.stream.extend(pipe.stream[: pipe.written])
    pipe.flush()
    assert timeline(client) == body
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from timeline_events where kind = 'booking'")).scalar() == 2


@pytest.mark.parametrize("order", ORDERS)
def test_an_unsend_hides_the_text_and_keeps_the_line(
    pipe: Pipeline, client: TestClient, engine: Engine, order: str
) -> None:
    said = pipe.instagram("igsid-un", "oops wrong chat, my number is 916-555-1234", name="Uma")
    hello = pipe.instagram("igsid-un", "hello again", name="Uma")
    unsend = dataclasses.replace(
        pipe.instagram("igsid-un", None, name="Uma"),
        kind="deleted",
        provider_message_id=f"deleted:{said.provider_message_id}",
        refers_to=said.provider_message_id,
    )
    pipe.send(said)
    pipe.send(hello)
    pipe.send(unsend)
    pipe.flush(order=order)

    body = timeline(client)
    lines = [c for c in body["conversations"] if c["type"] == "social_media"]
    assert [(c["kind"], c["content"], c.get("unsent")) for c in lines] == [
        ("message", "message unsent", True),
        ("message", "hello again", None),
    ]
    assert items(body, "deleted") == []  # the message now stands for its unsend
    with engine.connect() as conn:
        stored = conn.execute(text("select content, payload::text from timeline_events")).all()
        read = conn.execute(
            text("select intent_tags, sentiment from timeline_events where payload ? 'unsent'")
        ).one()
    assert not any("oops wrong chat" in f"{content} {payload}" for content, payload in stored)
    assert tuple(read) == (None, None)  # nor what was read in it


def test_an_unsend_of_a_message_never_received_is_its_own_line(pipe: Pipeline, client: TestClient) -> None:
    pipe.send(pipe.instagram("igsid-un2", "my number is 916-555-1234", name="Uma"))
    pipe.send(
        dataclasses.replace(
            pipe.instagram("igsid-un2", None, name="Uma"),
            kind="deleted",
            provider_message_id="deleted:mid-from-before",
            refers_to="mid-from-before",
        )
    )
    pipe.flush()
    (line,) = items(timeline(client), "deleted")
    assert (line["content"], line["unsent"]) == ("message unsent", True)


@pytest.mark.parametrize("order", ORDERS)
def test_delivery_statuses_attach_to_the_business_reply(
    pipe: Pipeline, client: TestClient, order: str
) -> None:
    question = pipe.sms(TEL, "Do you do birthdays?")
    reply = pipe.sms(TEL, "Yes! We do birthday parties. How many guests?", direction="out")

    def status(state: str) -> RawEnvelope:
        return dataclasses.replace(
            pipe.sms(TEL, None, direction="out"),
            kind="status",
            status=state,
            provider_message_id=f"status:{reply.provider_message_id}:{state}",
            refers_to=reply.provider_message_id,
        )

    pipe.send(question, reply)
    pipe.send(status("read"), status("delivered"))  # read reported before delivered
    pipe.flush(order=order)

    body = timeline(client)
    messages = items(body, "message")
    assert [(m["direction"], m.get("status")) for m in messages] == [("in", None), ("out", "read")]
    assert items(body, "status") == []  # statuses themselves only on demand
    assert len(items(timeline(client, include_status="true"), "status")) == 2
