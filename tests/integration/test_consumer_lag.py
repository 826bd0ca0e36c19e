"""Consumer lag per stage from the real broker: committed offsets of phoneunify's groups against
the topics' end offsets, served on the API's /metrics."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from prometheus_client import CollectorRegistry, generate_latest

from phoneunify.kafka_admin import ensure_topics
from phoneunify.lag import LagExporter
from phoneunify.settings import Settings
from schema.topics import Topics

pytestmark = pytest.mark.infra


def _produce(settings: Settings, topic: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap.split(","), acks="all")
    for i in range(count):
        producer.send(topic, key=b"k", value=f"v{i}".encode(), partition=0)
    producer.flush(timeout=30)
    producer.close()


def _commit(settings: Settings, group: str, topic: str, offset: int) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","), group_id=group, enable_auto_commit=False
    )
    try:
        consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(offset, "", -1)})
    finally:
        consumer.close()


def test_lag_per_group_stage_and_topic(settings: Settings) -> None:
    ensure_topics(settings)
    topics = Topics(settings.topic_prefix)
    _produce(settings, topics.raw("sms"), 30)
    _produce(settings, topics.linked, 12)
    _commit(settings, f"{settings.worker_id}-extract", topics.raw("sms"), 10)
    _commit(settings, settings.writer_group, topics.linked, 12)
    _commit(settings, "someone-else", topics.raw("sms"), 0)  # not ours: not reported

    registry = CollectorRegistry()
    exporter = LagExporter(settings, registry)
    assert registry.get_sample_value("phoneunify_consumer_lag_updated_seconds") == 0
    exporter.refresh()

    def lag(group: str, stage: str, topic: str) -> float | None:
        labels = {"group": group, "stage": stage, "topic": topic}
        return registry.get_sample_value("phoneunify_consumer_lag_records", labels)

    assert lag(f"{settings.worker_id}-extract", "extract", topics.raw("sms")) == 20
    assert lag(settings.writer_group, "timeline", topics.linked) == 0
    assert "someone-else" not in generate_latest(registry).decode()
    assert (registry.get_sample_value("phoneunify_consumer_lag_updated_seconds") or 0) > 0
    exporter.stop()


def test_an_unreachable_broker_keeps_the_last_reading_and_scrapes_never_wait(settings: Settings) -> None:
    import dataclasses
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = dataclasses.replace(settings, kafka_bootstrap=f"127.0.0.1:{port}")
    registry = CollectorRegistry()
    exporter = LagExporter(down, registry, timeout_s=1.0)
    exporter.refresh()  # logs and keeps nothing: no reading yet
    assert registry.get_sample_value("phoneunify_consumer_lag_updated_seconds") == 0
    exporter.stop()
