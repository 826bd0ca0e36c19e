"""The timeline writer: customer.linked -> PostgreSQL, batched, offsets committed after the commit.

A plain kafka-python consumer with auto-commit off: poll a batch, project it, write it in one
transaction, and only then commit the batch's offsets. A crash anywhere before the commit
means the batch is read again, and the idempotency keys make the second write a no-op.
An event that is itself invalid (it does not decode, or its data breaks the contract the
projection reads) goes to dlq.timeline with the reason, and the batch's offsets are committed
only once the broker has acknowledged every such dead letter. Anything else (a bug, the
database down past the retry bound, a dead letter the broker refused) stops the writer
without committing: the supervisor restarts it and the batch is read again.

An outage rides on bounded backoff (phoneunify.retry): PostgreSQL's transient errors around
the write, Kafka's retriable ones around the poll, the dead letters (those not acknowledged
are sent again) and the commit. Past the bound (Backoff.max_total_s of waiting for one
step), the writer stops loudly as above.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from threading import Event
from typing import Any, Protocol, TypeVar

from kafka import OffsetAndMetadata, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Histogram

from phoneunify.retry import Backoff, retrying, transient_db_error, transient_kafka_error
from schema.deadletter import dead_letter
from schema.envelopes import parse_time
from schema.invalid import InvalidMessage
from schema.linked import LinkedEvent
from schema.topics import Topics
from workers.timeline.projection import Change, Row, project

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class WriterMetrics:
    events: Counter
    batch_seconds: Histogram
    edge_to_row: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WriterMetrics:
        return cls(
            events=Counter(
                "phoneunify_timeline_events_total",
                "Linked events handled by the timeline writer, by outcome.",
                ["outcome"],
                registry=registry,
            ),
            batch_seconds=Histogram(
                "phoneunify_timeline_batch_seconds",
                "Seconds to write one batch to PostgreSQL.",
                registry=registry,
            ),
            edge_to_row=Histogram(
                "phoneunify_edge_to_row_seconds",
                "Seconds from webhook accepted at the edge to timeline row committed.",
                buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                registry=registry,
            ),
        )


class Consumer(Protocol):
    """The calls of kafka-python's KafkaConsumer the writer makes."""

    def poll(self, timeout_ms: int = ...) -> dict[TopicPartition, list[Any]]: ...

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> Any: ...

    def close(self) -> Any: ...


class Producer(Protocol):
    """The calls of kafka-python's KafkaProducer the writer makes (`send` returns a future)."""

    def send(self, topic: str, value: bytes) -> Any: ...

    def close(self, timeout: float | None = ...) -> Any: ...


Write = Callable[[Sequence[Row], Sequence[Change]], int]
# Longest wait for the broker to acknowledge a dead letter before the batch may be committed.
DLQ_TIMEOUT_S = 10.0


class TimelineWriter:
    """`consumer` reads customer.linked (auto-commit off), `dlq` sends dead letters, `write`
    stores a batch's rows in one transaction and returns how many were new (built by
    workers/bootstrap.py)."""

    def __init__(
        self,
        consumer: Consumer,
        dlq: Producer,
        write: Write,
        topics: Topics,
        registry: CollectorRegistry,
        stop: Event | None = None,
        on_batch: Callable[[int], None] | None = None,
        backoff: Callable[[], Backoff] = Backoff,
    ) -> None:
        self.consumer = consumer
        self.dlq = dlq
        self.write = write
        self.topics = topics
        self.metrics = WriterMetrics.create(registry)
        self.stop = stop or Event()
        self.on_batch = on_batch
        self.backoff = backoff

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        try:
            while not self.stop.is_set():
                self.poll_once(timeout_ms=500)
        finally:
            self.consumer.close()
            self.dlq.close(timeout=5)

    def poll_once(self, timeout_ms: int = 500) -> int:
        polled = self._kafka(lambda: self.consumer.poll(timeout_ms=timeout_ms), "polling customer.linked")
        if not polled:
            return 0
        rows: list[Row] = []
        reprojections: list[Change] = []
        latencies: list[float] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        dead: list[bytes] = []
        for tp, records in polled.items():
            for record in records:
                try:
                    event = LinkedEvent.from_json(record.value)
                    row, reproject = project(event)
                except InvalidMessage as exc:
                    # Only an event that is itself invalid (undecodable, or data the projection
                    # says breaks the contract); any other exception is our bug: it propagates.
                    log.warning("dead-lettering linked event at offset %d: %s", record.offset, str(exc)[:200])
                    dead.append(dead_letter("timeline", record.value, exc))
                    continue
                rows.append(row)
                if reproject is not None:
                    reprojections.append(reproject)
                received = _received_at(event)
                if received is not None:
                    latencies.append(received)
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
        if dead:
            self._send_dead_letters(dead)
        started = time.perf_counter()
        inserted = self._retry(lambda: self.write(rows, reprojections), transient_db_error, "timeline write")
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        now = time.time()
        for received in latencies:
            self.metrics.edge_to_row.observe(max(0.0, now - received))
        self._kafka(lambda: self.consumer.commit(offsets), "committing offsets")
        self.metrics.events.labels("written").inc(inserted)
        self.metrics.events.labels("duplicate").inc(len(rows) - inserted)
        self.metrics.events.labels("dead_letter").inc(len(dead))
        if self.on_batch:
            self.on_batch(len(rows))
        return len(rows)

    def _send_dead_letters(self, letters: list[bytes]) -> None:
        """Send the batch's dead letters and wait until the broker has acknowledged each (its
        offset is committed only then); those it did not acknowledge are sent again."""
        topic = self.topics.dlq("timeline")
        pending = letters

        def attempt() -> None:
            nonlocal pending
            sent = [(letter, self.dlq.send(topic, letter)) for letter in pending]
            failed: list[bytes] = []
            failure: Exception | None = None
            for letter, future in sent:
                try:
                    future.get(timeout=DLQ_TIMEOUT_S)
                except Exception as exc:  # judged (transient or not) once every letter is waited for
                    failed.append(letter)
                    failure = failure or exc
            pending = failed
            if failure is not None:
                raise failure

        self._kafka(attempt, "sending dead letters")

    def _kafka(self, call: Callable[[], T], what: str) -> T:
        return self._retry(call, transient_kafka_error, what)

    def _retry(self, call: Callable[[], T], transient: Callable[[BaseException], bool], what: str) -> T:
        return retrying(call, transient, what, backoff=self.backoff(), wait=self.stop.wait)


def _received_at(event: LinkedEvent) -> float | None:
    if event.type != "timeline.event":
        return None
    seen = event.data.get("received_at")
    if not seen:
        return None
    try:
        return parse_time(str(seen)).timestamp()
    except ValueError:
        return None
