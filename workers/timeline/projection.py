"""From linked events to timeline rows: pure, so replaying the same events gives the same rows.

Every message event becomes one row keyed by its idempotency key (channel + provider message
id); every identity or consent change becomes one row keyed by its event id. Link changes of
a whole thread (back-links, admin re-links) become re-projections of that thread's rows.
A status or an unsend keeps the key of the message it is about (`refers_to`); what that does
to other rows (an unsend hides its message, a booking's new version supersedes the older) is
the writer's store's to apply (store.py), since the other row may arrive before or after.

An inbound message with text also gets its intent tags (workers.domain.intent) and, when it reads
as English, its sentiment (workers.timeline.sentiment), computed here once and stored with the row.
Outbound messages, statuses and bookings get neither (both stay NULL): that keeps the cost off
most of a backfill (bench/bench_projection.py measures it).

An event whose data breaks its contract (a missing key, an id that is no UUID, a text that is
not a string or that PostgreSQL cannot store) raises `LinkedEventError` naming the field: the
writer dead-letters exactly that, and any other exception here is a bug that stops the writer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from schema.envelopes import parse_time, unstorable
from schema.linked import LinkedEvent, LinkedEventError, derived_id
from workers.domain.intent import intent_tags
from workers.timeline.sentiment import sentiment

IDENTITY_SUMMARIES = {
    "customer.created": "Customer created",
    "phone.linked": "Phone number linked",
    "phone.unlinked": "Phone number removed",
    "identity.linked": "Channel identity linked",
    "identity.updated": "Channel profile",
    "identity.unlinked": "Channel identity unlinked",
    "identity.verified": "Channel identity verified",
    "identity.rejected": "Channel identity rejected",
    "thread.linked": "Conversation linked",
    "thread.unlinked": "Conversation unlinked",
    "thread.backlinked": "Earlier messages linked",
    "customers.merged": "Customers merged",
    "customer.split": "Customers split",
    "phone.shared": "Phone marked shared",
    "phone.unshared": "Phone no longer shared",
    "conflict.recorded": "Needs review",
    "consent.changed": "Consent changed",
    "customer.updated": "Customer details updated",
    "customer.erased": "Customer erased",
}
# Identity payload fields that never go into the timeline row (the phone stays in identity
# tables; an erasure's fence and lists are for the writer and the privacy topic).
_PRIVATE = frozenset({"phone", "fence", "erased_ids", "thread_ids"})


@dataclass(frozen=True)
class Row:
    values: dict[str, Any]


@dataclass(frozen=True)
class Reproject:
    """Set the owner of a thread's rows: only the unlinked ones (back-link) or all (re-link)."""

    thread_id: uuid.UUID
    customer_id: uuid.UUID | None
    only_unlinked: bool


@dataclass(frozen=True)
class Erase:
    """Blank the rows of erased customers and of their threads: what was said, by whom, with
    what attachments and booking details goes; the row (its id, time, channel, kind) stays."""

    customer_ids: tuple[uuid.UUID, ...]
    thread_ids: tuple[uuid.UUID, ...]


# What a linked event asks of the rows already written, besides its own row.
Change = Reproject | Erase


def project(event: LinkedEvent) -> tuple[Row, Change | None]:
    if event.type == "timeline.event":
        return _message_row(event), None
    data = event.data
    row = Row(
        {
            "id": derived_id("timeline", "event", event.event_id),
            "idempotency_key": "event:" + event.event_id,
            "customer_id": _uuid(event.customer_id, "customer_id"),
            "thread_id": _uuid(data.get("thread_id"), "data.thread_id"),
            "type": "consent" if event.type == "consent.changed" else "identity",
            "channel": str(data.get("channel") or data.get("platform") or "identity"),
            "platform": "phoneunify",
            "kind": event.type,
            "direction": None,
            "occurred_at": parse_time(event.occurred_at),
            "content": _storable(_summary(event), "the summary of data"),
            "sender": None,
            "payload": {k: v for k, v in data.items() if k not in _PRIVATE} | {"event_id": event.event_id},
        }
    )
    if event.type == "customer.erased":
        return row, Erase(_uuids(data, "erased_ids"), _uuids(data, "thread_ids"))
    thread = row.values["thread_id"]
    if thread is None:
        return row, None
    if event.type == "thread.backlinked":
        only_unlinked = True
    elif event.type in ("thread.linked", "thread.unlinked") and data.get("actor") == "admin":
        only_unlinked = False
    else:
        return row, None
    return row, Reproject(thread, _uuid(data.get("customer_id"), "data.customer_id"), only_unlinked)


