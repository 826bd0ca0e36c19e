"""The timeline as the API serves it: ordered by when things happened, whatever order the
writer received them in, and re-projected when a thread changes hands (back-link, admin re-link).

Events come from the real resolver and CommandHandler and reach `timeline_events` through the
real projection and `write_batch`, one event per batch, in the arrival order each test picks.
Kafka keeps order only per key (customer, or thread while unlinked), so events of different
keys can reach the writer in any relative order; these tests use such orders on purpose.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import queries
from schema import tables as t
from schema.linked import LinkedEvent
from tests.identity_scenarios import ident, thread
from tests.integration.builders import Pipeline, at, retimed, write_events

pytestmark = pytest.mark.infra

TEL = "+19165551234"
OTHER = "+19165557777"


def customer_of(client: TestClient, phone: str) -> str:
    return str(client.get("/api/v1/customers", params={"phone": phone}).json()["customers"][0]["id"])


def texts(client: TestClient, customer: str) -> list[str]:
    body = client.get(f"/api/v1/customers/{customer}/timeline", params={"limit": 500}).json()
    return [c["content"] for c in body["conversations"] if c["kind"] == "message"]


def stamps(client: TestClient, customer: str) -> list[str]:
    body = client.get(f"/api/v1/customers/{customer}/timeline", params={"limit": 500}).json()
    return [c["timestamp"] for c in body["conversations"]]


def hold(pipe: Pipeline) -> list[LinkedEvent]:
    """Take the events emitted since the last flush out of the writer's way, to deliver later."""
    held = pipe.stream[pipe.written :]
    pipe.written = len(pipe.stream)
    return held


def deliver(pipe: Pipeline, events: list[LinkedEvent]) -> None:
    for event in events:
        write_events(pipe.engine, [event])


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_the_timeline_is_ordered_by_when_things_happened(
    pipe: Pipeline, client: TestClient, order: str
) -> None:
    """Messages resolved in one order, sent at other times, written in yet another order."""
    sent_at = {"third": 30, "first": 10, "fifth": 50, "second": 20, "fourth": 40, "zeroth": 0}
    for text, minute in sent_at.items():
        pipe.send(retimed(pipe.sms(TEL, text), at(minute)))
    fb = pipe.messenger("psid-x", "sixth, my number is 916-555-1234", name="Xu Li")
    pipe.send(retimed(fb, at(60)))
    pipe.flush(order=order, seed=7)

    me = customer_of(client, TEL)
    expected = [t for t, _ in sorted(sent_at.items(), key=lambda kv: kv[1])]
    assert texts(client, me) == [*expected, "sixth, my number is 916-555-1234"]
    assert stamps(client, me) == sorted(stamps(client, me))
    # Redelivering everything changes nothing (the writer's inserts are idempotent).
    assert pipe.flush() == 0
    assert write_events(pipe.engine, pipe.stream) == 0
    assert texts(client, me)[0] == "zeroth"


def test_a_backlink_brings_the_threads_earlier_messages(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.instagram("igsid-s", "Hi! Table for 4 on Friday?", name="Sarah"))
    pipe.run(pipe.instagram("igsid-s", "Around 7pm if possible", name="Sarah"))
    pipe.run(pipe.instagram("igsid-other", "just browsing", name="Other Person"))
    assert len(client.get("/api/v1/review/threads").json()["threads"]) == 2

    pipe.run(pipe.instagram("igsid-s", "my number is 916-555-1234", name="Sarah"))
    sarah = customer_of(client, TEL)
    assert texts(client, sarah) == [
        "Hi! Table for 4 on Friday?",
        "Around 7pm if possible",
        "my number is 916-555-1234",
    ]
    body = client.get(f"/api/v1/customers/{sarah}/timeline").json()
    (back,) = [c for c in body["conversations"] if c["kind"] == "thread.backlinked"]
    assert back["content"] == "Earlier messages linked: 2 earlier message(s)"
    # The other unlinked thread stays unlinked, in the review queue.
    (waiting,) = client.get("/api/v1/review/threads").json()["threads"]
    assert waiting["messages"] == 1


def test_a_backlink_that_overtakes_the_earlier_messages_still_moves_them(
    pipe: Pipeline, client: TestClient
) -> None:
    """The earlier messages were keyed by the thread (unlinked), the back-link by the customer:
    the writer may see the back-link first."""
    pipe.send(pipe.instagram("igsid-s", "Hi! Table for 4 on Friday?", name="Sarah"))
    pipe.send(pipe.instagram("igsid-s", "Around 7pm if possible", name="Sarah"))
    late = hold(pipe)
    pipe.run(pipe.instagram("igsid-s", "my number is 916-555-1234", name="Sarah"))
    sarah = customer_of(client, TEL)
    assert texts(client, sarah) == ["my number is 916-555-1234"]
    deliver(pipe, late)
    assert texts(client, sarah) == [
        "Hi! Table for 4 on Friday?",
        "Around 7pm if possible",
        "my number is 916-555-1234",
    ]


