"""Reading the erasure fence back from its compacted topic (privacy.erasures), whole.

The resolver child reads it once at start, before it resolves anything (see
workers/bootstrap.py `start_resolver`), as `phoneunify dlq list` reads a dead-letter topic:
every partition from the beginning to the end offsets taken first.
"""

from __future__ import annotations

import logging

from phoneunify.kafka_admin import MissingTopicError, read_to_end
from phoneunify.settings import Settings
from schema.erasures import FenceRecord
from schema.invalid import InvalidMessage
from schema.topics import Topics

log = logging.getLogger(__name__)


class FenceUnreadableError(RuntimeError):
    """The fence cannot be read whole: resolving without it could bring an erased person back."""


def read_fence(settings: Settings, timeout_s: float = 60.0) -> list[FenceRecord]:
    topic = Topics(settings.topic_prefix).erasures
    records: list[FenceRecord] = []
    try:
        for record in read_to_end(settings, topic, timeout_s):
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
    except MissingTopicError as exc:
        raise FenceUnreadableError(f"{exc}: run `phoneunify topics` first") from exc
    except TimeoutError as exc:
        raise FenceUnreadableError(str(exc)) from exc
    log.info("erasure fence: %d record(s) read from %s", len(records), topic)
    return records
