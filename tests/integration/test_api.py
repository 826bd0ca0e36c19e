"""The read and admin API against the real PostgreSQL (and the real broker for commands).

Every customer, identity and timeline row here is made by the pipeline itself: envelopes go
through the real extract stage and resolver, admin commands through the real CommandHandler,
and the linked events through the real projection and `write_batch` (tests/integration/builders).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

from ingest.publisher import KafkaPublisher
from phoneunify.kafka_admin import ensure_topics
from phoneunify.privacy import phone_key
from phoneunify.settings import Settings
from schema import tables as t
from schema.commands import Command, CommandError
from schema.topics import Topics
from tests.identity_scenarios import ident, thread
from tests.integration.builders import (
    SECOND_TOKEN,
    TOKEN,
    Pipeline,
    RecordingPublisher,
    api_client,
    at,
    retimed,
)

pytestmark = pytest.mark.infra

TEL = "+19165551234"
OTHER = "+19165557777"


def lookup(client: TestClient, phone: str) -> dict[str, Any]:
    response = client.get("/api/v1/customers", params={"phone": phone})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def customer_id(client: TestClient, phone: str) -> str:
    return str(lookup(client, phone)["customers"][0]["id"])


def timeline(client: TestClient, customer: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/customers/{customer}/timeline", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def messages(body: dict[str, Any]) -> list[str]:
    return [c["content"] for c in body["conversations"] if c["kind"] == "message"]


# --- the design document's shape ---------------------------------------------------------------


def seed_journey_two(pipe: Pipeline) -> None:
    """The design document's example 2: SMS in, the reply, Facebook with the phone, booking."""
    pipe.run(retimed(pipe.sms(TEL, "Do you do birthdays?", provider="ringcentral"), at(0)))
    reply = pipe.sms(
        TEL, "Yes! We do birthday parties. How many guests?", provider="ringcentral", direction="out"
    )
    pipe.run(retimed(reply, at(5)))
    fb = pipe.messenger("psid-john", "I asked about birthdays. My number is 916-555-1234", name="John Doe")
    pipe.run(retimed(fb, at(60 * 19)))
    form = pipe.booking("bk-john", name="John Doe", email="john@example.com", phone="(916) 555-1234")
    pipe.run(retimed(form, at(60 * 47)))


def test_timeline_has_the_design_documents_shape(pipe: Pipeline, client: TestClient) -> None:
    seed_journey_two(pipe)
    found = lookup(client, "(916) 555-1234")
    assert (found["phone"], found["shared"]) == (TEL, False)
    john = found["customers"][0]["id"]

    body = timeline(client, john)
    assert set(body) == {"customer", "social_identities", "conversations", "stats", "next_cursor"}

    customer = body["customer"]
    assert customer["id"] == john
    assert (customer["phone"], customer["email"], customer["name"]) == (TEL, "john@example.com", "John Doe")
    assert customer["phones"] == [TEL] and customer["merged_ids"] == []
    assert customer["consent"] == []
    assert found["customers"][0] == customer  # the lookup shows the same card

    (facebook,) = body["social_identities"]
    assert facebook["platform"] == "facebook"
    assert facebook["handle"] == "John Doe"  # Messenger has no @handle: the profile name
    assert 0.9 <= facebook["confidence"] < 1.0
    assert facebook["verified"] is False and facebook["verification"] == "unverified"

    items = [c for c in body["conversations"] if c["type"] not in ("identity", "consent")]
    sms_in, sms_out, fb_in, booking = items
    assert {k: sms_in[k] for k in ("type", "platform", "channel", "direction", "content", "sender")} == {
        "type": "sms",
        "platform": "ringcentral",
        "channel": "sms",
        "direction": "in",
        "content": "Do you do birthdays?",
        "sender": "customer",
    }
    assert sms_in["timestamp"] == "2026-03-06T17:00:00Z"
    assert (sms_out["direction"], sms_out["sender"]) == ("out", "business")
    assert sms_out["content"] == "Yes! We do birthday parties. How many guests?"
    assert (fb_in["type"], fb_in["platform"], fb_in["direction"], fb_in["sender"]) == (
        "social_media",
        "facebook",
        "in",
        "John Doe",
    )
    assert booking["type"] == "booking" and booking["event"] == "booking_created"
    assert (booking["guests"], booking["date"], booking["timestamp"]) == (
        4,
        "2026-03-13",
        "2026-03-08T16:00:00Z",
    )
    assert "email" not in booking and "name" not in booking  # the card holds them, once

    # Identity changes are on the timeline too, as what they are.
    created = next(c for c in body["conversations"] if c["kind"] == "customer.created")
    assert (created["type"], created["event"]) == ("identity", "customer.created")
    assert TEL not in json.dumps(body["conversations"])  # the number lives on the card only

    assert body["stats"] == {
        "total_messages": 3,
        "platforms_used": 3,  # SMS, Facebook, the booking form
        "linked_identities": 1,
        "leads_created": 1,
    }
    stamps = [c["timestamp"] for c in body["conversations"]]
    assert stamps == sorted(stamps)
    assert body["next_cursor"] is None


