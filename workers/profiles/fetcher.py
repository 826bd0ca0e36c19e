"""The profile fetcher's process loop: read inbound Messenger and Instagram messages from their
raw topics (a consumer group of its own, offsets committed by hand after the senders are noted
in PostgreSQL), then fetch what is due. It never blocks the pipeline: the resolver goes on
without it, and a profile arrives later as an observation of its own.

A raw record that does not decode is skipped here (the extract stage dead-letters it); a
database or broker failure past the retry bound stops the process (exit 70) without committing,
and the supervisor restarts it: the senders are noted again, which is harmless.
"""

from __future__ import annotations

import signal
import threading
from threading import Event
from typing import Any, Protocol

from kafka import OffsetAndMetadata, TopicPartition

from phoneunify.retry import retrying, transient_db_error
from schema.envelopes import RawEnvelope
from schema.invalid import InvalidMessage
from workers.profiles.service import ProfileService

# Longest wait between two looks at the schedule when the topics are quiet (a failed fetch's
# backoff ends on its own, not only when a message arrives).
IDLE_POLL_MS = 1000


class Consumer(Protocol):
    def poll(
        self, timeout_ms: int = ..., max_records: int | None = ...
    ) -> dict[TopicPartition, list[Any]]: ...

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> Any: ...

    def close(self) -> Any: ...


class ProfileFetcher:
    def __init__(self, consumer: Consumer, service: ProfileService, stop: Event | None = None) -> None:
        self.consumer = consumer
        self.service = service
        self.stop = stop or Event()

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():  # (a test runs it in a thread)
            signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        try:
            while not self.stop.is_set():
                self.poll_once()
                retrying(self.service.run_due, transient_db_error, "profile fetch", wait=self.stop.wait)
        finally:
            self.consumer.close()

    def poll_once(self, timeout_ms: int = IDLE_POLL_MS) -> int:
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=500)
        if not polled:
            return 0
        envelopes: list[RawEnvelope] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, records in polled.items():
            for record in records:
                try:
                    envelopes.append(RawEnvelope.from_json(record.value))
                except InvalidMessage:
                    continue  # the extract stage dead-letters it with the reason
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
        noted = retrying(
            lambda: self.service.observe(envelopes),
            transient_db_error,
            "profile schedule",
            wait=self.stop.wait,
        )
        self.consumer.commit(offsets)
        return noted
