"""`renormalize` applied by the resolver's command handler, on the dict store: stored addresses
read again with the current normalizer, each number's standing carried over, merges to review."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from phoneunify.privacy import phone_key
from schema.commands import Command, CommandError
from tests.fake_identity import FakeDatabase
from tests.identity_scenarios import SETTINGS
from workers import bootstrap
from workers.domain.phones import NORMALIZER_VERSION

AT = datetime(2026, 3, 1, tzinfo=UTC)
LATER = datetime(2026, 4, 1, tzinfo=UTC)
# A Mexican WhatsApp id with the retired mobile 1: an older normalizer kept it; today's drops it.
WA_ID, OLD, NEW = "5215512345678", "+5215512345678", "+525512345678"
ANA, BO = uuid.UUID(int=1), uuid.UUID(int=2)


def seed(db: FakeDatabase, **extra: Any) -> None:
    """Ana holds the number as the old normalizer wrote it, with an opt-out on it."""
    with db.units()() as uow:
        store = uow.identities
        store.create_customer(ANA, AT, "Ana", None)
        store.claim_phone(OLD, ANA, AT, "2020.1")
        store.record_address("whatsapp", WA_ID, OLD, "2020.1", AT)
        store.consent(
            e164=OLD,
            channel="whatsapp",
            status="opted_out",
            source="keyword",
            keyword="STOP",
            idempotency_key="whatsapp:wamid.stop",
            evidence={},
            at=AT,
        )
        if extra.get("bo_owns_new"):
            store.create_customer(BO, AT, "Bo", None)
            store.claim_phone(NEW, BO, AT, NORMALIZER_VERSION)
        if extra.get("marked_shared"):
            store.set_shared(OLD, True, "admin:ops", AT, "2020.1")
            store.add_constraint("shared", "admin:ops", AT, e164=OLD)
        uow.commit()


def renormalize(db: FakeDatabase, command_id: str = "rn-1", version: str = NORMALIZER_VERSION) -> list[Any]:
    handler = bootstrap.command_handler(SETTINGS, db.units())
    command = Command(
        "renormalize",
        "renormalize",
        {"version": version, "addresses": [{"channel": "whatsapp", "address": WA_ID}]},
        command_id=command_id,
        issued_at=LATER.isoformat(),
    )
    return handler.apply(command)


def phone(db: FakeDatabase, e164: str) -> dict[str, Any]:
    (row,) = [p for p in db.rows("phones") if p["e164"] == e164]
    return row


def test_the_new_number_goes_to_the_old_numbers_customer_with_its_opt_out() -> None:
    db = FakeDatabase()
    seed(db)
    events = renormalize(db)

    (address,) = db.rows("phone_addresses")
    assert (address["e164"], address["normalizer_version"]) == (NEW, NORMALIZER_VERSION)
    assert phone(db, NEW)["customer_id"] == ANA
    assert phone(db, OLD)["customer_id"] == ANA  # the old spelling stays where it was
    assert [e.type for e in events] == ["phone.linked"]
    assert (events[0].data["actor"], events[0].data["phone"]) == ("system", NEW)
    mine = [e for e in db.rows("identity_ledger") if e["evidence"].get("command_id") == "rn-1"]
    assert [(e["action"], e["actor"]) for e in mine] == [
        ("phone.renormalized", "system:renormalize"),
        ("phone.linked", "system:renormalize"),
    ]
    assert all(OLD not in str(e["evidence"]) for e in mine)  # the old number only as a keyed hash
    carried = [c for c in db.rows("consent_ledger") if c["e164"] == NEW]
    assert [(c["status"], c["keyword"], c["at"]) for c in carried] == [("opted_out", "STOP", AT)]
    assert carried[0]["subject"] == phone_key(NEW, SETTINGS.phone_hash_key)  # what the consent API asks

    # Applied twice (the command redelivered): nothing more.
    before = {name: db.rows(name) for name in db.tables}
    assert [e.to_dict() for e in renormalize(db)] == [e.to_dict() for e in events]
    assert {name: db.rows(name) for name in db.tables} == before
    # Run again later: the address is current, nothing moves.
    assert renormalize(db, command_id="rn-2") == []
    assert len(db.rows("identity_ledger")) == len(before["identity_ledger"])


def test_a_new_number_owned_by_someone_else_is_a_question_never_a_merge() -> None:
    db = FakeDatabase()
    seed(db, bo_owns_new=True)
    events = renormalize(db)
    assert [e.type for e in events] == ["conflict.recorded"]
    (conflict,) = db.rows("identity_conflicts")
    assert (conflict["kind"], conflict["customer_id"], conflict["other_customer_id"], conflict["e164"]) == (
        "renormalized_phone_owner",
        ANA,
        BO,
        NEW,
    )
    assert phone(db, NEW)["customer_id"] == BO
    assert all(c["merged_into"] is None for c in db.rows("customers"))
    # the opt-out is carried all the same: it is about the line, whoever owns it
    assert [c["status"] for c in db.rows("consent_ledger") if c["e164"] == NEW] == ["opted_out"]


def test_a_persons_shared_mark_goes_with_the_line() -> None:
    db = FakeDatabase()
    seed(db, marked_shared=True)
    renormalize(db)
    new = phone(db, NEW)
    assert (new["shared"], new["customer_id"]) == (True, None)
    assert [(c["kind"], c["e164"]) for c in db.rows("identity_constraints")] == [
        ("shared", OLD),
        ("shared", NEW),
    ]


def test_workers_on_another_normalizer_refuse_the_command_and_change_nothing() -> None:
    db = FakeDatabase()
    seed(db)
    before = {name: db.rows(name) for name in db.tables if name != "resolved_messages"}
    with pytest.raises(CommandError, match="upgrade the workers"):
        renormalize(db, version="1999.1")
    assert {name: db.rows(name) for name in db.tables if name != "resolved_messages"} == before
    (refusal,) = db.rows("resolved_messages")  # the refusal, for the API's command status
    assert "upgrade the workers" in refusal["refused"]
    # After the upgrade, the next run's command (an id of its own) applies.
    assert [e.type for e in renormalize(db, command_id="rn-after-upgrade")] == ["phone.linked"]


@pytest.mark.parametrize(
    "addresses",
    [[], "whatsapp:5215512345678", [{"channel": "whatsapp"}], [{"channel": "", "address": "1"}]],
)
def test_a_malformed_renormalize_command_is_refused(addresses: Any) -> None:
    with pytest.raises(CommandError, match="addresses"):
        Command("renormalize", "renormalize", {"version": "v", "addresses": addresses})


def test_the_ledger_names_the_system_not_an_admin() -> None:
    command = Command(
        "renormalize", "renormalize", {"version": "v", "addresses": [{"channel": "a", "address": "b"}]}
    )
    assert command.ledger_actor == "system:renormalize"
    assert Command("mark_shared", "ops", {"phone": "1"}).ledger_actor == "admin:ops"


def test_the_api_does_not_take_a_system_command() -> None:
    from api.commands_check import invalid_params

    command = Command("renormalize", "ops", {"version": "v", "addresses": [{"channel": "a", "address": "b"}]})
    assert (
        invalid_params(command, "US")
        == "renormalize is not an admin command (phoneunify renormalize issues it)"
    )
