"""Publishing raw envelopes to Kafka, acknowledged before the edge answers 2xx.

The edge must never say "got it" for a message the broker has not stored: `publish` blocks
until every record of one webhook request is acknowledged by the broker (acks=all) or raises
`PublishError`, which the HTTP layer turns into 503 so the provider retries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

log = logging.getLogger(__name__)

_RETRY_CONNECT_AFTER_S = 1.0


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
    """kafka-python producer with acks=all and idempotence, bounded waits everywhere.

    The producer is created on first use, not in the constructor: kafka-python bootstraps
    eagerly and would block (then fail) a process that starts while the broker is down.
    Created lazily, the edge starts anyway and answers 503 until the broker is reachable.
    A failed publish retires the producer (as AioKafkaPublisher does, for the same reason: an
    idempotent producer with a refused batch fails every later one), and the next publish
    creates a new one.
    """

    def __init__(
        self,
        bootstrap: str,
        timeout_s: float = 10.0,
        client_id: str = "phoneunify-ingest",
        max_request_size: int = 8 * 1024 * 1024,
    ) -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._client_id = client_id
        self._max_request_size = max_request_size
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._failed_at = -_RETRY_CONNECT_AFTER_S

    def publish(self, records: Sequence[Record]) -> None:
        producer: KafkaProducer | None = None
        try:
            producer = self._connect()
            futures = [producer.send(r.topic, key=r.key.encode(), value=r.value) for r in records]
            for future in futures:
                future.get(timeout=self._timeout_s)
        except KafkaError as exc:
            self._retire(producer)
            raise PublishError(f"broker did not acknowledge: {type(exc).__name__}") from exc

    def _retire(self, producer: KafkaProducer | None) -> None:
        with self._lock:
            if producer is None or producer is not self._producer:
                return  # another request retired it already
            self._producer = None
        log.error("publishing failed; replacing the Kafka producer")
        retired: KafkaProducer = producer
        retired.close(timeout=0)

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=self._timeout_s)
                self._producer = None

    def _connect(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                # While the broker is unreachable, requests queued behind a failed bootstrap fail
                # at once instead of each waiting out the full timeout again.
                if time.monotonic() - self._failed_at < _RETRY_CONNECT_AFTER_S:
                    raise PublishError("broker unreachable (bootstrap failed moments ago)")
                try:
                    self._producer = self._create()
                except KafkaError:
                    self._failed_at = time.monotonic()
                    raise
            return self._producer

    def _create(self) -> KafkaProducer:
        timeout_ms = int(self._timeout_s * 1000)
        return KafkaProducer(
            bootstrap_servers=self._bootstrap.split(","),
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            bootstrap_timeout_ms=timeout_ms,
            max_block_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
            delivery_timeout_ms=timeout_ms + 1000,
            max_request_size=self._max_request_size,
        )
