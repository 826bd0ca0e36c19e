"""The identity scenarios of issue 4, against the real PostgreSQL.

Each test drives the real resolver (`Resolver.resolve_batch`) with requests built by the real
extract stage (`gather`) from envelopes shaped like the ingest adapters' output, and applies
admin commands with the real `CommandHandler`, in a fresh migrated database (fixture `engine`).
It asserts the identity rows (customers, phones, identities, threads, conflicts), the ledger
and the linked events. The full Kafka flow is the e2e suite's job; this is resolver + database.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from schema import tables as t
from schema.commands import Command
from schema.envelopes import Booking, Party, RawEnvelope, utc_iso
from schema.linked import LinkedEvent, derived_id
from workers.domain.identity import POLICY_VERSION, Policy
from workers.domain.requests import ResolveRequest
from workers.services.commands import CommandHandler
from workers.services.evidence import EvidencePolicy, gather
from workers.services.resolve import BatchResult, Resolver, TransientError
from workers.timeline.projection import project

pytestmark = pytest.mark.infra

BUSINESS = "+19165550000"
EVIDENCE = EvidencePolicy.build("US", [BUSINESS])
T0 = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
IG, PAGE, WA_LINE, RC_LINE = "ig-biz", "page-1", "wa-line-1", "rc-line-1"


# --- driving the resolver ----------------------------------------------------------------------


@dataclass
class Sent:
    request: ResolveRequest
    events: list[LinkedEvent]


@dataclass
class Envelopes:
    """Builds envelopes as the ingest adapters do, one minute apart, with stable message ids."""

    prefix: str = "m"
    n: int = 0

    # envelopes ----------------------------------------------------------------------------
    def _envelope(
        self,
        channel: str,
        provider: str,
        account: str,
        thread_key: str,
        customer: Party,
        text_: str | None,
        *,
        kind: str = "message",
        direction: str = "in",
        booking: Booking | None = None,
        status: str | None = None,
    ) -> RawEnvelope:
        self.n += 1
        when = utc_iso(T0 + timedelta(minutes=self.n))
        fields: dict[str, Any] = {
            "channel": channel,
            "provider": provider,
            "kind": kind,
            "direction": direction,
            "provider_message_id": f"{self.prefix}{self.n:04d}",
            "thread_key": thread_key,
            "business_account": account,
            "customer": customer,
            "occurred_at": when,
            "received_at": when,
            "text": text_,
            "booking": booking,
            "status": status,
            "business": Party(id=account),
        }
        return RawEnvelope(**fields)

    def sms(
        self, phone: str, text_: str | None, *, provider: str = "twilio", direction: str = "in"
    ) -> RawEnvelope:
        line = BUSINESS if provider == "twilio" else RC_LINE
        return self._envelope(
            "sms",
            provider,
            line,
            f"{provider}:{line}:{phone}",
            Party(id=phone, phone=phone),
            text_,
            direction=direction,
        )

    def whatsapp(self, wa_id: str, text_: str | None, *, name: str | None = None) -> RawEnvelope:
        return self._envelope(
            "whatsapp",
            "meta",
            WA_LINE,
            f"whatsapp:{WA_LINE}:{wa_id}",
            Party(id=wa_id, phone=wa_id, name=name),
            text_,
        )

    def twilio_whatsapp(self, address: str, text_: str | None) -> RawEnvelope:
        line = "whatsapp:" + BUSINESS
        return self._envelope(
            "whatsapp", "twilio", line, f"twilio:{line}:{address}", Party(id=address, phone=address), text_
        )

    def instagram(
        self,
        igsid: str,
        text_: str | None,
        *,
        name: str | None = None,
        handle: str | None = None,
        direction: str = "in",
        account: str = IG,
    ) -> RawEnvelope:
        return self._envelope(
            "instagram",
            "meta",
            account,
            f"instagram:{account}:{igsid}",
            Party(id=igsid, handle=handle, name=name),
            text_,
            direction=direction,
        )

    def messenger(self, psid: str, text_: str | None, *, name: str | None = None) -> RawEnvelope:
        return self._envelope(
            "messenger", "meta", PAGE, f"messenger:{PAGE}:{psid}", Party(id=psid, name=name), text_
        )

    def booking(
        self,
        booking_id: str,
        *,
        name: str | None,
        email: str | None = None,
        phone: str | None = None,
        notes: str | None = None,
    ) -> RawEnvelope:
        form = Booking(name=name, email=email, phone=phone, guests=4, date="2026-03-13", notes=notes)
        return self._envelope(
            "booking",
            "booking_form",
            "website",
            f"booking:website:{booking_id}",
            Party(id=email or phone or "", name=name, email=email, phone=phone),
            notes,
            kind="booking",
            booking=form,
        )


@dataclass(kw_only=True)
class Script(Envelopes):
    """Envelopes resolved by the real resolver, and admin commands applied by the real handler,
    remembering every request and every event for the ledger and timeline checks."""

    engine: Engine
    policy: Policy = field(default_factory=Policy)
    sent: list[Sent] = field(default_factory=list)
    commands: list[tuple[Command, list[LinkedEvent]]] = field(default_factory=list)
    # Every event in the order it was emitted, as the timeline writer would read it.
    stream: list[LinkedEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.engine, self.policy, "test-key")
        self.handler = CommandHandler(self.engine, self.policy)

    # resolving ----------------------------------------------------------------------------
    def send(self, *envelopes: RawEnvelope) -> list[LinkedEvent]:
        """Resolve the envelopes in one batch; returns the events of the batch."""
        requests = [gather(envelope, EVIDENCE)[0] for envelope in envelopes]
        result = self.resolver.resolve_batch(requests)
        assert result.dead == [], result.dead
        self.record(requests, result.events)
        return result.events

    def record(self, requests: Sequence[ResolveRequest], events: Sequence[LinkedEvent]) -> None:
        """Remember which message produced which events: a message's events end with its
        timeline event."""
        by_key: dict[str, list[LinkedEvent]] = {}
        group: list[LinkedEvent] = []
        for event in events:
            group.append(event)
            if event.type == "timeline.event":
                by_key.setdefault(str(event.data["idempotency_key"]), group)
                group = []
        assert group == [], "every message ends with its timeline event"
        for request in requests:
            self.sent.append(Sent(request, by_key.get(request.envelope.idempotency_key, [])))
        self.stream.extend(events)

    def command(self, action: str, command_id: str | None = None, **params: Any) -> list[LinkedEvent]:
        cid = command_id or f"{self.prefix}-cmd-{len(self.commands) + 1}"
        issued = utc_iso(T0 + timedelta(minutes=self.n, seconds=30))
        command = Command(action=action, actor="ops", params=params, command_id=cid, issued_at=issued)
        events = self.handler.apply(command)
        self.commands.append((command, events))
        self.stream.extend(events)
        return events


def ident(envelope: RawEnvelope) -> uuid.UUID:
    return derived_id("identity", envelope.channel, envelope.business_account, envelope.customer.id)


def thread(envelope: RawEnvelope) -> uuid.UUID:
    return derived_id("thread", envelope.thread_key)


def types(events: Sequence[LinkedEvent]) -> list[str]:
    return [e.type for e in events]


def one(events: Sequence[LinkedEvent], type_: str) -> LinkedEvent:
    found = [e for e in events if e.type == type_]
    assert len(found) == 1, (type_, types(events))
    return found[0]


def timeline(events: Sequence[LinkedEvent]) -> LinkedEvent:
    return one(events, "timeline.event")


# --- reading the database ----------------------------------------------------------------------


def rows(engine: Engine, table: Any, *where: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(table).where(*where) if where else select(table)
        pk = list(table.primary_key.columns)
        return [dict(r._mapping) for r in conn.execute(query.order_by(*pk))]


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())


def customers(engine: Engine) -> list[dict[str, Any]]:
    return rows(engine, t.customers)


def phone_owner(engine: Engine, e164: str) -> uuid.UUID | None:
    (row,) = rows(engine, t.phones, t.phones.c.e164 == e164)
    owner: uuid.UUID | None = row["customer_id"]
    return owner


def identity_customer(engine: Engine, envelope: RawEnvelope) -> uuid.UUID | None:
    (row,) = rows(engine, t.identities, t.identities.c.id == ident(envelope))
    customer: uuid.UUID | None = row["customer_id"]
    return customer


def thread_customer(engine: Engine, envelope: RawEnvelope) -> uuid.UUID | None:
    (row,) = rows(engine, t.threads, t.threads.c.id == thread(envelope))
    customer: uuid.UUID | None = row["customer_id"]
    return customer


def timelines(engine: Engine, script: Script) -> dict[uuid.UUID, set[str]]:
    """customer -> the messages on its timeline: the real projection of the events emitted so
    far (what the timeline writer stores: owner rows, back-links, admin re-links), grouped by
    the surviving customer of each owner as the customers table says now."""
    owner: dict[str, uuid.UUID | None] = {}
    thread_of: dict[str, uuid.UUID | None] = {}
    for event in script.stream:
        row, reproject = project(event)
        if event.type == "timeline.event":
            key = row.values["idempotency_key"]
            if key not in owner:  # the writer's insert is idempotent on the key
                owner[key] = row.values["customer_id"]
                thread_of[key] = row.values["thread_id"]
        if reproject is not None:
            for key, thread_id in thread_of.items():
                if thread_id == reproject.thread_id and (owner[key] is None or not reproject.only_unlinked):
                    owner[key] = reproject.customer_id
    merged = {r["id"]: r["merged_into"] for r in customers(engine)}

    def effective(customer: uuid.UUID) -> uuid.UUID:
        while merged.get(customer) is not None:
            customer = merged[customer]
        return customer

    result: dict[uuid.UUID, set[str]] = {}
    for key, customer in owner.items():
        if customer is not None:
            result.setdefault(effective(customer), set()).add(key)
    return result


def open_conflicts(engine: Engine) -> list[dict[str, Any]]:
    return rows(engine, t.conflicts, t.conflicts.c.status == "open")


# --- the ledger explains every link ------------------------------------------------------------


def assert_ledger_explains(engine: Engine, script: Script) -> None:
    ledger = rows(engine, t.identity_ledger)
    for entry in ledger:
        assert entry["policy_version"] == POLICY_VERSION
        assert entry["actor"] == "rule" or entry["actor"].startswith("admin:")
        assert entry["rule"]

    def entries(action: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e for e in ledger if e["action"] == action and all(str(e[k]) == str(v) for k, v in match.items())
        ]

    # Every identity change the resolver announced has its entry, with the message as evidence.
    for sent in script.sent:
        key = sent.request.envelope.idempotency_key
        for event in sent.events:
            data = event.data
            if event.type == "identity.linked":
                (entry,) = [
                    e
                    for e in entries("identity.linked", identity_id=data["identity_id"])
                    if e["evidence"].get("idempotency_key") == key
                ]
                assert str(entry["customer_id"]) == data["customer_id"]
                assert entry["actor"] == "rule"
                assert entry["rule"] == data["rule"]
                assert entry["confidence"] == data["confidence"] > 0
                assert entry["evidence"]["source"] in ("attested", "form", "text")
                assert "span" in entry["evidence"] and entry["evidence"]["owner"] == "sender"
                if entry["evidence"]["source"] == "text":
                    start, end = entry["evidence"]["span"]
                    assert sent.request.envelope.text is not None and end > start
            elif event.type == "thread.backlinked":
                assert [
                    e
                    for e in entries("thread.linked", thread_id=data["thread_id"])
                    if e["evidence"].get("idempotency_key") == key
                ]
            elif event.type in ("customer.created", "phone.linked", "customers.merged", "phone.shared"):
                action = "customer.created" if event.type == "customer.created" else event.type
                assert [e for e in entries(action) if e["evidence"].get("idempotency_key") == key], event
            elif event.type == "conflict.recorded":
                assert [
                    e
                    for e in entries("conflict.recorded", rule=data["kind"])
                    if e["evidence"].get("idempotency_key") == key
                ]
    # Every admin decision too, with the command as evidence.
    for command, events in script.commands:
        mine = [e for e in ledger if e["evidence"].get("command_id") == command.command_id]
        assert mine, command.action
        assert all(e["actor"] == "admin:ops" and e["rule"] == "admin_command" for e in mine)
        for event in events:
            if event.type == "identity.linked":
                assert entries("identity.linked", identity_id=event.data["identity_id"])

    # And every link standing in the database is the latest decision about it in the ledger.
    def latest(kinds: tuple[str, ...], column: str, value: Any) -> dict[str, Any]:
        found = [e for e in ledger if e["action"] in kinds and e[column] == value]
        assert found, (kinds, column, value)
        return found[-1]

    for row in rows(engine, t.identities, t.identities.c.customer_id.is_not(None)):
        entry = latest(("identity.linked", "identity.unlinked"), "identity_id", row["id"])
        assert (entry["action"], entry["customer_id"]) == ("identity.linked", row["customer_id"])
    for row in rows(engine, t.threads, t.threads.c.customer_id.is_not(None)):
        entry = latest(("thread.linked", "thread.unlinked"), "thread_id", row["id"])
        assert (entry["action"], entry["customer_id"]) == ("thread.linked", row["customer_id"])
    for row in rows(engine, t.phones, t.phones.c.customer_id.is_not(None)):
        assert [
            e
            for e in ledger
            if e["action"] in ("customer.created", "phone.linked")
            and e["e164"] == row["e164"]
            and e["customer_id"] == row["customer_id"]
        ], row["e164"]


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def script(engine: Engine) -> Script:
    return Script(engine=engine)


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    """Another fresh, migrated database, as the conftest fixture makes one."""
    from schema.migrate import upgrade
    from tests.conftest import _admin_engine

    name = f"{make_url(database_url).database}_replay"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the design document's journeys ----------------------------------------------------------------


def test_journey_instagram_dm_then_booking_then_sms(engine: Engine, script: Script) -> None:
    hello = script.instagram(
        "igsid-sarah", "Hi! Table for 4 on Friday?", name="Sarah Johnson", handle="sarah.j"
    )
    events = script.send(hello)
    assert types(events) == ["timeline.event"]
    assert timeline(events).customer_id is None  # kept in the timeline without a customer
    assert timeline(events).data["owner_customer_id"] is None
    assert customers(engine) == []
    assert thread_customer(engine, hello) is None

    more = script.instagram("igsid-sarah", "Around 7pm if possible", name="Sarah Johnson", handle="sarah.j")
    script.send(more)

    phone = script.instagram("igsid-sarah", "Great, my number is 916-555-1234", name="Sarah Johnson")
    events = script.send(phone)
    assert types(events) == ["customer.created", "identity.linked", "thread.backlinked", "timeline.event"]
    (customer,) = customers(engine)
    sarah = customer["id"]
    assert customer["name"] == "Sarah Johnson"
    assert {e.customer_id for e in events} == {str(sarah)}
    linked = one(events, "identity.linked").data
    assert linked["rule"] == "text_self_cue:new_customer"
    assert linked["confidence"] >= 0.9 and linked["verification"] == "unverified"
    back = one(events, "thread.backlinked").data
    # The event names the back-linked range: the two earlier messages, first to this one.
    assert back["messages"] == 2
    assert back["from"] == hello.occurred_at and back["to"] == phone.occurred_at
    assert back["through"] == phone.idempotency_key
    assert thread_customer(engine, hello) == sarah
    assert phone_owner(engine, "+19165551234") == sarah

    form = script.booking(
        "bk-1", name="Sarah Johnson", email="sarah@example.com", phone="(916) 555-1234", notes="Window seat"
    )
    events = script.send(form)
    assert types(events) == ["identity.linked", "timeline.event"]
    assert one(events, "identity.linked").data["rule"] == "booking_form_field:phone_owner"
    assert timeline(events).customer_id == str(sarah)
    assert timeline(events).data["type"] == "booking"

    sms = script.sms("+19165551234", "Running 10 min late, sorry!")
    events = script.send(sms)
    assert types(events) == ["identity.linked", "timeline.event"]
    linked = one(events, "identity.linked").data
    assert linked["rule"] == "provider_attested:phone_owner"
    assert linked["verification"] == "verified" and linked["confidence"] == 1.0

    # An identity already linked carries its later messages to its customer.
    later = script.instagram("igsid-sarah", "See you Friday!", name="Sarah Johnson")
    events = script.send(later)
    assert types(events) == ["timeline.event"]
    assert timeline(events).customer_id == str(sarah)

    (customer,) = customers(engine)
    assert customer["email"] == "sarah@example.com"
    assert {r["customer_id"] for r in rows(engine, t.identities)} == {sarah}
    assert {r["customer_id"] for r in rows(engine, t.threads)} == {sarah}
    (row,) = rows(engine, t.phones)
    assert (row["e164"], row["customer_id"], row["shared"]) == ("+19165551234", sarah, False)
    assert [(a["channel"], a["address"], a["e164"]) for a in rows(engine, t.phone_addresses)] == [
        ("sms", "+19165551234", "+19165551234")
    ]
    assert timelines(engine, script) == {sarah: {e.request.envelope.idempotency_key for e in script.sent}}
    assert open_conflicts(engine) == []
    assert_ledger_explains(engine, script)


def test_journey_sms_then_facebook_then_booking(engine: Engine, script: Script) -> None:
    first = script.sms("+19165557777", "Hi, is the patio open tonight?")
    events = script.send(first)
    assert types(events) == ["customer.created", "identity.linked", "timeline.event"]
    (customer,) = customers(engine)
    mike = customer["id"]
    assert customer["name"] is None

    fb = script.messenger("psid-mike", "This is Mike, my cell is 916-555-7777", name="Mike Chen")
    events = script.send(fb)
    assert types(events) == ["identity.linked", "timeline.event"]
    assert one(events, "identity.linked").data["customer_id"] == str(mike)
    assert one(events, "identity.linked").data["rule"] == "text_self_cue:phone_owner"

    form = script.booking("bk-2", name="Mike Chen", email="mike@example.com", phone="916.555.7777")
    events = script.send(form)
    assert types(events) == ["identity.linked", "timeline.event"]
    assert timeline(events).customer_id == str(mike)

    (customer,) = customers(engine)
    assert (customer["name"], customer["email"]) == ("Mike Chen", "mike@example.com")
    assert count(engine, t.identities, t.identities.c.customer_id == mike) == 3
    assert count(engine, t.threads, t.threads.c.customer_id == mike) == 3
    assert phone_owner(engine, "+19165557777") == mike
    assert_ledger_explains(engine, script)


# --- merge protection ------------------------------------------------------------------------------


def test_family_phone_used_by_two_people(engine: Engine, script: Script) -> None:
    maria_dm = script.instagram("igsid-maria", "hi! my number is 916-555-3333", name="Maria Lopez")
    script.send(maria_dm)
    (customer,) = customers(engine)
    maria = customer["id"]

    jose_dm = script.messenger("psid-jose", "you can call me at 916-555-3333", name="Jose Lopez")
    events = script.send(jose_dm)
    assert types(events) == ["conflict.recorded", "timeline.event"]
    conflict = one(events, "conflict.recorded")
    assert conflict.data["kind"] == "shared_phone_candidate"
    assert conflict.data["customer_id"] == str(maria)
    assert timeline(events).customer_id is None  # Jose's message is not put on Maria's timeline
    assert identity_customer(engine, jose_dm) is None
    assert thread_customer(engine, jose_dm) is None

    # Asking the same question again is noise: one open conflict.
    again = script.messenger("psid-jose", "again, it's 916-555-3333", name="Jose Lopez")
    assert types(script.send(again)) == ["timeline.event"]
    (row,) = open_conflicts(engine)
    assert (row["kind"], row["customer_id"], row["e164"]) == ("shared_phone_candidate", maria, "+19165553333")

    # The phone's own SMS is the owner's (attested evidence does not compare names).
    family_sms = script.sms("+19165553333", "Confirming for 6 people")
    script.send(family_sms)
    assert identity_customer(engine, family_sms) == maria

    # An admin marks the phone shared: it stops auto-linking.
    events = script.command("mark_shared", phone="(916) 555-3333")
    assert types(events) == ["phone.shared"]
    (phone,) = rows(engine, t.phones)
    assert (phone["shared"], phone["customer_id"], phone["shared_by"]) == (True, None, "admin:ops")

    events = script.send(script.messenger("psid-jose", "call me at 916-555-3333", name="Jose Lopez"))
    assert one(events, "conflict.recorded").data["kind"] == "shared_phone"
    assert identity_customer(engine, jose_dm) is None
    wa = script.whatsapp("19165553333", "Hola!", name="Ana Lopez")
    events = script.send(wa)
    assert one(events, "conflict.recorded").data["kind"] == "shared_phone"
    assert identity_customer(engine, wa) is None
    assert [c["id"] for c in customers(engine)] == [maria]

    # Each person keeps their own timeline: Maria's identity still carries her messages.
    events = script.send(script.instagram("igsid-maria", "see you at 7", name="Maria Lopez"))
    assert timeline(events).customer_id == str(maria)
    assert identity_customer(engine, family_sms) == maria  # links made before the mark stand
    assert_ledger_explains(engine, script)


def test_front_desk_phone_is_marked_shared_by_rule(engine: Engine, script: Script) -> None:
    assert script.policy.shared_phone_min_identities == 3
    script.send(script.instagram("igsid-john", "my number is 916-555-4444", name="John Park"))
    (customer,) = customers(engine)
    john = customer["id"]
    mary = script.messenger("psid-mary", "call me at 916-555-4444", name="Mary Ellis")
    assert one(script.send(mary), "conflict.recorded").data["kind"] == "shared_phone_candidate"

    peter = script.instagram("igsid-peter", "text me at 916-555-4444", name="Peter Wong")
    events = script.send(peter)
    assert types(events) == ["phone.shared", "conflict.recorded", "timeline.event"]
    shared = one(events, "phone.shared").data
    assert (shared["actor"], shared["rule"], shared["people"]) == ("rule", "shared_phone_by_rule", 3)
    assert one(events, "conflict.recorded").data["kind"] == "shared_phone"
    (phone,) = rows(engine, t.phones)
    assert (phone["shared"], phone["shared_by"], phone["customer_id"]) == (True, "rule", None)
    (entry,) = rows(engine, t.identity_ledger, t.identity_ledger.c.action == "phone.shared")
    assert (entry["actor"], entry["rule"], entry["customer_id"]) == ("rule", "shared_phone_by_rule", john)
    assert entry["evidence"]["idempotency_key"] == peter.idempotency_key and entry["evidence"]["people"] == 3
    assert identity_customer(engine, peter) is None
    # John keeps what he had.
    assert count(engine, t.identities, t.identities.c.customer_id == john) == 1

    # A person says it is not shared; the rule then never marks it again.
    assert types(script.command("unmark_shared", phone="916-555-4444")) == ["phone.unshared"]
    script.send(script.messenger("psid-mary", "my number: 916-555-4444", name="Mary Ellis"))
    assert phone_owner(engine, "+19165554444") == identity_customer(engine, mary) is not None
    lisa = script.instagram("igsid-lisa", "text me at 916-555-4444", name="Lisa Chen")
    events = script.send(lisa)
    assert one(events, "conflict.recorded").data["kind"] == "shared_phone_candidate"
    (phone,) = rows(engine, t.phones)
    assert phone["shared"] is False
    assert_ledger_explains(engine, script)


# --- the business's own numbers and other people's ---------------------------------------------------


def test_business_number_in_outbound_message_and_signature(engine: Engine, script: Script) -> None:
    ask = script.instagram("igsid-kim", "Hi, can I book for Saturday?", name="Kim Lee")
    reply = script.instagram(
        "igsid-kim",
        "Sure! Call us at 916-555-0000 or text our manager at 916-555-8888",
        direction="out",
    )
    signature = script.instagram(
        "igsid-kim", "See you Saturday!\n--\nBella Cucina | (916) 555-0000 | 916-555-8888", direction="out"
    )
    quoting = script.instagram("igsid-kim", "I called 916-555-0000 yesterday, no answer", name="Kim Lee")
    own_line = script.sms(BUSINESS, "test message from our own line")
    events = script.send(ask, reply, signature, quoting, own_line)
    assert types(events) == ["timeline.event"] * 5
    assert all(e.customer_id is None for e in events)
    assert customers(engine) == []
    assert rows(engine, t.phones) == []  # neither the business's number nor the manager's
    assert thread_customer(engine, ask) is None

    # The outbound SMS's recipient is the customer; the signature's numbers are not.
    out = script.sms(
        "+19165554321", "Your table is confirmed.\n-- Bella Cucina, 916-555-0000", direction="out"
    )
    events = script.send(out)
    assert [p["e164"] for p in rows(engine, t.phones)] == ["+19165554321"]
    assert one(events, "customer.created").data["phone"] == "+19165554321"
    assert_ledger_explains(engine, script)


def test_customer_gives_a_friends_number(engine: Engine, script: Script) -> None:
    amy = script.instagram(
        "igsid-amy", "my friend's number is 916-555-2222, she wants to book too", name="Amy"
    )
    events = script.send(amy)
    assert types(events) == ["timeline.event"]
    assert customers(engine) == [] and rows(engine, t.phones) == []
    assert identity_customer(engine, amy) is None
    assert timeline(events).data["evidence"][0]["owner"] == "other_person"

    friend = script.sms("+19165552222", "Hi, Amy gave me your number")
    script.send(friend)
    (customer,) = customers(engine)
    assert identity_customer(engine, friend) == customer["id"]
    assert identity_customer(engine, amy) is None  # nobody linked to the friend

    script.send(script.instagram("igsid-amy", "oh and my number is 916-555-1111", name="Amy"))
    amy_customer = identity_customer(engine, amy)
    assert amy_customer is not None and amy_customer != customer["id"]
    assert len(customers(engine)) == 2
    assert_ledger_explains(engine, script)


# --- one person, several numbers ----------------------------------------------------------------------


def test_one_person_with_two_phones(engine: Engine, script: Script) -> None:
    script.send(script.sms("+19165551111", "Hi, table for two?"))
    (customer,) = customers(engine)
    dan = customer["id"]
    ig = script.instagram("igsid-dan", "it's Dan, my number is 916-555-1111", name="Dan Ortiz")
    script.send(ig)
    assert identity_customer(engine, ig) == dan

    events = script.send(script.instagram("igsid-dan", "my work cell is 916-555-2222", name="Dan Ortiz"))
    added = one(events, "phone.linked")
    assert added.customer_id == str(dan) and added.data["rule"] == "text_self_cue:second_phone"
    second = script.sms("+19165552222", "Dan here, from my work phone")
    events = script.send(second)
    assert one(events, "identity.linked").data["customer_id"] == str(dan)

    assert len(customers(engine)) == 1
    assert {p["e164"]: p["customer_id"] for p in rows(engine, t.phones)} == {
        "+19165551111": dan,
        "+19165552222": dan,
    }
    assert_ledger_explains(engine, script)


def test_brazilian_whatsapp_number_with_and_without_the_9th_digit(engine: Engine, script: Script) -> None:
    wa = script.whatsapp("551187654321", "Oi, vocês abrem domingo?", name="João Silva")
    events = script.send(wa)
    assert one(events, "customer.created").data["phone"] == "+5511987654321"
    (customer,) = customers(engine)
    joao = customer["id"]

    via_twilio = script.twilio_whatsapp("whatsapp:+5511987654321", "Sou eu de novo")
    sms = script.sms("+5511987654321", "Confirmando a reserva")
    dm = script.instagram("igsid-joao", "meu número é +55 11 8765-4321", name="Joao Silva")
    events = script.send(via_twilio, sms, dm)
    assert [e.data["customer_id"] for e in events if e.type == "identity.linked"] == [str(joao)] * 3
    assert len(customers(engine)) == 1
    (phone,) = rows(engine, t.phones)
    assert (phone["e164"], phone["customer_id"]) == ("+5511987654321", joao)
    # The routable addresses are kept as the providers sent them, beside the canonical number.
    assert sorted((a["channel"], a["address"], a["e164"]) for a in rows(engine, t.phone_addresses)) == [
        ("sms", "+5511987654321", "+5511987654321"),
        ("whatsapp", "551187654321", "+5511987654321"),
        ("whatsapp", "whatsapp:+5511987654321", "+5511987654321"),
    ]
    # An admin may name the number in its WhatsApp form too: it is the same phone.
    assert one(script.command("mark_shared", phone="+551187654321"), "phone.shared").data["phone"] == (
        "+5511987654321"
    )
    (phone,) = rows(engine, t.phones)
    assert (phone["shared"], phone["customer_id"]) == (True, None)
    assert_ledger_explains(engine, script)


# --- conflicts, merges and splits ---------------------------------------------------------------------


def test_conflicting_evidence_below_threshold_is_reviewed_above_it_merges(
    engine: Engine, script: Script
) -> None:
    script.send(script.sms("+19165551111", "hi"))
    script.send(script.sms("+19165552222", "hello again"))
    first, second = (c["id"] for c in sorted(customers(engine), key=lambda c: c["created_at"]))
    pat = script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat Kim")
    script.send(pat)
    assert identity_customer(engine, pat) == first

    # A bare number (0.7) ties Pat's identity to the other customer's phone: review, no merge.
    events = script.send(script.instagram("igsid-pat", "916-555-2222", name="Pat Kim"))
    conflict = one(events, "conflict.recorded").data
    assert conflict["kind"] == "identity_phone_conflict"
    assert (conflict["customer_id"], conflict["other_customer_id"]) == (str(first), str(second))
    assert 0.6 <= conflict["confidence"] < 0.9
    assert all(c["merged_into"] is None for c in customers(engine))
    (row,) = open_conflicts(engine)
    assert (row["customer_id"], row["other_customer_id"], row["e164"]) == (first, second, "+19165552222")

    # A cued number (0.95, at or above the merge threshold) merges, naming the older survivor.
    events = script.send(script.instagram("igsid-pat", "my work cell is 916-555-2222", name="Pat Kim"))
    merged = one(events, "customers.merged")
    assert merged.customer_id == str(first)
    assert (merged.data["survivor_id"], merged.data["merged_ids"]) == (str(first), [str(second)])
    assert merged.data["rule"] == "text_self_cue:same_person_two_customers"
    assert {c["id"]: c["merged_into"] for c in customers(engine)} == {first: None, second: first}
    (entry,) = rows(engine, t.identity_ledger, t.identity_ledger.c.action == "customers.merged")
    assert (entry["customer_id"], entry["other_customer_id"], entry["actor"]) == (first, second, "rule")
    assert entry["confidence"] >= 0.9 and entry["evidence"]["span"] is not None
    assert_ledger_explains(engine, script)


def test_conflict_between_two_people_is_never_merged(engine: Engine, script: Script) -> None:
    script.send(script.instagram("igsid-ann", "my number is 916-555-1111", name="Ann Berg"))
    script.send(script.instagram("igsid-bob", "my number is 916-555-2222", name="Bob Stone"))
    events = script.send(script.instagram("igsid-ann", "or text me at 916-555-2222", name="Ann Berg"))
    assert one(events, "conflict.recorded").data["kind"] == "identity_phone_conflict"
    assert all(c["merged_into"] is None for c in customers(engine))
    assert_ledger_explains(engine, script)


def test_merge_then_split_restores_each_side_exactly(engine: Engine, script: Script) -> None:
    a1 = script.sms("+19165551111", "Hi, table for two tonight?")
    b1 = script.instagram("igsid-alex", "my number is 916-555-2222", name="Alex Rivera")
    script.send(a1, b1)
    a, b = identity_customer(engine, a1), identity_customer(engine, b1)
    assert a is not None and b is not None and a != b
    before = timelines(engine, script)
    assert before == {a: {a1.idempotency_key}, b: {b1.idempotency_key}}

    events = script.command("merge", survivor_id=str(a), merged_id=str(b))
    merged = one(events, "customers.merged")
    assert (merged.customer_id, merged.data["survivor_id"], merged.data["merged_ids"]) == (
        str(a),
        str(a),
        [str(b)],
    )

    # Events after the merge: B's thread, a first contact from B's phone, a phone B adds, A's thread.
    b2 = script.instagram("igsid-alex", "Can we add a birthday cake?", name="Alex Rivera")
    b3 = script.sms("+19165552222", "It's Alex, texting from my phone")
    b4 = script.instagram("igsid-alex", "my work cell is 916-555-3333", name="Alex Rivera")
    a2 = script.sms("+19165551111", "see you at 8")
    events = script.send(b2, b3, b4, a2)
    on_timeline = [e for e in events if e.type == "timeline.event"]
    assert [e.customer_id for e in on_timeline] == [str(a)] * 4  # one timeline while merged
    assert [e.data["owner_customer_id"] for e in on_timeline] == [str(b), str(b), str(b), str(a)]
    assert one(events, "identity.linked").data["customer_id"] == str(b)
    assert one(events, "phone.linked").data["customer_id"] == str(b)
    assert timelines(engine, script) == {a: {m.idempotency_key for m in (a1, a2, b1, b2, b3, b4)}}

    events = script.command("split", customer_id=str(b))
    split = one(events, "customer.split")
    assert (split.customer_id, split.data["survivor_id"]) == (str(b), str(a))
    assert {c["id"]: c["merged_into"] for c in customers(engine)} == {a: None, b: None}

    # Each side is exactly restored, including what arrived after the merge.
    assert timelines(engine, script) == {
        a: {a1.idempotency_key, a2.idempotency_key},
        b: {b1.idempotency_key, b2.idempotency_key, b3.idempotency_key, b4.idempotency_key},
    }
    assert {thread_customer(engine, m) for m in (a1, a2)} == {a}
    assert {thread_customer(engine, m) for m in (b1, b2, b3, b4)} == {b}
    assert {identity_customer(engine, m) for m in (b1, b3)} == {b}
    assert {p["e164"]: p["customer_id"] for p in rows(engine, t.phones)} == {
        "+19165551111": a,
        "+19165552222": b,
        "+19165553333": b,
    }
    after = script.instagram("igsid-alex", "thanks!", name="Alex Rivera")
    assert timeline(script.send(after)).customer_id == str(b)

    # The split is durable: evidence tying the two again goes to review, not to a merge.
    events = script.send(script.instagram("igsid-alex", "my number is 916-555-1111", name="Alex Rivera"))
    assert one(events, "conflict.recorded").data["kind"] == "identity_phone_conflict"
    assert {c["id"]: c["merged_into"] for c in customers(engine)} == {a: None, b: None}
    assert_ledger_explains(engine, script)


def test_admin_decisions_stand(engine: Engine, script: Script) -> None:
    sms = script.sms("+19165551111", "hi")
    script.send(sms)
    script.send(script.sms("+19165552222", "hello"))
    first, second = identity_customer(engine, sms), phone_owner(engine, "+19165552222")
    pat = script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat")
    script.send(pat)
    assert identity_customer(engine, pat) == first

    events = script.command("unlink_identity", identity_id=str(ident(pat)))
    assert types(events) == ["identity.unlinked", "thread.unlinked"]
    assert thread_customer(engine, pat) is None
    script.send(script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat"))
    assert identity_customer(engine, pat) is None  # automation never undoes the unlink

    events = script.command("link_identity", identity_id=str(ident(pat)), customer_id=str(second))
    assert types(events) == ["identity.linked", "thread.linked"]
    assert thread_customer(engine, pat) == second
    events = script.send(script.instagram("igsid-pat", "call me at 916-555-1111", name="Pat"))
    assert one(events, "conflict.recorded").data["kind"] == "identity_phone_conflict"
    assert identity_customer(engine, pat) == second
    (row,) = rows(engine, t.identities, t.identities.c.id == ident(pat))
    assert (row["decided_by"], row["verification"]) == ("admin:ops", "verified")

    # An admin re-links one thread on its own; the identity's later messages do not move it back.
    assert types(script.command("link_thread", thread_id=str(thread(pat)), customer_id=str(first))) == [
        "thread.linked"
    ]
    events = script.send(script.instagram("igsid-pat", "thanks", name="Pat"))
    assert timeline(events).data["owner_customer_id"] == str(first)
    assert_ledger_explains(engine, script)


# --- back-linking ----------------------------------------------------------------------------------------


def test_a_phone_on_a_later_booking_backlinks_the_identitys_earlier_threads(
    engine: Engine, script: Script
) -> None:
    early = script.booking("bk-10", name="Lee Park", email="lee@example.com")
    events = script.send(early)
    assert types(events) == ["timeline.event"] and timeline(events).customer_id is None
    later = script.booking("bk-11", name="Lee Park", email="lee@example.com", phone="916-555-6060")
    events = script.send(later)
    assert types(events) == ["customer.created", "identity.linked", "thread.backlinked", "timeline.event"]
    customer = one(events, "customer.created").customer_id
    back = one(events, "thread.backlinked").data
    assert back["thread_id"] == str(thread(early))
    assert (back["messages"], back["from"], back["to"]) == (1, early.occurred_at, early.occurred_at)
    assert back["through"] == later.idempotency_key
    assert str(thread_customer(engine, early)) == str(thread_customer(engine, later)) == customer
    assert_ledger_explains(engine, script)


# --- single writer, redelivery, replay ------------------------------------------------------------------


def test_concurrent_first_contacts_create_exactly_one_customer(engine: Engine, script: Script) -> None:
    contacts = [
        script.sms("+19165559999", "hi, do you deliver?"),
        script.sms("+19165559999", "hello?", provider="ringcentral"),
        script.whatsapp("19165559999", "Hi there", name="Rosa Diaz"),
        script.twilio_whatsapp("whatsapp:+19165559999", "hey"),
        script.instagram("igsid-rosa", "my number is 916-555-9999", name="Rosa Diaz"),
        script.instagram("igsid-rosa-2", "text me at (916) 555-9999", name="Rosa Diaz", account="ig-biz-2"),
        script.messenger("psid-rosa", "call me at 916-555-9999", name="Rosa Diaz"),
        script.booking("bk-rosa", name="Rosa Diaz", email="rosa@example.com", phone="916 555 9999"),
    ]
    requests = [gather(envelope, EVIDENCE)[0] for envelope in contacts]
    barrier = threading.Barrier(len(requests))
    results: dict[int, BatchResult] = {}
    errors: list[BaseException] = []

    def contact(i: int) -> None:
        resolver = Resolver(engine, Policy(), "test-key")
        try:
            barrier.wait(timeout=10)
            for _ in range(5):  # the workers' retry of transient errors (a deadlock, say)
                try:
                    results[i] = resolver.resolve_batch([requests[i]])
                    return
                except TransientError:
                    time.sleep(0.05)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=contact, args=(i,)) for i in range(len(requests))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert errors == [] and sorted(results) == list(range(len(requests)))
    for i, result in sorted(results.items()):
        assert result.dead == []
        script.record([requests[i]], result.events)

    (customer,) = customers(engine)
    assert phone_owner(engine, "+19165559999") == customer["id"]
    assert {identity_customer(engine, e) for e in contacts} == {customer["id"]}
    assert {thread_customer(engine, e) for e in contacts} == {customer["id"]}
    everything = [e for r in results.values() for e in r.events]
    assert len([e for e in everything if e.type == "customer.created"]) == 1
    assert len([e for e in everything if e.type == "identity.linked"]) == 8
    assert open_conflicts(engine) == []
    assert_ledger_explains(engine, script)


@pytest.mark.parametrize("per_call", [True, False], ids=["per-call store", "batch store"])
@pytest.mark.parametrize(
    ("name", "outcome"),
    [("Rae", "joins the winner"), ("Zed Quinn", "review: names clash")],
)
def test_claim_phone_race_is_decided_by_the_unique_key(
    engine: Engine, script: Script, name: str, outcome: str, per_call: bool
) -> None:
    """The race, made deterministic: another writer holds an uncommitted claim on the phone
    when the resolver decides to create a customer. The database unique key makes the resolver
    wait; it then decides again against the committed phone, so it joins the winner's customer,
    or (names clash) leaves it for review, never a second owner. The per-call store waits at
    its claim, drops its own customer and marks the evidence `lost_race`; the batch store waits
    at its flush, rolls the batch back and decides it again per call, from the committed claim."""
    envelope = script.instagram("igsid-rae", "my number is 916-555-6666", name=name)
    (request,) = [gather(envelope, EVIDENCE)[0]]
    rival = uuid.UUID(int=0x5A)
    result: dict[str, BatchResult] = {}
    with engine.connect() as blocker:
        tx = blocker.begin()
        blocker.execute(insert(t.customers).values(id=rival, created_at=T0, name="Rae Lin"))
        blocker.execute(
            insert(t.phones).values(
                e164="+19165556666", customer_id=rival, created_at=T0, normalizer_version="x"
            )
        )
        worker = threading.Thread(
            target=lambda: result.setdefault(
                "r", Resolver(engine, Policy(), "k", per_call=per_call).resolve_batch([request])
            )
        )
        worker.start()
        deadline = time.monotonic() + 10
        waiting = 0
        while time.monotonic() < deadline and not waiting:
            with engine.connect() as probe:
                waiting = probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            time.sleep(0.02)
        assert waiting, "the resolver should wait on the uncommitted claim"
        tx.commit()
        worker.join(timeout=10)
    events = result["r"].events
    assert [c["id"] for c in customers(engine)] == [rival]  # the loser's customer is gone
    assert phone_owner(engine, "+19165556666") == rival
    if outcome == "joins the winner":
        assert types(events) == ["identity.linked", "timeline.event"]
        linked = one(events, "identity.linked").data
        assert (linked["customer_id"], linked["rule"]) == (str(rival), "text_self_cue:phone_owner")
        assert identity_customer(engine, envelope) == rival
        (entry,) = rows(engine, t.identity_ledger, t.identity_ledger.c.action == "identity.linked")
    else:
        assert types(events) == ["conflict.recorded", "timeline.event"]
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone_candidate"
        assert identity_customer(engine, envelope) is None
        (entry,) = rows(engine, t.identity_ledger, t.identity_ledger.c.action == "conflict.recorded")
    assert entry["evidence"].get("lost_race", False) is per_call
    assert entry["evidence"]["idempotency_key"] == envelope.idempotency_key


def test_rebalance_double_apply_waits_and_becomes_a_redelivery(engine: Engine, script: Script) -> None:
    """While partitions move, the old owner of a phone may still be inside its batch when the
    new owner reads the same message. The old owner is played here by a transaction holding the
    batch's advisory locks and applying the message; the new owner must wait for its commit and
    then find the message done: one customer, one ledger entry, identical events."""
    from workers.adapters.identity_store import IdentityStore
    from workers.services.resolve import _lock_keys

    envelope = script.sms("+19165554242", "hi, table for two?")
    request = gather(envelope, EVIDENCE)[0]
    old_owner = Resolver(engine, Policy(), "k")
    second: dict[str, BatchResult] = {}
    with engine.connect() as conn:
        tx = conn.begin()
        store = IdentityStore(conn)
        store.lock_keys(_lock_keys(request))
        first_events, first_outcome = old_owner._resolve_one(store, request)
        new_owner = threading.Thread(
            target=lambda: second.setdefault("r", Resolver(engine, Policy(), "k").resolve_batch([request]))
        )
        new_owner.start()
        new_owner.join(timeout=0.5)
        assert new_owner.is_alive(), "the new owner must wait for the old owner's batch"
        tx.commit()
        new_owner.join(timeout=10)
    assert first_outcome == "created"
    assert second["r"].outcomes == {"redelivered": 1}
    assert [e.to_dict() for e in second["r"].events] == [e.to_dict() for e in first_events]
    assert len(customers(engine)) == 1
    assert len(rows(engine, t.identity_ledger, t.identity_ledger.c.action == "customer.created")) == 1


def _counts(engine: Engine) -> dict[str, int]:
    tables = (
        t.customers,
        t.phones,
        t.phone_addresses,
        t.identities,
        t.threads,
        t.identity_ledger,
        t.conflicts,
        t.constraints,
        t.resolved_messages,
        t.consent_ledger,
    )
    return {table.name: count(engine, table) for table in tables}


def test_redelivery_gives_identical_events_and_no_new_rows(engine: Engine, script: Script) -> None:
    first = script.instagram("igsid-red", "hi! my number is 916-555-1234", name="Red")
    stop = script.sms("+19165551234", "STOP")
    events = script.send(first, stop)
    assert one(events, "consent.changed").data["status"] == "opted_out"
    before, threads_before = _counts(engine), rows(engine, t.threads)

    again = script.resolver.resolve_batch([gather(first, EVIDENCE)[0], gather(stop, EVIDENCE)[0]])
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in events]
    assert again.outcomes == {"redelivered": 2}
    assert _counts(engine) == before
    assert rows(engine, t.threads) == threads_before  # message counts did not move

    # Twice within one batch: the second is a redelivery of the first.
    twice = script.instagram("igsid-red", "see you", name="Red")
    request = gather(twice, EVIDENCE)[0]
    result = script.resolver.resolve_batch([request, request])
    assert result.outcomes == {"linked": 1, "redelivered": 1}
    half = len(result.events) // 2
    assert [e.to_dict() for e in result.events[:half]] == [e.to_dict() for e in result.events[half:]]

    # A command applied twice changes nothing the second time.
    customer = identity_customer(engine, first)
    script.command("mark_shared", command_id="cmd-dup", phone="916-555-1234")
    before = _counts(engine)
    again_events = script.handler.apply(script.commands[-1][0])
    assert [e.to_dict() for e in again_events] == [e.to_dict() for e in script.commands[-1][1]]
    assert _counts(engine) == before
    assert customer is not None


# --- deterministic replay ------------------------------------------------------------------------------


def _replay_scenario() -> list[RawEnvelope | tuple[str, dict[str, Any]]]:
    """Steps of a scenario touching every rule: journeys, a family phone, a rule-shared front
    desk, a friend's number, Brazil, conflicts, a rule merge, and admin merge/split/mark."""
    s = Envelopes(prefix="r")
    steps: list[RawEnvelope | tuple[str, dict[str, Any]]] = [
        s.instagram("igsid-sarah", "Hi! Table for 4 on Friday?", name="Sarah Johnson"),
        s.instagram("igsid-sarah", "my number is 916-555-1234", name="Sarah Johnson"),
        s.booking("bk-1", name="Sarah Johnson", email="sarah@example.com", phone="(916) 555-1234"),
        s.sms("+19165551234", "Running late"),
        s.sms("+19165557777", "Patio open?"),
        s.messenger("psid-mike", "my cell is 916-555-7777", name="Mike Chen"),
        s.instagram("igsid-maria", "my number is 916-555-3333", name="Maria Lopez"),
        s.messenger("psid-jose", "call me at 916-555-3333", name="Jose Lopez"),
        s.instagram("igsid-ana", "text me at 916-555-3333", name="Ana Lopez"),
        s.instagram("igsid-amy", "my friend's number is 916-555-2222", name="Amy"),
        s.whatsapp("551187654321", "Oi!", name="João Silva"),
        s.sms("+5511987654321", "Oi de novo"),
        s.sms("+19165551111", "hi"),
        s.sms("+19165552222", "hello"),
        s.instagram("igsid-pat", "my number is 916-555-1111", name="Pat Kim"),
        s.instagram("igsid-pat", "916-555-2222", name="Pat Kim"),
        s.instagram("igsid-pat", "my work cell is 916-555-2222", name="Pat Kim"),
        ("split", {"customer_id": "phone:+19165552222"}),
        s.instagram("igsid-alex", "my number is 916-555-4444", name="Alex Rivera"),
        ("merge", {"survivor_id": "phone:+19165557777", "merged_id": "phone:+19165554444"}),
        s.instagram("igsid-alex", "my work cell is 916-555-4545", name="Alex Rivera"),
        ("mark_shared", {"phone": "916-555-1111"}),
        s.sms("+19165551111", "me again"),
        s.sms("+19165557777", "STOP"),
    ]
    return steps


