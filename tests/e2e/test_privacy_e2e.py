"""Issue 14's privacy promises against the real stack: signed webhooks in, admin commands through
the API, the workers and the writer as separate processes on the real broker and database.

- STOP, then erase: the consent API still says `may_send: false` for the number, and nothing
  of the person is left to read (their timeline answers 410, their number finds nobody, their
  timeline rows are blank).
- Erase, then replay the raw topics into a fresh database (with the compacted privacy.erasures
  topic, which a resolver restores at start): the person is not there, the messages they sent
  before the erasure are counted as erased, and everyone else, their own later messages
  included, comes back the same.
"""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text

from cli.demo import ApiClient
from cli.simulate import ProviderSimulator
from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import Settings
from tests.e2e.conftest import Stack, start_processes
from tests.e2e.test_admin_e2e import call, command
from tests.e2e.test_replay_e2e import copy_raw_topics, copy_topics, two_databases  # noqa: F401 - a fixture
from tests.harness import wait_for

pytestmark = pytest.mark.infra

BUSINESS = "+19165550000"
IG = "17841400000000700"
ANA, BO = "+19165557101", "+19165557102"


def consent(stack_api: ApiClient, phone: str, purpose: str = "transactional") -> dict[str, object] | None:
    status, body = stack_api.get("/api/v1/consent", phone=phone, channel="sms", purpose=purpose)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def customer_of(api: ApiClient, phone: str) -> str | None:
    status, found = api.get("/api/v1/customers", phone=phone)
    return str(found["customers"][0]["id"]) if status == 200 else None


def everything(engine: Engine) -> str:
    """Every row of every table phoneunify writes, as text."""
    with engine.connect() as conn:
        tables = [
            r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ]
        return json.dumps(
            {t: [list(r) for r in conn.execute(text(f'SELECT * FROM "{t}"'))] for t in tables}, default=str
        )


def test_stop_then_erase_and_the_consent_api_still_says_no(stack: Stack) -> None:
    sim, api = stack.sim, stack.api
    assert sim.twilio_sms("SM" + "a1" * 16, ANA, BUSINESS, "Hi, it's Ana Ruiz, table for 2?").status == 200
    assert sim.twilio_sms("SM" + "a2" * 16, ANA, BUSINESS, "STOP").status == 200
    wait_for(lambda: (consent(api, ANA) or {}).get("status") == "opted_out", timeout=90, what="Ana's STOP")
    ana = customer_of(api, ANA)
    assert ana is not None

    assert command(stack, "erase_customer", customer_id=ana) == ["customer.erased"]

    answer = consent(api, "(916) 555-7101")
    assert answer is not None
    assert (answer["status"], answer["may_send"], answer["rule"]) == ("opted_out", False, "opted_out")
    assert consent(api, ANA, "marketing")["may_send"] is False  # type: ignore[index]
    status, body, _ = call(stack, "GET", f"/api/v1/customers/{ana}/timeline")
    assert (status, body) == (410, {"error": f"customer {ana} was erased"})
    assert api.get("/api/v1/customers", phone=ANA)[0] == 404
    engine = create_engine(stack.settings.database_url)
    try:
        wait_for(
            lambda: "Ana Ruiz" not in everything(engine) and "table for 2" not in everything(engine),
            timeout=60,
            what="the writer to blank her timeline",
        )
        assert "5557101" not in everything(engine)
    finally:
        engine.dispose()


