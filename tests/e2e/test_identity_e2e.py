"""Issue 4's scenarios end to end: signed webhooks -> ingest -> Kafka -> faust workers -> PostgreSQL,
admin commands through the API and the commands topic, timelines read back from the API.

One stack serves the whole module: the scenarios run together, round by round (see
scenarios.py), each on its own phone numbers, and each test then checks one scenario's outcome
in the database, the ledger and the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cli.demo import ApiClient
from cli.simulate import ProviderSimulator
from phoneunify.kafka_admin import ensure_topics
from tests.conftest import create_database, drop_database, make_settings
from tests.e2e.conftest import start_processes
from tests.e2e.scenarios import WITH_ADMIN, World, customer_of_phone, run_rounds, timeline_texts
from tests.harness import with_ports

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    unique = uuid.uuid4().hex[:10]
    name = f"pu_test_{unique}"
    settings = with_ports(make_settings(create_database(name), unique))
    engine = create_engine(settings.database_url)
    ensure_topics(settings)
    processes = start_processes(settings, ("workers", "writer", "ingest", "api"))
    try:
        w = World(settings, engine, ProviderSimulator(settings), ApiClient(settings))
        w.notes["raw_messages"] = run_rounds(w, WITH_ADMIN)
        yield w
    finally:
        for process in processes.values():
            process.stop()
        engine.dispose()
        drop_database(name)


# --- reading the outcome ----------------------------------------------------------------------------


def rows(w: World, sql: str, **params: Any) -> list[dict[str, Any]]:
    with w.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def identity(w: World, platform: str, user: str) -> dict[str, Any]:
    (row,) = rows(
        w,
        "SELECT id, customer_id::text AS customer, confidence, verification FROM identities"
        " WHERE platform = :p AND provider_user_id = :u",
        p=platform,
        u=user,
    )
    return row


def customer(w: World, customer_id: str) -> dict[str, Any]:
    (row,) = rows(
        w,
        "SELECT id::text AS id, name, email, merged_into::text AS merged_into FROM customers WHERE id = :c",
        c=customer_id,
    )
    return row


def thread_customers(w: World, like: str) -> set[str | None]:
    found = rows(w, "SELECT customer_id::text AS c FROM threads WHERE thread_key LIKE :k", k=like)
    assert found, like
    return {r["c"] for r in found}


def ledger(w: World, action: str, **where: Any) -> list[dict[str, Any]]:
    clauses = " ".join(f"AND {column}::text = :{column}" for column in where)
    return rows(
        w,
        f"SELECT * FROM identity_ledger WHERE action = :action {clauses} ORDER BY seq",
        action=action,
        **{k: str(v) for k, v in where.items()},
    )


def conflicts(w: World, e164: str) -> list[dict[str, Any]]:
    return rows(
        w,
        "SELECT kind, customer_id::text AS customer, other_customer_id::text AS other, status"
        " FROM identity_conflicts WHERE e164 = :e ORDER BY created_at",
        e=e164,
    )


def timeline(w: World, phone: str) -> dict[str, Any]:
    body = w.api.timeline_for_phone(phone)
    assert body is not None, phone
    return body


def messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in body["conversations"] if c["type"] not in ("identity", "consent")]


def assert_explained(w: World, customer_id: str) -> None:
    """Every identity linked to the customer has a ledger entry for that link, with the rule,
    confidence, policy version and the message (or command) that decided it."""
    linked = rows(w, "SELECT id FROM identities WHERE customer_id = :c", c=customer_id)
    assert linked
    for row in linked:
        (entry, *_) = reversed(ledger(w, "identity.linked", identity_id=row["id"]))
        assert str(entry["customer_id"]) == customer_id
        assert entry["actor"] == "rule" or entry["actor"].startswith("admin:")
        assert entry["rule"] and entry["policy_version"] and 0 < entry["confidence"] <= 1
        assert entry["evidence"].get("idempotency_key") or entry["evidence"].get("command_id")


# --- the scenarios ------------------------------------------------------------------------------------


def test_every_message_reached_the_timeline_once(world: World) -> None:
    sent = world.notes["raw_messages"]
    missing = rows(
        world,
        "SELECT idempotency_key FROM resolved_messages WHERE idempotency_key NOT LIKE 'command:%'"
        " EXCEPT SELECT idempotency_key FROM timeline_events",
    )
    assert missing == []
    total = world.scalar("SELECT count(*) FROM timeline_events WHERE type NOT IN ('identity', 'consent')")
    assert total == sent
    assert world.scalar("SELECT count(DISTINCT idempotency_key) FROM timeline_events") == world.scalar(
        "SELECT count(*) FROM timeline_events"
    )


def test_journey_instagram_dm_then_booking_then_sms(world: World) -> None:
    sarah = customer_of_phone(world, "+19165552001")
    assert sarah is not None
    assert customer(world, sarah)["name"] == "Sarah Johnson"
    assert customer(world, sarah)["email"] == "sarah@example.com"
    ig = identity(world, "instagram", "igsid-sarah")
    assert ig["customer"] == sarah and ig["verification"] == "unverified" and ig["confidence"] >= 0.9
    sms = identity(world, "sms", "+19165552001")
    assert (sms["customer"], sms["verification"], sms["confidence"]) == (sarah, "verified", 1.0)
    assert thread_customers(world, "%igsid-sarah%") == {sarah}  # the first DM was back-linked

    body = timeline(world, "(916) 555-2001")
    # One timeline across the channels, in the order things happened.
    assert [(m["type"], m.get("content")) for m in messages(body)] == [
        ("social_media", "Hi! Table for 4 on Friday?"),
        ("social_media", "Great, my number is 916-555-2001"),
        ("booking", "Window seat"),
        ("sms", "Running 10 min late, sorry!"),
    ]
    assert len(messages(body)) == 4
    assert {m["type"] for m in messages(body)} == {"social_media", "booking", "sms"}
    assert body["stats"]["total_messages"] >= 3
    assert [c["kind"] for c in body["conversations"]].count("thread.backlinked") == 1
    (back,) = rows(
        world,
        "SELECT payload FROM timeline_events WHERE kind = 'thread.backlinked' AND customer_id = :c",
        c=sarah,
    )
    assert back["payload"]["messages"] == 1  # the event names the back-linked range
    assert_explained(world, sarah)


def test_journey_sms_then_facebook_then_booking(world: World) -> None:
    mike = customer_of_phone(world, "+19165552002")
    assert mike is not None
    assert (customer(world, mike)["name"], customer(world, mike)["email"]) == (
        "Mike Chen",
        "mike@example.com",
    )
    assert identity(world, "messenger", "psid-mike")["customer"] == mike
    body = timeline(world, "916-555-2002")
    directions = [(m["type"], m["direction"]) for m in messages(body)]
    assert ("sms", "in") in directions and ("sms", "out") in directions
    assert len(messages(body)) == 4
    assert_explained(world, mike)


def test_family_phone_used_by_two_people(world: World) -> None:
    # Maria booked first; Jose's booking with the same phone is a question for a person.
    jose = identity(world, "booking", "jose@example.com")
    assert jose["customer"] is None
    kinds = [c["kind"] for c in conflicts(world, "+19165552003")]
    assert kinds[0] == "shared_phone_candidate"
    maria = identity(world, "booking", "maria@example.com")["customer"]
    # The phone's own SMS is the owner's (attested evidence), from before the admin marked it shared.
    assert identity(world, "sms", "+19165552003")["customer"] == maria
    (phone,) = rows(world, "SELECT shared, shared_by, customer_id FROM phones WHERE e164 = '+19165552003'")
    assert (phone["shared"], phone["shared_by"], phone["customer_id"]) == (True, "admin:ops", None)
    # After the mark, a new identity on the phone links nobody.
    assert identity(world, "whatsapp", "19165552003")["customer"] is None
    assert "shared_phone" in kinds
    assert ledger(world, "phone.shared", e164="+19165552003")[-1]["actor"] == "admin:ops"


def test_business_number_in_outbound_message_and_signature(world: World) -> None:
    assert rows(world, "SELECT e164 FROM phones WHERE e164 IN ('+19165550000', '+19165552004')") == []
    assert thread_customers(world, "%igsid-kim%") == {None}
    kim = rows(
        world,
        "SELECT direction FROM timeline_events WHERE thread_id IN"
        " (SELECT id FROM threads WHERE thread_key LIKE '%igsid-kim%') ORDER BY occurred_at",
    )
    assert [r["direction"] for r in kim] == ["in", "out", "out", "in"]


def test_customer_gives_a_friends_number(world: World) -> None:
    friend = customer_of_phone(world, "+19165552005")
    assert friend is not None
    assert identity(world, "sms", "+19165552005")["customer"] == friend
    assert identity(world, "instagram", "igsid-amy")["customer"] is None  # Amy is not her friend


def test_one_person_with_two_phones(world: World) -> None:
    dan = customer_of_phone(world, "+19165552061")
    assert dan is not None and customer_of_phone(world, "+19165552062") == dan
    assert identity(world, "sms", "+19165552062")["customer"] == dan
    assert ledger(world, "phone.linked", e164="+19165552062")[0]["rule"] == "text_self_cue:second_phone"


def test_brazilian_whatsapp_number_with_and_without_the_9th_digit(world: World) -> None:
    joao = customer_of_phone(world, "+5511987654321")
    assert joao is not None
    assert rows(world, "SELECT e164 FROM phones WHERE e164 LIKE '+5511%'") == [{"e164": "+5511987654321"}]
    for platform, user in (
        ("whatsapp", "551187654321"),
        ("whatsapp", "whatsapp:+5511987654321"),
        ("instagram", "igsid-joao"),
    ):
        assert identity(world, platform, user)["customer"] == joao, user
    addresses = rows(
        world, "SELECT channel, address FROM phone_addresses WHERE e164 = '+5511987654321' ORDER BY address"
    )
    assert [(a["channel"], a["address"]) for a in addresses] == [
        ("whatsapp", "551187654321"),
        ("whatsapp", "whatsapp:+5511987654321"),
    ]


def test_conflicting_evidence_is_reviewed_below_the_threshold_and_merged_above_it(world: World) -> None:
    first, second = customer_of_phone(world, "+19165552081"), customer_of_phone(world, "+19165552082")
    assert first and second and first != second
    (conflict,) = [c for c in conflicts(world, "+19165552082") if c["kind"] == "identity_phone_conflict"]
    assert (conflict["customer"], conflict["other"]) == (first, second)
    assert customer(world, second)["merged_into"] == first  # the cued number merged, naming the survivor
    (merge,) = ledger(world, "customers.merged", customer_id=first)
    assert merge["actor"] == "rule" and merge["confidence"] >= 0.9 and merge["evidence"]["span"]
    body = timeline(world, "916-555-2082")
    assert body["customer"]["id"] == first
    assert {"hi", "hello again"} <= {m["content"] for m in messages(body)}


def test_merge_then_split_through_the_admin_api(world: World) -> None:
    a, b = world.notes["merge"]
    status, location = world.notes["redirect"]
    assert status == 308 and location is not None and a in location
    merged = world.notes["merged_timeline"]
    assert "Hi, table for two tonight?" in merged and "my number is 916-555-2092" in merged
    # After the split each side has exactly its own messages, including those sent while merged.
    assert timeline_texts(world, a) == ["Hi, table for two tonight?"]
    assert timeline_texts(world, b) == sorted(
        ["my number is 916-555-2092", "Can we add a birthday cake?", "Alex, by SMS", "thanks!"]
    )
    assert customer(world, b)["merged_into"] is None
    assert ledger(world, "customer.split", customer_id=b)[-1]["actor"] == "admin:ops"


def test_concurrent_first_contacts_create_exactly_one_customer(world: World) -> None:
    rosa = customer_of_phone(world, "+19165552100")
    assert rosa is not None
    created = ledger(world, "customer.created", e164="+19165552100")
    assert [str(e["customer_id"]) for e in created] == [rosa]
    linked = rows(world, "SELECT customer_id::text AS c FROM identities WHERE customer_id = :c", c=rosa)
    assert len(linked) == 8
    assert rows(world, "SELECT 1 FROM customers WHERE name = 'Rosa Diaz'") == [{"?column?": 1}]
    assert_explained(world, rosa)
