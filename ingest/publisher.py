"""Publishing raw envelopes to Kafka, acknowledged before the edge answers 2xx.

The edge must never say "got it" for a message the broker has not stored: `publish` blocks
until every record of one webhook request is acknowledged by the broker (acks=all) or raises
`PublishError`, which the HTTP layer turns into 503 so the provider retries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    topic: str
    key: str
    value: bytes


class PublishError(RuntimeError):
    """The broker did not acknowledge in time; nothing may be reported as accepted."""


class Publisher(Protocol):
    def publish(self, records: Sequence[Record]) -> None:
        """Store every record durably or raise PublishError."""

    def close(self) -> None: ...


class KafkaPublisher:
    """kafka-python producer with acks=all and idempotence, bounded waits everywhere."""

    def __init__(self, bootstrap: str, timeout_s: float = 10.0, client_id: str = "phoneunify-ingest") -> None:
        self._timeout_s = timeout_s
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            max_block_ms=int(timeout_s * 1000),
            request_timeout_ms=int(timeout_s * 1000),
            delivery_timeout_ms=int(timeout_s * 1000) + 1000,
            max_request_size=8 * 1024 * 1024,
        )

    def publish(self, records: Sequence[Record]) -> None:
        try:
            futures = [self._producer.send(r.topic, key=r.key.encode(), value=r.value) for r in records]
            for future in futures:
                future.get(timeout=self._timeout_s)
        except KafkaError as exc:
            raise PublishError(f"broker did not acknowledge: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._producer.close(timeout=self._timeout_s)
