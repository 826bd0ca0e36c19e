"""The identity scenarios of issue 4, written once and run on any identity store.

Each scenario drives the real resolver (`Resolver.resolve_batch`) with requests built by the real
extract stage (`gather`) from envelopes shaped like the ingest adapters' output, and applies
admin commands with the real `CommandHandler`, both wired by the composition root
(workers/bootstrap.py) over a `Backend`: the dict store of tests/fake_identity.py or PostgreSQL.
It asserts the identity rows (customers, phones, identities, threads, conflicts), the ledger and
the linked events. The classes are mixins, as arroyo's backend suite is: tests/unit runs every
one on the dict store; tests/integration runs some on PostgreSQL, to prove the real store
decides the same, beside the races only PostgreSQL can show. The full Kafka flow is the e2e
suite's job.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from phoneunify.settings import Settings
from schema import tables as t
from schema.commands import Command, CommandError
from schema.envelopes import Booking, Party, RawEnvelope, utc_iso
from schema.linked import LinkedEvent, derived_id
from tests.fake_identity import TABLES, FakeDatabase, in_key_order
from workers import bootstrap
from workers.domain.identity import POLICY_VERSION
from workers.domain.ports import UnitOfWorkFactory
from workers.domain.profiles import Profile, Sender
from workers.domain.requests import ResolveRequest
from workers.profiles.service import profile_envelope
from workers.services.evidence import EvidencePolicy, gather
from workers.timeline.projection import Reproject, project

BUSINESS = "+19165550000"
EVIDENCE = EvidencePolicy.build("US", [BUSINESS])
T0 = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
IG, PAGE, WA_LINE, RC_LINE = "ig-biz", "page-1", "wa-line-1", "rc-line-1"
SETTINGS = Settings(phone_hash_key="test-key", default_region="US", business_numbers=(BUSINESS,))


# --- the store under test -----------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """An identity store as a test sees it: units of work, and the committed rows of a table."""

    units: UnitOfWorkFactory
    rows: Callable[[str], list[dict[str, Any]]]


def fake_backend() -> Backend:
    db = FakeDatabase()
    return Backend(db.units(), db.rows)


def postgres_backend(engine: Engine) -> Backend:
    def read(name: str) -> list[dict[str, Any]]:
        with engine.connect() as conn:
            found = [dict(r._mapping) for r in conn.execute(select(t.metadata.tables[name]))]
        return in_key_order(name, found)

    return Backend(bootstrap.postgres_units(engine), read)


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

    def profile(self, message: RawEnvelope, *, name: str | None, handle: str | None = None) -> RawEnvelope:
        """The profile fetcher's observation of the sender of `message` (workers/profiles)."""
        self.n += 1
        sender = Sender(message.channel, message.business_account, message.customer.id, message.thread_key)
        return profile_envelope(sender, Profile(handle, name), T0 + timedelta(minutes=self.n))

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
    both wired by the composition root over `db` (or, given only `engine`, over PostgreSQL),
    remembering every request and every event for the ledger and timeline checks."""

    db: Backend = None  # type: ignore[assignment]
    engine: Engine | None = None
    settings: Settings = field(default_factory=lambda: SETTINGS)
    sent: list[Sent] = field(default_factory=list)
    commands: list[tuple[Command, list[LinkedEvent]]] = field(default_factory=list)
    # Every event in the order it was emitted, as the timeline writer would read it.
    stream: list[LinkedEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.db is None:
            assert self.engine is not None, "a Script needs a db or an engine"
            self.db = postgres_backend(self.engine)
        self.policy = bootstrap.policy(self.settings)
        self.resolver = bootstrap.resolver(self.settings, self.db.units)
        self.handler = bootstrap.command_handler(self.settings, self.db.units)

    # resolving ----------------------------------------------------------------------------
    def send(self, *envelopes: RawEnvelope) -> list[LinkedEvent]:
        """Resolve the envelopes in one batch; returns the events of the batch."""
        requests = [gather(envelope, EVIDENCE)[0] for envelope in envelopes]
        result = self.resolver.resolve_batch(requests)
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

    def observe_profile(self, envelope: RawEnvelope) -> list[LinkedEvent]:
        """Resolve a profile observation (it has no timeline event of its own)."""
        result = self.resolver.resolve_batch([gather(envelope, EVIDENCE)[0]])
        self.stream.extend(result.events)
        return result.events

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


# --- reading the tables ------------------------------------------------------------------------


def rows(db: Backend, table: Any, **where: Any) -> list[dict[str, Any]]:
    """The rows of a table (schema/tables.py) equal to `where`, in primary key order."""
    return [r for r in db.rows(table.name) if all(r[k] == v for k, v in where.items())]


def count(db: Backend, table: Any, **where: Any) -> int:
    return len(rows(db, table, **where))


def customers(db: Backend) -> list[dict[str, Any]]:
    return rows(db, t.customers)


def phone_owner(db: Backend, e164: str) -> uuid.UUID | None:
    (row,) = rows(db, t.phones, e164=e164)
    owner: uuid.UUID | None = row["customer_id"]
    return owner


def identity_customer(db: Backend, envelope: RawEnvelope) -> uuid.UUID | None:
    (row,) = rows(db, t.identities, id=ident(envelope))
    customer: uuid.UUID | None = row["customer_id"]
    return customer


def thread_customer(db: Backend, envelope: RawEnvelope) -> uuid.UUID | None:
    (row,) = rows(db, t.threads, id=thread(envelope))
    customer: uuid.UUID | None = row["customer_id"]
    return customer


def timelines(db: Backend, script: Script) -> dict[uuid.UUID, set[str]]:
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
        if isinstance(reproject, Reproject):
            for key, thread_id in thread_of.items():
                if thread_id == reproject.thread_id and (owner[key] is None or not reproject.only_unlinked):
                    owner[key] = reproject.customer_id
    merged = {r["id"]: r["merged_into"] for r in customers(db)}

    def effective(customer: uuid.UUID) -> uuid.UUID:
        while merged.get(customer) is not None:
            customer = merged[customer]
        return customer

    result: dict[uuid.UUID, set[str]] = {}
    for key, customer in owner.items():
        if customer is not None:
            result.setdefault(effective(customer), set()).add(key)
    return result


def open_conflicts(db: Backend) -> list[dict[str, Any]]:
    return rows(db, t.conflicts, status="open")


def dump(db: Backend) -> dict[str, list[dict[str, Any]]]:
    """Every identity table, row by row."""
    return {table.name: rows(db, table) for table in TABLES}


# --- the ledger explains every link ------------------------------------------------------------


def assert_ledger_explains(db: Backend, script: Script) -> None:
    ledger = rows(db, t.identity_ledger)
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

    for row in [r for r in rows(db, t.identities) if r["customer_id"] is not None]:
        entry = latest(("identity.linked", "identity.unlinked"), "identity_id", row["id"])
        assert (entry["action"], entry["customer_id"]) == ("identity.linked", row["customer_id"])
    for row in [r for r in rows(db, t.threads) if r["customer_id"] is not None]:
        entry = latest(("thread.linked", "thread.unlinked"), "thread_id", row["id"])
        assert (entry["action"], entry["customer_id"]) == ("thread.linked", row["customer_id"])
    for row in [r for r in rows(db, t.phones) if r["customer_id"] is not None]:
        assert [
            e
            for e in ledger
            if e["action"] in ("customer.created", "phone.linked")
            and e["e164"] == row["e164"]
            and e["customer_id"] == row["customer_id"]
        ], row["e164"]


class Journeys:
    """The design document's journeys."""

    def test_journey_instagram_dm_then_booking_then_sms(self, db: Backend, script: Script) -> None:
        hello = script.instagram(
            "igsid-sarah", "Hi! Table for 4 on Friday?", name="Sarah Johnson", handle="sarah.j"
        )
        events = script.send(hello)
        assert types(events) == ["timeline.event"]
        assert timeline(events).customer_id is None  # kept in the timeline without a customer
        assert timeline(events).data["owner_customer_id"] is None
        assert customers(db) == []
        assert thread_customer(db, hello) is None

        more = script.instagram(
            "igsid-sarah", "Around 7pm if possible", name="Sarah Johnson", handle="sarah.j"
        )
        script.send(more)

        phone = script.instagram("igsid-sarah", "Great, my number is 916-555-1234", name="Sarah Johnson")
        events = script.send(phone)
        assert types(events) == ["customer.created", "identity.linked", "thread.backlinked", "timeline.event"]
        (customer,) = customers(db)
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
        assert thread_customer(db, hello) == sarah
        assert phone_owner(db, "+19165551234") == sarah

        form = script.booking(
            "bk-1",
            name="Sarah Johnson",
            email="sarah@example.com",
            phone="(916) 555-1234",
            notes="Window seat",
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

        (customer,) = customers(db)
        assert customer["email"] == "sarah@example.com"
        assert {r["customer_id"] for r in rows(db, t.identities)} == {sarah}
        assert {r["customer_id"] for r in rows(db, t.threads)} == {sarah}
        (row,) = rows(db, t.phones)
        assert (row["e164"], row["customer_id"], row["shared"]) == ("+19165551234", sarah, False)
        assert [(a["channel"], a["address"], a["e164"]) for a in rows(db, t.phone_addresses)] == [
            ("sms", "+19165551234", "+19165551234")
        ]
        assert timelines(db, script) == {sarah: {e.request.envelope.idempotency_key for e in script.sent}}
        assert open_conflicts(db) == []
        assert_ledger_explains(db, script)

    def test_journey_sms_then_facebook_then_booking(self, db: Backend, script: Script) -> None:
        first = script.sms("+19165557777", "Hi, is the patio open tonight?")
        events = script.send(first)
        assert types(events) == ["customer.created", "identity.linked", "timeline.event"]
        (customer,) = customers(db)
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

        (customer,) = customers(db)
        assert (customer["name"], customer["email"]) == ("Mike Chen", "mike@example.com")
        assert count(db, t.identities, customer_id=mike) == 3
        assert count(db, t.threads, customer_id=mike) == 3
        assert phone_owner(db, "+19165557777") == mike
        assert_ledger_explains(db, script)


class MergeProtection:
    """A family phone and a front desk: one phone, several people."""

    def test_family_phone_used_by_two_people(self, db: Backend, script: Script) -> None:
        maria_dm = script.instagram("igsid-maria", "hi! my number is 916-555-3333", name="Maria Lopez")
        script.send(maria_dm)
        (customer,) = customers(db)
        maria = customer["id"]

        jose_dm = script.messenger("psid-jose", "you can call me at 916-555-3333", name="Jose Lopez")
        events = script.send(jose_dm)
        assert types(events) == ["conflict.recorded", "timeline.event"]
        conflict = one(events, "conflict.recorded")
        assert conflict.data["kind"] == "shared_phone_candidate"
        assert conflict.data["customer_id"] == str(maria)
        assert timeline(events).customer_id is None  # Jose's message is not put on Maria's timeline
        assert identity_customer(db, jose_dm) is None
        assert thread_customer(db, jose_dm) is None

        # Asking the same question again is noise: one open conflict.
        again = script.messenger("psid-jose", "again, it's 916-555-3333", name="Jose Lopez")
        assert types(script.send(again)) == ["timeline.event"]
        (row,) = open_conflicts(db)
        assert (row["kind"], row["customer_id"], row["e164"]) == (
            "shared_phone_candidate",
            maria,
            "+19165553333",
        )

        # The phone's own SMS is the owner's (attested evidence does not compare names).
        family_sms = script.sms("+19165553333", "Confirming for 6 people")
        script.send(family_sms)
        assert identity_customer(db, family_sms) == maria

        # An admin marks the phone shared: it stops auto-linking.
        events = script.command("mark_shared", phone="(916) 555-3333")
        assert types(events) == ["phone.shared"]
        (phone,) = rows(db, t.phones)
        assert (phone["shared"], phone["customer_id"], phone["shared_by"]) == (True, None, "admin:ops")

        events = script.send(script.messenger("psid-jose", "call me at 916-555-3333", name="Jose Lopez"))
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone"
        assert identity_customer(db, jose_dm) is None
        wa = script.whatsapp("19165553333", "Hola!", name="Ana Lopez")
        events = script.send(wa)
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone"
        assert identity_customer(db, wa) is None
        assert [c["id"] for c in customers(db)] == [maria]

        # Each person keeps their own timeline: Maria's identity still carries her messages.
        events = script.send(script.instagram("igsid-maria", "see you at 7", name="Maria Lopez"))
        assert timeline(events).customer_id == str(maria)
        assert identity_customer(db, family_sms) == maria  # links made before the mark stand
        assert_ledger_explains(db, script)

    def test_front_desk_phone_is_marked_shared_by_rule(self, db: Backend, script: Script) -> None:
        assert script.policy.shared_phone_min_identities == 3
        script.send(script.instagram("igsid-john", "my number is 916-555-4444", name="John Park"))
        (customer,) = customers(db)
        john = customer["id"]
        mary = script.messenger("psid-mary", "call me at 916-555-4444", name="Mary Ellis")
        assert one(script.send(mary), "conflict.recorded").data["kind"] == "shared_phone_candidate"

        peter = script.instagram("igsid-peter", "text me at 916-555-4444", name="Peter Wong")
        events = script.send(peter)
        assert types(events) == ["phone.shared", "conflict.recorded", "timeline.event"]
        shared = one(events, "phone.shared").data
        assert (shared["actor"], shared["rule"], shared["people"]) == ("rule", "shared_phone_by_rule", 3)
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone"
        (phone,) = rows(db, t.phones)
        assert (phone["shared"], phone["shared_by"], phone["customer_id"]) == (True, "rule", None)
        (entry,) = rows(db, t.identity_ledger, action="phone.shared")
        assert (entry["actor"], entry["rule"], entry["customer_id"]) == ("rule", "shared_phone_by_rule", john)
        assert (
            entry["evidence"]["idempotency_key"] == peter.idempotency_key and entry["evidence"]["people"] == 3
        )
        assert identity_customer(db, peter) is None
        # John keeps what he had.
        assert count(db, t.identities, customer_id=john) == 1

        # A person says it is not shared; the rule then never marks it again.
        assert types(script.command("unmark_shared", phone="916-555-4444")) == ["phone.unshared"]
        script.send(script.messenger("psid-mary", "my number: 916-555-4444", name="Mary Ellis"))
        assert phone_owner(db, "+19165554444") == identity_customer(db, mary) is not None
        lisa = script.instagram("igsid-lisa", "text me at 916-555-4444", name="Lisa Chen")
        events = script.send(lisa)
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone_candidate"
        (phone,) = rows(db, t.phones)
        assert phone["shared"] is False
        assert_ledger_explains(db, script)


class OtherPeoplesNumbers:
    """The business's own numbers and other people's never identify a customer."""

    def test_business_number_in_outbound_message_and_signature(self, db: Backend, script: Script) -> None:
        ask = script.instagram("igsid-kim", "Hi, can I book for Saturday?", name="Kim Lee")
        reply = script.instagram(
            "igsid-kim",
            "Sure! Call us at 916-555-0000 or text our manager at 916-555-8888",
            direction="out",
        )
        signature = script.instagram(
            "igsid-kim",
            "See you Saturday!\n--\nBella Cucina | (916) 555-0000 | 916-555-8888",
            direction="out",
        )
        quoting = script.instagram("igsid-kim", "I called 916-555-0000 yesterday, no answer", name="Kim Lee")
        own_line = script.sms(BUSINESS, "test message from our own line")
        events = script.send(ask, reply, signature, quoting, own_line)
        assert types(events) == ["timeline.event"] * 5
        assert all(e.customer_id is None for e in events)
        assert customers(db) == []
        assert rows(db, t.phones) == []  # neither the business's number nor the manager's
        assert thread_customer(db, ask) is None

        # The outbound SMS's recipient is the customer; the signature's numbers are not.
        out = script.sms(
            "+19165554321", "Your table is confirmed.\n-- Bella Cucina, 916-555-0000", direction="out"
        )
        events = script.send(out)
        assert [p["e164"] for p in rows(db, t.phones)] == ["+19165554321"]
        assert one(events, "customer.created").data["phone"] == "+19165554321"
        assert_ledger_explains(db, script)

    def test_customer_gives_a_friends_number(self, db: Backend, script: Script) -> None:
        amy = script.instagram(
            "igsid-amy", "my friend's number is 916-555-2222, she wants to book too", name="Amy"
        )
        events = script.send(amy)
        assert types(events) == ["timeline.event"]
        assert customers(db) == [] and rows(db, t.phones) == []
        assert identity_customer(db, amy) is None
        assert timeline(events).data["evidence"][0]["owner"] == "other_person"

        friend = script.sms("+19165552222", "Hi, Amy gave me your number")
        script.send(friend)
        (customer,) = customers(db)
        assert identity_customer(db, friend) == customer["id"]
        assert identity_customer(db, amy) is None  # nobody linked to the friend

        script.send(script.instagram("igsid-amy", "oh and my number is 916-555-1111", name="Amy"))
        amy_customer = identity_customer(db, amy)
        assert amy_customer is not None and amy_customer != customer["id"]
        assert len(customers(db)) == 2
        assert_ledger_explains(db, script)


class SeveralNumbers:
    """One person, several numbers."""

    def test_one_person_with_two_phones(self, db: Backend, script: Script) -> None:
        script.send(script.sms("+19165551111", "Hi, table for two?"))
        (customer,) = customers(db)
        dan = customer["id"]
        ig = script.instagram("igsid-dan", "it's Dan, my number is 916-555-1111", name="Dan Ortiz")
        script.send(ig)
        assert identity_customer(db, ig) == dan

        events = script.send(script.instagram("igsid-dan", "my work cell is 916-555-2222", name="Dan Ortiz"))
        added = one(events, "phone.linked")
        assert added.customer_id == str(dan) and added.data["rule"] == "text_self_cue:second_phone"
        second = script.sms("+19165552222", "Dan here, from my work phone")
        events = script.send(second)
        assert one(events, "identity.linked").data["customer_id"] == str(dan)

        assert len(customers(db)) == 1
        assert {p["e164"]: p["customer_id"] for p in rows(db, t.phones)} == {
            "+19165551111": dan,
            "+19165552222": dan,
        }
        assert_ledger_explains(db, script)

    def test_brazilian_whatsapp_number_with_and_without_the_9th_digit(
        self, db: Backend, script: Script
    ) -> None:
        wa = script.whatsapp("551187654321", "Oi, vocês abrem domingo?", name="João Silva")
        events = script.send(wa)
        assert one(events, "customer.created").data["phone"] == "+5511987654321"
        (customer,) = customers(db)
        joao = customer["id"]

        via_twilio = script.twilio_whatsapp("whatsapp:+5511987654321", "Sou eu de novo")
        sms = script.sms("+5511987654321", "Confirmando a reserva")
        dm = script.instagram("igsid-joao", "meu número é +55 11 8765-4321", name="Joao Silva")
        events = script.send(via_twilio, sms, dm)
        assert [e.data["customer_id"] for e in events if e.type == "identity.linked"] == [str(joao)] * 3
        assert len(customers(db)) == 1
        (phone,) = rows(db, t.phones)
        assert (phone["e164"], phone["customer_id"]) == ("+5511987654321", joao)
        # The routable addresses are kept as the providers sent them, beside the canonical number.
        assert sorted((a["channel"], a["address"], a["e164"]) for a in rows(db, t.phone_addresses)) == [
            ("sms", "+5511987654321", "+5511987654321"),
            ("whatsapp", "551187654321", "+5511987654321"),
            ("whatsapp", "whatsapp:+5511987654321", "+5511987654321"),
        ]
        # An admin may name the number in its WhatsApp form too: it is the same phone.
        assert one(script.command("mark_shared", phone="+551187654321"), "phone.shared").data["phone"] == (
            "+5511987654321"
        )
        (phone,) = rows(db, t.phones)
        assert (phone["shared"], phone["customer_id"]) == (True, None)
        assert_ledger_explains(db, script)


class ConflictsMergesSplits:
    """Conflicts, merges, splits and admin decisions."""

    def test_conflicting_evidence_below_threshold_is_reviewed_above_it_merges(
        self, db: Backend, script: Script
    ) -> None:
        script.send(script.sms("+19165551111", "hi"))
        script.send(script.sms("+19165552222", "hello again"))
        first, second = (c["id"] for c in sorted(customers(db), key=lambda c: c["created_at"]))
        pat = script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat Kim")
        script.send(pat)
        assert identity_customer(db, pat) == first

        # A bare number (0.7) ties Pat's identity to the other customer's phone: review, no merge.
        events = script.send(script.instagram("igsid-pat", "916-555-2222", name="Pat Kim"))
        conflict = one(events, "conflict.recorded").data
        assert conflict["kind"] == "identity_phone_conflict"
        assert (conflict["customer_id"], conflict["other_customer_id"]) == (str(first), str(second))
        assert 0.6 <= conflict["confidence"] < 0.9
        assert all(c["merged_into"] is None for c in customers(db))
        (row,) = open_conflicts(db)
        assert (row["customer_id"], row["other_customer_id"], row["e164"]) == (first, second, "+19165552222")

        # A cued number (0.95, at or above the merge threshold) merges, naming the older survivor.
        events = script.send(script.instagram("igsid-pat", "my work cell is 916-555-2222", name="Pat Kim"))
        merged = one(events, "customers.merged")
        assert merged.customer_id == str(first)
        assert (merged.data["survivor_id"], merged.data["merged_ids"]) == (str(first), [str(second)])
        assert merged.data["rule"] == "text_self_cue:same_person_two_customers"
        assert {c["id"]: c["merged_into"] for c in customers(db)} == {first: None, second: first}
        (entry,) = rows(db, t.identity_ledger, action="customers.merged")
        assert (entry["customer_id"], entry["other_customer_id"], entry["actor"]) == (first, second, "rule")
        assert entry["confidence"] >= 0.9 and entry["evidence"]["span"] is not None
        assert_ledger_explains(db, script)

    def test_conflict_between_two_people_is_never_merged(self, db: Backend, script: Script) -> None:
        script.send(script.instagram("igsid-ann", "my number is 916-555-1111", name="Ann Berg"))
        script.send(script.instagram("igsid-bob", "my number is 916-555-2222", name="Bob Stone"))
        events = script.send(script.instagram("igsid-ann", "or text me at 916-555-2222", name="Ann Berg"))
        assert one(events, "conflict.recorded").data["kind"] == "identity_phone_conflict"
        assert all(c["merged_into"] is None for c in customers(db))
        assert_ledger_explains(db, script)

    def test_merge_then_split_restores_each_side_exactly(self, db: Backend, script: Script) -> None:
        a1 = script.sms("+19165551111", "Hi, table for two tonight?")
        b1 = script.instagram("igsid-alex", "my number is 916-555-2222", name="Alex Rivera")
        script.send(a1, b1)
        a, b = identity_customer(db, a1), identity_customer(db, b1)
        assert a is not None and b is not None and a != b
        before = timelines(db, script)
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
        assert timelines(db, script) == {a: {m.idempotency_key for m in (a1, a2, b1, b2, b3, b4)}}

        events = script.command("split", customer_id=str(b))
        split = one(events, "customer.split")
        assert (split.customer_id, split.data["survivor_id"]) == (str(b), str(a))
        assert {c["id"]: c["merged_into"] for c in customers(db)} == {a: None, b: None}

        # Each side is exactly restored, including what arrived after the merge.
        assert timelines(db, script) == {
            a: {a1.idempotency_key, a2.idempotency_key},
            b: {b1.idempotency_key, b2.idempotency_key, b3.idempotency_key, b4.idempotency_key},
        }
        assert {thread_customer(db, m) for m in (a1, a2)} == {a}
        assert {thread_customer(db, m) for m in (b1, b2, b3, b4)} == {b}
        assert {identity_customer(db, m) for m in (b1, b3)} == {b}
        assert {p["e164"]: p["customer_id"] for p in rows(db, t.phones)} == {
            "+19165551111": a,
            "+19165552222": b,
            "+19165553333": b,
        }
        after = script.instagram("igsid-alex", "thanks!", name="Alex Rivera")
        assert timeline(script.send(after)).customer_id == str(b)

        # The split is durable: evidence tying the two again goes to review, not to a merge.
        events = script.send(script.instagram("igsid-alex", "my number is 916-555-1111", name="Alex Rivera"))
        assert one(events, "conflict.recorded").data["kind"] == "identity_phone_conflict"
        assert {c["id"]: c["merged_into"] for c in customers(db)} == {a: None, b: None}
        assert_ledger_explains(db, script)

    def test_admin_decisions_stand(self, db: Backend, script: Script) -> None:
        sms = script.sms("+19165551111", "hi")
        script.send(sms)
        script.send(script.sms("+19165552222", "hello"))
        first, second = identity_customer(db, sms), phone_owner(db, "+19165552222")
        pat = script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat")
        script.send(pat)
        assert identity_customer(db, pat) == first

        events = script.command("unlink_identity", identity_id=str(ident(pat)))
        assert types(events) == ["identity.unlinked", "thread.unlinked"]
        assert thread_customer(db, pat) is None
        script.send(script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat"))
        assert identity_customer(db, pat) is None  # automation never undoes the unlink

        events = script.command("link_identity", identity_id=str(ident(pat)), customer_id=str(second))
        assert types(events) == ["identity.linked", "thread.linked"]
        assert thread_customer(db, pat) == second
        events = script.send(script.instagram("igsid-pat", "call me at 916-555-1111", name="Pat"))
        assert one(events, "conflict.recorded").data["kind"] == "identity_phone_conflict"
        assert identity_customer(db, pat) == second
        (row,) = rows(db, t.identities, id=ident(pat))
        assert (row["decided_by"], row["verification"]) == ("admin:ops", "verified")

        # An admin re-links one thread on its own; the identity's later messages do not move it back.
        assert types(script.command("link_thread", thread_id=str(thread(pat)), customer_id=str(first))) == [
            "thread.linked"
        ]
        events = script.send(script.instagram("igsid-pat", "thanks", name="Pat"))
        assert timeline(events).data["owner_customer_id"] == str(first)
        assert_ledger_explains(db, script)


class Backlinking:
    """Back-linking a thread's earlier messages."""

    def test_a_phone_on_a_later_booking_backlinks_the_identitys_earlier_threads(
        self, db: Backend, script: Script
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
        assert str(thread_customer(db, early)) == str(thread_customer(db, later)) == customer
        assert_ledger_explains(db, script)


class ContactDetails:
    """A customer's details stay correct: the newest email of the strongest source is kept,
    whatever order the messages come in, and the ledger keeps both addresses."""

    def test_the_newer_booking_email_is_kept_in_any_order_and_the_ledger_keeps_both(
        self, db: Backend, second_db: Backend
    ) -> None:
        s = Envelopes(prefix="e")
        old = s.booking("bk-20", name="Kim Lee", email="kim@old.example", phone="916-555-8080")
        new = s.booking("bk-21", name="Kim Lee", email="kim@new.example", phone="916-555-8080")
        for store, order, outcome in ((db, (old, new), "replaced"), (second_db, (new, old), "kept_previous")):
            script = Script(db=store, prefix="e")
            for envelope in order:
                script.send(envelope)
            (customer,) = customers(store)
            assert (customer["email"], customer["email_source"]) == ("kim@new.example", "booking_form")
            (entry,) = rows(store, t.identity_ledger, action="customer.email")
            met = {entry["evidence"]["email"], entry["evidence"]["previous_email"]}
            assert met == {"kim@old.example", "kim@new.example"}  # both addresses on record
            assert entry["evidence"]["outcome"] == outcome
            assert entry["customer_id"] == customer["id"] and entry["actor"] == "rule"
            assert_ledger_explains(store, script)


class Redelivery:
    """Redelivery changes nothing."""

    def test_redelivery_gives_identical_events_and_no_new_rows(self, db: Backend, script: Script) -> None:
        first = script.instagram("igsid-red", "hi! my number is 916-555-1234", name="Red")
        stop = script.sms("+19165551234", "STOP")
        events = script.send(first, stop)
        assert one(events, "consent.changed").data["status"] == "opted_out"
        before = dump(db)

        again = script.resolver.resolve_batch([gather(first, EVIDENCE)[0], gather(stop, EVIDENCE)[0]])
        assert [e.to_dict() for e in again.events] == [e.to_dict() for e in events]
        assert again.outcomes == {"redelivered": 2}
        assert dump(db) == before  # no row added, no message count moved

        # Twice within one batch: the second is a redelivery of the first.
        twice = script.instagram("igsid-red", "see you", name="Red")
        request = gather(twice, EVIDENCE)[0]
        result = script.resolver.resolve_batch([request, request])
        assert result.outcomes == {"linked": 1, "redelivered": 1}
        half = len(result.events) // 2
        assert [e.to_dict() for e in result.events[:half]] == [e.to_dict() for e in result.events[half:]]

        # A command applied twice changes nothing the second time.
        customer = identity_customer(db, first)
        script.command("mark_shared", command_id="cmd-dup", phone="916-555-1234")
        before = dump(db)
        again_events = script.handler.apply(script.commands[-1][0])
        assert [e.to_dict() for e in again_events] == [e.to_dict() for e in script.commands[-1][1]]
        assert dump(db) == before
        assert customer is not None


def replay_steps() -> list[RawEnvelope | tuple[str, dict[str, Any]]]:
    """Steps of a scenario touching every rule: journeys, a family phone, a rule-shared front
    desk, a friend's number, Brazil, conflicts, a rule merge, and admin merge/split/mark."""
    s = Envelopes(prefix="r")
    return [
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


def run_replay(db: Backend, batch: int) -> tuple[list[LinkedEvent], Script]:
    """The replay steps resolved `batch` messages at a time, with the commands between."""
    script = Script(db=db, prefix="r")
    events: list[LinkedEvent] = []
    pending: list[RawEnvelope] = []

    def flush() -> None:
        for i in range(0, len(pending), batch):
            events.extend(script.send(*pending[i : i + batch]))
        pending.clear()

    for number, step in enumerate(replay_steps()):
        if isinstance(step, RawEnvelope):
            pending.append(step)
            continue
        flush()
        action, params = step
        # 'phone:+1...' names the customer holding that phone (ids are derived, so runs agree).
        resolved = {
            k: str(phone_owner(db, v.removeprefix("phone:"))) if v.startswith("phone:") else v
            for k, v in params.items()
        }
        script.n = number
        events.extend(script.command(action, command_id=f"replay-cmd-{number}", **resolved))
    flush()
    return events, script


class Replay:
    """Deterministic replay: the same messages into an empty store, in batches of another size,
    give the same rows and the same events."""

    def test_deterministic_replay_into_an_empty_store(self, db: Backend, second_db: Backend) -> None:
        first_events, first = run_replay(db, batch=1)
        second_events, second = run_replay(second_db, batch=7)

        one_db, other_db = dump(db), dump(second_db)
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
        assert_ledger_explains(db, first)
        assert_ledger_explains(second_db, second)


class EditsByPeople:
    """The console's Edit section: customers, names, emails and phones set by a person. One owner
    per phone holds (a phone never moves silently), and automation never undoes the edit."""

    def test_a_customer_created_by_a_person_owns_its_phone_and_keeps_its_details(
        self, db: Backend, script: Script
    ) -> None:
        made = uuid.UUID(int=77)
        events = script.command(
            "create_customer",
            customer_id=str(made),
            name="Nina Park",
            email="nina@example.com",
            phone="(916) 555-7777",
        )
        assert types(events) == ["customer.created", "phone.linked"]
        assert phone_owner(db, "+19165557777") == made
        # Her first text joins her (no second customer for the number)...
        sms = script.sms("+19165557777", "hi, it's Nina")
        script.send(sms)
        assert identity_customer(db, sms) == made and len(customers(db)) == 1
        # ...and an earlier booking under another name does not rename her: a person named her.
        script.send(script.booking("b-nina", name="N. Park-Lee", email="np@example.com", phone="9165557777"))
        (row,) = customers(db)
        assert (row["name"], row["email"], row["name_by"]) == ("Nina Park", "nina@example.com", "admin:ops")

        assert types(script.command("edit_customer", customer_id=str(made), email="nina.p@example.com")) == [
            "customer.updated"
        ]
        (row,) = customers(db)
        assert (row["name"], row["email"], row["email_by"]) == (
            "Nina Park",
            "nina.p@example.com",
            "admin:ops",
        )
        assert_ledger_explains(db, script)

    def test_a_phone_owned_by_another_customer_never_moves(self, db: Backend, script: Script) -> None:
        script.send(script.sms("+19165551111", "Ann here"))
        script.send(script.sms("+19165552222", "Bob here"))
        ann, bob = phone_owner(db, "+19165551111"), phone_owner(db, "+19165552222")
        with pytest.raises(CommandError, match=f"the phone belongs to customer {bob}: merge"):
            script.command("add_phone", "r1", customer_id=str(ann), phone="916-555-2222")
        with pytest.raises(CommandError, match="this customer's already"):
            script.command("add_phone", "r2", customer_id=str(ann), phone="916-555-1111")
        with pytest.raises(CommandError, match="exists already"):
            script.command("create_customer", "r3", customer_id=str(ann), name="Ann")
        with pytest.raises(CommandError, match=f"belongs to customer {ann}"):
            script.command(
                "create_customer", "r4", customer_id=str(uuid.UUID(int=5)), name="X", phone="9165551111"
            )
        # A refused command sent again is answered from the outbox: it never applies later.
        assert script.command("add_phone", "r1", customer_id=str(ann), phone="916-555-2222") == []
        script.commands.pop()  # (it decided nothing: no ledger entry explains it)
        assert (phone_owner(db, "+19165551111"), phone_owner(db, "+19165552222")) == (ann, bob)
        assert len(customers(db)) == 2
        refused = [r["refused"] for r in rows(db, t.resolved_messages) if r["refused"]]
        assert len(refused) == 4 and "merge the two customers" in refused[0]

        events = script.command("add_phone", customer_id=str(ann), phone="+1 916 555 3333")
        assert types(events) == ["phone.linked"] and phone_owner(db, "+19165553333") == ann
        assert_ledger_explains(db, script)

    def test_a_removed_phone_is_unowned_and_never_rejoins_its_customer(
        self, db: Backend, script: Script
    ) -> None:
        sms = script.sms("+19165551111", "hi")
        script.send(sms)
        ann = phone_owner(db, "+19165551111")
        pat = script.instagram("igsid-pat", "my number is 916-555-1111", name="Pat")
        script.send(pat)
        assert identity_customer(db, pat) == ann

        events = script.command("remove_phone", customer_id=str(ann), phone="916-555-1111")
        assert types(events) == ["phone.unlinked", "identity.unlinked", "thread.unlinked"]
        assert phone_owner(db, "+19165551111") is None
        # The SMS sender is the phone: it left Ann, with its conversation; Pat's DM link stays.
        assert (identity_customer(db, sms), thread_customer(db, sms)) == (None, None)
        assert identity_customer(db, pat) == ann
        # Pat giving the number again does not give it back to Ann.
        script.send(script.instagram("igsid-pat", "call 916-555-1111", name="Pat"))
        assert phone_owner(db, "+19165551111") is None
        # The number's next text makes a customer of its own, and its conversation follows it.
        script.send(script.sms("+19165551111", "new phone, who dis"))
        owner = phone_owner(db, "+19165551111")
        assert owner not in (None, ann)
        assert (identity_customer(db, sms), thread_customer(db, sms)) == (owner, owner)
        with pytest.raises(CommandError, match="not this customer's"):
            script.command("remove_phone", "r1", customer_id=str(ann), phone="916-555-1111")
        assert_ledger_explains(db, script)


class ProfilesAsObservations:
    """A sender's Graph API profile reaches the identity tables through the resolver, as an
    observation of its own: the name is on the identity and takes part in the identity rules."""

    def test_a_profile_names_the_identity_and_its_customer(self, db: Backend, script: Script) -> None:
        script.send(script.sms("+19165551234", "Do you do birthdays?"))
        dm = script.messenger("psid-john", "My number is 916-555-1234")
        script.send(dm)
        john = identity_customer(db, dm)
        assert customers(db)[0]["name"] is None

        profile = script.profile(dm, name="John Doe")
        events = script.observe_profile(profile)
        assert types(events) == ["customer.updated", "identity.updated"]
        assert one(events, "identity.updated").data["name"] == "John Doe"
        (row,) = rows(db, t.identities, id=ident(dm))
        assert (row["display_name"], row["customer_id"]) == ("John Doe", john)
        assert customers(db)[0]["name"] == "John Doe"
        # Redelivered (or fetched again unchanged), the same observation changes nothing.
        assert script.observe_profile(profile) == events
        assert count(db, t.threads) == 2 and rows(db, t.threads, id=thread(dm))[0]["message_count"] == 1

    def test_a_name_known_before_the_number_takes_part_in_the_rules(
        self, db: Backend, script: Script
    ) -> None:
        script.send(script.booking("b-maria", name="Maria Lopez", phone="916-555-0142"))
        hello = script.instagram("igsid-jose", "hola")
        script.send(hello)
        script.observe_profile(script.profile(hello, name="Jose Lopez", handle="jose.l"))
        events = script.send(script.instagram("igsid-jose", "mi numero es 916-555-0142"))
        # Two names on one phone: a question for a person, not a link.
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone_candidate"
        assert identity_customer(db, hello) is None

    def test_a_clashing_name_learned_after_the_link_is_a_question(self, db: Backend, script: Script) -> None:
        script.send(script.booking("b-maria", name="Maria Lopez", phone="916-555-0142"))
        dm = script.instagram("igsid-x", "my number is 916-555-0142")
        script.send(dm)
        maria = identity_customer(db, dm)
        assert maria is not None
        events = script.observe_profile(script.profile(dm, name="Jose Lopez", handle="jose.l"))
        assert one(events, "conflict.recorded").data["kind"] == "profile_name_clash"
        assert identity_customer(db, dm) == maria  # the link stays until a person answers
        assert customers(db)[0]["name"] == "Maria Lopez"
        (question,) = open_conflicts(db)
        assert (question["kind"], question["customer_id"]) == ("profile_name_clash", maria)
        # Asked once: the same profile again does not ask again.
        script.observe_profile(script.profile(dm, name="Jose Lopez", handle="jose.l2"))
        assert len(open_conflicts(db)) == 1