def _message_row(event: LinkedEvent) -> Row:
    data = event.data
    payload = {
        key: data[key]
        for key in ("attachments", "status", "booking", "evidence", "seen_ms")
        if data.get(key) not in (None, [], {})
    }
    payload["event_id"] = event.event_id
    key = _required_text(data, "idempotency_key")
    channel = _required_text(data, "channel")
    kind = str(data.get("kind") or "message")
    platform = str(data.get("platform") or channel)
    content = _text(data, "content")
    type_ = str(data.get("type") or channel)
    if kind == "consent":
        # A provider's opt-out/opt-in report (Twilio's OptOutType) is consent evidence, not a
        # message: shown as such, so a reader never sees an empty SMS.
        type_ = "consent"
        status = str(data.get("status") or "a consent change").replace("_", "-")
        content = content or f"{platform} reported {status}"
    direction = _text(data, "direction")
    tags: list[str] | None = None
    score: float | None = None
    if kind == "message" and direction == "in" and content:
        tags = list(intent_tags(content, channel))
        score = sentiment(content)
    return Row(
        {
            "id": derived_id("timeline", key),
            "idempotency_key": key,
            "customer_id": _uuid(data.get("owner_customer_id"), "data.owner_customer_id"),
            "thread_id": _uuid(data.get("thread_id"), "data.thread_id"),
            "type": type_,
            "channel": channel,
            "platform": platform,
            "kind": kind,
            "direction": direction,
            "occurred_at": parse_time(event.occurred_at),
            "content": content,
            "sender": _text(data, "sender"),
            "payload": payload,
            "intent_tags": tags,
            "sentiment": score,
            "refers_to": _text(data, "refers_to"),
        }
    )


def _summary(event: LinkedEvent) -> str:
    base = IDENTITY_SUMMARIES.get(event.type, event.type)
    data = event.data
    if event.type == "consent.changed":
        why = data.get("keyword") or data.get("source")
        return f"{base}: {data.get('status')} on {data.get('channel')}" + (f" ({why})" if why else "")
    if event.type == "identity.linked":
        return f"{base}: {data.get('platform')} {data.get('handle') or data.get('name') or ''}".rstrip()
    if event.type == "identity.updated":
        handle = ("@" + str(data["handle"]).lstrip("@")) if data.get("handle") else None
        who = " ".join(str(part) for part in (handle, data.get("name")) if part)
        return f"{base}: {data.get('platform')} {who}".rstrip()
    if event.type == "thread.backlinked":
        return f"{base}: {data.get('messages', 0)} earlier message(s)"
    if event.type == "conflict.recorded":
        return f"{base}: {data.get('kind')}"
    return base


def _uuid(value: object, where: str) -> uuid.UUID | None:
    if value in (None, "", "None"):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise LinkedEventError(f"{where} is not a UUID") from exc


def _uuids(data: dict[str, Any], key: str) -> tuple[uuid.UUID, ...]:
    values = data.get(key) or []
    if not isinstance(values, list):
        raise LinkedEventError(f"data.{key} must be a list of UUIDs")
    return tuple(u for v in values if (u := _uuid(v, f"data.{key}[]")) is not None)


def _text(data: dict[str, Any], key: str) -> str | None:
    """An optional text column: a string PostgreSQL can store, or None."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LinkedEventError(f"data.{key} must be a string or null")
    return _storable(value, f"data.{key}")


def _storable(value: str, where: str) -> str:
    if (problem := unstorable(value)) is not None:
        raise LinkedEventError(f"{where} holds {problem}, which PostgreSQL cannot store")
    return value


def _required_text(data: dict[str, Any], key: str) -> str:
    value = _text(data, key)
    if not value:
        raise LinkedEventError(f"data.{key} is missing")
    return value
