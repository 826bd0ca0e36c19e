"""Publishing from the edge's event loop: an aiokafka producer, or a synchronous Publisher in a thread.

The contract is `ingest.publisher`'s: `publish` returns only once the broker acknowledged
every record of one webhook request (acks=all), or raises `PublishError`, which the edge turns
into 503 so the provider retries.

The edge uses `AioKafkaPublisher`: the producer runs on the same loop as the HTTP server, so a
request waits for its acknowledgement as a coroutine instead of holding a thread, and there is
no producer thread either (kafka-python's Sender thread and the thread pool hop were a third of
the edge's CPU). aiokafka is a dependency already, through faust.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Sequence
from typing import Protocol, TypeGuard

import anyio.to_thread
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ingest.publisher import Publisher, PublishError, Record

log = logging.getLogger(__name__)

# After a failed connection, publishes fail at once for this long instead of each one trying
# (and, with an unreachable host, waiting) again: a down broker costs 503s, not a pile-up.
RETRY_CONNECT_AFTER_S = 1.0


class AsyncPublisher(Protocol):
    async def publish(self, records: Sequence[Record]) -> None:
        """Store every record durably or raise PublishError."""

    async def close(self) -> None:
        """Flush and disconnect; must run on the loop the publisher published on."""


def is_async(publisher: Publisher | AsyncPublisher) -> TypeGuard[AsyncPublisher]:
    return inspect.iscoroutinefunction(publisher.publish)


def as_async(publisher: Publisher | AsyncPublisher) -> AsyncPublisher:
    """The publisher itself when it is asynchronous, else the synchronous one run in threads."""
    if is_async(publisher):
        return publisher
    return InThread(publisher)  # type: ignore[arg-type]  # not async, hence a Publisher


class InThread:
    """A synchronous Publisher (kafka-python's, a test double) called in a worker thread, so
    its blocking wait for acknowledgements never stalls the event loop.

    `close` leaves the wrapped publisher open: whoever created it closes it (the API and replay
    share KafkaPublisher instances that outlive one app)."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    async def publish(self, records: Sequence[Record]) -> None:
        await anyio.to_thread.run_sync(self.publisher.publish, records)

    async def close(self) -> None:
        return None


class AioKafkaPublisher:
    """aiokafka producer with acks=all and idempotence, bounded waits everywhere.

    The producer is started on first use on the running loop, not at construction: the edge
    starts (and answers 503) while the broker is down, and connects once it is back. A producer
    belongs to the loop it was started on; used from another loop (a test client's request, a
    restarted server) it is dropped and a new one is started there, never awaited across loops.
    """

    def __init__(
        self,
        bootstrap: str,
        timeout_s: float = 10.0,
        client_id: str = "phoneunify-ingest",
        linger_ms: int = 5,
        retry_connect_after_s: float = RETRY_CONNECT_AFTER_S,
    ) -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._retry_after_s = retry_connect_after_s
        self._producer: AIOKafkaProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[AIOKafkaProducer] | None = None
        self._failed_at = -retry_connect_after_s

    async def publish(self, records: Sequence[Record]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                producer = await self._connected()
                # Enqueue all of the request's records before waiting for any: they leave in the
                # same produce requests (linger_ms) and are acknowledged together.
                acks = [await producer.send(r.topic, r.value, r.key.encode()) for r in records]
                await asyncio.gather(*acks)
        except TimeoutError as exc:
            raise PublishError(f"broker did not acknowledge within {self._timeout_s:g}s") from exc
        except KafkaError as exc:
            raise PublishError(f"broker did not acknowledge: {type(exc).__name__}") from exc

    async def close(self) -> None:
        """Flush what is queued and disconnect (on the producer's own loop; another loop's
        producer is only forgotten). The next publish connects again."""
        producer, starting, loop = self._producer, self._starting, self._loop
        self._forget()
        if loop is not asyncio.get_running_loop():
            return
        if starting is not None:
            # Still connecting: cancelled, _start stops the half-started producer itself.
            starting.cancel()
            await asyncio.wait([starting])
        if producer is not None:
            await producer.stop()

    async def _connected(self) -> AIOKafkaProducer:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._forget()
            self._loop = loop
        if self._producer is not None:
            return self._producer
        if self._starting is None:
            if time.monotonic() - self._failed_at < self._retry_after_s:
                raise PublishError("broker unreachable (connecting failed moments ago)")
            self._starting = loop.create_task(self._start())
            # Its failure is every waiter's PublishError; when all of them timed out first,
            # asyncio must not log it again as an exception nobody retrieved.
            self._starting.add_done_callback(_retrieve)
        # Shielded: one request's timeout must not abort the connection every other request shares.
        return await asyncio.shield(self._starting)

    async def _start(self) -> AIOKafkaProducer:
        producer = self._create()
        # Only the current attempt may change the state: close() may have forgotten this one.
        try:
            await producer.start()
        except BaseException:
            if self._starting is asyncio.current_task():
                self._failed_at = time.monotonic()
                self._starting = None
            await producer.stop()
            raise
        if self._starting is not asyncio.current_task():
            await producer.stop()
            raise PublishError("publisher closed while connecting")
        self._starting = None
        self._producer = producer
        return producer

    def _forget(self) -> None:
        self._producer = None
        self._starting = None
        self._loop = None

    def _create(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap.split(","),
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            # A few milliseconds of batching: at a thousand webhooks a second, requests share
            # produce requests instead of each paying for its own round trip and broker fsync.
            linger_ms=self._linger_ms,
            request_timeout_ms=int(self._timeout_s * 1000),
            retry_backoff_ms=100,
            max_request_size=8 * 1024 * 1024,
        )


def _retrieve(task: asyncio.Task[AIOKafkaProducer]) -> None:
    if not task.cancelled():
        task.exception()
