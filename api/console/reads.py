"""What only the console's pages read (the API's read models are in api/queries.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, and_, func, select

from api import queries
from schema import tables as t


def timeline_version(conn: Connection, ids: list[uuid.UUID]) -> str:
    """Changes whenever the customer's timeline does (a new row, a merge or split, a re-link that
    moves rows): the live customer page asks whether it changed before fetching it again."""
    te = t.timeline_events.c
    rows, written = conn.execute(
        select(func.count(), func.max(te.written_at)).where(te.customer_id.in_(ids))
    ).one()
    stamp = written.isoformat() if written else "-"
    return f"{len(ids)}.{rows}.{stamp}"


def phone_channels(conn: Connection, phones: list[str]) -> dict[str, list[str]]:
    """The channels each number was seen on: where a provider attested it (an SMS or WhatsApp
    sender address) and where a person gave it (an identity's ledger entry about the number)."""
    if not phones:
        return {}
    pa, lc, idn = t.phone_addresses.c, t.identity_ledger.c, t.identities.c
    attested = select(pa.e164, pa.channel).where(pa.e164.in_(phones))
    given = (
        select(lc.e164, idn.platform)
        .join(t.identities, idn.id == lc.identity_id)
        .where(and_(lc.e164.in_(phones), lc.identity_id.is_not(None)))
    )
    seen: dict[str, set[str]] = {}
    for e164, channel in conn.execute(attested.union(given)).all():
        seen.setdefault(e164, set()).add(channel)
    return {phone: sorted(channels) for phone, channels in seen.items()}


def threads_of(conn: Connection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The customer's conversations (merged customers' included), most recently active first."""
    th = t.threads.c
    rows = conn.execute(
        select(t.threads).where(th.customer_id.in_(ids)).order_by(th.last_message_at.desc().nulls_last())
    ).all()
    senders = queries.identities_by_id(conn, [r.identity_id for r in rows if r.identity_id])
    return [
        {
            "thread_id": str(r.id),
            "channel": r.channel,
            "customer_id": str(r.customer_id),
            "messages": r.message_count,
            "last_message_at": r.last_message_at.isoformat() if r.last_message_at else None,
            "decided_by": r.decided_by,
            "sender": senders.get(r.identity_id) if r.identity_id else None,
        }
        for r in rows
    ]


def shared_phone(conn: Connection, e164: str) -> dict[str, Any] | None:
    """The number, when it is marked shared (and so on nobody's card)."""
    row = conn.execute(
        select(t.phones.c.e164, t.phones.c.shared_by).where(
            and_(t.phones.c.e164 == e164, t.phones.c.shared.is_(True))
        )
    ).one_or_none()
    return {"phone": row.e164, "shared_by": row.shared_by} if row else None


def timeline_size(conn: Connection, ids: list[uuid.UUID]) -> int:
    """Messages and bookings on a timeline: what a merge confirmation compares."""
    te = t.timeline_events.c
    return int(
        conn.execute(
            select(func.count()).where(and_(te.customer_id.in_(ids), te.kind.in_(queries.MESSAGE_KINDS)))
        ).scalar_one()
    )


def all_identities(conn: Connection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Every identity of the customer, SMS and booking-form senders included (the timeline's
    `social_identities` leaves those out), oldest first."""
    rows = conn.execute(
        select(t.identities).where(t.identities.c.customer_id.in_(ids)).order_by(t.identities.c.first_seen_at)
    ).all()
    found = queries.identities_by_id(conn, [r.id for r in rows])
    return [found[r.id] for r in rows]
