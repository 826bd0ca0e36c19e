"""PostgreSQL and the dict store decide alike, row for row, on realistic traffic.

The same stream of traffic (bench/traffic.py: every channel, repeat senders, numbers in text,
other people's numbers, redeliveries), with rounds of admin commands in between, goes through
the resolver and the command handler (wired by the composition root) over each store: the
linked events, the outcomes and every identity table must come out identical. The dict store
is what the unit tests run the services on; this is the guard that it is a faithful one, and
that batching in PostgreSQL (prefetch, decide in memory, write once) changes no decision.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bench.traffic import BUSINESS_NUMBERS, Traffic
from phoneunify.settings import Settings
from schema import tables as t
from schema.commands import Command
from schema.envelopes import utc_iso
from tests.identity_scenarios import SETTINGS, TABLES, Backend, dump, fake_backend, postgres_backend, rows
from workers import bootstrap
from workers.domain.requests import ResolveRequest
from workers.services.evidence import EvidencePolicy, gather

pytestmark = pytest.mark.infra

# Batch number -> round of admin commands applied after it (round 2 splits a merge).
ROUNDS = {8: 0, 16: 2, 30: 1}


def _requests(messages: int) -> list[ResolveRequest]:
    settings = Settings(twilio_auth_token="x", meta_app_secret="x", booking_api_key="x")
    # Few people and few numbers-in-text for many messages: repeat senders, cross-channel links,
    # and one number claimed by several people (reviews, shared phones, merges).
    traffic = Traffic(settings, seed=11, phone_share=0.5, own_share=0.3, claim_share=0.4)
    traffic.corpus_claims = traffic.corpus_claims[:20]
    people = traffic.people(90)
    hooks = traffic.backfill(messages, people, datetime(2026, 2, 1, tzinfo=UTC))
    policy = EvidencePolicy.build("US", BUSINESS_NUMBERS)
    requests = [
        gather(envelope, policy)[0] for hook in hooks for envelope in hook.envelopes(utc_iso(hook.at))
    ]
    # The second half as a replay reads it, one channel after another: later messages of one
    # channel arrive before earlier ones of another (details and dates must not depend on it).
    half = len(requests) // 2
    requests[half:] = sorted(requests[half:], key=lambda r: r.envelope.channel)
    # Situations the sample may miss, made sure of: a bare number then the same number after a
    # cue (the link's confidence rises); a customer first seen by SMS who wrote on Instagram days
    # earlier (the customer dates from the earlier message); a thread's later message read first
    # (the thread's first message moves earlier); a booking without a phone, batches before the
    # booking with one (the earlier thread is back-linked from the database, not from memory);
    # a question for a person asked twice (the second finds it already open).
    late = datetime(2026, 4, 1, tzinfo=UTC)
    bare, sms, reorder, booker, ana, zed = traffic.people(96)[-6:]
    # Zed books twice with Ana's number: the same question for a person, asked once.
    zed = replace(zed, e164=ana.e164, name="Zed Quinn")
    ana = replace(ana, name="Ana Lopez")
    number = bare.e164.removeprefix("+1")
    tail = [
        traffic.message(bare, "instagram", number, late),
        traffic.message(bare, "instagram", f"my number is {number}", late + timedelta(minutes=5)),
        traffic.message(sms, "sms", "hi, is the shop open?", late + timedelta(days=10)),
        traffic.message(sms, "instagram", f"text me at {sms.e164}", late),
        traffic.message(reorder, "messenger", "see you at 8", late + timedelta(hours=1)),
        traffic.message(reorder, "messenger", "table for two tonight?", late),
        traffic.message(booker, "booking", "window seat please", late, with_phone=True),
        traffic.message(ana, "whatsapp", "hola!", late),
        traffic.message(zed, "booking", "dinner for 4", late + timedelta(hours=2), with_phone=True),
        traffic.message(zed, "booking", "dinner for 6", late + timedelta(hours=3), with_phone=True),
    ]
    early_booking = traffic.message(
        booker, "booking", "birthday dinner", late - timedelta(days=3), with_phone=False
    )
    middle = len(requests) // 3
    requests[middle:middle] = [
        gather(e, policy)[0] for e in early_booking.envelopes(utc_iso(early_booking.at))
    ]
    requests += [gather(e, policy)[0] for hook in tail for e in hook.envelopes(utc_iso(hook.at))]
    # Providers redeliver: some messages come again, a few inside the same batch.
    rng = random.Random(5)
    for _ in range(len(requests) // 20):
        i = rng.randrange(len(requests))
        requests.insert(min(len(requests), i + rng.choice((1, 2, 300))), requests[i])
    return requests


def _commands(db: Backend, round_: int) -> list[Command]:
    """Admin decisions on what the first run built (ids are derived, so both stores agree)."""
    standing = {c["id"] for c in rows(db, t.customers) if c["merged_into"] is None}
    # Phones of customers not merged into another (so any two of them can be merged).
    owned = [(p["e164"], str(p["customer_id"])) for p in rows(db, t.phones) if p["customer_id"] in standing]
    unlinked = [str(i["id"]) for i in rows(db, t.identities) if i["customer_id"] is None]
    linked = [str(i["id"]) for i in rows(db, t.identities) if i["customer_id"] is not None]
    at = f"2026-03-0{round_ + 1}T12:00:00.000Z"
    commands = []
    if len(owned) >= 4 and round_ < 2:
        (_, a), (_, b) = owned[round_], owned[-1 - round_]
        if a != b:
            commands.append(Command("merge", "ops", {"survivor_id": a, "merged_id": b}, f"m{round_}", at))
        commands.append(Command("mark_shared", "ops", {"phone": owned[2 + round_][0]}, f"s{round_}", at))
    if unlinked and owned:
        commands.append(
            Command(
                "link_identity",
                "ops",
                {"identity_id": unlinked[0], "customer_id": owned[1][1]},
                f"l{round_}",
                at,
            )
        )
    if linked:
        commands.append(Command("unlink_identity", "ops", {"identity_id": linked[-1]}, f"u{round_}", at))
    if round_ == 2:
        # Undo a merge: a never-merge constraint the rules must honour from then on.
        merged = [c["id"] for c in rows(db, t.customers) if c["merged_into"] is not None]
        if merged:
            commands.append(Command("split", "ops", {"customer_id": str(merged[0])}, "split", at))
    return commands


def _run(
    db: Backend, requests: list[ResolveRequest], commands: dict[int, list[Command]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Resolve in batches of 40, with admin commands after the batches in ROUNDS. The first run
    chooses them from its own state and records them in `commands`; the other replays them."""
    resolver = bootstrap.resolver(SETTINGS, db.units)
    handler = bootstrap.command_handler(SETTINGS, db.units)
    events: list[dict[str, Any]] = []
    outcomes: dict[str, int] = {}
    size = 40
    for number, start in enumerate(range(0, len(requests), size)):
        result = resolver.resolve_batch(requests[start : start + size])
        events.extend(e.to_dict() for e in result.events)
        for k, v in result.outcomes.items():
            outcomes[k] = outcomes.get(k, 0) + v
        if number in ROUNDS:
            if number not in commands:
                commands[number] = _commands(db, ROUNDS[number])
            for command in commands[number]:
                events.extend(e.to_dict() for e in handler.apply(command))
    return events, outcomes


def test_the_dict_store_and_postgres_decide_alike(engine: Engine) -> None:
    requests = _requests(1200)
    commands: dict[int, list[Command]] = {}
    fake = fake_backend()
    reference_events, reference_outcomes = _run(fake, requests, commands)
    real = postgres_backend(engine)
    events, outcomes = _run(real, requests, commands)

    # The stream exercised the rules it should have, and the admin commands were applied.
    assert {"created", "linked", "review", "redelivered", "unlinked"} <= set(reference_outcomes)
    assert reference_outcomes.get("merged", 0) + reference_outcomes.get("shared", 0) > 0
    assert sum(len(c) for c in commands.values()) >= 9

    assert outcomes == reference_outcomes
    assert len(events) == len(reference_events)
    for i, (ours, theirs) in enumerate(zip(events, reference_events, strict=True)):
        assert ours == theirs, f"event {i} differs"
    real_rows, fake_rows = dump(real), dump(fake)
    for table in TABLES:
        assert len(real_rows[table.name]) == len(fake_rows[table.name]), table.name
        for mine, theirs in zip(real_rows[table.name], fake_rows[table.name], strict=True):
            assert mine == theirs, table.name
