"""Writing a batch of projected rows in one transaction, idempotently.

One INSERT ... SELECT over unnest() of one array per column: a single statement whatever the
batch size (a multi-row VALUES statement cost SQLAlchemy a fresh compile, 13 bind parameters
per row and a RETURNING list, then a second statement to fix owners).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Engine, and_, select, text, update

from schema import tables as t
from workers.timeline.projection import Change, Erase, Row

# (column, PostgreSQL type) in the order of the statement below.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "uuid"),
    ("idempotency_key", "text"),
    ("customer_id", "uuid"),
    ("thread_id", "uuid"),
    ("type", "text"),
    ("channel", "text"),
    ("platform", "text"),
    ("kind", "text"),
    ("direction", "text"),
    ("occurred_at", "timestamptz"),
    ("content", "text"),
    ("sender", "text"),
    ("payload", "jsonb"),
    ("intent_tags", "text"),
    ("sentiment", "float8"),
)
# Tag lists travel as comma-joined text (tags are fixed words without commas): unnest() of a
# two-dimensional array would flatten them into one column of tags.
_TRAVELS_AS = {"intent_tags": "string_to_array(v.intent_tags, ',')"}
_NAMES = ", ".join(name for name, _ in COLUMNS)
_SOURCE = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in COLUMNS)
# Identity and consent entries stay on the timeline of the customer their event names ("Conversation
# unlinked" belongs to the customer who lost the thread); only messages follow their thread.
IDENTITY_TYPES = ("identity", "consent")
# A message's owner is its thread's current customer whenever the thread is known (see write_batch).
_OWNER = (
    "CASE WHEN th.id IS NOT NULL AND v.type NOT IN ("
    + ", ".join(f"'{kind}'" for kind in IDENTITY_TYPES)
    + ") THEN th.customer_id ELSE v.customer_id END"
)
# What an erased owner's row keeps of these: nothing (an event about them that arrives after
# their erasure, from a partition the writer read late, is written blank; see write_batch).
_ERASED = {
    "content": "NULL",
    "sender": "NULL",
    "payload": """'{"erased": true}'::jsonb""",
    "intent_tags": "NULL",
    "sentiment": "NULL",
}


def _selected(name: str) -> str:
    value = _TRAVELS_AS.get(name, f"v.{name}")
    return (
        f"CASE WHEN cu.erased_at IS NULL THEN {value} ELSE {_ERASED[name]} END" if name in _ERASED else value
    )


_SELECTED = ", ".join(_OWNER if name == "customer_id" else _selected(name) for name, _ in COLUMNS)
# Rows go in in batch order (WITH ORDINALITY): the first of two copies of one event wins.
INSERT = text(
    f"INSERT INTO timeline_events ({_NAMES}) "  # noqa: S608 - fixed column names, values are bound
    f"SELECT {_SELECTED} FROM unnest({_SOURCE}) WITH ORDINALITY AS v({_NAMES}, ord) "
    "LEFT JOIN threads th ON th.id = v.thread_id "
    f"LEFT JOIN customers cu ON cu.id = {_OWNER} "
    "ORDER BY v.ord "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)
BLANK = text(
    "UPDATE timeline_events SET "  # noqa: S608 - fixed text
    + ", ".join(f"{name} = {value}" for name, value in _ERASED.items())
    + " WHERE customer_id = ANY(CAST(:customers AS uuid[])) OR thread_id = ANY(CAST(:threads AS uuid[]))"
)


def write_batch(engine: Engine, rows: Sequence[Row], reprojections: Sequence[Change]) -> int:
    """Insert rows (a redelivered row is skipped by its idempotency key), then re-project
    threads and blank what erasures name. Returns the number of new rows.

    An erasure blanks every row of the erased customers and of their threads. An event about
    them emitted before the erasure may still come after it (it was keyed by a customer merged
    since, or by its thread while unlinked, so it sits on another partition): its row is
    written blank, because its owner (the thread's customer, kept by the erasure) is erased.

    A row's owner is its thread's current customer whenever the thread is known, because the
    writer may see a thread's link change before the thread's older messages (they were keyed
    by the old customer, or by the thread while unlinked, so they sit on other partitions).
    For the same reason a re-projection applies the thread's current customer, not the one its
    event names: two admin re-links read in reverse order still end with the later one."""
    inserted = 0
    te, th = t.timeline_events.c, t.threads.c
    with engine.begin() as conn:
        if rows:
            inserted = conn.execute(INSERT, _arrays(rows)).rowcount
        for rp in reprojections:
            if isinstance(rp, Erase):
                ids = {
                    "customers": [str(c) for c in rp.customer_ids],
                    "threads": [str(t) for t in rp.thread_ids],
                }
                conn.execute(BLANK, ids)
                continue
            known = conn.execute(select(th.customer_id).where(th.id == rp.thread_id)).first()
            owner = known.customer_id if known is not None else rp.customer_id
            condition = and_(
                te.thread_id == rp.thread_id,
                te.type.not_in(IDENTITY_TYPES),
                te.customer_id.is_distinct_from(owner),
            )
            if rp.only_unlinked:
                condition = and_(condition, te.customer_id.is_(None))
            conn.execute(update(t.timeline_events).where(condition).values(customer_id=owner))
    return inserted


def _arrays(rows: Sequence[Row]) -> dict[str, list[Any]]:
    arrays: dict[str, list[Any]] = {name: [] for name, _ in COLUMNS}
    for row in rows:
        values = row.values
        for name, kind in COLUMNS:
            arrays[name].append(_value(values.get(name), kind))
    return arrays


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(value)
    if kind == "uuid":
        return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))
    if kind == "jsonb":
        # orjson is several times faster; anything it refuses (a lone surrogate, a non-string
        # key) is encoded as before. PostgreSQL stores the same jsonb either way.
        try:
            return orjson.dumps(value).decode()
        except (orjson.JSONEncodeError, TypeError):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value
