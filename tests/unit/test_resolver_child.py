"""The resolver child as the composition root builds it, over the dict store: poison is
dead-lettered with its reason, a bug or a database that stays down is raised (the agent then
stops the process without acking), transient trouble is retried, and admin commands read
typed phones in the configured region."""

from __future__ import annotations

import dataclasses
import json
import uuid
from functools import partial
from typing import Any

import pytest

from phoneunify.retry import Backoff
from phoneunify.settings import Settings
from schema.commands import Command
from schema.erasures import FenceRecord
from tests.fake_identity import FakeDatabase
from tests.identity_scenarios import BUSINESS, EVIDENCE, Envelopes
from workers import bootstrap
from workers.domain.ports import TransientError
from workers.services.evidence import gather
from workers.streams.resolver_process import DatabaseUnavailableError, ResolverChild, with_retry

SETTINGS = Settings(phone_hash_key="test-key", business_numbers=(BUSINESS,), resolve_batch_size=2)


def child(db: FakeDatabase, settings: Settings = SETTINGS) -> ResolverChild:
    built = bootstrap.resolver_child(settings, uow=db.units())
    # No waiting between retries here; a short bound so a database that stays down gives up.
    return dataclasses.replace(
        built, retry=partial(with_retry, sleep=lambda _s: None, backoff=Backoff(max_total_s=0.5))
    )


def request_values(count: int) -> list[bytes]:
    s = Envelopes(prefix="c")
    envelopes = [s.sms(f"+1916555{1000 + i}", f"hello {i}") for i in range(count)]
    return [gather(e, EVIDENCE)[0].to_json(envelope_json=e.to_json()) for e in envelopes]


def dead_reasons(out: Any) -> list[str]:
    return [json.loads(value)["reason"] for _, value in out.dead]


# --- resolve ---------------------------------------------------------------------------------------


def test_requests_are_resolved_in_units_of_work_of_the_batch_size() -> None:
    db = FakeDatabase()
    out = child(db).resolve_values(request_values(5))
    assert out.dead == [] and out.outcomes == {"created": 5}
    assert db.commits == 3  # 2 + 2 + 1
    assert len(db.rows("customers")) == 5
    assert {key for key, _ in out.linked} == {str(c["id"]).encode() for c in db.rows("customers")}


def test_an_invalid_request_is_dead_lettered_with_its_reason_and_the_rest_resolved() -> None:
    db = FakeDatabase()
    good = request_values(2)
    nul = good[0].replace(b'"text":"hello 0"', b'"text":"hel\\u0000lo"')
    out = child(db).resolve_values([good[1], b"{not json", nul])
    assert out.outcomes == {"dead_letter": 2, "created": 1}
    assert len(dead_reasons(out)) == 2
    assert "not JSON" in dead_reasons(out)[0] and "NUL" in dead_reasons(out)[1]
    assert [json.loads(v)["stage"] for _, v in out.dead] == ["resolve", "resolve"]
    assert json.loads(out.dead[1][1])["value"] == nul.decode()  # kept whole for a re-drive
    assert len(db.rows("customers")) == 1


def test_a_bug_is_raised_not_dead_lettered_and_nothing_is_written() -> None:
    """An exception in our own code (here injected into the store) is no reason to dead-letter
    good messages: it escapes, and the agent stops the process without acking the batch."""
    db = FakeDatabase()
    db.fail("load", RuntimeError("a bug in the repository"))
    with pytest.raises(RuntimeError, match="a bug"):
        child(db).resolve_values(request_values(2))
    assert db.rows("customers") == [] and db.rows("resolved_messages") == []
    # The batch read again after the restart resolves as if nothing happened.
    out = child(db).resolve_values(request_values(2))
    assert out.outcomes == {"created": 2} and out.dead == []


def test_a_transient_error_is_retried_and_the_batch_applies_once() -> None:
    db = FakeDatabase()
    db.fail("write", TransientError("deadlock detected"), times=2)
    out = child(db).resolve_values(request_values(2))
    assert out.outcomes == {"created": 2}
    assert len(db.rows("resolved_messages")) == 2 and len(db.rows("identity_ledger")) == 6


