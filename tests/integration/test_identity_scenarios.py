"""The identity scenarios on PostgreSQL: some of the scenarios every store runs (proving the
real store decides as the dict store does), and the races only PostgreSQL can show: concurrent
first contacts, a claim racing another writer's uncommitted one, and the old and the new owner
of a moving partition applying the same message."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from schema import tables as t
from tests.identity_scenarios import (
    EVIDENCE,
    SETTINGS,
    T0,
    Backend,
    ConflictsMergesSplits,
    ContactDetails,
    EditsByPeople,
    Journeys,
    MergeProtection,
    Redelivery,
    Replay,
    Script,
    assert_ledger_explains,
    customers,
    identity_customer,
    one,
    open_conflicts,
    phone_owner,
    postgres_backend,
    rows,
    thread_customer,
    types,
)
from tests.privacy_scenarios import Consent, Erasure
from workers import bootstrap
from workers.domain.ports import TransientError
from workers.services.evidence import gather
from workers.services.resolve import BatchResult, Resolver, _lock_keys

pytestmark = pytest.mark.infra


@pytest.fixture
def db(engine: Engine) -> Backend:
    return postgres_backend(engine)


@pytest.fixture
def second_db(database_url: str) -> Iterator[Backend]:
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
        yield postgres_backend(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def script(db: Backend) -> Script:
    return Script(db=db)


def resolver(engine: Engine) -> Resolver:
    """A resolver of its own on the database, as another worker would have."""
    return bootstrap.resolver(SETTINGS, bootstrap.postgres_units(engine))


class TestJourneysOnPostgres(Journeys):
    pass


class TestMergeProtectionOnPostgres(MergeProtection):
    pass


class TestConflictsMergesSplitsOnPostgres(ConflictsMergesSplits):
    pass


class TestContactDetailsOnPostgres(ContactDetails):
    pass


class TestEditsByPeopleOnPostgres(EditsByPeople):
    pass


class TestRedeliveryOnPostgres(Redelivery):
    pass


class TestReplayOnPostgres(Replay):
    pass


class TestErasureOnPostgres(Erasure):
    pass


class TestConsentOnPostgres(Consent):
    pass


# --- races only PostgreSQL can show ------------------------------------------------------------


def test_concurrent_first_contacts_create_exactly_one_customer(
    engine: Engine, db: Backend, script: Script
) -> None:
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
        worker = resolver(engine)
        try:
            barrier.wait(timeout=10)
            for _ in range(5):  # the workers' retry of transient errors (a deadlock, say)
                try:
                    results[i] = worker.resolve_batch([requests[i]])
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
        script.record([requests[i]], result.events)

    (customer,) = customers(db)
    assert phone_owner(db, "+19165559999") == customer["id"]
    assert {identity_customer(db, e) for e in contacts} == {customer["id"]}
    assert {thread_customer(db, e) for e in contacts} == {customer["id"]}
    everything = [e for r in results.values() for e in r.events]
    assert len([e for e in everything if e.type == "customer.created"]) == 1
    assert len([e for e in everything if e.type == "identity.linked"]) == 8
    assert open_conflicts(db) == []
    assert_ledger_explains(db, script)


@pytest.mark.parametrize(
    ("name", "outcome"),
    [("Rae", "joins the winner"), ("Zed Quinn", "review: names clash")],
)
def test_claim_phone_race_is_decided_by_the_unique_key(
    engine: Engine, db: Backend, script: Script, name: str, outcome: str
) -> None:
    """The race, made deterministic: another writer holds an uncommitted claim on the phone
    when the resolver decides to create a customer. The database unique key makes the resolver
    wait at its commit; it then finds its unit of work stale (the phone it read as unowned has
    an owner), rolls it back and decides it again against the committed phone: it joins the
    winner's customer, or (names clash) leaves it for review, never a second owner."""
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
            target=lambda: result.setdefault("r", resolver(engine).resolve_batch([request]))
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
    assert [c["id"] for c in customers(db)] == [rival]  # the stale attempt's customer was never written
    assert phone_owner(db, "+19165556666") == rival
    if outcome == "joins the winner":
        assert types(events) == ["identity.linked", "timeline.event"]
        linked = one(events, "identity.linked").data
        assert (linked["customer_id"], linked["rule"]) == (str(rival), "text_self_cue:phone_owner")
        assert identity_customer(db, envelope) == rival
        (entry,) = rows(db, t.identity_ledger, action="identity.linked")
    else:
        assert types(events) == ["conflict.recorded", "timeline.event"]
        assert one(events, "conflict.recorded").data["kind"] == "shared_phone_candidate"
        assert identity_customer(db, envelope) is None
        (entry,) = rows(db, t.identity_ledger, action="conflict.recorded")
    assert entry["evidence"]["idempotency_key"] == envelope.idempotency_key


def test_rebalance_double_apply_waits_and_becomes_a_redelivery(
    engine: Engine, db: Backend, script: Script
) -> None:
    """While partitions move, the old owner of a phone may still be inside its batch when the
    new owner reads the same message. The old owner is played here by a unit of work holding the
    batch's advisory locks and applying the message; the new owner must wait for its commit and
    then find the message done: one customer, one ledger entry, identical events."""
    envelope = script.sms("+19165554242", "hi, table for two?")
    request = gather(envelope, EVIDENCE)[0]
    second: dict[str, BatchResult] = {}
    with bootstrap.postgres_units(engine)() as old_owner:
        old_owner.identities.lock(_lock_keys(request))
        first_events, _payloads, first_outcome = resolver(engine).resolve_one(old_owner.identities, request)
        new_owner = threading.Thread(
            target=lambda: second.setdefault("r", resolver(engine).resolve_batch([request]))
        )
        new_owner.start()
        new_owner.join(timeout=0.5)
        assert new_owner.is_alive(), "the new owner must wait for the old owner's batch"
        old_owner.commit()
    new_owner.join(timeout=10)
    assert first_outcome == "created"
    assert second["r"].outcomes == {"redelivered": 1}
    assert [e.to_dict() for e in second["r"].events] == [e.to_dict() for e in first_events]
    assert len(customers(db)) == 1
    assert len(rows(db, t.identity_ledger, action="customer.created")) == 1
