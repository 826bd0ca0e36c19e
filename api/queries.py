"""Read models for the API and the terminal view: plain functions over a connection."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, tuple_

from api import consent
from schema import tables as t

MAX_MERGE_HOPS = 32


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last item's (occurred_at, id). Keyset, not offset, so a page
    never repeats or skips an item when events are written meanwhile (older ones included)."""

    occurred_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.occurred_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError with the reason when `text` is not a cursor this API issued."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            moment, ident = json.loads(raw)
            cursor = cls(datetime.fromisoformat(moment), uuid.UUID(ident))
        except (ValueError, TypeError) as exc:
            raise ValueError("not a cursor this API issued (use next_cursor as given)") from exc
        if cursor.occurred_at.tzinfo is None:
            raise ValueError("cursor time has no timezone")
        return cursor


def survivor_of(conn: Connection, customer_id: uuid.UUID) -> uuid.UUID | None:
    """The customer this id resolves to after merges; None when the id is unknown."""
    current = customer_id
    for _ in range(MAX_MERGE_HOPS):
        row = conn.execute(select(t.customers.c.merged_into).where(t.customers.c.id == current)).one_or_none()
        if row is None:
            return None
        if row.merged_into is None:
            return current
        current = row.merged_into
    return current


def erased(conn: Connection, customer_id: uuid.UUID) -> bool:
    """Was the customer erased (its personal data removed at a person's request)?"""
    at = conn.execute(select(t.customers.c.erased_at).where(t.customers.c.id == customer_id)).scalar()
    return at is not None


def members(conn: Connection, survivor: uuid.UUID) -> list[uuid.UUID]:
    """The survivor and every customer merged into it, however deep."""
    found = [survivor]
    frontier = [survivor]
    while frontier:
        children = list(
            conn.execute(select(t.customers.c.id).where(t.customers.c.merged_into.in_(frontier))).scalars()
        )
        frontier = [c for c in children if c not in found]
        found.extend(frontier)
    return found


def customer_by_phone(conn: Connection, e164: str) -> tuple[uuid.UUID | None, bool]:
    """(owner after merges, shared?) of a canonical number."""
    row = conn.execute(
        select(t.phones.c.customer_id, t.phones.c.shared).where(t.phones.c.e164 == e164)
    ).one_or_none()
    if row is None:
        return None, False
    owner = survivor_of(conn, row.customer_id) if row.customer_id else None
    return owner, bool(row.shared)


def customer_card(
    conn: Connection,
    customer_id: uuid.UUID,
    hash_key: str | None = None,
    *,
    ids: list[uuid.UUID] | None = None,
    with_consent: bool = True,
) -> dict[str, Any]:
    """The customer as the timeline and the lookup show it. `hash_key` (the phone hash key) lets
    the consent read the rows that name a number only by its keyed hash (see api/consent.py).
    `ids`: the customer's members when the caller has read them already. Without `with_consent`
    the card has no "consent" (three queries fewer: lists and confirmations do not show it)."""
    if ids is None:
        ids = members(conn, customer_id)
    rows = conn.execute(
        select(t.customers.c.id, t.customers.c.name, t.customers.c.email, t.customers.c.created_at).where(
            t.customers.c.id.in_(ids)
        )
    ).all()
    by_id = {row.id: row for row in rows}
    main = by_id[customer_id]
    # The customer's own numbers first (its first one is `phone`), then those merged into it.
    phones = list(
        conn.execute(
            select(t.phones.c.e164)
            .where(t.phones.c.customer_id.in_(ids))
            .order_by(t.phones.c.customer_id != customer_id, t.phones.c.created_at, t.phones.c.e164)
        ).scalars()
    )
    name = main.name or next((r.name for r in rows if r.name), None)
    email = main.email or next((r.email for r in rows if r.email), None)
    card = {
        "id": str(customer_id),
        "phone": phones[0] if phones else None,
        "phones": phones,
        "email": email,
        "name": name,
        "merged_ids": [str(i) for i in ids if i != customer_id],
        "created_at": main.created_at.isoformat(),
    }
    if with_consent:
        card["consent"] = consent.card_statuses(conn, ids, consent_phones(conn, ids, phones), hash_key)
    return card


def consent_phones(conn: Connection, ids: list[uuid.UUID], owned: list[str]) -> list[str]:
    """The numbers whose consent concerns this customer: the phones it owns, and the numbers its
    own SMS and WhatsApp identities text from. The second half keeps an opt-out on the card when
    the phone itself no longer links anyone (marked shared): consent is never lost by relinking."""
    pa, idn = t.phone_addresses.c, t.identities.c
    attested = conn.execute(
        select(pa.e164)
        .join(t.identities, and_(idn.platform == pa.channel, idn.provider_user_id == pa.address))
        .where(idn.customer_id.in_(ids))
    ).scalars()
    return sorted(set(owned) | set(attested))


