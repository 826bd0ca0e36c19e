"""The reads the console added to the API, on the real PostgreSQL: customer search and the recent
list, a thread's messages, review items a person can act on (sender, last messages, the phone and
the evidence), the message behind each ledger entry, intent tags and sentiment on the timeline.
Every row is made by the pipeline itself (tests/integration/builders)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.builders import Pipeline, at, retimed

pytestmark = pytest.mark.infra

TEL = "+19165551234"


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def found(client: TestClient, **params: Any) -> list[str]:
    """Names (or ids) of the customers a search finds, in order."""
    body = ok(client.get("/api/v1/customers", params=params))
    return [c["name"] or c["id"] for c in body["customers"]]


def seed_people(pipe: Pipeline) -> None:
    """John (SMS, Messenger with his number, booking), Maria (Instagram @maria.lopez with her number),
    and Kim (SMS only, most recent)."""
    pipe.run(retimed(pipe.sms(TEL, "Do you do birthdays?", provider="ringcentral"), at(0)))
    fb = pipe.messenger("6100000000000001", "I asked about birthdays. My number is 916-555-1234")
    pipe.run(retimed(fb, at(60)))
    form = pipe.booking("bk-john", name="John Doe", email="john@example.com", phone="(916) 555-1234")
    pipe.run(retimed(form, at(120)))
    ig = pipe.instagram("17841499990000001", "Hi! my phone is (916) 555-0142", handle="maria.lopez")
    pipe.run(retimed(ig, at(30)))
    maria_form = pipe.booking("bk-maria", name="Maria Lopez", email="maria@example.com", phone="9165550142")
    pipe.run(retimed(maria_form, at(40)))
    pipe.run(retimed(pipe.sms("+19165557777", "Hi, it's Kim"), at(300)))


def test_search_finds_customers_by_what_an_admin_remembers(pipe: Pipeline, client: TestClient) -> None:
    seed_people(pipe)
    for query in ("(916) 555-1234", "916.555.1234", "+1 916 555 1234", "555-1234", "john", "JOHN@EXAMPLE"):
        assert found(client, q=query) == ["John Doe"], query
    assert found(client, q="6100000000000001") == ["John Doe"]  # the Messenger sender's id
    assert found(client, q="@maria.lopez") == ["Maria Lopez"]
    assert found(client, q="maria.lo") == ["Maria Lopez"]
    assert found(client, q="916555")[1:] == ["John Doe", "Maria Lopez"]  # Kim (no name) is first
    assert found(client, q="nobody") == []
    assert found(client, q="100%") == []  # LIKE wildcards are text


def test_the_list_is_most_recently_active_first_and_pages_without_repeats(
    pipe: Pipeline, client: TestClient
) -> None:
    seed_people(pipe)
    everyone = ok(client.get("/api/v1/customers"))["customers"]
    assert [c["phone"] for c in everyone] == ["+19165557777", TEL, "+19165550142"]
    assert everyone[1]["last_active_at"].startswith(at(120).date().isoformat())
    assert everyone[1]["phones"] == [TEL] and everyone[1]["email"] == "john@example.com"

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = ok(client.get("/api/v1/customers", params=params))
        seen += [c["id"] for c in page["customers"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in everyone]
    bad = client.get("/api/v1/customers", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and "bad cursor" in bad.json()["error"]


def test_a_merged_customer_is_found_as_its_survivor(pipe: Pipeline, client: TestClient) -> None:
    seed_people(pipe)
    john = ok(client.get("/api/v1/customers", params={"phone": TEL}))["customers"][0]["id"]
    kim = ok(client.get("/api/v1/customers", params={"phone": "+19165557777"}))["customers"][0]["id"]
    pipe.admin("merge", survivor_id=john, merged_id=kim)
    assert [c["id"] for c in ok(client.get("/api/v1/customers", params={"q": "7777"}))["customers"]] == [john]
    listed = ok(client.get("/api/v1/customers"))["customers"]
    assert [c["id"] for c in listed].count(john) == 1 and kim not in [c["id"] for c in listed]
    assert listed[0]["id"] == john  # Kim's recent text is John's activity now


def test_a_threads_messages_oldest_first_a_page_at_a_time(pipe: Pipeline, client: TestClient) -> None:
    dm = [pipe.instagram("ig-unknown", f"message {n}") for n in range(3)]
    for envelope in dm:
        pipe.run(envelope)
    (thread,) = ok(client.get("/api/v1/review/threads"))["threads"]
    first = ok(client.get(f"/api/v1/threads/{thread['thread_id']}/messages", params={"limit": 2}))
    assert first["thread"]["customer_id"] is None and first["thread"]["messages"] == 3
    assert first["thread"]["sender"]["handle"] == "ig-unknown"  # no handle or name: the channel's id
    assert [m["content"] for m in first["messages"]] == ["message 0", "message 1"]
    rest = ok(
        client.get(f"/api/v1/threads/{thread['thread_id']}/messages", params={"cursor": first["next_cursor"]})
    )
    assert [m["content"] for m in rest["messages"]] == ["message 2"] and rest["next_cursor"] is None
    missing = client.get("/api/v1/threads/00000000-0000-0000-0000-000000000000/messages")
    assert missing.status_code == 404


def test_review_items_carry_what_a_person_needs_to_decide(pipe: Pipeline, client: TestClient) -> None:
    for n in range(5):
        pipe.run(pipe.instagram("ig-anon", f"hello {n}", handle="anon.person"))
    (thread,) = ok(client.get("/api/v1/review/threads"))["threads"]
    assert thread["sender"]["handle"] == "@anon.person" and thread["sender"]["platform"] == "instagram"
    assert [m["content"] for m in thread["last_messages"]] == ["hello 2", "hello 3", "hello 4"]

    # Two people claim one phone: the conflict names it and shows the message it was read from.
    pipe.run(pipe.instagram("igsid-maria", "hi! my number is 916-555-3333", name="Maria Lopez"))
    jose = "you can call me at 916-555-3333"
    pipe.run(pipe.messenger("psid-jose", jose, name="Jose Lopez"))
    (conflict,) = ok(client.get("/api/v1/review/conflicts"))["conflicts"]
    assert conflict["kind"] == "shared_phone_candidate" and conflict["phone"] == "+19165553333"
    evidence = conflict["evidence"]
    assert evidence["message"]["content"] == jose
    start, end = evidence["span"]
    assert jose[start:end] == "916-555-3333"


def test_each_ledger_entry_shows_its_phone_and_message(pipe: Pipeline, client: TestClient) -> None:
    text = "Hi! my phone is (916) 555-0142"
    pipe.run(pipe.instagram("17841499990000001", text, handle="maria.lopez"))
    maria = ok(client.get("/api/v1/customers", params={"phone": "9165550142"}))["customers"][0]["id"]
    entries = ok(client.get(f"/api/v1/customers/{maria}/ledger"))["entries"]
    linked = [e for e in entries if e["phone"] and e["message"]]
    assert {e["action"] for e in linked} >= {"customer.created", "identity.linked"}, entries
    for entry in linked:
        assert entry["phone"] == "+19165550142"
        assert entry["message"]["content"] == text
        start, end = entry["evidence"]["span"]
        assert text[start:end] == "(916) 555-0142"


def test_inbound_messages_carry_intent_tags_and_sentiment(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(retimed(pipe.sms(TEL, "Hi! I want to book a party for 8 people, thanks so much!"), at(0)))
    pipe.run(retimed(pipe.sms(TEL, "We have a table for 8 at 7pm", direction="out"), at(1)))
    pipe.run(retimed(pipe.sms(TEL, "¿Cuánto cuesta por persona?"), at(2)))
    john = ok(client.get("/api/v1/customers", params={"phone": TEL}))["customers"][0]["id"]
    items = [
        c
        for c in ok(client.get(f"/api/v1/customers/{john}/timeline"))["conversations"]
        if c["kind"] == "message"
    ]
    booking, reply, pricing = items
    assert booking["intent_tags"] == ["booking_inquiry"] and booking["sentiment"] > 0.5
    assert "intent_tags" not in reply and "sentiment" not in reply
    assert pricing["intent_tags"] == ["pricing"] and pricing["sentiment"] is None  # not English
