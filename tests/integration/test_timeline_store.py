"""What the writer stores is what the projection made, cell for cell, on real PostgreSQL.

The batch travels to PostgreSQL as one JSON document (workers/timeline/store.py): text that
JSON or PostgreSQL's own literals treat specially (quotes, backslashes, commas and braces,
control characters, "NULL", emoji), numbers JSON's fast encoder refuses, and each column's
type (uuid, timestamptz, float, text[], jsonb) must come out exactly as they went in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from schema.linked import make_event
from workers.timeline.projection import Reproject, Row, project
from workers.timeline.store import COLUMNS, write_batch

pytestmark = pytest.mark.infra

AWKWARD = [
    'she said "book it", then \\ left {early}',
    "two\nlines\tand a tab\r",
    "NULL",
    "",
    "caf\u00e9 \U0001f600 \u00fcber \u4e2d\u6587",
    "commas, in, tags? , {a,b}",
]


def _message(n: int, content: str, payload: dict[str, Any]) -> Row:
    key = f"instagram:m_{n}"
    data = {
        "idempotency_key": key,
        "thread_id": str(uuid.uuid4()),
        "owner_customer_id": str(uuid.uuid4()),
        "type": "social_media",
        "channel": "instagram",
        "platform": "instagram",
        "kind": "message",
        "direction": "in",
        "content": content or None,
        "sender": content,
        "refers_to": content,
        **payload,
    }
    event = make_event("timeline.event", f"2026-01-05T09:{n:02d}:00.123456+00:00", None, data, key)
    return project(event)[0]


def _stored(engine: Engine) -> dict[str, dict[str, Any]]:
    names = ", ".join(name for name, _ in COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {names} FROM timeline_events"))
        return {row.idempotency_key: dict(row._mapping) for row in rows}


def test_every_cell_is_stored_as_projected(engine: Engine) -> None:
    rows = [_message(n, content, {}) for n, content in enumerate(AWKWARD)]
    rows.append(_message(len(rows), "I want to cancel, terrible", {"seen_ms": 2**70}))  # beyond 64 bits
    rows.append(_message(len(rows), "fine", {"attachments": [{"url": 'x"\\y', "n": 1.5, "ok": None}]}))
    assert write_batch(engine, rows, []) == len(rows)

    stored = _stored(engine)
    assert len(stored) == len(rows)
    for row in rows:
        got = stored[row.values["idempotency_key"]]
        for name, _ in COLUMNS:
            want = row.values.get(name)
            if name in ("id", "customer_id", "thread_id") and want is not None:
                want = uuid.UUID(str(want))
            assert got[name] == want, (name, got[name], want)
    assert any(r.values["intent_tags"] for r in rows) and any(r.values["sentiment"] for r in rows)


def test_a_batch_with_two_copies_of_one_event_keeps_the_first(engine: Engine) -> None:
    first = _message(1, "first", {})
    copy = Row({**first.values, "content": "second"})
    assert write_batch(engine, [first, copy], []) == 1
    assert _stored(engine)[first.values["idempotency_key"]]["content"] == "first"


def _thread(engine: Engine, customer: uuid.UUID | None) -> uuid.UUID:
    thread = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO threads (id, thread_key, channel, business_account, customer_id)"
                " VALUES (:id, :key, 'instagram', 'biz', :customer)"
            ),
            {"id": thread, "key": f"instagram:{thread}", "customer": customer},
        )
    return thread


def _on(thread: uuid.UUID | None, owner: uuid.UUID | None, n: int, type_: str = "social_media") -> Row:
    return Row(
        {
            "id": uuid.uuid4(),
            "idempotency_key": f"instagram:r{n}",
            "customer_id": owner,
            "thread_id": thread,
            "type": type_,
            "channel": "instagram",
            "platform": "instagram",
            "kind": "message",
            "occurred_at": datetime(2026, 1, 5, 9, n, tzinfo=UTC),
            "payload": {},
        }
    )


def _owners(engine: Engine) -> dict[str, uuid.UUID | None]:
    return {key: row["customer_id"] for key, row in _stored(engine).items()}


@pytest.mark.parametrize("batched", [False, True], ids=["one per batch", "all in one batch"])
def test_reprojections_in_one_batch_end_as_one_per_batch(engine: Engine, batched: bool) -> None:
    """Known threads take their current customer (all rows if any re-projection asks for all,
    else the unlinked ones); a thread the identity tables do not know takes its re-projections'
    own customers in their order; identity rows stay with the customer their event named."""
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        for customer in (a, b, c):
            conn.execute(text("INSERT INTO customers (id, created_at) VALUES (:id, now())"), {"id": customer})
    linked, unlinked, unknown = _thread(engine, b), _thread(engine, None), uuid.uuid4()
    rows = [
        _on(linked, None, 1),
        _on(linked, a, 2),
        _on(linked, a, 3, type_="identity"),
        _on(unlinked, a, 4),
        _on(unknown, None, 5),
        _on(unknown, a, 6),
        _on(unknown, None, 7, type_="identity"),
    ]
    changes = [
        Reproject(linked, a, only_unlinked=True),
        Reproject(unknown, b, only_unlinked=True),
        Reproject(linked, c, only_unlinked=False),
        Reproject(unknown, c, only_unlinked=False),
        Reproject(unknown, a, only_unlinked=True),
        Reproject(unlinked, a, only_unlinked=False),
    ]
    write_batch(engine, rows, [])
    if batched:
        write_batch(engine, [], changes)
    else:
        for change in changes:
            write_batch(engine, [], [change])
    assert _owners(engine) == {
        "instagram:r1": b,
        "instagram:r2": b,
        "instagram:r3": a,
        "instagram:r4": None,
        "instagram:r5": c,
        "instagram:r6": c,
        "instagram:r7": None,
    }
