"""The pure rules of privacy, as tables: what the fence makes of a message, which consent row
decides, what it allows, and the fence record's wire format."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from phoneunify.privacy import identity_key, phone_key, thread_key_hash
from schema.erasures import FenceRecord, fence_records
from schema.invalid import InvalidMessage
from schema.linked import make_event
from tests.fake_identity import FakeDatabase
from tests.identity_scenarios import EVIDENCE, Envelopes
from workers.domain.consent import current, permission
from workers.services import erasure
from workers.services.evidence import gather
from workers.services.fence import fate, subjects_of

KEY = "k"
FENCE = datetime(2026, 3, 6, 17, 30, tzinfo=UTC)  # the Envelopes' messages are T0 + n minutes
SCHEMAS = Path(__file__).resolve().parents[2] / "schema" / "jsonschema"


def at(minute: int) -> Any:
    """An Envelopes factory whose next message begins at 17:00 + `minute`."""
    return Envelopes(n=minute - 1)


def sms(minute: int, phone: str = "+19165551234", text: str = "hi") -> Any:
    return gather(at(minute).sms(phone, text), EVIDENCE)[0]


def dm(minute: int, text: str, igsid: str = "igsid-ana") -> Any:
    return gather(at(minute).instagram(igsid, text, name="Ana"), EVIDENCE)[0]


def form(minute: int) -> Any:
    return gather(
        at(minute).booking("bk-9", name="Ana", email="new@example.com", phone="916 555 1234"), EVIDENCE
    )[0]


def decided(request: Any, *fenced: str) -> Any:
    subjects = subjects_of(request, request.envelope.customer.id, KEY)
    return fate(request, subjects, dict.fromkeys(fenced, FENCE))


ANA_PHONE = phone_key("+19165551234", KEY)


@pytest.mark.parametrize(
    ("request_", "fenced", "erased"),
    [
        (sms(10), (), False),  # nothing erased: nothing changes
        (sms(10), (ANA_PHONE,), True),  # her own number (the provider attests it), before the fence
        (sms(31), (ANA_PHONE,), False),  # after it: a new person
        (sms(30), (ANA_PHONE,), True),  # at the fence's very instant: a tie is the erased person's
        (sms(10, "+19165550101"), (ANA_PHONE,), False),  # someone else
        (dm(10, "hello"), (identity_key("instagram", "ig-biz", "igsid-ana", KEY),), True),  # her identity
        (dm(10, "hello"), (thread_key_hash("instagram:ig-biz:igsid-ana", KEY),), True),  # her thread
        (form(10), (ANA_PHONE,), True),  # her number typed in the form: her own
        (dm(10, "my number is 916-555-1234", igsid="igsid-bo"), (ANA_PHONE,), False),  # only mentioned
    ],
)
def test_what_the_fence_makes_of_a_message(request_: Any, fenced: tuple[str, ...], erased: bool) -> None:
    assert decided(request_, *fenced).erased is erased


def test_a_mentioned_erased_number_is_dropped_from_a_message_that_began_before_the_fence() -> None:
    request = dm(10, "my number is 916-555-1234", igsid="igsid-bo")
    assert [e.e164 for e in request.sender_evidence] == ["+19165551234"]
    kept = decided(request, ANA_PHONE)
    assert kept.request.sender_evidence == () and kept.phones == {}
    after = decided(
        replace(request, envelope=at(40).instagram("igsid-bo", "my number is 916-555-1234")), ANA_PHONE
    )
    assert [e.e164 for e in after.request.sender_evidence] == ["+19165551234"]


def test_a_later_message_from_a_fenced_subject_takes_ids_of_a_new_generation() -> None:
    request = sms(40)
    thread = thread_key_hash(request.envelope.thread_key, KEY)
    new = decided(request, ANA_PHONE, thread)
    generation = ("after", "2026-03-06T17:30:00.000Z")
    assert (new.erased, new.thread, new.identity, dict(new.phones)) == (
        False,
        generation,
        (),
        {"+19165551234": generation},
    )
    assert decided(request) == fate(request, subjects_of(request, "+19165551234", KEY), {})


def row(status: str, minute: int, seq: int) -> dict[str, Any]:
    return {"status": status, "at": datetime(2026, 1, 1, 0, minute, tzinfo=UTC), "seq": seq}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], None),
        ([row("opted_out", 1, 1), row("opted_in", 2, 2)], 2),  # the latest said wins...
        ([row("opted_in", 2, 1), row("opted_out", 1, 2)], 1),  # ...not the latest written
        ([row("opted_in", 1, 2), row("opted_out", 1, 1)], 1),  # the same instant: the opt-out
        ([row("opted_out", 1, 1), row("opted_out", 1, 2)], 2),
    ],
)
def test_the_row_that_decides(rows: list[dict[str, Any]], expected: int | None) -> None:
    decided_row = current(rows)
    assert (decided_row["seq"] if decided_row else None) == expected


@pytest.mark.parametrize(
    ("status", "purpose", "given", "may_send", "rule"),
    [
        ("opted_out", "transactional", True, False, "opted_out"),
        ("opted_out", "marketing", True, False, "opted_out"),
        ("opted_in", "marketing", False, True, "opted_in"),
        (None, "marketing", True, False, "marketing_needs_opt_in"),
        (None, "transactional", True, True, "transactional_number_given_by_customer"),
        (None, "transactional", False, False, "transactional_unknown_number"),
    ],
)
def test_what_a_status_allows(
    status: str | None, purpose: str, given: bool, may_send: bool, rule: str
) -> None:
    allowed = permission(status, purpose, given)
    assert (allowed.may_send, allowed.rule) == (may_send, rule)


def test_an_erasure_event_gives_its_fence_records_which_round_trip_and_validate() -> None:
    stop = {
        "channel": "sms",
        "status": "opted_out",
        "source": "keyword",
        "keyword": "STOP",
        "at": "2026-01-01T00:00:00.000Z",
    }
    event = make_event(
        "customer.erased",
        "2026-03-06T17:30:00.000Z",
        "c1",
        {
            "customer_id": "c1",
            "erased_ids": ["c1"],
            "thread_ids": [],
            "fence": [{"subject": ANA_PHONE, "kind": "phone", "opt_outs": [stop]}],
            "command_id": "cmd-1",
        },
        "cmd-1",
    )
    (record,) = fence_records(event)
    assert (record.subject, record.kind, record.erased_at, record.command_id, record.opt_outs) == (
        ANA_PHONE,
        "phone",
        "2026-03-06T17:30:00.000Z",
        "cmd-1",
        (stop,),
    )
    assert FenceRecord.from_json(record.to_json()) == record
    schema = json.loads((SCHEMAS / "privacy_erasure.v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(record.to_json()))
    linked = json.loads((SCHEMAS / "linked_event.v1.json").read_text())
    jsonschema.Draft202012Validator(linked).validate(event.to_dict())
    assert fence_records(make_event("customer.created", "2026-03-06T17:30:00.000Z", "c1", {}, "x")) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"schema_version": 2}',
        b'{"schema_version": 1, "subject": "x", "kind": "pet", "erased_at": "2026-01-01T00:00Z",'
        b' "command_id": ""}',
        b'{"schema_version": 1, "subject": "x", "kind": "phone", "erased_at": "soon", "command_id": ""}',
    ],
)
def test_a_garbled_fence_record_is_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidMessage):
        FenceRecord.from_json(raw)


def test_a_restore_keeps_the_latest_erasure_of_each_subject_and_its_opt_outs() -> None:
    """A compacted topic may still hold an older record of a subject beside the latest (the
    cleaner runs later): the restore writes the latest, whatever the order it reads them in."""
    stop = {"channel": "sms", "status": "opted_out", "source": "keyword", "keyword": "STOP"}
    older = FenceRecord(
        ANA_PHONE, "phone", "2026-03-06T17:30:00.000Z", "cmd-1", ({**stop, "at": "2026-03-06T17:00:00.000Z"},)
    )
    newer = FenceRecord(ANA_PHONE, "phone", "2026-04-01T09:00:00.000Z", "cmd-2", ())
    for order in ([older, newer], [newer, older]):
        db = FakeDatabase()
        assert erasure.restore(db.units(), order) == 1
        assert [(r["subject"], r["command_id"]) for r in db.rows("privacy_fence")] == [(ANA_PHONE, "cmd-2")]
        assert db.rows("consent_ledger") == []  # the later erasure kept no opt-out
        before = (db.rows("privacy_fence"), db.rows("consent_ledger"))
        erasure.restore(db.units(), order)  # every start restores it again: nothing changes
        assert (db.rows("privacy_fence"), db.rows("consent_ledger")) == before
