"""Whatever text and JSON a row holds comes back from PostgreSQL as it went in through a script."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from workers.adapters import bulk_sql

pytestmark = pytest.mark.infra

# What PostgreSQL can store: no NUL, no lone surrogate (the resolver refuses both as invalid).
storable = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=storable, note=storable)
def test_text_and_json_survive_a_script(engine: Engine, text: str, note: str) -> None:
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS t (idempotency_key text, events json)")
        script = bulk_sql.Script()
        script.insert(
            "t", ("idempotency_key", "events"), [{"idempotency_key": text, "events": [{"note": note}]}]
        )
        script.run(cursor)
        cursor.execute("SELECT idempotency_key, events FROM t")
        assert cursor.fetchall() == [(text, [{"note": note}])]
        conn.rollback()


# Offsets in whole minutes (what an ISO-8601 time from a provider carries), microseconds kept.
zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.datetimes(timezones=zones), ids=st.lists(st.uuids() | st.none(), min_size=1, max_size=4))
def test_times_and_uuids_survive_a_script(engine: Engine, at: datetime, ids: list[uuid.UUID | None]) -> None:
    """Times and uuids go out as one array literal for the statement to cast: the same values
    come back, None as NULL."""
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS times (seq int, id uuid, created_at timestamptz)")
        rows = [{"seq": n, "id": i, "created_at": at if n % 2 else None} for n, i in enumerate(ids)]
        script = bulk_sql.Script()
        script.insert("times", ("seq", "id", "created_at"), rows)
        script.run(cursor)
        cursor.execute("SELECT id, created_at FROM times ORDER BY seq")
        assert cursor.fetchall() == [(row["id"], row["created_at"]) for row in rows]
        conn.rollback()