def identities_of(conn: Connection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.identities)
        .where(and_(t.identities.c.customer_id.in_(ids), t.identities.c.platform.notin_(("sms", "booking"))))
        .order_by(t.identities.c.first_seen_at)
    ).all()
    return [_identity(r) for r in rows]


def _identity(r: Any) -> dict[str, Any]:
    """An identity as people know it: the @handle, else the profile name, else the channel's own
    id for the sender (a Messenger PSID until its profile is known)."""
    handle = ("@" + r.handle.lstrip("@")) if r.handle else (r.display_name or r.provider_user_id)
    return {
        "id": str(r.id),
        "platform": "facebook" if r.platform == "messenger" else r.platform,
        "handle": handle,
        "name": r.display_name,
        "confidence": round(float(r.confidence), 4),
        "verified": r.verification == "verified",
        "verification": r.verification,
        "decided_by": r.decided_by,
    }


def identities_by_id(conn: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Identities (any platform) by id, in the shape of `social_identities`."""
    if not ids:
        return {}
    rows = conn.execute(select(t.identities).where(t.identities.c.id.in_(ids))).all()
    return {r.id: _identity(r) for r in rows}


def timeline_page(
    conn: Connection,
    ids: list[uuid.UUID],
    limit: int,
    cursor: Cursor | None,
    include_status: bool = False,
    include_superseded: bool = False,
    *,
    backwards: bool = False,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    te = t.timeline_events.c
    conditions: list[Any] = [te.customer_id.in_(ids)]
    if not include_status:
        conditions.append(te.kind != "status")
    if not include_superseded:
        conditions.append(te.superseded_by.is_(None))
    return _page(conn, conditions, limit, cursor, backwards=backwards)


def _page(
    conn: Connection, conditions: list[Any], limit: int, cursor: Cursor | None, *, backwards: bool = False
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """One keyset page of timeline items matching `conditions`, oldest first: the first `limit`
    after `cursor`, or with `backwards` the latest `limit` before it (the newest when None). The
    cursor returned continues in the same direction (None when nothing is left there)."""
    te = t.timeline_events.c
    key = tuple_(te.occurred_at, te.id)
    if cursor is not None:
        at = tuple_(cursor.occurred_at, cursor.id)
        conditions = [*conditions, key < at if backwards else key > at]
    order = (te.occurred_at.desc(), te.id.desc()) if backwards else (te.occurred_at, te.id)
    rows = conn.execute(
        select(t.timeline_events, _sender_now()).where(and_(*conditions)).order_by(*order).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(rows[-1].occurred_at, rows[-1].id) if more and rows else None
    return _items(conn, rows[::-1] if backwards else rows), next_cursor


def timeline_before(
    conn: Connection, ids: list[uuid.UUID], limit: int, before: Cursor | None
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """The latest `limit` items before `before` (the newest when None), oldest first, and the
    cursor of the page before them (None when there is none): the console reads a timeline
    from its newest end."""
    return timeline_page(conn, ids, limit, before, backwards=True)


def _items(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Timeline rows as API items, each message with the furthest status reported about it."""
    delivery = delivery_statuses(conn, [r.idempotency_key for r in rows if r.kind == "message"])
    return [_conversation(r, delivery.get(r.idempotency_key)) for r in rows]


# How far a message got, by its statuses: the furthest one wins, whatever order they came in
# (providers do not promise order, and "delivered" can be skipped when "read" comes at once).
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "played": 4,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}


def delivery_statuses(conn: Connection, keys: list[str]) -> dict[str, str]:
    """The furthest status reported about each of these messages (statuses refer to the
    message's idempotency key), for the messages that have one."""
    if not keys:
        return {}
    te = t.timeline_events.c
    found = conn.execute(
        select(te.refers_to, te.payload["status"].astext).where(
            and_(te.kind == "status", te.refers_to.in_(keys))
        )
    ).all()
    reported: dict[str, set[str]] = {}
    for key, status in found:
        if status:
            reported.setdefault(key, set()).add(status.lower())
    return {key: max(seen, key=lambda s: (STATUS_RANK.get(s, 0), s)) for key, seen in reported.items()}


UNSENT = "message unsent"


def _sender_now() -> Any:
    """The sender of a thread as people know it now: its identity's @handle, else its profile
    name (NULL when neither is known). A message keeps the sender it arrived with, but a
    Messenger or Instagram profile fetched later (issue 12) names the earlier messages too."""
    te, th, idn = t.timeline_events.c, t.threads.c, t.identities.c
    handle = func.nullif(func.ltrim(idn.handle, "@"), "")
    return (
        select(func.coalesce("@" + handle, func.nullif(idn.display_name, "")))
        .select_from(t.threads.join(t.identities, idn.id == th.identity_id))
        .where(th.id == te.thread_id)
        .scalar_subquery()
        .label("sender_now")
    )


