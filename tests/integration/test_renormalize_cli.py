"""`phoneunify renormalize` on PostgreSQL: the plan it prints (masked), the commands it publishes,
and those commands applied by the resolver's handler: numbers move, nothing merges silently."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from cli.renormalize import run
from phoneunify.settings import Settings
from schema import tables as t
from schema.commands import Command
from schema.topics import Topics
from tests.integration.builders import RecordingPublisher
from workers import bootstrap
from workers.domain.phones import NORMALIZER_VERSION

pytestmark = pytest.mark.infra

AT = datetime(2026, 3, 1, tzinfo=UTC)
ANA, BO = uuid.UUID(int=1), uuid.UUID(int=2)
# Two Mexican WhatsApp ids an older normalizer kept with the retired mobile 1.
ANAS, BOS = "5215512345678", "5215587654321"


def seed(engine: Engine) -> None:
    """Ana's and Bo's numbers as an old normalizer wrote them; Bo's new spelling is already owned
    by Ana (a merge would follow); one address the current normalizer cannot read at all."""
    with bootstrap.postgres_units(engine)() as uow:
        store = uow.identities
        for customer, name in ((ANA, "Ana"), (BO, "Bo")):
            store.create_customer(customer, AT, name, None)
        for customer, wa_id in ((ANA, ANAS), (BO, BOS)):
            store.claim_phone("+" + wa_id, customer, AT, "2020.1")
            store.record_address("whatsapp", wa_id, "+" + wa_id, "2020.1", AT)
        store.claim_phone("+525587654321", ANA, AT, NORMALIZER_VERSION)
        store.ensure_phone("+19165550123", AT, "2020.1")
        store.record_address("sms", "+1 (000) 12", "+19165550123", "2020.1", AT)
        store.record_address("sms", "+19165550123", "+19165550123", NORMALIZER_VERSION, AT)
        uow.commit()


def owner(engine: Engine, e164: str) -> uuid.UUID | None:
    with engine.connect() as conn:
        return conn.execute(
            select(t.phones.c.customer_id).where(t.phones.c.e164 == e164)
        ).scalar_one_or_none()


def test_dry_run_then_apply_through_the_resolver(settings: Settings, engine: Engine) -> None:
    seed(engine)
    out = io.StringIO()
    assert run(settings, True, out, engine=engine) == 1  # one address cannot be read any more
    printed = out.getvalue()
    assert f"the new number goes to customer {ANA}" in printed
    assert f"REVIEW (renormalized_phone_owner): customer {BO} and customer {ANA}" in printed
    assert "cannot be read as a number now" in printed
    assert "3 address(es)" in printed and "2 stand for another number now (1 for review)" in printed
    for number in (ANAS, BOS, "525512345678", "525587654321", "9165550123"):
        assert number not in printed  # masked: the output goes to terminals and logs

    published = RecordingPublisher()
    assert run(settings, False, io.StringIO(), engine=engine, publisher=published) == 1
    (record,) = published.records
    assert record.topic == Topics(settings.topic_prefix).commands
    command = Command.from_json(record.value)
    assert (command.action, record.key) == ("renormalize", command.command_id)
    assert len(command.params["addresses"]) == 2  # the unreadable one is left as it is

    handler = bootstrap.command_handler(settings, bootstrap.postgres_units(engine))
    events = handler.apply(command)
    assert sorted(e.type for e in events) == ["conflict.recorded", "phone.linked"]
    assert owner(engine, "+525512345678") == ANA
    assert owner(engine, "+525587654321") == ANA  # not Bo's, and Bo is not merged into Ana
    with engine.connect() as conn:
        assert conn.execute(select(t.customers.c.merged_into)).scalars().all() == [None, None]
        (conflict,) = conn.execute(select(t.conflicts)).all()
        actors = set(conn.execute(select(t.identity_ledger.c.actor)).scalars())
    assert (conflict.kind, conflict.customer_id, conflict.other_customer_id) == (
        "renormalized_phone_owner",
        BO,
        ANA,
    )
    assert "system:renormalize" in actors

    # Planned again: only the unreadable address is left.
    again = io.StringIO()
    run(settings, True, again, engine=engine)
    assert "1 address(es)" in again.getvalue()
