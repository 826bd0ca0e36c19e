"""The timeline writer: customer.linked -> PostgreSQL, batched, offsets committed after the commit.

A plain kafka-python consumer with auto-commit off: poll a batch, project it, write it in one
transaction, and only then commit the batch's offsets. A crash anywhere before the commit
means the batch is read again, and the idempotency keys make the second write a no-op.
Poison events go to dlq.timeline with the reason before their offsets are committed.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Event
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import Engine

from phoneunify.retry import Backoff, transient_db_error
from schema import jsoncodec
from schema.envelopes import parse_time
from schema.linked import LinkedEvent
from schema.topics import Topics
from workers.timeline.projection import Reproject, Row, project
from workers.timeline.store import write_batch

log = logging.getLogger(__name__)


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


class TimelineWriter:
    def __init__(
        self,
        engine: Engine,
        bootstrap: str,
        topics: Topics,
        group: str,
        registry: CollectorRegistry,
        batch_size: int = 1000,
        stop: Event | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.topics = topics
        self.metrics = WriterMetrics.create(registry)
        self.stop = stop or Event()
        self.on_batch = on_batch
        self.consumer = KafkaConsumer(
            topics.linked,
            bootstrap_servers=bootstrap.split(","),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=batch_size,
            request_timeout_ms=30000,
            session_timeout_ms=10000,
            heartbeat_interval_ms=3000,
            max_poll_interval_ms=300000,
        )
        self.dlq = KafkaProducer(
            bootstrap_servers=bootstrap.split(","), acks="all", max_block_ms=10000, request_timeout_ms=10000
        )

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        try:
            while not self.stop.is_set():
                self.poll_once(timeout_ms=500)
        finally:
            self.consumer.close()
            self.dlq.close(timeout=5)

    def poll_once(self, timeout_ms: int = 500) -> int:
        polled = self.consumer.poll(timeout_ms=timeout_ms)
        if not polled:
            return 0
        rows: list[Row] = []
        reprojections: list[Reproject] = []
        latencies: list[float] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        dead = 0
        for tp, records in polled.items():
            for record in records:
                try:
                    event = LinkedEvent.from_dict(jsoncodec.loads(record.value))
                    row, reproject = project(event)
                except (ValueError, KeyError, TypeError) as exc:
                    self._dead_letter(record.value, f"{type(exc).__name__}: {exc}", record.offset)
                    dead += 1
                    continue
                rows.append(row)
                if reproject is not None:
                    reprojections.append(reproject)
                received = _received_at(event)
                if received is not None:
                    latencies.append(received)
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
        if dead:
            self.dlq.flush(timeout=10)
        started = time.perf_counter()
        inserted = self._write_with_retry(rows, reprojections)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        now = time.time()
        for received in latencies:
            self.metrics.edge_to_row.observe(max(0.0, now - received))
        self.consumer.commit(offsets)
        self.metrics.events.labels("written").inc(inserted)
        self.metrics.events.labels("duplicate").inc(len(rows) - inserted)
        self.metrics.events.labels("dead_letter").inc(dead)
        if self.on_batch:
            self.on_batch(len(rows))
        return len(rows)

    def _write_with_retry(self, rows: list[Row], reprojections: list[Reproject]) -> int:
        backoff = Backoff()
        while True:
            try:
                return write_batch(self.engine, rows, reprojections)
            except Exception as exc:
                if not transient_db_error(exc):
                    raise
                delay = backoff.next_delay()  # raises RetriesExhaustedError past its bound
                log.warning(
                    "timeline write failed transiently (%s); retry in %.1fs", type(exc).__name__, delay
                )
                self.stop.wait(delay)

    def _dead_letter(self, value: bytes | None, reason: str, offset: int) -> None:
        log.warning("dead-lettering linked event at offset %d: %s", offset, reason[:200])
        body: dict[str, Any] = {
            "stage": "timeline",
            "reason": reason[:1000],
            "failed_at": datetime.now(UTC).isoformat(),
            "value": (value or b"").decode("utf-8", errors="replace"),
        }
        self.dlq.send(self.topics.dlq("timeline"), json.dumps(body).encode())


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