def _conversation(r: Any, delivery: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": str(r.id),
        "type": r.type,
        "platform": r.platform,
        "channel": r.channel,
        "timestamp": r.occurred_at.isoformat().replace("+00:00", "Z"),
        "kind": r.kind,
    }
    if r.direction:
        item["direction"] = r.direction
    if r.content is not None:
        item["content"] = r.content
    sender = r.sender
    if r.direction == "in" and r.kind == "message" and getattr(r, "sender_now", None):
        sender = r.sender_now
    if sender:
        item["sender"] = sender
    if r.intent_tags is not None:
        item["intent_tags"] = list(r.intent_tags)
        item["sentiment"] = r.sentiment
    payload = r.payload or {}
    if r.type == "booking":
        item["event"] = "booking_created"
        for key, value in (payload.get("booking") or {}).items():
            if value is not None and key not in ("name", "email"):
                item[key] = value
        if payload.get("version"):
            item["version"] = payload["version"]
            if payload["version"] > 1:
                item["event"] = "booking_updated"
    if r.superseded_by is not None:
        item["superseded_by"] = str(r.superseded_by)
    if payload.get("unsent") or r.kind == "deleted":
        # The customer took it back: the text is gone, the line stays.
        item["unsent"] = True
        item["content"] = UNSENT
    if payload.get("attachments"):
        item["attachments"] = payload["attachments"]
    if payload.get("status"):
        item["status"] = payload["status"]
    elif delivery:
        item["status"] = delivery
    if r.type in ("identity", "consent"):
        item["event"] = r.kind
        if payload.get("by"):
            item["by"] = payload["by"]  # the admin who decided it (absent: a rule did)
    if r.type == "consent":
        for key in ("keyword", "source"):
            if payload.get(key):
                item[key] = payload[key]
    return item


def stats(conn: Connection, ids: list[uuid.UUID]) -> dict[str, Any]:
    te = t.timeline_events.c
    messages = conn.execute(
        select(func.count(), func.count(func.distinct(te.platform))).where(
            and_(te.customer_id.in_(ids), te.kind == "message")
        )
    ).one()
    identities = conn.execute(
        select(func.count()).where(
            and_(t.identities.c.customer_id.in_(ids), t.identities.c.platform.notin_(("sms", "booking")))
        )
    ).scalar_one()
    bookings = conn.execute(
        select(func.count()).where(
            and_(te.customer_id.in_(ids), te.kind == "booking", te.superseded_by.is_(None))
        )
    ).scalar_one()
    channels = conn.execute(
        select(func.count(func.distinct(te.channel))).where(
            and_(te.customer_id.in_(ids), te.kind.in_(("message", "booking")))
        )
    ).scalar_one()
    return {
        "total_messages": int(messages[0]),
        "platforms_used": int(channels),
        "linked_identities": int(identities),
        "leads_created": int(bookings),
    }


LAST_MESSAGES = 3
# What a conversation shows: messages and bookings, not delivery statuses or identity changes.
MESSAGE_KINDS = ("message", "booking")


def unlinked_threads(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Threads no customer owns, most recently active first, each with its sender and its last
    few messages, so a person can decide from the queue itself."""
    th = t.threads.c
    rows = conn.execute(
        select(
            th.id,
            th.channel,
            th.business_account,
            th.identity_id,
            th.first_message_at,
            th.last_message_at,
            th.message_count,
        )
        .where(th.customer_id.is_(None))
        .order_by(th.last_message_at.desc())
        .limit(limit)
    ).all()
    senders = identities_by_id(conn, [r.identity_id for r in rows if r.identity_id])
    recent = last_messages(conn, [r.id for r in rows], LAST_MESSAGES)
    return [
        {
            **_thread(r),
            "sender": senders.get(r.identity_id) if r.identity_id else None,
            "last_messages": recent.get(r.id, []),
        }
        for r in rows
    ]


def _thread(r: Any) -> dict[str, Any]:
    return {
        "thread_id": str(r.id),
        "channel": r.channel,
        "business_account": r.business_account,
        "first_message_at": r.first_message_at.isoformat() if r.first_message_at else None,
        "last_message_at": r.last_message_at.isoformat() if r.last_message_at else None,
        "messages": r.message_count,
    }


def last_messages(
    conn: Connection, thread_ids: list[uuid.UUID], count: int
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The last `count` messages and bookings of each thread, oldest first."""
    if not thread_ids:
        return {}
    te = t.timeline_events.c
    ranked = (
        select(
            t.timeline_events,
            _sender_now(),
            func.row_number()
            .over(partition_by=te.thread_id, order_by=(te.occurred_at.desc(), te.id.desc()))
            .label("n"),
        )
        .where(and_(te.thread_id.in_(thread_ids), te.kind.in_(MESSAGE_KINDS), te.superseded_by.is_(None)))
        .subquery()
    )
    rows = conn.execute(
        select(ranked).where(ranked.c.n <= count).order_by(ranked.c.occurred_at, ranked.c.id)
    ).all()
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.thread_id, []).append(_conversation(r))
    return out


