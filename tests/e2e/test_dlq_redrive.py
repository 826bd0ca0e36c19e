"""A dead letter re-driven after its cause was fixed reaches the timeline once, however often it
is re-driven (the pipeline deduplicates by the message's idempotency key)."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, text

from cli.main import main
from ingest.edge import records_for
from schema.topics import Topics
from tests.e2e.conftest import Stack
from tests.harness import wait_for
from tests.integration.test_dlq_cli import _envelope
from workers.streams.deadletter import dead_letter

pytestmark = pytest.mark.infra


def test_a_redriven_dead_letter_lands_on_the_timeline_once(
    stack: Stack, engine: Engine, monkeypatch: pytest.MonkeyPatch, restored_logging: None
) -> None:
    for name, value in stack.settings.to_env().items():
        monkeypatch.setenv(name, value)
    envelope = _envelope("SM-redriven")
    producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap.split(","), acks="all")
    producer.send(
        f"{stack.settings.topic_prefix}dlq.extract",
        value=dead_letter("extract", envelope.to_json(), "RuntimeError: a bug, since fixed"),
    )
    producer.flush(timeout=30)
    producer.close()

    def rows_of(key: str) -> int:
        with engine.connect() as conn:
            query = text("select count(*) from timeline_events where idempotency_key = :k")
            return int(conn.execute(query, {"k": key}).scalar_one())

    assert main(["dlq", "redrive", "--stage", "extract"]) == 0
    wait_for(lambda: rows_of(envelope.idempotency_key) == 1, timeout=60, what="the re-driven message")
    # Again; then a later message of the same thread, which every stage handles after it (one
    # key, one partition all the way): once that one is on the timeline, the repeat was handled.
    assert main(["dlq", "redrive", "--stage", "extract"]) == 0
    later = _envelope("SM-later")
    (record,) = records_for([later], Topics(stack.settings.topic_prefix), stack.settings.phone_hash_key)
    producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap.split(","), acks="all")
    producer.send(record.topic, key=record.key.encode(), value=record.value)
    producer.flush(timeout=30)
    producer.close()
    wait_for(lambda: rows_of(later.idempotency_key) == 1, timeout=60, what="the later message")
    assert rows_of(envelope.idempotency_key) == 1
    body = stack.api.timeline_for_phone("+19165551234")
    assert body is not None and any(
        c.get("content") == "call me on +19165551234" for c in body["conversations"]
    )
