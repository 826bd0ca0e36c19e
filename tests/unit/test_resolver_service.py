"""The resolver and the command handler as use cases over the dict store: one unit of work per
batch, run again whole when another writer made it stale, and nothing written by a failure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest

from schema.commands import Command, CommandError
from tests.fake_identity import FakeDatabase
from tests.identity_scenarios import EVIDENCE, SETTINGS, Envelopes
from workers import bootstrap
from workers.domain.ports import TransientError, UnitOfWork
from workers.services.evidence import gather
from workers.services.transactions import committed

AT = datetime(2026, 3, 1, tzinfo=UTC)


class RivalFirst:
    """A unit of work whose commit lets another writer commit first, `times` times: a rival
    claiming the phone the batch read as unowned (as a partition moving between workers would)."""

    def __init__(self, db: FakeDatabase, times: int = 1) -> None:
        self.db, self.left, self.attempts = db, times, 0

    def __call__(self) -> UnitOfWork:
        outer = self
        inner = self.db.units()()

        class Unit:
            def __enter__(self) -> Any:
                outer.attempts += 1
                inner.__enter__()
                self.identities = inner.identities
                return self

            def commit(self) -> None:
                if outer.left:
                    outer.left -= 1
                    rival = uuid.uuid4()
                    with outer.db.units()() as other:
                        other.identities.create_customer(rival, AT, "Rae Lin", None)
                        other.identities.claim_phone("+19165556666", rival, AT, "x")
                        other.commit()
                inner.commit()

            def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
                inner.__exit__(None, None, None)

        return Unit()  # type: ignore[return-value]


def test_a_stale_batch_is_decided_again_against_the_rivals_row() -> None:
    db = FakeDatabase()
    units = RivalFirst(db)
    resolver = bootstrap.resolver(SETTINGS, units)
    envelope = Envelopes().instagram("igsid-rae", "my number is 916-555-6666", name="Rae")
    result = resolver.resolve_batch([gather(envelope, EVIDENCE)[0]])
    assert units.attempts == 2
    assert [e.type for e in result.events] == ["identity.linked", "timeline.event"]
    (customer,) = db.rows("customers")
    assert customer["name"] == "Rae Lin"  # the first attempt's customer was never written
    assert [i["customer_id"] for i in db.rows("identities")] == [customer["id"]]


def test_a_unit_of_work_stale_again_and_again_is_a_transient_error() -> None:
    """Three stale attempts in a row are not a race but trouble: the caller backs off."""
    db = FakeDatabase()
    attempts: list[int] = []

    def units() -> UnitOfWork:
        db.tables["phones"].clear()  # each attempt reads the phone as absent...
        return db.units()()

    def work(store: Any) -> None:
        attempts.append(1)
        store.ensure_phone("+19165556666", AT, "x")
        with db.units()() as rival:  # ...and another writer inserts it first, every time
            rival.identities.ensure_phone("+19165556666", AT, "x")
            rival.commit()

    with pytest.raises(TransientError, match="3 times in a row"):
        committed(units, work, "test")
    assert len(attempts) == 3


def test_a_command_that_cannot_apply_writes_only_its_refusal() -> None:
    db = FakeDatabase()
    handler = bootstrap.command_handler(SETTINGS, db.units())
    command = Command(
        "merge", "ops", {"survivor_id": str(uuid.UUID(int=1)), "merged_id": str(uuid.UUID(int=2))}
    )
    with pytest.raises(CommandError, match="no customer"):
        handler.apply(command)
    (refusal,) = db.rows("resolved_messages")
    assert refusal["idempotency_key"] == "command:" + command.command_id
    assert (refusal["events"], refusal["refused"]) == ([], f"no customer {uuid.UUID(int=1)}")
    assert db.rows("identity_ledger") == [] and db.rows("identity_constraints") == []
    # Redelivered, it is answered from the outbox: nothing applies, the refusal stands.
    assert handler.apply(command) == []
    assert len(db.rows("resolved_messages")) == 1


def test_a_command_without_an_issue_time_takes_the_clock() -> None:
    db = FakeDatabase()
    handler = bootstrap.command_handler(SETTINGS, db.units(), clock=lambda: AT)
    events = handler.apply(Command("mark_shared", "ops", {"phone": "(916) 555-1234"}))
    assert [e.occurred_at for e in events] == ["2026-03-01T00:00:00.000Z"]
    assert db.rows("identity_ledger")[0]["at"] == AT
