"""Reading the erasure fence back from its compacted topic (privacy.erasures), whole.

The resolver child reads it once at start, before it resolves anything (see
workers/bootstrap.py `start_resolver`), as `phoneunify dlq list` reads a dead-letter topic:
every partition from the beginning to the end offsets taken first.
"""

from __future__ import annotations

import logging

from kafka.errors import KafkaError

from phoneunify.kafka_admin import MissingTopicError, read_to_end
from phoneunify.retry import Backoff, RetriesExhaustedError, retrying
from phoneunify.settings import Settings
from schema.erasures import FenceRecord
from schema.invalid import InvalidMessage
from schema.topics import Topics

log = logging.getLogger(__name__)


class FenceUnreadableError(RuntimeError):
    """The fence cannot be read whole: resolving without it could bring an erased person back."""


def read_fence(settings: Settings, timeout_s: float = 120.0) -> list[FenceRecord]:
    """The whole fence. Kafka trouble (the broker restarting, the topic not created yet) is
    retried with backoff for up to `timeout_s`; then, or at once for a record that does not
    read, FenceUnreadableError."""
    topic = Topics(settings.topic_prefix).erasures
    try:
        records = retrying(
            lambda: _read(settings, topic),
            lambda exc: isinstance(exc, KafkaError | MissingTopicError | TimeoutError),
            f"erasure fence: reading {topic}",
            backoff=Backoff(first_s=0.5, max_s=10.0, max_total_s=timeout_s),
        )
    except RetriesExhaustedError as gave_up:
        last = gave_up.__context__
        raise FenceUnreadableError(f"{topic}: {last} (run `phoneunify topics`?)") from last
    log.info("erasure fence: %d record(s) read from %s", len(records), topic)
    return records


def _read(settings: Settings, topic: str) -> list[FenceRecord]:
    records: list[FenceRecord] = []
    for record in read_to_end(settings, topic):
        if record.value is None:
            continue  # a tombstone an operator wrote: that subject is no longer fenced
        try:
            records.append(FenceRecord.from_json(record.value))
        except InvalidMessage as exc:
            # Fail closed: an erasure we cannot read is one we would not honour.
            raise FenceUnreadableError(
                f"{topic} partition {record.partition} offset {record.offset}: {exc}"
                " (fix it, or write a tombstone for its key)"
            ) from exc
    return records