def test_an_admin_relink_moves_every_row_of_the_thread_and_nothing_else(
    pipe: Pipeline, client: TestClient
) -> None:
    pipe.run(pipe.sms(TEL, "A: hi"))
    dm = pipe.instagram("igsid-pat", "my number is 916-555-1234", name="Pat")
    pipe.run(dm)
    pipe.run(pipe.instagram("igsid-pat", "A or B? see you at 8", name="Pat"))
    pipe.run(pipe.sms(OTHER, "B: hello"))
    a, b = customer_of(client, TEL), customer_of(client, OTHER)
    assert texts(client, a) == ["A: hi", "my number is 916-555-1234", "A or B? see you at 8"]

    # The admin says the Instagram conversation is B's.
    pipe.admin("link_thread", thread_id=str(thread(dm)), customer_id=b)
    assert texts(client, a) == ["A: hi"]
    assert texts(client, b) == ["my number is 916-555-1234", "A or B? see you at 8", "B: hello"]
    # Its later messages stay with B: the admin decided.
    pipe.run(pipe.instagram("igsid-pat", "thanks!", name="Pat"))
    assert texts(client, b)[-1] == "thanks!" and "thanks!" not in texts(client, a)

    # Unlinking takes it off every timeline and back into the review queue.
    pipe.admin("unlink_thread", thread_id=str(thread(dm)))
    assert texts(client, b) == ["B: hello"] and texts(client, a) == ["A: hi"]
    (waiting,) = client.get("/api/v1/review/threads").json()["threads"]
    assert (waiting["thread_id"], waiting["messages"]) == (str(thread(dm)), 3)
    # The admin's decisions stay on the timelines they concern: B keeps the note that the
    # conversation was taken from it, A the note that it was given away.
    assert "thread.unlinked" in kinds(client, b)
    assert "thread.linked" in kinds(client, b)


def kinds(client: TestClient, customer: str) -> list[str]:
    body = client.get(f"/api/v1/customers/{customer}/timeline", params={"limit": 500}).json()
    return [c["kind"] for c in body["conversations"]]


def test_an_admin_identity_link_moves_the_identitys_threads(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "A: hi"))
    dm = pipe.instagram("igsid-pat", "my number is 916-555-1234", name="Pat")
    pipe.run(dm)
    pipe.run(pipe.sms(OTHER, "B: hello"))
    a, b = customer_of(client, TEL), customer_of(client, OTHER)
    pipe.admin("link_identity", identity_id=str(ident(dm)), customer_id=b)
    assert texts(client, a) == ["A: hi"]
    assert texts(client, b) == ["my number is 916-555-1234", "B: hello"]
    handles = [i["name"] for i in client.get(f"/api/v1/customers/{b}/timeline").json()["social_identities"]]
    assert handles == ["Pat"]


def test_an_admin_relink_that_overtakes_the_threads_messages_still_holds(
    pipe: Pipeline, client: TestClient
) -> None:
    """The messages were keyed by A, the admin's thread.linked by B: a writer lagging on A's
    partition sees the re-link first. The messages must still end up on B's timeline."""
    pipe.run(pipe.sms(TEL, "A: hi"))
    pipe.run(pipe.sms(OTHER, "B: hello"))
    a, b = customer_of(client, TEL), customer_of(client, OTHER)
    dm = pipe.instagram("igsid-pat", "my number is 916-555-1234", name="Pat")
    pipe.send(dm)
    pipe.send(pipe.instagram("igsid-pat", "see you at 8", name="Pat"))
    late = hold(pipe)  # A's partition lags
    pipe.admin("link_thread", thread_id=str(thread(dm)), customer_id=b)
    deliver(pipe, late)
    assert texts(client, a) == ["A: hi"]
    assert texts(client, b) == ["B: hello", "my number is 916-555-1234", "see you at 8"]


def test_two_relinks_delivered_in_reverse_still_end_with_the_last_decision(
    pipe: Pipeline, client: TestClient
) -> None:
    """Re-link to B (keyed by B), then to C (keyed by C): if C's partition is read first, the
    older decision must not win when it arrives."""
    for phone in (TEL, OTHER, "+19165552222"):
        pipe.run(pipe.sms(phone, f"hi from {phone[-4:]}"))
    a, b, c = (customer_of(client, p) for p in (TEL, OTHER, "+19165552222"))
    dm = pipe.instagram("igsid-pat", "my number is 916-555-1234", name="Pat")
    pipe.run(dm)
    pipe.command("link_thread", thread_id=str(thread(dm)), customer_id=b)
    to_b = hold(pipe)
    pipe.command("link_thread", thread_id=str(thread(dm)), customer_id=c)
    to_c = hold(pipe)
    deliver(pipe, to_c + to_b)
    assert texts(client, c) == ["hi from 2222", "my number is 916-555-1234"]
    assert texts(client, b) == ["hi from 7777"] and texts(client, a) == ["hi from 1234"]


def test_the_console_reads_the_timeline_from_its_newest_end_page_by_page(pipe: Pipeline) -> None:
    """`timeline_before` (the console's customer page): the newest page first, each page oldest
    first, and the pages before it in turn until the first item; every item once, none skipped."""
    for minute in range(7):
        pipe.send(retimed(pipe.sms(TEL, f"m{minute}"), at(minute)))
    pipe.flush()
    with pipe.engine.connect() as conn:
        owner = conn.execute(select(t.phones.c.customer_id).where(t.phones.c.e164 == TEL)).scalar_one()
        ids = queries.members(conn, owner)
        pages: list[list[str]] = []
        cursor = None
        while True:
            items, cursor = queries.timeline_before(conn, ids, 3, cursor)
            pages.append([i["content"] for i in items if i["kind"] == "message"])
            if cursor is None:
                break
    assert pages == [["m4", "m5", "m6"], ["m1", "m2", "m3"], ["m0"]]
