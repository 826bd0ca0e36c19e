"""The contract of the identity repository (workers/domain/ports.py), written once.

Like arroyo's backend suite (tests/backends/mixins.py), the tests here are a mixin that each
store's test module subclasses: tests/unit/test_repository_on_fake.py runs them on the dict
store, tests/integration/test_repository_on_postgres.py on PostgreSQL. A test works through
units of work only, and reads committed rows back through the `Backend`, so the two stores must
agree on what is written as well as on what is answered. A new port method gets its test here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from schema import tables as t
from schema.linked import derived_id
from tests.identity_scenarios import Backend, rows
from workers.domain.ports import BatchKeys, ConcurrentWriteError, Erasure, IdentityRepository

T = TypeVar("T")
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE, OTHER_PHONE = "+19165551234", "+19165559876"
LINE = "+19165550000"


def later(minutes: float) -> datetime:
    return AT + timedelta(minutes=minutes)


def committed(db: Backend, work: Callable[[IdentityRepository], T]) -> T:
    with db.units() as uow:
        result = work(uow.identities)
        uow.commit()
    return result


def customer_id(name: str) -> uuid.UUID:
    return derived_id("customer", name)


def identity(
    store: IdentityRepository, key: str, name: str | None, at: datetime = AT, handle: str | None = None
) -> uuid.UUID:
    identity_id = derived_id("identity", key)
    store.upsert_identity(identity_id, "sms", LINE, key, handle, name, at)
    return identity_id


def thread(
    store: IdentityRepository, key: str, identity_id: uuid.UUID | None, at: datetime = AT
) -> uuid.UUID:
    thread_id = derived_id("thread", key)
    store.upsert_thread(thread_id, key, "sms", LINE, identity_id, at, True)
    return thread_id


class RepositoryContract:
    # --- the unit of work -----------------------------------------------------------------
    def test_nothing_is_written_unless_committed(self, db: Backend) -> None:
        with db.units() as uow:
            uow.identities.create_customer(customer_id("a"), AT, "Ana", None)
        with pytest.raises(RuntimeError), db.units() as uow:
            uow.identities.create_customer(customer_id("b"), AT, "Bo", None)
            uow.identities.ledger(at=AT, action="x", actor="rule", rule="r", policy_version="p")
            raise RuntimeError("a bug")
        assert rows(db, t.customers) == []
        assert rows(db, t.identity_ledger) == []

    def test_reads_see_the_unit_of_works_own_writes(self, db: Backend) -> None:
        def work(store: IdentityRepository) -> None:
            store.create_customer(customer_id("a"), AT, "Ana", "ana@example.com")
            assert store.customer_exists(customer_id("a"))
            state = store.customer(customer_id("a"))
            assert state is not None and (state.id, state.name, state.created_at) == (
                customer_id("a"),
                "Ana",
                AT,
            )
            assert store.claim_phone(PHONE, customer_id("a"), AT, "v1") == customer_id("a")
            phone = store.phone(PHONE)
            assert (
                phone.owner is not None
                and phone.owner.id == customer_id("a")
                and phone.holder == customer_id("a")
            )

        committed(db, work)
        (row,) = rows(db, t.customers)
        assert (row["name"], row["email"], row["name_at"], row["email_at"]) == (
            "Ana",
            "ana@example.com",
            AT,
            AT,
        )
        (phone,) = rows(db, t.phones)
        assert (phone["customer_id"], phone["shared"], phone["normalizer_version"]) == (
            customer_id("a"),
            False,
            "v1",
        )

    def test_a_row_read_as_absent_and_inserted_meanwhile_makes_the_unit_of_work_stale(
        self, db: Backend
    ) -> None:
        with db.units() as late:
            assert late.identities.phone(PHONE).owner is None
            committed(db, lambda store: store.ensure_phone(PHONE, AT, "v1"))
            late.identities.ensure_phone(PHONE, later(1), "v1")
            with pytest.raises(ConcurrentWriteError):
                late.commit()
        (phone,) = rows(db, t.phones)
        assert phone["created_at"] == AT

    # --- customers ------------------------------------------------------------------------
    def test_customer_details_keep_what_any_replay_order_would_keep(self, db: Backend) -> None:
        c = customer_id("a")
        committed(db, lambda store: store.create_customer(c, later(10), "@ana", None))

        def observe(store: IdentityRepository) -> None:
            store.create_customer(c, later(99), "Other", "x@example.com")  # exists: nothing happens
            store.note_customer_details(
                c, "Ana Lopez", "late@example.com", later(20)
            )  # a real name beats a handle
            store.note_customer_details(
                c, "@ana_l", "early@example.com", later(5)
            )  # never the reverse; of two emails of one source the newer wins
            store.note_customer_details(
                c, None, None, later(1)
            )  # the customer dates from its earliest message

        committed(db, observe)
        (row,) = rows(db, t.customers)
        assert (row["name"], row["name_at"]) == ("Ana Lopez", later(20))
        assert (row["email"], row["email_at"], row["email_source"]) == (
            "late@example.com",
            later(20),
            "channel",
        )
        assert row["created_at"] == later(1)
        committed(db, lambda store: store.note_customer_details(c, "Ana Berg", None, later(15)))
        assert rows(db, t.customers)[0]["name"] == "Ana Berg"  # of two real names, the earlier

    def test_the_newest_email_of_the_strongest_source_is_kept_and_each_meeting_said(
        self, db: Backend
    ) -> None:
        c = customer_id("a")
        committed(db, lambda store: store.create_customer(c, AT, "Ana", "old@example.com", "booking_form"))

        def observe(store: IdentityRepository) -> list[Any]:
            return [
                # newer, but from a weaker source: kept out, and said so
                store.note_customer_details(c, None, "profile@example.com", later(30), "channel"),
                # the same source, newer: replaces
                store.note_customer_details(c, None, "new@example.com", later(20), "booking_form"),
                # the same source, older than the kept one: kept out
                store.note_customer_details(c, None, "older@example.com", later(10), "booking_form"),
                # the kept address again: nothing met
                store.note_customer_details(c, None, "new@example.com", later(20), "booking_form"),
            ]

        weaker, newer, older, same = committed(db, observe)
        assert (weaker.replaced, weaker.kept.email, weaker.previous.email) == (
            False,
            "old@example.com",
            "old@example.com",
        )
        assert (newer.replaced, newer.previous.email, newer.seen.email) == (
            True,
            "old@example.com",
            "new@example.com",
        )
        assert (older.replaced, older.kept.email) == (False, "new@example.com")
        assert same is None
        (row,) = rows(db, t.customers)
        assert (row["email"], row["email_at"], row["email_source"]) == (
            "new@example.com",
            later(20),
            "booking_form",
        )

    def test_details_a_person_set_stand_against_observations(self, db: Backend) -> None:
        c = customer_id("a")
        committed(db, lambda store: store.create_customer(c, later(10), "@ana", "ana@example.com"))
        committed(db, lambda store: store.set_customer_details(c, "Ana Lopez", None, "admin:ops", later(30)))
        # A later real name and a newer email: the email may still change, the name not.
        committed(db, lambda store: store.note_customer_details(c, "Ana Berg", "a@example.com", later(40)))
        (row,) = rows(db, t.customers)
        assert (row["name"], row["name_by"], row["email"], row["email_by"]) == (
            "Ana Lopez",
            "admin:ops",
            "a@example.com",
            None,
        )

    def test_merges_follow_pointers_and_answer_the_open_questions(self, db: Backend) -> None:
        a, b, c = customer_id("a"), customer_id("b"), customer_id("c")
        question = {
            "kind": "identity_phone_conflict",
            "identity_id": derived_id("identity", "q"),
            "created_at": AT,
        }

        def setup(store: IdentityRepository) -> None:
            for cid in (a, b, c):
                store.create_customer(cid, AT, None, None)
            store.conflict(customer_id=b, other_customer_id=a, **question)
            store.conflict(customer_id=a, other_customer_id=c, **question)

        committed(db, setup)

        def merge(store: IdentityRepository) -> None:
            store.conflict(customer_id=a, other_customer_id=b, e164=PHONE, **question)  # buffered
            store.set_merged_into(b, a, later(1))
            store.set_merged_into(a, c, later(2))
            assert store.effective(b) == c and store.merged_into(b) == a and store.merged_into(c) is None
            assert not store.open_conflict_exists(
                "identity_phone_conflict", question["identity_id"], PHONE, a, b
            )

        committed(db, merge)
        statuses = [
            (r["customer_id"], r["other_customer_id"], r["status"], r["resolved_at"])
            for r in rows(db, t.conflicts)
        ]
        assert statuses == [
            (b, a, "resolved", later(1)),
            (a, c, "resolved", later(2)),
            (a, b, "resolved", later(1)),
        ]
        committed(db, lambda store: store.set_merged_into(b, None, later(3)))  # a split
        assert {r["id"]: r["merged_into"] for r in rows(db, t.customers)} == {a: c, b: None, c: None}

    # --- phones ---------------------------------------------------------------------------
    def test_claims_give_only_unowned_unshared_phones(self, db: Backend) -> None:
        a, b = customer_id("a"), customer_id("b")

        def work(store: IdentityRepository) -> None:
            store.create_customer(a, AT, None, None)
            store.create_customer(b, AT, None, None)
            store.ensure_phone(PHONE, AT, "v1")
            assert store.phone(PHONE).owner is None
            assert store.claim_phone(PHONE, a, AT, "v1") == a
            assert store.claim_phone(PHONE, b, AT, "v1") == a  # owned: stays
            assert store.set_shared(OTHER_PHONE, True, "admin:ops", AT, "v1") is None
            assert store.claim_phone(OTHER_PHONE, b, AT, "v1") is None  # shared: links nobody

        committed(db, work)
        assert committed(db, lambda store: store.set_shared(PHONE, True, "rule", later(1), "v1")) == a
        assert [(p["e164"], p["customer_id"], p["shared"], p["shared_by"]) for p in rows(db, t.phones)] == [
            (PHONE, None, True, "rule"),
            (OTHER_PHONE, None, True, "admin:ops"),
        ]
        committed(db, lambda store: store.set_shared(PHONE, False, "admin:ops", later(2), "v1"))
        assert rows(db, t.phones, e164=PHONE)[0]["shared_by"] is None

    def test_a_released_phone_is_unowned_and_remembers_whose_it_was(self, db: Backend) -> None:
        a, sender = customer_id("a"), derived_id("identity", "sms-sender")

        def work(store: IdentityRepository) -> None:
            store.create_customer(a, AT, None, None)
            store.claim_phone(PHONE, a, AT, "v1")
            store.upsert_identity(sender, "sms", LINE, "+1 916 555 1234", None, None, AT)
            store.record_address("sms", "+1 916 555 1234", PHONE, "v1", AT)
            assert store.identities_attested_by(PHONE) == [sender]  # this unit of work's own

        committed(db, work)
        assert committed(db, lambda store: store.identities_attested_by(PHONE)) == [sender]
        assert committed(db, lambda store: store.identities_attested_by(OTHER_PHONE)) == []
        assert committed(db, lambda store: store.release_phone(PHONE)) == a
        (row,) = rows(db, t.phones)
        assert (row["customer_id"], row["released_from"]) == (None, a)
        phone = committed(db, lambda store: store.phone(PHONE))
        assert (phone.owner, phone.released_from) == (None, a)

    def test_addresses_are_remembered_once_beside_their_number(self, db: Backend) -> None:
        def work(store: IdentityRepository) -> None:
            store.record_address("whatsapp", "551187654321", "+5511987654321", "v1", AT)
            store.record_address("whatsapp", "551187654321", "+5511987654321", "v1", AT)

        committed(db, work)
        committed(db, work)
        assert [(a["channel"], a["address"], a["e164"]) for a in rows(db, t.phone_addresses)] == [
            ("whatsapp", "551187654321", "+5511987654321")
        ]
        assert rows(db, t.phones)[0]["customer_id"] is None

    def test_claimants_overlay_the_unit_of_work_on_the_stored_rows(self, db: Backend) -> None:
        holder = customer_id("holder")
        names: dict[str, uuid.UUID] = {}

        def setup(store: IdentityRepository) -> None:
            store.create_customer(holder, AT, "Ana", None)
            store.claim_phone(PHONE, holder, AT, "v1")
            for key, name in (("renamed", "Ana Old"), ("moved", "Bruno"), ("kept", "Carla")):
                names[key] = identity(store, key, name)
                store.link_identity(names[key], holder, 0.9, "rule")
            names["waiting"] = identity(store, "waiting", "Dora")
            store.conflict(
                kind="shared_phone_candidate", identity_id=names["waiting"], e164=PHONE, created_at=AT
            )

        committed(db, setup)

        def overlay(store: IdentityRepository) -> tuple[str, ...]:
            store.prefetch(
                BatchKeys(identities=(names["renamed"], names["moved"]), phones=(PHONE,), customers=(holder,))
            )
            # Changes not written yet: a new name, an unlink, a new linked identity, and a new
            # pending conflict of an identity never read.
            identity(store, "renamed", "Ana New")
            store.link_identity(names["moved"], None, 0.0)
            store.link_identity(identity(store, "new", "Elena"), holder, 0.9)
            store.conflict(kind="shared_phone", identity_id=names["waiting"], e164=PHONE, created_at=AT)
            return store.phone_claimants(PHONE, holder)

        assert committed(db, overlay) == ("Ana New", "Carla", "Dora", "Elena")
        assert committed(db, lambda store: store.phone_claimants(PHONE, holder)) == (
            "Ana New",
            "Carla",
            "Dora",
            "Elena",
        )

    def test_a_person_last_saying_not_shared_pins_the_phone(self, db: Backend) -> None:
        assert not committed(db, lambda store: store.phone_pinned_not_shared(PHONE))
        committed(db, lambda store: store.add_constraint("not_shared", "admin:ops", AT, e164=PHONE))
        assert committed(db, lambda store: store.phone_pinned_not_shared(PHONE))

        def mark_again(store: IdentityRepository) -> bool:
            store.add_constraint("shared", "admin:ops", later(1), e164=PHONE)
            return store.phone_pinned_not_shared(PHONE)

        assert not committed(db, mark_again)
        assert not committed(db, lambda store: store.phone_pinned_not_shared(PHONE))
        assert [c["kind"] for c in rows(db, t.constraints)] == ["not_shared", "shared"]
        assert all(c["active"] and c["created_by"] == "admin:ops" for c in rows(db, t.constraints))

    # --- re-normalization -----------------------------------------------------------------
    def test_an_address_is_read_back_and_readdressed_to_another_number(self, db: Backend) -> None:
        old, new, wa_id = "+5215512345678", "+525512345678", "5215512345678"
        committed(db, lambda store: store.record_address("whatsapp", wa_id, old, "v1", AT))

        def move(store: IdentityRepository) -> tuple[Any, ...]:
            before = store.channel_address("whatsapp", wa_id)
            store.ensure_phone(new, later(1), "v2")
            store.readdress("whatsapp", wa_id, new, "v2")
            return before, store.channel_address("whatsapp", wa_id), store.channel_address("sms", wa_id)

        assert committed(db, move) == ((old, "v1"), (new, "v2"), None)
        assert [
            (a["channel"], a["address"], a["e164"], a["normalizer_version"])
            for a in rows(db, t.phone_addresses)
        ] == [("whatsapp", wa_id, new, "v2")]
        assert {p["e164"] for p in rows(db, t.phones)} == {old, new}  # the old number stays
        assert committed(db, lambda store: store.channel_address("whatsapp", wa_id)) == (new, "v2")

    def test_consent_signals_and_a_persons_mark_of_a_number(self, db: Backend) -> None:
        signal = {"channel": "sms", "source": "keyword", "evidence": {}}

        def setup(store: IdentityRepository) -> None:
            store.consent(
                e164=PHONE, status="opted_out", keyword="STOP", idempotency_key="k1", at=AT, **signal
            )
            store.consent(
                e164=OTHER_PHONE, status="opted_in", keyword="START", idempotency_key="k9", at=AT, **signal
            )
            store.add_constraint("shared", "admin:ops", AT, e164=PHONE)

        committed(db, setup)

        def read(store: IdentityRepository) -> tuple[Any, ...]:
            store.consent(
                e164=PHONE, status="opted_in", keyword="START", idempotency_key="k2", at=later(5), **signal
            )
            store.add_constraint("not_shared", "admin:ops", later(5), e164=PHONE)
            return (
                [(c["status"], c["idempotency_key"], c["at"]) for c in store.consent_signals(PHONE)],
                store.phone_mark(PHONE),
                store.phone_mark(OTHER_PHONE),
            )

        assert committed(db, read) == (
            [("opted_out", "k1", AT), ("opted_in", "k2", later(5))],
            "not_shared",
            None,
        )
        assert committed(db, lambda store: store.phone_mark(PHONE)) == "not_shared"

    # --- identities -----------------------------------------------------------------------
    def test_a_later_sighting_updates_the_identity_an_earlier_one_keeps_it(self, db: Backend) -> None:
        iid = committed(db, lambda store: identity(store, "ana", "Ana", later(10), handle="ana"))
        committed(db, lambda store: identity(store, "ana", None, later(5), handle="ana.l"))
        (row,) = rows(db, t.identities)
        assert (row["first_seen_at"], row["last_seen_at"]) == (later(10), later(10))
        assert (row["display_name"], row["handle"]) == (
            "Ana",
            "ana.l",
        )  # a name not given keeps the stored one
        assert (row["customer_id"], row["confidence"], row["verification"], row["decided_by"]) == (
            None,
            0.0,
            "unverified",
            None,
        )
        committed(db, lambda store: identity(store, "ana", None, later(20)))
        assert rows(db, t.identities)[0]["last_seen_at"] == later(20)
        assert committed(db, lambda store: store.identity(iid)).name == "Ana"

    def test_links_confidence_and_verification(self, db: Backend) -> None:
        a = customer_id("a")

        def work(store: IdentityRepository) -> uuid.UUID:
            store.create_customer(a, AT, "Ana", None)
            iid = identity(store, "ana", "Ana")
            store.link_identity(iid, a, 0.7)
            store.raise_confidence(iid, 0.6)  # lower: stays
            store.raise_confidence(iid, 0.95)
            state = store.identity(iid)
            assert state.customer is not None and state.customer.id == a and store.identity_owner(iid) == a
            return iid

        iid = committed(db, work)
        assert (rows(db, t.identities)[0]["confidence"], rows(db, t.identities)[0]["decided_by"]) == (
            0.95,
            None,
        )
        committed(db, lambda store: store.set_verification(iid, "verified", "admin:ops"))
        (row,) = rows(db, t.identities)
        assert (row["verification"], row["decided_by"]) == ("verified", "admin:ops")
        committed(
            db,
            lambda store: store.link_identity(
                iid, None, 0.0, decided_by="admin:ops", verification="rejected"
            ),
        )
        assert (rows(db, t.identities)[0]["customer_id"], rows(db, t.identities)[0]["verification"]) == (
            None,
            "rejected",
        )

    def test_an_absent_identity_or_thread_is_told_apart(self, db: Backend) -> None:
        def work(store: IdentityRepository) -> None:
            missing = uuid.UUID(int=7)
            assert not store.identity_exists(missing) and not store.thread_exists(missing)
            assert store.identity_owner(missing) is None
            with pytest.raises(LookupError):
                store.identity(missing)
            with pytest.raises(LookupError):
                store.thread(missing)
            store.link_identity(missing, None, 0.0)  # changes nothing
            store.link_thread(missing, None)

        committed(db, work)
        assert rows(db, t.identities) == [] and rows(db, t.threads) == []

    def test_never_link_and_never_merge(self, db: Backend) -> None:
        a, b, c = customer_id("a"), customer_id("b"), customer_id("c")
        iid = derived_id("identity", "ana")
        committed(
            db,
            lambda store: store.add_constraint("never_link", "admin:ops", AT, identity_id=iid, customer_id=a),
        )
        committed(
            db,
            lambda store: store.add_constraint(
                "never_merge", "admin:ops", AT, customer_id=c, other_customer_id=b
            ),
        )

        def work(store: IdentityRepository) -> None:
            assert store.never_link(iid, None) == {a}
            assert store.never_link(iid, b) == {a, c}
            store.add_constraint("never_merge", "admin:ops", AT, customer_id=b, other_customer_id=a)
            assert store.never_link(iid, b) == {a, c}
            assert store.never_link(derived_id("identity", "other"), a) == {b}

        committed(db, work)
        assert committed(db, lambda store: store.never_link(derived_id("identity", "x"), a)) == {b}

    # --- threads --------------------------------------------------------------------------
    def test_threads_widen_their_range_and_follow_their_identity(self, db: Backend) -> None:
        iid = derived_id("identity", "ana")

        def first(store: IdentityRepository) -> uuid.UUID:
            identity(store, "ana", "Ana")
            return thread(store, "t1", iid, later(10))

        t1 = committed(db, first)

        def more(store: IdentityRepository) -> None:
            thread(store, "t1", None, later(5))
            thread(store, "t1", iid, later(20))
            store.upsert_thread(t1, "t1", "sms", LINE, iid, later(7), False)  # a status: not a message
            thread(store, "t2", iid)
            assert [th.id for th in store.threads_of_identity(iid)] == sorted(
                [t1, derived_id("thread", "t2")]
            )

        committed(db, more)
        row = rows(db, t.threads, id=t1)[0]
        assert (row["first_message_at"], row["last_message_at"], row["message_count"]) == (
            later(5),
            later(20),
            3,
        )
        a = customer_id("a")
        committed(db, lambda store: store.create_customer(a, AT, None, None))
        committed(db, lambda store: store.link_thread(t1, a, decided_by="admin:ops"))
        state = committed(db, lambda store: store.thread(t1))
        assert (state.customer_id, state.decided_by, state.identity_id, state.message_count) == (
            a,
            "admin:ops",
            iid,
            3,
        )
        assert [th.id for th in committed(db, lambda store: store.threads_of_identity(iid))] == sorted(
            [t1, derived_id("thread", "t2")]
        )

    # --- decisions on record --------------------------------------------------------------
    def test_the_ledger_keeps_every_entry_in_order(self, db: Backend) -> None:
        def work(store: IdentityRepository) -> None:
            for n in range(3):
                store.ledger(
                    at=later(n), action=f"a{n}", actor="rule", rule="r", policy_version="p", evidence={"n": n}
                )
            store.ledger(at=AT, action="bare", actor="admin:ops", rule="admin_command", policy_version="p")

        committed(db, work)
        entries = rows(db, t.identity_ledger)
        assert [e["action"] for e in entries] == ["a0", "a1", "a2", "bare"]
        assert [e["evidence"] for e in entries] == [{"n": 0}, {"n": 1}, {"n": 2}, {}]
        assert entries[0]["seq"] < entries[-1]["seq"]
        with pytest.raises(TypeError), db.units() as uow:
            uow.identities.ledger(at=AT, action="x", actor="rule", rule="r", policy_version="p", bogus=1)

    def test_questions_for_a_person(self, db: Backend) -> None:
        iid = derived_id("identity", "ana")
        values: dict[str, Any] = {"kind": "shared_phone", "identity_id": iid, "e164": PHONE, "created_at": AT}
        committed(db, lambda store: store.conflict(confidence=0.7, evidence={"why": "test"}, **values))

        def ask(store: IdentityRepository) -> None:
            assert store.open_conflict_exists("shared_phone", iid, PHONE, None, None)
            assert not store.open_conflict_exists("shared_phone", iid, OTHER_PHONE, None, None)
            store.conflict(**{**values, "e164": OTHER_PHONE})
            assert store.open_conflict_exists("shared_phone", iid, OTHER_PHONE, None, None)

        committed(db, ask)
        first, second = rows(db, t.conflicts)
        assert (first["status"], first["confidence"], first["evidence"]) == ("open", 0.7, {"why": "test"})
        assert (second["status"], second["evidence"]) == ("open", {})
        assert committed(db, lambda store: store.resolve_conflict(first["id"], later(1)))
        assert not committed(db, lambda store: store.resolve_conflict(second["id"] + 100, later(1)))
        assert [(c["status"], c["resolved_at"]) for c in rows(db, t.conflicts)] == [
            ("resolved", later(1)),
            ("open", None),
        ]
        assert not committed(
            db, lambda store: store.open_conflict_exists("shared_phone", iid, PHONE, None, None)
        )

    def test_consent_is_recorded_once_per_key(self, db: Backend) -> None:
        signal = {"e164": PHONE, "channel": "sms", "status": "opted_out", "source": "keyword", "at": AT}

        def work(store: IdentityRepository) -> None:
            store.consent(idempotency_key="sms:1", keyword="STOP", **signal)
            store.consent(idempotency_key="sms:1", keyword="STOP", **signal)

        committed(db, work)
        committed(db, work)
        (row,) = rows(db, t.consent_ledger)
        assert (row["status"], row["keyword"], row["idempotency_key"], row["evidence"]) == (
            "opted_out",
            "STOP",
            "sms:1",
            {},
        )

    def test_the_outbox_keeps_the_first_events_of_a_message(self, db: Backend) -> None:
        events = [{"type": "timeline.event", "data": {"text": "hé \\ \t"}}]
        text = json.dumps(events, ensure_ascii=False)

        def put(store: IdentityRepository) -> None:
            assert store.outbox_get("sms:1") is None
            store.outbox_put("sms:1", None, None, text, AT)
            store.outbox_put("sms:1", None, None, '[{"type": "other"}]', AT)
            assert store.outbox_get("sms:1") == events

        committed(db, put)
        assert committed(db, lambda store: store.outbox_get("sms:1")) == events
        (row,) = rows(db, t.resolved_messages)
        assert (row["idempotency_key"], row["events"], row["resolved_at"]) == ("sms:1", events, AT)

    def test_a_refused_command_is_recorded_once_with_its_reason(self, db: Backend) -> None:
        def refuse(store: IdentityRepository) -> None:
            store.refuse_command("command:1", "no customer 1", AT)
            store.refuse_command("command:1", "another reason", AT)

        committed(db, refuse)
        committed(db, lambda store: store.refuse_command("command:1", "a third", later(1)))
        assert committed(db, lambda store: store.outbox_get("command:1")) == []
        (row,) = rows(db, t.resolved_messages)
        assert (row["events"], row["refused"], row["resolved_at"]) == ([], "no customer 1", AT)

    # --- privacy --------------------------------------------------------------------------
    def test_the_fence_keeps_the_latest_erasure_of_a_subject_and_its_opt_outs(self, db: Backend) -> None:
        stop = {"channel": "sms", "status": "opted_out", "source": "keyword", "keyword": "STOP", "at": AT}

        def first(store: IdentityRepository) -> None:
            assert store.fences(["ph_a", "th_b"]) == {}
            store.fence("ph_a", "phone", later(10), "cmd-1", [stop])
            assert store.fences(["ph_a", "th_b"]) == {"ph_a": later(10)}

        committed(db, first)
        committed(db, lambda store: store.fence("ph_a", "phone", later(5), "cmd-0", [stop]))  # older: nothing
        assert committed(db, lambda store: store.fences(["ph_a"])) == {"ph_a": later(10)}
        committed(db, lambda store: store.fence("ph_a", "phone", later(20), "cmd-2", []))
        (row,) = rows(db, t.privacy_fence)
        assert (row["subject"], row["kind"], row["erased_at"], row["command_id"]) == (
            "ph_a",
            "phone",
            later(20),
            "cmd-2",
        )
        (kept,) = rows(db, t.consent_ledger)
        assert (kept["subject"], kept["e164"], kept["status"], kept["keyword"], kept["at"]) == (
            "ph_a",
            None,
            "opted_out",
            "STOP",
            AT,
        )
        assert kept["idempotency_key"] == "suppression:cmd-1:sms:ph_a"

    def test_a_cluster_is_the_survivor_and_everyone_merged_into_it(self, db: Backend) -> None:
        a, b, c = customer_id("a"), customer_id("b"), customer_id("c")

        def seed(store: IdentityRepository) -> None:
            for cid in (a, b, c):
                store.create_customer(cid, AT, None, None)
            store.claim_phone(PHONE, b, AT, "v1")
            iid = identity(store, PHONE, "Bo")
            store.link_identity(iid, b, 1.0)
            thread(store, "t-bo", iid)
            store.link_thread(thread(store, "t-direct", None), c)
            store.set_merged_into(b, a, AT)
            store.set_merged_into(c, b, AT)

        committed(db, seed)
        for named in (a, b, c):
            cluster = committed(db, lambda store, named=named: store.cluster(named))
            assert (cluster.survivor, cluster.members, cluster.phones) == (
                a,
                tuple(sorted((a, b, c), key=str)),
                (PHONE,),
            )
            (linked,) = cluster.identities
            assert (linked.platform, linked.account, linked.user_id) == ("sms", LINE, PHONE)
            assert sorted(th.thread_key for th in cluster.threads) == ["t-bo", "t-direct"]
            assert cluster.lock_keys[-1] == "phone:" + PHONE
        with pytest.raises(LookupError), db.units() as uow:
            uow.identities.cluster(customer_id("nobody"))

    def test_an_erasure_rewrites_every_row_about_the_person(self, db: Backend) -> None:
        ana, bo = customer_id("ana"), customer_id("bo")
        iid = derived_id("identity", PHONE)
        tid = derived_id("thread", "t-ana")

        def seed(store: IdentityRepository) -> None:
            store.create_customer(ana, AT, "Ana Ruiz", "ana@example.com")
            store.create_customer(bo, AT, "Bo", None)
            store.claim_phone(PHONE, ana, AT, "v1")
            store.record_address("sms", PHONE, PHONE, "v1", AT)
            identity(store, PHONE, "Ana Ruiz", handle="ana.r")
            store.link_identity(iid, ana, 1.0)
            thread(store, "t-ana", iid)
            store.link_thread(tid, ana)
            store.ledger(
                at=AT,
                action="identity.linked",
                actor="rule",
                rule="r",
                policy_version="p",
                customer_id=ana,
                identity_id=iid,
                e164=PHONE,
                evidence={"idempotency_key": "sms:1", "span": [0, 12], "text": "hi"},
            )
            store.ledger(at=AT, action="other", actor="rule", rule="r", policy_version="p", customer_id=bo)
            store.conflict(kind="shared_phone_candidate", customer_id=ana, e164=PHONE, created_at=AT)
            store.add_constraint("not_shared", "admin:ops", AT, e164=PHONE)
            store.consent(
                e164=PHONE,
                channel="sms",
                status="opted_out",
                source="keyword",
                keyword="STOP",
                idempotency_key="sms:2",
                evidence={"text": "STOP"},
                at=later(1),
            )
            store.consent(
                e164=PHONE,
                channel="whatsapp",
                status="opted_in",
                source="keyword",
                idempotency_key="wa:1",
                at=later(1),
            )
            store.outbox_put(
                "sms:1", tid, ana, json.dumps([{"type": "timeline.event", "data": {"content": "hi"}}]), AT
            )
            store.outbox_put("sms:9", None, bo, "[]", AT)

        committed(db, seed)
        erasure = Erasure(
            at=later(5),
            command_id="cmd-1",
            phones={PHONE: "ph_ana"},
            threads={tid: "th_ana"},
            identities={iid: "id_ana"},
        )

        def erase(store: IdentityRepository) -> dict[str, list[dict[str, Any]]]:
            cluster = store.cluster(ana)
            store.lock(cluster.lock_keys)
            return store.erase(cluster, erasure)

        kept = committed(db, erase)
        assert kept == {
            "ph_ana": [
                {
                    "channel": "sms",
                    "status": "opted_out",
                    "source": "keyword",
                    "keyword": "STOP",
                    "at": later(1),
                }
            ],
            "id_ana": [],
        }
        erased, other = rows(db, t.customers, id=ana)[0], rows(db, t.customers, id=bo)[0]
        assert (erased["name"], erased["email"], erased["name_at"], erased["erased_at"]) == (
            None,
            None,
            None,
            later(5),
        )
        assert (other["name"], other["erased_at"]) == ("Bo", None)
        assert committed(db, lambda store: (store.customer_erased(ana), store.customer_erased(bo))) == (
            True,
            False,
        )
        assert rows(db, t.phones) == [] and rows(db, t.phone_addresses) == []
        (row,) = rows(db, t.identities)
        assert (row["provider_user_id"], row["handle"], row["display_name"], row["customer_id"]) == (
            f"id_ana/{iid}",
            None,
            None,
            ana,
        )
        (row,) = rows(db, t.threads)
        assert (row["thread_key"], row["customer_id"]) == (f"th_ana/{tid}", ana)
        mine, others = rows(db, t.identity_ledger)
        assert (mine["action"], mine["e164"], mine["evidence"]) == (
            "identity.linked",
            None,
            {"idempotency_key": "sms:1", "erased": True},
        )
        assert (others["action"], others["evidence"]) == ("other", {})
        (conflict,) = rows(db, t.conflicts)
        assert (conflict["status"], conflict["resolved_at"], conflict["e164"]) == ("resolved", later(5), None)
        (constraint,) = rows(db, t.constraints)
        assert (constraint["e164"], constraint["active"], constraint["kind"]) == (None, False, "not_shared")
        assert rows(db, t.consent_ledger) == []  # the opt-out comes back with the fence (`fence`)
        assert [r["idempotency_key"] for r in rows(db, t.resolved_messages)] == ["sms:9"]