def _run_replay(engine: Engine, batch: int) -> tuple[list[LinkedEvent], Script]:
    steps = _replay_scenario()
    script = Script(engine=engine, prefix="r")
    events: list[LinkedEvent] = []
    pending: list[RawEnvelope] = []

    def flush() -> None:
        for i in range(0, len(pending), batch):
            events.extend(script.send(*pending[i : i + batch]))
        pending.clear()

    for number, step in enumerate(steps):
        if isinstance(step, RawEnvelope):
            pending.append(step)
            continue
        flush()
        action, params = step
        resolved = {k: _resolve_param(engine, v) for k, v in params.items()}
        script.n = number
        events.extend(script.command(action, command_id=f"replay-cmd-{number}", **resolved))
    flush()
    return events, script


def _resolve_param(engine: Engine, value: str) -> str:
    """'phone:+1...' names the customer holding that phone (ids are derived, so both runs agree)."""
    if value.startswith("phone:"):
        return str(phone_owner(engine, value.removeprefix("phone:")))
    return value


def _dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    tables = (
        t.customers,
        t.phones,
        t.phone_addresses,
        t.identities,
        t.threads,
        t.identity_ledger,
        t.conflicts,
        t.constraints,
        t.resolved_messages,
        t.consent_ledger,
    )
    return {table.name: rows(engine, table) for table in tables}


def test_deterministic_replay_into_an_empty_database(engine: Engine, second_engine: Engine) -> None:
    first_events, first = _run_replay(engine, batch=1)
    second_events, second = _run_replay(second_engine, batch=7)

    one_db, other_db = _dump(engine), _dump(second_engine)
    # The scenario did exercise what it claims to.
    assert len(one_db["customers"]) == 7
    assert any(p["shared_by"] == "rule" for p in one_db["phones"])
    assert any(p["shared_by"] == "admin:ops" for p in one_db["phones"])
    assert {e["action"] for e in one_db["identity_ledger"]} >= {
        "customer.created",
        "identity.linked",
        "thread.linked",
        "phone.linked",
        "customers.merged",
        "customer.split",
        "phone.shared",
        "conflict.recorded",
    }
    for table, content in one_db.items():
        assert content == other_db[table], table
    assert [e.to_dict() for e in first_events] == [e.to_dict() for e in second_events]
    assert_ledger_explains(engine, first)
    assert_ledger_explains(second_engine, second)
