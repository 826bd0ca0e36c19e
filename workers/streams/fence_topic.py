"""Reading the erasure fence back from its compacted topic (privacy.erasures), whole.

The resolver child reads it once at start, before it resolves anything (see
workers/bootstrap.py `start_resolver`). kafka-python, like the timeline writer: a plain
consumer assigned every partition, read from the beginning to the end offsets taken first.
"""

from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, TopicPartition

from phoneunify.settings import Settings
from schema.erasures import FenceRecord
from schema.invalid import InvalidMessage
from schema.topics import Topics

log = logging.getLogger(__name__)


class FenceUnreadableError(RuntimeError):
    """The fence cannot be read whole: resolving without it could bring an erased person back."""


def read_fence(settings: Settings, timeout_s: float = 60.0) -> list[FenceRecord]:
    topic = Topics(settings.topic_prefix).erasures
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        request_timeout_ms=30000,
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise FenceUnreadableError(f"topic {topic} does not exist: run `phoneunify topics` first")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        records: list[FenceRecord] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in assigned):
            if time.monotonic() > deadline:
                raise FenceUnreadableError(f"{topic} not read to its end within {timeout_s:.0f}s")
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for record in batch:
                    if record.value is None:
                        continue  # a tombstone an operator wrote: that subject is no longer fenced
                    try:
                        records.append(FenceRecord.from_json(record.value))
                    except InvalidMessage as exc:
                        # Fail closed: an erasure we cannot read is one we would not honour.
                        raise FenceUnreadableError(
                            f"{topic} partition {tp.partition} offset {record.offset}: {exc}"
                            " (fix it, or write a tombstone for its key)"
                        ) from exc
        log.info("erasure fence: %d record(s) read from %s", len(records), topic)
        return records
    finally:
        consumer.close()
