"""Whatever text and JSON a row holds comes back from PostgreSQL as it went in through a script."""

from __future__ import annotations

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
@given(at=st.datetimes(timezones=zones))
def test_times_survive_a_script(engine: Engine, at: datetime) -> None:
    """Times go out as ISO-8601 text for the statement to cast: the same instant comes back."""
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS times (name text, created_at timestamptz)")
        script = bulk_sql.Script()
        script.insert(
            "times", ("name", "created_at"), [{"name": "a", "created_at": at}, {"name": "b", "created_at": None}]
        )
        script.run(cursor)
        cursor.execute("SELECT created_at FROM times ORDER BY name")
        assert cursor.fetchall() == [(at,), (None,)]
        conn.rollback()