def thread_card(conn: Connection, thread_id: uuid.UUID) -> dict[str, Any] | None:
    """A conversation: its channel, sender, owner (after merges) and size; None when unknown."""
    row = conn.execute(select(t.threads).where(t.threads.c.id == thread_id)).one_or_none()
    if row is None:
        return None
    owner = survivor_of(conn, row.customer_id) if row.customer_id else None
    sender = identities_by_id(conn, [row.identity_id]).get(row.identity_id) if row.identity_id else None
    return {
        **_thread(row),
        "customer_id": str(owner) if owner else None,
        "decided_by": row.decided_by,
        "sender": sender,
    }


def thread_messages(
    conn: Connection, thread_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """A thread's messages and bookings, oldest first, one keyset page at a time."""
    te = t.timeline_events.c
    shown = [te.thread_id == thread_id, te.kind.in_(MESSAGE_KINDS), te.superseded_by.is_(None)]
    return _page(conn, shown, limit, cursor)


def messages_by_key(conn: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Timeline items by their idempotency key (channel + provider message id): the messages
    that ledger and conflict evidence point at."""
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return {}
    te = t.timeline_events.c
    rows = conn.execute(select(t.timeline_events, _sender_now()).where(te.idempotency_key.in_(wanted))).all()
    return {r.idempotency_key: _conversation(r) for r in rows}


def open_conflicts(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Open questions, oldest first, each with the phone in question and its evidence: the rule,
    the span and the message it was read from."""
    c, lc = t.conflicts.c, t.identity_ledger.c
    # The resolver records the message's key in the ledger entry it writes with the conflict (same
    # thread, identity, phone and moment); the conflict row keeps only the evidence itself.
    message_key = (
        select(lc.evidence["idempotency_key"].astext)
        .where(
            and_(
                lc.action == "conflict.recorded",
                lc.thread_id.is_not_distinct_from(c.thread_id),
                lc.identity_id.is_not_distinct_from(c.identity_id),
                lc.e164.is_not_distinct_from(c.e164),
                lc.at == c.created_at,
            )
        )
        .order_by(lc.seq)
        .limit(1)
        .scalar_subquery()
        .label("message_key")
    )
    rows = conn.execute(
        select(t.conflicts, message_key).where(c.status == "open").order_by(c.created_at).limit(limit)
    ).all()
    messages = messages_by_key(conn, [r.message_key for r in rows])
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "thread_id": str(r.thread_id) if r.thread_id else None,
            "identity_id": str(r.identity_id) if r.identity_id else None,
            "customer_id": str(r.customer_id) if r.customer_id else None,
            "other_customer_id": str(r.other_customer_id) if r.other_customer_id else None,
            "confidence": r.confidence,
            "created_at": r.created_at.isoformat(),
            "phone": r.e164,
            "evidence": {**(r.evidence or {}), "message": messages.get(r.message_key)},
        }
        for r in rows
    ]


def ledger_of(conn: Connection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    lc = t.identity_ledger.c
    rows = conn.execute(
        select(t.identity_ledger)
        .where(or_(lc.customer_id.in_(ids), lc.other_customer_id.in_(ids)))
        .order_by(lc.seq)
    ).all()
    messages = messages_by_key(conn, [str((r.evidence or {}).get("idempotency_key") or "") for r in rows])
    return [
        {
            "seq": r.seq,
            "at": r.at.isoformat(),
            "action": r.action,
            "actor": r.actor,
            "rule": r.rule,
            "confidence": r.confidence,
            "identity_id": str(r.identity_id) if r.identity_id else None,
            "thread_id": str(r.thread_id) if r.thread_id else None,
            "phone": r.e164,
            "evidence": r.evidence,
            "message": messages.get(str((r.evidence or {}).get("idempotency_key") or "")),
            "policy_version": r.policy_version,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class CommandOutcome:
    """What the resolver did with an admin command: the types of the events it produced, or
    (`refused`) why it refused it."""

    events: list[str]
    refused: str | None = None

    @property
    def status(self) -> str:
        return "applied" if self.refused is None else "rejected"


def command_outcome(conn: Connection, command_id: str) -> CommandOutcome | None:
    """The outcome of an admin command; None while the resolver has not read it."""
    rm = t.resolved_messages.c
    row = conn.execute(
        select(rm.events, rm.refused).where(rm.idempotency_key == "command:" + command_id)
    ).one_or_none()
    if row is None:
        return None
    return CommandOutcome([str(event.get("type")) for event in row.events], row.refused)
