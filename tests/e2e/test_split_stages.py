"""Workers whose stages run in processes of their own (PHONEUNIFY_WORKER_STAGES) make the same
timeline as one process running them all: every message once, one customer per phone, and a
process that runs only extract never touches the database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import Settings
from tests.e2e.conftest import answers, start_processes
from tests.harness import Process, free_port, publish_sms, wait_for, with_ports

pytestmark = pytest.mark.infra

MESSAGES = 600
PHONES = 30


@pytest.fixture
def split(settings: Settings) -> Iterator[dict[str, Process]]:
    settings = with_ports(settings)
    ensure_topics(settings)
    extract_only = dataclasses.replace(
        settings,
        worker_stages=("extract",),
        worker_web_port=free_port(),
        # Nothing in this process may reach PostgreSQL: a database it cannot connect to.
        database_url="postgresql+psycopg2://nobody:nothing@127.0.0.1:1/none",
    )
    resolve_only = dataclasses.replace(settings, worker_stages=("resolve", "commands"))
    processes = {
        "extract": Process("workers", extract_only, name="workers-extract").start(),
        "resolve": Process("workers", resolve_only, name="workers-resolve").start(),
    }
    try:
        processes.update(start_processes(settings, ("writer",)))
        for name, own in (("extract", extract_only), ("resolve", resolve_only)):
            wait_for(
                lambda own=own: _serves(own),
                timeout=60,
                what=f"workers ({name}) to serve\n{processes[name].log_tail()}",
            )
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def _serves(settings: Settings) -> bool:
    return answers(f"http://127.0.0.1:{settings.worker_web_port}/healthz")


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("select count(*) from timeline_events where kind='message'")).scalar_one()
        )


def test_stages_in_processes_of_their_own(
    split: dict[str, Process], settings: Settings, engine: Engine
) -> None:
    publish_sms(settings, MESSAGES, phones=PHONES, first_phone=2000, id_prefix="SMsplit")

    wait_for(lambda: _rows(engine) >= MESSAGES, timeout=120, what="every message through the split stages")
    with engine.connect() as conn:
        doubled = conn.execute(
            text(
                "select count(*) from (select idempotency_key from timeline_events"
                " group by 1 having count(*) > 1) d"
            )
        ).scalar_one()
        customers = conn.execute(text("select count(*) from customers")).scalar_one()
    assert _rows(engine) == MESSAGES and doubled == 0
    assert customers == PHONES
    assert all(process.alive() for process in split.values())
