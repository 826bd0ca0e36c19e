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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from schema.envelopes import parse_time
from schema.linked import LinkedEvent, derived_id
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
            "customer_id": _uuid(event.customer_id),
            "thread_id": _uuid(data.get("thread_id")),
            "type": "consent" if event.type == "consent.changed" else "identity",
            "channel": str(data.get("channel") or data.get("platform") or "identity"),
            "platform": "phoneunify",
            "kind": event.type,
            "direction": None,
            "occurred_at": parse_time(event.occurred_at),
            "content": _summary(event),
            "sender": None,
            "payload": {k: v for k, v in data.items() if k not in _PRIVATE} | {"event_id": event.event_id},
        }
    )
    if event.type == "customer.erased":
        erased = tuple(u for v in data.get("erased_ids") or () if (u := _uuid(v)) is not None)
        threads = tuple(u for v in data.get("thread_ids") or () if (u := _uuid(v)) is not None)
        return row, Erase(erased, threads)
    reproject: Reproject | None = None
    thread = _uuid(data.get("thread_id"))
    if thread is not None and event.type == "thread.backlinked":
        reproject = Reproject(thread, _uuid(data.get("customer_id")), only_unlinked=True)
    elif (
        thread is not None
        and event.type in ("thread.linked", "thread.unlinked")
        and data.get("actor") == "admin"
    ):
        reproject = Reproject(thread, _uuid(data.get("customer_id")), only_unlinked=False)
    return row, reproject


def _message_row(event: LinkedEvent) -> Row:
    data = event.data
    payload = {
        key: data[key]
        for key in ("attachments", "status", "booking", "evidence", "seen_ms")
        if data.get(key) not in (None, [], {})
    }
    payload["event_id"] = event.event_id
    kind = str(data.get("kind") or "message")
    platform = str(data.get("platform") or data["channel"])
    content = data.get("content")
    type_ = str(data.get("type") or data.get("channel"))
    if kind == "consent":
        # A provider's opt-out/opt-in report (Twilio's OptOutType) is consent evidence, not a
        # message: shown as such, so a reader never sees an empty SMS.
        type_ = "consent"
        status = str(data.get("status") or "a consent change").replace("_", "-")
        content = content or f"{platform} reported {status}"
    direction = data.get("direction")
    tags: list[str] | None = None
    score: float | None = None
    if kind == "message" and direction == "in" and content:
        tags = list(intent_tags(str(content), str(data["channel"])))
        score = sentiment(str(content))
    return Row(
        {
            "id": derived_id("timeline", str(data["idempotency_key"])),
            "idempotency_key": str(data["idempotency_key"]),
            "customer_id": _uuid(data.get("owner_customer_id")),
            "thread_id": _uuid(data.get("thread_id")),
            "type": type_,
            "channel": str(data["channel"]),
            "platform": platform,
            "kind": kind,
            "direction": direction,
            "occurred_at": parse_time(event.occurred_at),
            "content": content,
            "sender": data.get("sender"),
            "payload": payload,
            "intent_tags": tags,
            "sentiment": score,
            "refers_to": data.get("refers_to"),
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


def _uuid(value: object) -> uuid.UUID | None:
    if value in (None, "", "None"):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