def metric(settings: Settings, name: str, labels: str) -> float:
    url = f"http://127.0.0.1:{settings.worker_web_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        page = response.read().decode()
    found = re.search(rf"^{name}\{{{labels}\}} ([0-9.e+]+)$", page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_erase_then_replay_into_a_fresh_database_and_the_person_is_not_there(
    two_databases: tuple[Settings, Settings],  # noqa: F811 - the fixture
) -> None:
    live, replay = two_databases
    live_engine, replay_engine = create_engine(live.database_url), create_engine(replay.database_url)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    try:
        ensure_topics(live)
        processes = start_processes(live, ("workers", "writer", "ingest", "api"))
        try:
            stack = Stack(live, processes, ProviderSimulator(live), ApiClient(live))
            sim, api = stack.sim, stack.api
            before = [
                sim.twilio_sms("SM" + "b1" * 16, ANA, BUSINESS, "Hi, it's Ana, table for 2?"),
                sim.meta_dm(
                    "instagram", IG, "igsid-ana", "mid.ana.1", "Ana Ruiz here, my number is 916-555-7101", t0
                ),
                sim.booking(
                    {"id": "bk-ana", "name": "Ana Ruiz", "email": "ana@example.com", "phone": "916.555.7101"}
                ),
                sim.twilio_sms("SM" + "b2" * 16, ANA, BUSINESS, "STOP"),
                sim.twilio_sms("SM" + "b3" * 16, BO, BUSINESS, "Hi, it's Bo"),
            ]
            assert [s.status for s in before] == [200, 200, 202, 200, 200]
            wait_for(
                lambda: (consent(api, ANA) or {}).get("status") == "opted_out" and customer_of(api, BO),
                timeout=90,
                what="the first messages",
            )
            ana = customer_of(api, ANA)
            assert ana is not None
            assert command(stack, "erase_customer", customer_id=ana) == ["customer.erased"]
            # After the erasure: Ana again (a new person), and Bo.
            assert sim.twilio_sms("SM" + "c1" * 16, ANA, BUSINESS, "Hello, me again").status == 200
            assert sim.twilio_sms("SM" + "c2" * 16, BO, BUSINESS, "See you at 8").status == 200
            wait_for(
                lambda: scalar(live_engine, "SELECT count(*) FROM timeline_events WHERE type = 'sms'") == 5,
                timeout=90,
                what="every SMS on a timeline",
            )
            again = customer_of(api, ANA)
            assert again is not None and again != ana
        finally:
            for process in processes.values():
                process.stop()

        ensure_topics(replay)
        assert (
            copy_topics(live, replay, [lambda topics: topics.erasures]) >= 6
        )  # her phone, threads, identities
        assert copy_raw_topics(live, replay) == 7
        processes = start_processes(replay, ("workers", "writer"))
        try:
            wait_for(
                lambda: (
                    metric(replay, "phoneunify_worker_messages_total", 'outcome="erased",stage="resolve"')
                    == 4
                ),
                timeout=90,
                what="her four messages from before the erasure, counted as erased",
            )
            wait_for(
                lambda: scalar(replay_engine, "SELECT count(*) FROM timeline_events WHERE type = 'sms'") == 3,
                timeout=90,
                what="the other three messages on timelines",
            )
        finally:
            for process in processes.values():
                process.stop()

        text_of_replay = everything(replay_engine)
        for personal in ("Ana Ruiz", "ana@example.com", "igsid-ana", "table for 2", "bk-ana"):
            assert personal not in text_of_replay, personal

        def people(engine: Engine) -> list[tuple[object, ...]]:
            with engine.connect() as conn:
                return sorted(
                    tuple(r)
                    for r in conn.execute(
                        text(
                            "SELECT c.id, c.name, c.email, p.e164 FROM customers c"
                            " LEFT JOIN phones p ON p.customer_id = c.id WHERE c.erased_at IS NULL"
                        )
                    )
                )

        assert people(replay_engine) == people(live_engine)  # Bo, and Ana's new life, same ids
        assert sorted(str(p[0]) for p in people(replay_engine)) == sorted(
            [again, customer_of_db(replay_engine, BO)]
        )
        with replay_engine.connect() as conn:
            kept = conn.execute(text("SELECT e164, subject, status FROM consent_ledger")).all()
        assert [(e164, status) for e164, _, status in kept] == [(None, "opted_out")]  # her opt-out, kept
    finally:
        live_engine.dispose()
        replay_engine.dispose()


def customer_of_db(engine: Engine, phone: str) -> str:
    return str(scalar(engine, "SELECT customer_id FROM phones WHERE e164 = :p", p=phone))


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()
