"""The erasure fence read back from its compacted topic on the real broker: every record, latest
and tombstones as an operator would write them; fail closed on what it cannot read."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer

from phoneunify.kafka_admin import ensure_topics, topic_configs
from phoneunify.settings import Settings
from schema.erasures import FenceRecord
from schema.topics import Topics
from workers.streams.fence_topic import FenceUnreadableError, read_fence

pytestmark = pytest.mark.infra


def record(subject: str, at: str) -> FenceRecord:
    return FenceRecord(subject, "phone", at, "cmd-" + at[-6:-4])


def send(settings: Settings, *pairs: tuple[bytes, bytes | None]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        for key, value in pairs:
            producer.send(Topics(settings.topic_prefix).erasures, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)


def test_the_fence_is_read_whole_and_a_tombstone_lifts_a_subject(settings: Settings) -> None:
    assert topic_configs(settings, Topics(settings.topic_prefix).erasures)["cleanup.policy"] == "compact"
    ensure_topics(settings)
    assert read_fence(settings) == []
    first, later = record("ph_a", "2026-03-06T17:30:00.000Z"), record("ph_a", "2026-03-07T09:00:00.000Z")
    other = record("th_b", "2026-03-06T17:30:00.000Z")
    send(
        settings,
        (b"ph_a", first.to_json()),
        (b"th_b", other.to_json()),
        (b"ph_a", later.to_json()),
        (b"x", None),
    )
    assert sorted(read_fence(settings), key=lambda r: (r.subject, r.erased_at)) == [first, later, other]


def test_a_record_that_does_not_read_stops_the_resolver_from_starting(settings: Settings) -> None:
    ensure_topics(settings)
    send(settings, (b"ph_a", b'{"schema_version": 1, "subject": "ph_a"}'))
    with pytest.raises(FenceUnreadableError, match="offset 0"):
        read_fence(settings)


def test_a_missing_topic_is_waited_for_then_refused(settings: Settings) -> None:
    with pytest.raises(FenceUnreadableError, match="does not exist"):
        read_fence(settings, timeout_s=1.5)