def test_unknown_customer_is_404_with_a_reason(client: TestClient) -> None:
    response = client.get(f"/api/v1/customers/{uuid.uuid4()}/timeline")
    assert response.status_code == 404 and response.json()["error"].startswith("no customer")
    response = client.get("/api/v1/customers/not-a-uuid/timeline")
    assert response.status_code == 400 and "customer_id" in response.json()["error"]


# --- cursor pagination ------------------------------------------------------------------------------


def seed_messages(pipe: Pipeline, n: int, phone: str = TEL) -> None:
    # Two messages share each minute, so the id breaks ties inside one timestamp.
    for i in range(n):
        pipe.run(retimed(pipe.sms(phone, f"message {i:02d}"), at(10 + i // 2)))


def pages(client: TestClient, customer: str, limit: int) -> list[list[str]]:
    out: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = timeline(client, customer, **params)
        assert len(body["conversations"]) <= limit
        out.append([c["id"] for c in body["conversations"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return out
        assert len(out) < 100, "pagination does not end"


def test_pages_cover_the_timeline_once_in_order_at_every_page_size(
    pipe: Pipeline, client: TestClient
) -> None:
    seed_messages(pipe, 9)
    me = customer_id(client, TEL)
    everything = timeline(client, me, limit=500)
    ids = [c["id"] for c in everything["conversations"]]
    assert len(ids) == 9 + 2  # nine messages, customer created, identity linked
    assert everything["next_cursor"] is None
    keys = [(c["timestamp"], c["id"]) for c in everything["conversations"]]
    assert keys == sorted(keys)

    for limit in (1, 2, 3, 5, 10, 11, 12):
        got = pages(client, me, limit)
        flat = [i for page in got for i in page]
        assert flat == ids, f"limit {limit}: duplicates or gaps"
        assert all(len(page) == limit for page in got[:-1])
        # A last page that is exactly full still says there is nothing more without an empty page.
        assert len(got) == -(-len(ids) // limit), f"limit {limit}: {len(got)} pages"


def test_pagination_is_stable_when_older_events_arrive_between_pages(
    pipe: Pipeline, client: TestClient
) -> None:
    seed_messages(pipe, 6)
    me = customer_id(client, TEL)
    first = timeline(client, me, limit=4)
    before = [c["id"] for c in timeline(client, me, limit=500)["conversations"]]

    # A late delivery of something older than everything on page one, and a newer message.
    pipe.run(retimed(pipe.sms(TEL, "sent long ago, delivered late"), at(-30)))
    pipe.run(retimed(pipe.sms(TEL, "brand new"), at(60)))

    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        body = timeline(client, me, limit=4, cursor=cursor)
        rest.extend(c["id"] for c in body["conversations"])
        cursor = body["next_cursor"]
    seen = [c["id"] for c in first["conversations"]] + rest
    assert len(seen) == len(set(seen)), "an item came twice"
    # Nothing that existed when paging began was skipped; the newer message joins at the end.
    assert seen[: len(before)] == before
    assert [c["content"] for c in timeline(client, me, limit=500)["conversations"]][-1] == "brand new"
    assert seen[-1] == timeline(client, me, limit=500)["conversations"][-1]["id"]
    # The late one sorts by when it was sent: first on a fresh read.
    assert timeline(client, me, limit=1)["conversations"][0]["content"] == "sent long ago, delivered late"


BAD_CURSORS = [
    ("garbage!", "not a cursor this API issued"),
    ("eyJhIjogMX0", "not a cursor this API issued"),  # base64 of {"a": 1}
    ("WyJ5ZXN0ZXJkYXkiLCAieCJd", "not a cursor this API issued"),  # ["yesterday", "x"]
    # ["2026-03-06T17:00:00+00:00", <uuid>]: a well-formed position, hand-made, so not signed.
    (
        "WyIyMDI2LTAzLTA2VDE3OjAwOjAwKzAwOjAwIiwgIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",
        "not a cursor this API issued",
    ),
    ("x" * 513, "cursor"),
]


def test_a_bad_cursor_or_page_size_is_400_with_the_reason(pipe: Pipeline, client: TestClient) -> None:
    seed_messages(pipe, 1)
    url = f"/api/v1/customers/{customer_id(client, TEL)}/timeline"
    for cursor, reason in BAD_CURSORS:
        response = client.get(url, params={"cursor": cursor})
        assert response.status_code == 400, cursor
        assert reason in response.json()["error"], (cursor, response.json())
    for limit in (0, -1, 501, "ten"):
        response = client.get(url, params={"limit": limit})
        assert response.status_code == 400 and "limit" in response.json()["error"], limit


# --- authentication and the open endpoints ----------------------------------------------------------

PROTECTED = [
    ("GET", "/api/v1/customers/{id}/timeline"),
    ("GET", "/api/v1/customers?phone=9165551234"),
    ("GET", "/api/v1/customers/{id}/ledger"),
    ("GET", "/api/v1/review/threads"),
    ("GET", "/api/v1/review/conflicts"),
    ("POST", "/api/v1/admin/commands"),
    ("GET", "/api/v1/admin/commands/x"),
]


BAD_CREDENTIALS = [
    ({}, "missing bearer token"),
    ({"Authorization": "Bearer wrong-token"}, "unknown bearer token"),
    ({"Authorization": f"Bearer {TOKEN}x"}, "unknown bearer token"),
    ({"Authorization": f"Basic {TOKEN}"}, "missing bearer token"),
    ({"Authorization": TOKEN}, "missing bearer token"),
]


def test_every_route_needs_a_known_bearer_token(pipe: Pipeline, settings: Settings, engine: Engine) -> None:
    seed_messages(pipe, 1)
    with api_client(settings, engine, token=None) as anonymous:
        me = lookup_with(anonymous, TEL, {"Authorization": f"Bearer {TOKEN}"})
        for headers, error in BAD_CREDENTIALS:
            for method, path in PROTECTED:
                url = path.replace("{id}", me)
                body = {"action": "split", "params": {"customer_id": me}}
                response = anonymous.request(
                    method, url, headers=headers, json=body if method == "POST" else None
                )
                assert response.status_code == 401, (headers, method, url, response.text)
                assert response.json() == {"error": error}
                assert response.headers["www-authenticate"].startswith("Bearer")


def lookup_with(client: TestClient, phone: str, headers: dict[str, str]) -> str:
    response = client.get("/api/v1/customers", params={"phone": phone}, headers=headers)
    assert response.status_code == 200
    return str(response.json()["customers"][0]["id"])


def test_either_configured_token_is_accepted(pipe: Pipeline, settings: Settings, engine: Engine) -> None:
    seed_messages(pipe, 1)
    with api_client(settings, engine, token=None) as anonymous:
        for token in (TOKEN, SECOND_TOKEN):
            me = lookup_with(anonymous, TEL, {"Authorization": f"Bearer {token}"})
            response = anonymous.get(
                f"/api/v1/customers/{me}/timeline", headers={"Authorization": f"bearer {token}"}
            )
            assert response.status_code == 200


def test_health_metrics_and_openapi_are_open(settings: Settings, engine: Engine, pipe: Pipeline) -> None:
    seed_messages(pipe, 1)
    with api_client(settings, engine, token=None) as anonymous:
        assert anonymous.get("/healthz").json() == {"ok": True}

        spec = anonymous.get("/openapi.json")
        assert spec.status_code == 200
        paths = spec.json()["paths"]
        assert set(paths) == {
            "/api/v1/customers/{customer_id}/timeline",
            "/api/v1/customers",
            "/api/v1/customers/{customer_id}/ledger",
            "/api/v1/review/threads",
            "/api/v1/review/conflicts",
            "/api/v1/admin/commands",
            "/api/v1/admin/commands/{command_id}",
            "/api/v1/consent",
            "/api/v1/threads/{thread_id}/messages",
        }
        timeline_doc = paths["/api/v1/customers/{customer_id}/timeline"]["get"]
        assert {"200", "308", "400", "401", "404", "410"} <= set(timeline_doc["responses"])
        schemas = spec.json()["components"]["schemas"]
        assert set(schemas["Timeline"]["properties"]) == {
            "customer",
            "social_identities",
            "conversations",
            "stats",
            "next_cursor",
        }
        assert {"phone", "email", "name", "consent"} <= set(schemas["Customer"]["properties"])
        assert {"platform", "handle", "confidence", "verified"} <= set(
            schemas["SocialIdentity"]["properties"]
        )

        docs = anonymous.get("/docs")
        assert docs.status_code == 200 and "/openapi.json" in docs.text and "swagger" in docs.text.lower()

        # Requests so far show up in /metrics by route template, never with a phone in a label.
        anonymous.get(
            "/api/v1/customers", params={"phone": "9165551234"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        metrics = anonymous.get("/metrics")
        assert metrics.status_code == 200
        assert 'phoneunify_api_requests_total{route="/api/v1/customers",status="200"}' in metrics.text
        # Label values only: sample values (timestamps, counts) may contain any digits.
        labels = [
            value
            for family in text_string_to_metric_families(metrics.text)
            for sample in family.samples
            for value in sample.labels.values()
        ]
        assert labels and not any("9165551234" in v or "555" in v for v in labels)


# --- lookup by phone ---------------------------------------------------------------------------------


NATIONAL_SPELLINGS = [
    "(916) 555-1234",
    "916-555-1234",
    "916.555.1234",
    "9165551234",
    "19165551234",
    "1-916-555-1234",
    "+1 916 555 1234",
    "+1 (916) 555.1234",
    "+19165551234",
    "tel:+1-916-555-1234",
    " 916 555 1234 ",
]


def test_lookup_by_phone_in_any_national_spelling(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    for spelling in NATIONAL_SPELLINGS:
        found = lookup(client, spelling)
        assert (found["phone"], found["customers"][0]["phone"]) == (TEL, TEL), spelling


def test_lookup_by_international_numbers(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.whatsapp("442079460958", "Hello from London", name="Olivia"))
    pipe.run(pipe.whatsapp("551187654321", "Oi!", name="João"))  # a WhatsApp id without the 9th digit
    olivia, joao = customer_id(client, "+442079460958"), customer_id(client, "+5511987654321")
    assert olivia != joao
    for spelling in ("+44 20 7946 0958", "+44 (0)20 7946 0958", "011 44 20 7946 0958", "+442079460958"):
        assert customer_id(client, spelling) == olivia, spelling
    for spelling in ("+55 11 98765-4321", "+55 (11) 98765 4321", "+55 11 8765-4321", "011 55 11 98765 4321"):
        assert customer_id(client, spelling) == joao, spelling


LOOKUP_FAILURES = [
    ("(916) 555-9999", 404, "no customer has this phone"),
    ("hello", 400, "not a phone number: not_a_number"),
    ("123", 400, "not a phone number: too_short"),
    ("+1 916 555 123", 400, "not a phone number: too_short"),
    ("", 400, "phone"),
    ("9" * 65, 400, "phone"),
]


def test_lookup_failures_say_why(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    for phone, status, error in LOOKUP_FAILURES:
        response = client.get("/api/v1/customers", params={"phone": phone})
        assert response.status_code == status, phone
        assert error in response.json()["error"], (phone, response.json())
    both = client.get("/api/v1/customers", params={"phone": TEL, "q": "x"})
    assert both.status_code == 400 and "give phone alone" in both.json()["error"]


def test_a_shared_phone_links_nobody(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    pipe.admin("mark_shared", phone=TEL)
    assert lookup(client, "916 555 1234") == {"phone": TEL, "shared": True, "customers": []}


# --- merged ids redirect; a split restores both sides ---------------------------------------------------


def test_a_merged_id_redirects_to_the_survivor_and_a_split_restores_both(
    pipe: Pipeline, client: TestClient
) -> None:
    pipe.run(pipe.sms(TEL, "a: table for two?"))
    pipe.run(pipe.instagram("igsid-b", "b: my number is 916-555-7777", name="Bea", handle="bea"))
    a, b = customer_id(client, TEL), customer_id(client, OTHER)
    assert a != b

    pipe.admin("merge", survivor_id=a, merged_id=b)
    pipe.run(pipe.sms(OTHER, "b: sent after the merge"))

    response = client.get(f"/api/v1/customers/{b}/timeline", params={"limit": 3, "include_status": "true"})
    assert response.status_code == 308
    location = response.headers["location"]
    assert location.startswith(f"http://testserver/api/v1/customers/{a}/timeline?")
    assert "limit=3" in location and "include_status=true" in location  # the query travels along
    followed = client.get(location)
    assert followed.status_code == 200 and followed.json()["customer"]["id"] == a
    ledger = client.get(f"/api/v1/customers/{b}/ledger")
    assert ledger.status_code == 308 and ledger.headers["location"].endswith(f"/customers/{a}/ledger")
    # A redirect needs the token too: it says who a customer became.
    assert client.get(f"/api/v1/customers/{b}/timeline", headers={"Authorization": ""}).status_code == 401

    body = timeline(client, a)
    assert sorted(messages(body)) == [
        "a: table for two?",
        "b: my number is 916-555-7777",
        "b: sent after the merge",
    ]
    assert body["customer"]["merged_ids"] == [b]
    assert body["customer"]["phones"] == [TEL, OTHER]
    assert [i["handle"] for i in body["social_identities"]] == ["@bea"]
    assert body["stats"]["total_messages"] == 3 and body["stats"]["platforms_used"] == 2
    assert lookup(client, OTHER)["customers"][0]["id"] == a  # B's phone finds the survivor
    entries = client.get(f"/api/v1/customers/{a}/ledger").json()["entries"]
    merged = [e for e in entries if e["action"] == "customers.merged"]
    assert len(merged) == 1 and merged[0]["actor"] == "admin:ops"

    pipe.admin("split", customer_id=b)
    side_a, side_b = timeline(client, a), timeline(client, b)
    assert messages(side_a) == ["a: table for two?"]
    assert sorted(messages(side_b)) == ["b: my number is 916-555-7777", "b: sent after the merge"]
    assert side_a["customer"]["merged_ids"] == [] and side_a["customer"]["phones"] == [TEL]
    assert side_b["customer"]["phones"] == [OTHER]
    assert side_a["social_identities"] == [] and [i["handle"] for i in side_b["social_identities"]] == [
        "@bea"
    ]
    assert lookup(client, OTHER)["customers"][0]["id"] == b


def test_merge_chains_redirect_straight_to_the_last_survivor(pipe: Pipeline, client: TestClient) -> None:
    for phone in (TEL, OTHER, "+19165552222"):
        pipe.run(pipe.sms(phone, f"hi from {phone[-4:]}"))
    a, b, c = (customer_id(client, p) for p in (TEL, OTHER, "+19165552222"))
    pipe.admin("merge", survivor_id=b, merged_id=c)
    pipe.admin("merge", survivor_id=a, merged_id=b)
    response = client.get(f"/api/v1/customers/{c}/timeline")
    assert response.status_code == 308 and f"/customers/{a}/timeline" in response.headers["location"]
    assert sorted(messages(timeline(client, a))) == ["hi from 1234", "hi from 2222", "hi from 7777"]
    assert sorted(timeline(client, a)["customer"]["merged_ids"]) == sorted([b, c])


def test_the_survivors_own_number_stays_its_phone_after_a_merge(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(retimed(pipe.sms(OTHER, "older customer"), at(0)))
    pipe.run(retimed(pipe.sms(TEL, "newer customer"), at(10)))
    older, newer = customer_id(client, OTHER), customer_id(client, TEL)
    pipe.admin("merge", survivor_id=newer, merged_id=older)
    card = timeline(client, newer)["customer"]
    assert (card["phone"], card["phones"]) == (TEL, [TEL, OTHER])


# --- review queues -----------------------------------------------------------------------------------------


def test_the_review_queue_lists_unlinked_threads_until_they_link(pipe: Pipeline, client: TestClient) -> None:
    dm = pipe.instagram("igsid-quiet", "Hi! Table for 4 on Friday?", name="Quiet Person")
    pipe.run(dm)
    pipe.run(pipe.instagram("igsid-quiet", "Around 7pm?", name="Quiet Person"))
    pipe.run(pipe.sms(TEL, "linked from the start"))

    (waiting,) = client.get("/api/v1/review/threads").json()["threads"]
    assert waiting["thread_id"] == str(thread(dm))
    assert (waiting["channel"], waiting["business_account"], waiting["messages"]) == (
        "instagram",
        "ig-biz",
        2,
    )
    assert waiting["first_message_at"] < waiting["last_message_at"]

    pipe.run(pipe.instagram("igsid-quiet", "my number is 916-555-7777", name="Quiet Person"))
    assert client.get("/api/v1/review/threads").json()["threads"] == []
    # The two earlier messages were back-linked onto the new customer's timeline.
    body = timeline(client, customer_id(client, OTHER))
    assert messages(body) == ["Hi! Table for 4 on Friday?", "Around 7pm?", "my number is 916-555-7777"]
    assert client.get("/api/v1/review/threads", params={"limit": 0}).status_code == 400


def test_the_review_queue_lists_open_conflicts_until_resolved(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.instagram("igsid-ann", "my number is 916-555-1111", name="Ann Berg"))
    pipe.run(pipe.instagram("igsid-bob", "my number is 916-555-2222", name="Bob Stone"))
    ann_dm = pipe.instagram("igsid-ann", "or text me at 916-555-2222", name="Ann Berg")
    pipe.run(ann_dm)
    ann, bob = customer_id(client, "+19165551111"), customer_id(client, "+19165552222")

    (conflict,) = client.get("/api/v1/review/conflicts").json()["conflicts"]
    assert conflict["kind"] == "identity_phone_conflict"
    assert (conflict["customer_id"], conflict["other_customer_id"]) == (ann, bob)
    assert conflict["identity_id"] == str(ident(ann_dm)) and conflict["thread_id"] == str(thread(ann_dm))
    assert 0 < conflict["confidence"] <= 1

    pipe.admin("resolve_conflict", conflict_id=conflict["id"])
    assert client.get("/api/v1/review/conflicts").json()["conflicts"] == []


# --- admin commands -----------------------------------------------------------------------------------------


BAD_COMMANDS: list[tuple[dict[str, Any], str]] = [
    ({"action": "explode", "params": {}}, "unknown action 'explode'"),
    ({"action": "merge", "params": {"survivor_id": str(uuid.uuid4())}}, "merge needs merged_id"),
    ({"action": "split", "params": {"customer_id": ""}}, "split needs customer_id"),
    ({"action": "split", "params": {"customer_id": "bob"}}, "customer_id is not a UUID"),
    ({"action": "split"}, "body.params: Field required"),
    ({"params": {}}, "body.action: Field required"),
    ({"action": "split", "params": []}, "body.params"),
    ({"action": "mark_shared", "params": {"phone": "call me"}}, "phone is not a phone number"),
    ({"action": "resolve_conflict", "params": {"conflict_id": "first"}}, "not a conflict number"),
    ({"action": "merge", "params": {"survivor_id": "{a}", "merged_id": "{a}"}}, "merged into itself"),
    # The ledger's actor is the credential's name: a body may not claim to be someone (or "rule").
    ({"action": "split", "params": {"customer_id": "{a}"}, "actor": "rule"}, "actor: the actor is your"),
    ({"action": "split", "params": {"customer_id": "{a}"}, "note": "x" * 501}, "body.note"),
    # The Edit section's commands.
    ({"action": "create_customer", "params": {"email": "x@example.com"}}, "create_customer needs name"),
    ({"action": "create_customer", "params": {"name": "Ann", "email": "not-mail"}}, "email is not an email"),
    ({"action": "create_customer", "params": {"name": "Ann", "phone": "call me"}}, "phone is not a phone"),
    ({"action": "create_customer", "params": {"name": "A\u0000nn"}}, "control characters"),
    ({"action": "edit_customer", "params": {"customer_id": "{a}"}}, "needs name or email"),
    ({"action": "edit_customer", "params": {"customer_id": "{a}", "name": 7}}, "name must be text"),
    ({"action": "add_phone", "params": {"customer_id": "{a}"}}, "add_phone needs phone"),
    ({"action": "add_phone", "params": {"customer_id": "{a}", "phone": "12"}}, "phone is not a phone"),
    ({"action": "remove_phone", "params": {"customer_id": "nope", "phone": "9165551234"}}, "not a UUID"),
]


def test_a_bad_command_is_400_with_the_reason_and_nothing_is_published(
    pipe: Pipeline, settings: Settings, engine: Engine
) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    published = RecordingPublisher()
    with api_client(settings, engine, published) as client:
        a = customer_id(client, TEL)
        for template, error in BAD_COMMANDS:
            body = json.loads(json.dumps(template).replace("{a}", a))
            response = client.post("/api/v1/admin/commands", json=body)
            assert response.status_code == 400, (body, response.text)
            assert error in response.json()["error"], (body, response.json())
    assert published.records == []


def test_a_command_naming_something_unknown_is_404(
    pipe: Pipeline, settings: Settings, engine: Engine
) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    published = RecordingPublisher()
    nobody = str(uuid.uuid4())
    with api_client(settings, engine, published) as client:
        a = customer_id(client, TEL)
        for params, error in (
            ({"survivor_id": a, "merged_id": nobody}, f"no customer {nobody}"),
            ({"identity_id": nobody, "customer_id": a}, f"no identity {nobody}"),
        ):
            action = "merge" if "merged_id" in params else "link_identity"
            response = client.post("/api/v1/admin/commands", json={"action": action, "params": params})
            assert (response.status_code, response.json()["error"]) == (404, error)
        response = client.post(
            "/api/v1/admin/commands", json={"action": "resolve_conflict", "params": {"conflict_id": 7}}
        )
        assert (response.status_code, response.json()["error"]) == (404, "no conflict 7")
        response = client.post(
            "/api/v1/admin/commands", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
    assert published.records == []


def test_edit_commands_are_checked_keyed_by_phone_and_a_refusal_says_why(
    pipe: Pipeline, settings: Settings, engine: Engine
) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    pipe.run(pipe.sms(OTHER, "hello"))
    published = RecordingPublisher()
    nobody = str(uuid.uuid4())
    with api_client(settings, engine, published) as client:
        a, b = customer_id(client, TEL), customer_id(client, OTHER)

        def post(action: str, **params: str) -> Any:
            return client.post("/api/v1/admin/commands", json={"action": action, "params": params})

        made = post("create_customer", name="Nina Park", phone="(916) 555-7878")
        assert made.status_code == 202, made.text
        assert uuid.UUID(made.json()["customer_id"])
        exists = post("create_customer", customer_id=a, name="X")
        assert (exists.status_code, exists.json()["error"]) == (409, f"customer {a} exists already")
        unknown = post("add_phone", customer_id=nobody, phone=TEL)
        assert (unknown.status_code, unknown.json()["error"]) == (404, f"no customer {nobody}")
        # Who owns a phone can change before the command applies: the resolver decides, and says.
        assert post("add_phone", customer_id=a, phone=OTHER).status_code == 202
        # Commands that give or take a phone are keyed by the phone's keyed hash (never the number).
        assert [r.key for r in published.records] == [
            phone_key("+19165557878", settings.phone_hash_key),
            phone_key(OTHER, settings.phone_hash_key),
        ]
        command = Command.from_json(published.records[1].value)
        with pytest.raises(CommandError):
            pipe.handler.apply(command)  # what the workers' commands agent does with it
        refused = client.get(f"/api/v1/admin/commands/{command.command_id}").json()
        assert refused == {
            "command_id": command.command_id,
            "status": "rejected",
            "events": [],
            "reason": f"the phone belongs to customer {b}: merge the two customers, or remove the phone"
            " from that customer first",
        }


def test_a_good_command_is_on_the_commands_topic_and_applies(
    pipe: Pipeline, settings: Settings, engine: Engine
) -> None:
    """202 means the broker has it: read it back from the real topic, apply it as the workers
    do, and the API then redirects the merged id."""
    pipe.run(pipe.sms(TEL, "a"))
    pipe.run(pipe.sms(OTHER, "b"))
    ensure_topics(settings)
    publisher = KafkaPublisher(settings.kafka_bootstrap, 10.0, client_id="test-api")
    try:
        with api_client(settings, engine, publisher) as client:
            a, b = customer_id(client, TEL), customer_id(client, OTHER)
            response = client.post(
                "/api/v1/admin/commands",
                json={"action": "merge", "params": {"survivor_id": a, "merged_id": b}, "note": "ticket 42"},
            )
            assert response.status_code == 202, response.text
            accepted = response.json()
            assert (accepted["action"], accepted["status"]) == ("merge", "accepted")
            shared = client.post(
                "/api/v1/admin/commands",
                json={"action": "mark_shared", "params": {"phone": "(916) 555-2222"}},
            )
            assert shared.status_code == 202

            records = read_topic(settings, Topics(settings.topic_prefix).commands, 2)
            by_id = {json.loads(r.value)["command_id"]: r for r in records}
            record = by_id[accepted["command_id"]]
            # Keyed by the merged customer, so a later split of it lands on the same partition.
            assert record.key == b.encode()
            command = Command.from_json(record.value)
            assert (command.action, command.params) == ("merge", {"survivor_id": a, "merged_id": b})
            assert command.actor == "ops"  # the credential's name, not anything the body said
            assert command.note == "ticket 42"
            assert command.issued_at
            phone_record = by_id[shared.json()["command_id"]]
            # A phone command's key is the phone's keyed hash, never the number.
            assert phone_record.key == phone_key("+19165552222", settings.phone_hash_key).encode()

            pending = client.get(f"/api/v1/admin/commands/{command.command_id}")
            assert pending.status_code == 404 and "not applied" in pending.json()["error"]
            pipe.handler.apply(command)  # what the workers' commands agent does with it
            applied = client.get(f"/api/v1/admin/commands/{command.command_id}").json()
            assert applied == {
                "command_id": command.command_id,
                "status": "applied",
                "events": ["customers.merged"],
            }
            assert client.get(f"/api/v1/customers/{b}/timeline").status_code == 308
            entries = client.get(f"/api/v1/customers/{a}/ledger").json()["entries"]
            merged = [e for e in entries if e["action"] == "customers.merged"]
            assert (merged[-1]["actor"], merged[-1]["evidence"]["note"]) == ("admin:ops", "ticket 42")
    finally:
        publisher.close()


def test_an_unreachable_broker_is_503(pipe: Pipeline, settings: Settings, engine: Engine) -> None:
    pipe.run(pipe.sms(TEL, "a"))
    dead = KafkaPublisher("127.0.0.1:1", 1.0, client_id="test-api-down")
    try:
        with api_client(settings, engine, dead) as client:
            a = customer_id(client, TEL)
            response = client.post(
                "/api/v1/admin/commands", json={"action": "split", "params": {"customer_id": a}}
            )
            assert response.status_code == 503 and "broker" in response.json()["error"]
    finally:
        dead.close()


def read_topic(settings: Settings, topic: str, count: int) -> list[Any]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=20000,
        request_timeout_ms=30000,
    )
    try:
        records: list[Any] = []
        for record in consumer:
            records.append(record)
            if len(records) >= count:
                break
        assert len(records) == count, f"{len(records)} of {count} records on {topic}"
        return records
    finally:
        consumer.close()


def test_ledger_lists_decisions_of_the_customer_and_those_merged_into_it(
    pipe: Pipeline, client: TestClient, engine: Engine
) -> None:
    pipe.run(pipe.sms(TEL, "a"))
    pipe.run(pipe.instagram("igsid-a", "my number is 916-555-1234", name="Al"))
    a = customer_id(client, TEL)
    entries = client.get(f"/api/v1/customers/{a}/ledger").json()["entries"]
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["customer.created", "identity.linked"]
    linked = [e for e in entries if e["action"] == "identity.linked"]
    assert {e["rule"] for e in linked} == {"provider_attested:new_customer", "text_self_cue:phone_owner"}
    assert all(e["actor"] == "rule" and e["policy_version"] for e in entries)
    dm = next(e for e in linked if e["rule"].startswith("text"))
    assert dm["evidence"]["span"] and 0 < dm["confidence"] < 1
    with engine.connect() as conn:
        assert len(entries) == len(conn.execute(select(t.identity_ledger)).all())
