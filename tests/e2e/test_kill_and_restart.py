"""Invariant 2 under failure: SIGKILL the workers and the writer mid-stream, or only the
workers' resolver process, restart them, and every accepted message is exactly one timeline row."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from phoneunify.settings import Settings
from tests.e2e.conftest import Stack
from tests.harness import publish_sms, wait_for

pytestmark = pytest.mark.infra

# Enough that the first rows land well before the last: the kill must catch batches in flight.
MESSAGES = 6000


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("select count(*) from timeline_events where kind = 'message'")).scalar_one()
        )


def _publish(settings: Settings) -> None:
    publish_sms(settings, MESSAGES, phones=50, first_phone=1000, id_prefix="SMkill")


def _exactly_once(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text("select idempotency_key, count(*) from timeline_events where kind='message' group by 1")
        ).all()
        customers = conn.execute(text("select count(*) from customers")).scalar_one()
    assert len(rows) == MESSAGES
    assert all(count == 1 for _, count in rows)
    assert {key for key, _ in rows} == {f"sms:SMkill{i:05d}" for i in range(MESSAGES)}
    assert customers == 50  # one customer per phone, even across the crash


def _spawned_children(pid: int) -> list[int]:
    """Children started by multiprocessing's spawn (not its resource tracker)."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def test_no_row_lost_or_doubled_when_workers_are_killed(stack: Stack, engine: Engine) -> None:
    _publish(stack.settings)

    # Kill both consumers as soon as the first rows land: some batches are mid-flight.
    wait_for(lambda: _rows(engine) > 0, timeout=90, what="the first rows")
    stack.processes["workers"].kill()
    stack.processes["writer"].kill()
    killed_at = _rows(engine)
    assert killed_at < MESSAGES, "the stream finished before the kill; raise MESSAGES"

    stack.restart("workers")
    stack.restart("writer")
    wait_for(lambda: _rows(engine) >= MESSAGES, timeout=180, what="every message after the restart")
    _exactly_once(engine)


def test_workers_exit_when_their_resolver_process_dies(stack: Stack, engine: Engine) -> None:
    """The resolver runs in a child of the workers process. If it dies mid-stream, the workers
    must not carry on (nor ack what it had in hand): they exit 70 for a supervisor to restart
    them, and the restarted workers finish the stream exactly once."""
    _publish(stack.settings)
    workers = stack.processes["workers"]
    assert workers.proc is not None
    wait_for(lambda: _rows(engine) > 0, timeout=90, what="the first rows")
    (resolver,) = _spawned_children(workers.proc.pid)
    os.kill(resolver, signal.SIGKILL)
    assert workers.proc.wait(timeout=30) == 70, workers.log_tail()
    assert _rows(engine) < MESSAGES, "the stream finished before the kill; raise MESSAGES"

    stack.restart("workers")
    wait_for(lambda: _rows(engine) >= MESSAGES, timeout=180, what="every message after the restart")
    _exactly_once(engine)