def test_a_database_that_stays_down_is_raised() -> None:
    db = FakeDatabase()
    db.fail("lock", TransientError("connection refused"), times=1000)
    with pytest.raises(DatabaseUnavailableError):
        child(db).resolve_values(request_values(1))


# --- admin commands --------------------------------------------------------------------------------


def _command(action: str, **params: Any) -> bytes:
    return Command(
        action, "ops", params, command_id=str(uuid.uuid4()), issued_at="2026-03-07T09:00:00.000Z"
    ).to_json()


def test_a_command_is_applied_and_its_events_keyed_by_customer() -> None:
    db = FakeDatabase()
    worker = child(db)
    worker.resolve_values(request_values(1))
    (customer,) = db.rows("customers")
    (phone,) = db.rows("phones")
    out = worker.apply_command(_command("mark_shared", phone=phone["e164"]))
    assert out.dead == [] and out.outcomes == {"mark_shared": 1}
    assert [key for key, _ in out.linked] == [str(customer["id"]).encode()]
    assert db.rows("phones")[0]["shared"] is True


def test_an_erasure_gives_the_fence_records_to_send_and_again_when_redelivered() -> None:
    db = FakeDatabase()
    worker = child(db)
    worker.resolve_values(request_values(1))
    (customer,) = db.rows("customers")
    erase = _command("erase_customer", customer_id=str(customer["id"]))
    out = worker.apply_command(erase)
    assert out.dead == [] and out.outcomes == {"erase_customer": 1}
    subjects = {row["subject"] for row in db.rows("privacy_fence")}
    assert len(subjects) == 3  # the phone, the thread, the identity
    assert {key.decode() for key, _ in out.erasures} == subjects
    assert {FenceRecord.from_json(value).subject for _, value in out.erasures} == subjects
    again = worker.apply_command(erase)  # the batch read again after a crash: the same records
    assert again.erasures == out.erasures and again.linked == out.linked
    assert worker.apply_command(_command("mark_shared", phone="+19165551000")).erasures == []


def test_a_command_that_names_nothing_or_is_malformed_is_dead_lettered() -> None:
    db = FakeDatabase()
    worker = child(db)
    nobody = str(uuid.UUID(int=1))
    out = worker.apply_command(_command("verify_identity", identity_id=nobody))
    assert out.linked == [] and out.outcomes == {"dead_letter": 1}
    assert dead_reasons(out) == [f"CommandError: no identity {nobody}"]
    out = worker.apply_command(b'{"action": "nope"}')
    assert out.outcomes == {"dead_letter": 1} and "not an identity command" in dead_reasons(out)[0]
    out = worker.apply_command(b"\xff")
    assert out.outcomes == {"dead_letter": 1} and "not JSON" in dead_reasons(out)[0]
    # Only the refusal of the command that decoded is written, with its reason and no events.
    assert db.commits == 1
    (refusal,) = db.rows("resolved_messages")
    assert (refusal["events"], refusal["refused"]) == ([], f"no identity {nobody}")


def test_a_bug_while_applying_a_command_is_raised() -> None:
    db = FakeDatabase()
    db.fail("outbox", RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        child(db).apply_command(_command("mark_shared", phone="+19165551234"))


def test_a_transient_error_is_retried_and_the_command_applies() -> None:
    db = FakeDatabase()
    db.fail("outbox", TransientError("server closed the connection unexpectedly"))
    out = child(db).apply_command(_command("mark_shared", phone="+19165551234"))
    assert out.outcomes == {"mark_shared": 1} and out.dead == []


def test_commands_read_a_typed_phone_in_the_configured_region() -> None:
    """The API checks a typed number in the business's region; the resolver must read it the
    same way (it read it as a US number whatever the configuration)."""
    db = FakeDatabase()
    british = dataclasses.replace(SETTINGS, default_region="GB")
    out = child(db, british).apply_command(_command("mark_shared", phone="07911 123456"))
    assert out.dead == [], dead_reasons(out)
    assert [p["e164"] for p in db.rows("phones")] == ["+447911123456"]
