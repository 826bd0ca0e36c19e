"""`phoneunify renormalize [--dry-run]`: read stored channel addresses again with the current normalizer.

When `workers/domain/phone_normalize.NORMALIZER_VERSION` changes (a new country rule, say), new
messages already use the new normalizer, but the stored numbers were written by the old one. This
command finds every stored channel address (`phone_addresses`) written by another version,
reads it again exactly as the extract stage reads a provider's address, and prints what would
change: which addresses stand for another number now, and what that does to the numbers (the
new one goes to the old one's customer, is marked shared as the old one was, or goes to review
when it belongs to someone else: never a silent merge). Without --dry-run it then publishes
`renormalize` commands on the commands topic, so the resolver (the single writer of identity)
applies them, decides again on the rows as they are then, and ledgers each change with actor
`system:renormalize`. A command names the normalizer version it was planned with: workers
still on the old version refuse it (dead-lettered with the reason); run it again once they
are upgraded. Running it twice is harmless: applied addresses are current and are not planned
again, and an address read again with the same version moves nowhere.

Numbers are masked to their last two digits in the output (it ends up in terminals and logs);
the customer ids say who is concerned, and the API shows an authenticated admin the full numbers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, select

from api.queries import survivor_of
from ingest.publisher import KafkaPublisher, Publisher, Record
from phoneunify.db import make_engine
from phoneunify.privacy import mask
from phoneunify.settings import Settings
from schema import tables as t
from schema.commands import Command
from schema.topics import Topics
from workers.domain import phones
from workers.domain.renormalize import Claim, Decision, Keep, Number, Review, Share, as_mark, decide_move
from workers.services.evidence import address_number

CHUNK = 200  # addresses per command: one unit of work in the resolver


@dataclass(frozen=True)
class Planned:
    """One stored address written by another normalizer version, and what reading it again does."""

    channel: str
    address: str
    old: str
    new: str | None  # None: the current normalizer refuses it (`refused` says why)
    refused: str | None = None
    decision: Decision | None = None  # None when the number does not change

    def describe(self) -> str:
        where = f"{self.channel:<9} {mask(self.address)}"
        if self.new is None:
            return f"{where}: cannot be read as a number now ({self.refused}); left as it is"
        if self.new == self.old:
            return f"{where}: {mask(self.old)} unchanged (version only)"
        return f"{where}: {mask(self.old)} -> {mask(self.new)}: {_outcome(self.decision)}"


def _outcome(decision: Decision | None) -> str:
    match decision:
        case Claim(holder=holder):
            return f"the new number goes to customer {holder}"
        case Share():
            return "the new number is marked shared, as the old one is"
        case Review(kind=kind, customer_id=customer, other_customer_id=other):
            return f"REVIEW ({kind}): customer {customer or '-'} and customer {other or '-'}; nothing merged"
        case Keep(reason=reason):
            return f"no owner changes ({reason.replace('_', ' ')})"
    return "?"


def plan(conn: Connection, region: str) -> list[Planned]:
    """Every stored address another normalizer version wrote, read again now."""
    pa = t.phone_addresses.c
    stale = conn.execute(
        select(pa.channel, pa.address, pa.e164)
        .where(pa.normalizer_version != phones.NORMALIZER_VERSION)
        .order_by(pa.channel, pa.address)
    ).all()
    planned = []
    for channel, address, old in stale:
        try:
            new = address_number(channel, address, region)
        except phones.PhoneError as exc:
            planned.append(Planned(channel, address, old, None, refused=exc.reason.value))
            continue
        decision = decide_move(_number(conn, old), _number(conn, new)).decision if new != old else None
        planned.append(Planned(channel, address, old, new, decision=decision))
    return planned


def _number(conn: Connection, e164: str) -> Number:
    """A number as the resolver will weigh it (it decides again when it applies the command)."""
    ph = t.phones.c
    row = conn.execute(select(ph.customer_id, ph.shared, ph.released_from).where(ph.e164 == e164)).first()
    c = t.constraints.c
    marked = conn.execute(
        select(c.kind)
        .where(c.e164 == e164, c.active, c.kind.in_(("shared", "not_shared")))
        .order_by(c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    mark = as_mark(marked)
    if row is None:
        return Number(mark=mark)
    owner = survivor_of(conn, row.customer_id) if row.customer_id else None
    released = survivor_of(conn, row.released_from) if row.released_from else None
    return Number(
        owner=owner, holder=row.customer_id, shared=bool(row.shared), mark=mark, released_from=released
    )


def commands(planned: Sequence[Planned], now: datetime) -> list[Command]:
    """The commands applying a plan, CHUNK addresses each. Each run's commands have ids of their
    own: a command refused by workers still on the old normalizer is recorded as refused under
    its id, and the run after the upgrade must not be taken for it. Applying a plan twice is
    harmless anyway: an address already read with this version moves nowhere."""
    readable = [p for p in planned if p.new is not None]
    return [
        Command(
            action="renormalize",
            actor="renormalize",
            params={
                "version": phones.NORMALIZER_VERSION,
                "addresses": [
                    {"channel": p.channel, "address": p.address} for p in readable[start : start + CHUNK]
                ],
            },
            issued_at=now.isoformat(),
        )
        for start in range(0, len(readable), CHUNK)
    ]


def run(
    settings: Settings,
    dry_run: bool,
    out: TextIO,
    engine: Engine | None = None,
    publisher: Publisher | None = None,
    now: datetime | None = None,
) -> int:
    """Print the plan and, unless a dry run, publish it. Exit status 1 when some address cannot
    be read as a number any more (they are left as they are: look at them)."""
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            planned = plan(conn, settings.default_region)
    finally:
        if own_engine:
            engine.dispose()
    for item in planned:
        print(item.describe(), file=out)
    moved = sum(1 for p in planned if p.new is not None and p.new != p.old)
    review = sum(1 for p in planned if isinstance(p.decision, Review))
    refused = sum(1 for p in planned if p.new is None)
    print(
        f"{len(planned)} address(es) written by another normalizer version than {phones.NORMALIZER_VERSION}:"
        f" {moved} stand for another number now ({review} for review), {refused} cannot be read",
        file=out,
    )
    if dry_run or not planned:
        return 1 if refused else 0
    batch = commands(planned, now or datetime.now(UTC))
    own_publisher = publisher is None
    publisher = publisher or KafkaPublisher(
        settings.kafka_bootstrap,
        settings.publish_timeout_s,
        "phoneunify-renormalize",
        settings.message_max_bytes,
    )
    try:
        topic = Topics(settings.topic_prefix).commands
        publisher.publish([Record(topic, c.command_id, c.to_json()) for c in batch])
    finally:
        if own_publisher:
            publisher.close()
    for command in batch:
        print(
            f"queued command {command.command_id} ({len(command.params['addresses'])} address(es))", file=out
        )
    print("the resolver applies them; GET /api/v1/admin/commands/<id> says when each is applied", file=out)
    return 1 if refused else 0


def main(args: argparse.Namespace, settings: Settings) -> int:
    return run(settings, args.dry_run, sys.stdout)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "renormalize",
        help="read stored phone addresses again with the current normalizer; apply it through the resolver",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would change, publish nothing")
    p.set_defaults(func=main)
