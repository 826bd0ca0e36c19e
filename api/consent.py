"""Consent as the API answers it: per phone and channel, from the consent ledger.

The rows about a (phone, channel) are the phone's own (by number, or by its keyed hash once its
person was erased: the suppression an erasure keeps) and those of the channel identities of the
phone's person on that channel that were said with no number (a WhatsApp user known by username
only who texted STOP): an opt-out said on a channel applies to every number of the person on it.
The current status is the one `workers.domain.consent.current` picks (the latest by the time it
was said; an opt-out wins a tie), and `permission` says what it allows for a purpose.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, false, or_, select

from phoneunify.privacy import identity_key, phone_key
from schema import tables as t
from workers.domain.consent import current, per_channel, permission


def _rows(
    conn: Connection,
    phones: Iterable[str],
    subjects: Iterable[str],
    identity_ids: Iterable[uuid.UUID],
    channel: str | None = None,
) -> list[dict[str, Any]]:
    cl = t.consent_ledger.c
    phones, subjects, identity_ids = list(phones), list(subjects), list(identity_ids)
    about = or_(
        cl.e164.in_(phones) if phones else false(),
        cl.subject.in_(subjects) if subjects else false(),
        and_(cl.e164.is_(None), cl.identity_id.in_(identity_ids)) if identity_ids else false(),
    )
    where = and_(about, cl.channel == channel) if channel else about
    return [dict(r._mapping) for r in conn.execute(select(t.consent_ledger).where(where))]


def _identities(conn: Connection, customer_ids: list[uuid.UUID], channel: str | None = None) -> list[Any]:
    idn = t.identities.c
    where: ColumnElement[bool] = idn.customer_id.in_(customer_ids)
    if channel is not None:
        where = and_(where, idn.platform == channel)
    return list(
        conn.execute(
            select(idn.id, idn.platform, idn.business_account, idn.provider_user_id).where(where)
        ).all()
    )


def _identity_subjects(identities: list[Any], hash_key: str | None) -> list[str]:
    if hash_key is None:
        return []
    return [identity_key(i.platform, i.business_account, i.provider_user_id, hash_key) for i in identities]


def _said_by_identity(row: Mapping[str, Any], phone_subjects: set[str]) -> bool:
    return row["e164"] is None and row["subject"] not in phone_subjects


def card_statuses(
    conn: Connection, ids: list[uuid.UUID], phones: list[str], hash_key: str | None = None
) -> list[dict[str, Any]]:
    """Current consent per (phone, channel) for a customer card: `ids` are the customer and
    those merged into it, `phones` the numbers whose consent concerns it. Without `hash_key`
    only rows that still name their number or identity are read (an earlier life's
    suppression of a number is not)."""
    identities = _identities(conn, ids)
    subject_of = {p: phone_key(p, hash_key) for p in phones} if hash_key else {}
    rows = _rows(
        conn,
        phones,
        [*subject_of.values(), *_identity_subjects(identities, hash_key)],
        [i.id for i in identities],
    )
    own: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    by_identity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    phone_of = {s: p for p, s in subject_of.items()}
    for row in rows:
        if _said_by_identity(row, set(phone_of)):
            by_identity[row["channel"]].append(row)
        else:
            own[row["e164"] or phone_of[row["subject"]]].append(row)
    # A person known by no number still shows what their channel identities said.
    phone_or_none: list[str | None] = [*sorted(phones)] or [None]
    return [
        _status(phone, decided)
        for phone in phone_or_none
        for decided in per_channel(own.get(phone, []), by_identity).values()
    ]


def _status(phone: str | None, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "phone": phone,
        "channel": row["channel"],
        "status": row["status"],
        "source": row["source"],
        "keyword": row["keyword"],
        "at": row["at"].isoformat(),
    }


def answer(
    conn: Connection,
    e164: str,
    channel: str,
    purpose: str,
    owner_ids: list[uuid.UUID],
    hash_key: str,
) -> dict[str, Any]:
    """The consent API's answer for a number on a channel; `owner_ids` are the customers of the
    number's person (empty when it belongs to nobody)."""
    identities = _identities(conn, owner_ids, channel) if owner_ids else []
    subject = phone_key(e164, hash_key)
    rows = _rows(
        conn,
        [e164],
        [subject, *_identity_subjects(identities, hash_key)],
        [i.id for i in identities],
        channel,
    )
    decided = current(rows)
    status = decided["status"] if decided else None
    allowed = permission(status, purpose, number_given=bool(owner_ids))
    evidence: dict[str, Any] = {}
    if decided is not None:
        evidence = {
            "source": decided["source"],
            "keyword": decided["keyword"],
            "said_by": "identity" if _said_by_identity(decided, {subject}) else "phone",
            **(decided["evidence"] or {}),
        }
    return {
        "phone": e164,
        "channel": channel,
        "purpose": purpose,
        "status": status or "unknown",
        "may_send": allowed.may_send,
        "since": decided["at"].isoformat() if decided else None,
        "evidence": evidence,
        "rule": allowed.rule,
    }
