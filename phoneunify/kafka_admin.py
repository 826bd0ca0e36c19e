"""Kafka administration: phoneunify's topics as configured (not the broker's auto-create defaults),
and how far behind each of phoneunify's consumer groups is.

Topics are created with the configured partitions, replication factor and min.insync.replicas,
and with max.message.bytes = settings.message_max_bytes, the same number the producers use as
their max_request_size: so a record a producer accepts is one the topic stores. Topics that
exist already get the two configs set again (a changed body limit or durability setting
reaches them on the next `phoneunify topics`); partitions and replicas of an existing topic are
not changed here (that is a reassignment, an operator's decision).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, OffsetSpec
from kafka.errors import TopicAlreadyExistsError

from phoneunify.settings import Settings
from schema.topics import Topics

log = logging.getLogger(__name__)


DAY_MS = 24 * 60 * 60 * 1000


def topic_configs(settings: Settings, topic: str = "") -> dict[str, str]:
    """The per-topic configs phoneunify manages. A dead-letter topic takes twice the record
    limit: a dead letter carries its message as a JSON string, where every quote and backslash
    of the message's own JSON is escaped. Retention: see `retention_configs`."""
    limit = settings.message_max_bytes
    if topic.startswith(f"{settings.topic_prefix}dlq."):
        limit += settings.record_limit
    return {
        "max.message.bytes": str(limit),
        "min.insync.replicas": str(settings.topic_min_insync_replicas),
        **retention_configs(settings, topic),
    }


def retention_configs(settings: Settings, topic: str) -> dict[str, str]:
    """The erasure fence is compacted and kept for ever (the latest record of each subject).
    Every other topic carries messages, names and numbers: kept `topic_retention_days`, in
    segments of at most a day, so the broker deletes a record within a day of its retention
    (it deletes whole segments, and only closed ones)."""
    if topic == Topics(settings.topic_prefix).erasures:
        return {"cleanup.policy": "compact", "retention.ms": "-1"}
    if settings.topic_retention_days == 0:
        return {"cleanup.policy": "delete", "retention.ms": "-1"}
    retention = settings.topic_retention_days * DAY_MS
    return {
        "cleanup.policy": "delete",
        "retention.ms": str(retention),
        "segment.ms": str(min(DAY_MS, retention)),
    }


def admin_client(
    settings: Settings, timeout_s: float = 30.0, client_id: str = "phoneunify-admin"
) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        client_id=client_id,
        request_timeout_ms=int(timeout_s * 1000),
        bootstrap_timeout_ms=int(timeout_s * 1000),
    )


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create every phoneunify topic that does not exist yet and set the managed configs on
    those that do; returns the names created."""
    admin = admin_client(settings, timeout_s)
    try:
        names = Topics(settings.topic_prefix).all
        existing = set(admin.list_topics())
        wanted = [name for name in names if name not in existing]
        if wanted:
            new = {
                name: {
                    "num_partitions": settings.topic_partitions,
                    "replication_factor": settings.topic_replication_factor,
                    "configs": topic_configs(settings, name),
                }
                for name in wanted
            }
            # Another process may create the same topics at the same moment: that is fine. Wait
            # until every partition has a leader: a consumer started right after (make up, the
            # tests) that asks for the metadata too early skips the topic until its next refresh.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new, timeout_ms=int(timeout_s * 1000), wait_for_metadata=True)
        present = [name for name in names if name in existing]
        if present:
            admin.alter_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, name, configs=topic_configs(settings, name))
                    for name in present
                ],
                incremental=True,
            )
        return wanted
    finally:
        admin.close()


# ---- reading a topic whole ---------------------------------------------------------------------


class MissingTopicError(LookupError):
    """The topic does not exist (`phoneunify topics` creates phoneunify's)."""


def read_to_end(settings: Settings, topic: str, timeout_s: float = 30.0) -> Iterator[Any]:
    """Every record of a topic, oldest first per partition, up to the end offsets it had when
    reading began, with no consumer group (reading commits nothing). Raises MissingTopicError
    when the topic does not exist, TimeoutError when it cannot be read to its end in time."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        # topics() fetches the metadata: partitions_for_topic alone may answer before it arrived.
        if topic not in consumer.topics():
            raise MissingTopicError(f"topic {topic} does not exist")
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {timeout_s:g} s")
            for tp, records in consumer.poll(timeout_ms=500).items():
                yield from (record for record in records if record.offset < ends[tp])
    finally:
        consumer.close()


# ---- consumer lag ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    """Records of `topic` that consumer group `group` has not committed yet (all partitions)."""

    group: str
    topic: str
    records: int


def stage_of(topic: str, topics: Topics) -> str:
    """The pipeline stage that consumes a topic: the lag metric's `stage` label."""
    if topic in topics.raw_all:
        return "extract"
    return {topics.resolve: "resolve", topics.commands: "commands", topics.linked: "timeline"}.get(
        topic, "other"
    )


def our_groups(admin: KafkaAdminClient, prefixes: Iterable[str]) -> list[str]:
    """Consumer groups whose id starts with one of `prefixes` (the workers' id, the writer's group)."""
    found = []
    for group in admin.list_groups():
        group_id = str(group["group_id"])
        if any(group_id == p or group_id.startswith(p + "-") for p in prefixes):
            found.append(group_id)
    return sorted(found)


def consumer_lag(admin: KafkaAdminClient, groups: Iterable[str], topics: Topics) -> list[Lag]:
    """Committed offsets of `groups` on phoneunify's topics against the topics' end offsets.

    A partition a group has never committed counts from its start (log start offset): a new
    group reads a topic from the beginning (auto.offset.reset=earliest)."""
    ours = set(topics.all)
    committed: dict[str, dict[TopicPartition, int]] = {}
    for group, offsets in admin.list_group_offsets(list(groups)).items():
        committed[group] = {
            tp: meta.offset for tp, meta in offsets.items() if tp.topic in ours and meta.offset >= 0
        }
    partitions = {tp for offsets in committed.values() for tp in offsets}
    if not partitions:
        return []
    ends = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST))
    out: list[Lag] = []
    for group, offsets in sorted(committed.items()):
        by_topic: dict[str, int] = {}
        for tp, offset in offsets.items():
            end = ends[tp].offset if tp in ends else offset
            by_topic[tp.topic] = by_topic.get(tp.topic, 0) + max(0, end - offset)
        out.extend(Lag(group, topic, records) for topic, records in sorted(by_topic.items()))
    return out
