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
from typing import Any, Protocol, TypeGuard

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

    @property
    def problem(self) -> str | None:
        """Why publishing fails right now (for /healthz), or None."""

    def reconnect(self) -> None:
        """Try to connect again in the background, when nothing is connected."""


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

    @property
    def problem(self) -> str | None:
        return None  # a synchronous publisher reports its failures per call only

    def reconnect(self) -> None:
        return None


class AioKafkaPublisher:
    """aiokafka producer with acks=all and idempotence, bounded waits everywhere, and a producer
    that heals: any failed publish retires the producer it used.

    The producer is started on first use on the running loop, not at construction: the edge
    starts (and answers 503) while the broker is down, and connects once it is back. A producer
    belongs to the loop it was started on; used from another loop (a test client's request, a
    restarted server) it is dropped and a new one is started there, never awaited across loops.

    Why retire a producer on every failure: under idempotence a producer whose batch the broker
    refused (a record over the topic's limit, a batch expired during an outage) carries a gap in
    its sequence numbers, and from then on the broker answers every later batch of that
    partition with OutOfOrderSequenceNumber, for as long as the process lives. A new producer
    has a new producer id and no gap. Retiring one costs a reconnect, and happens once per
    failure, not once per failed request (requests carry the producer they used). `problem`
    says why the edge cannot publish right now (None when it can), for /healthz.

    Records are handed to the producer a window (`linger_ms`) at a time, all in one go. Why not
    aiokafka's own linger: it lingers per partition and sends whichever partition's batch is
    due, so a thousand single-record requests a second spread over a few dozen partitions left
    in over 500 produce requests a second, and each produce request costs the edge far more CPU
    (sender wake-ups, a socket write, the response) than appending a record. Appended in one go,
    a window's records are all in the producer's batches when its sender next runs, and leave
    together in one produce request. 10 ms: a hundred produce requests a second at most, and as
    few fetches for the workers downstream (each one wakes the broker and a consumer); at 1,000
    webhooks/s the broker's CPU per message fell by a third from 5 ms windows, for at most 5 ms
    more at the edge.
    """

    def __init__(
        self,
        bootstrap: str,
        timeout_s: float = 10.0,
        client_id: str = "phoneunify-ingest",
        linger_ms: int = 10,
        retry_connect_after_s: float = RETRY_CONNECT_AFTER_S,
        max_request_size: int = 8 * 1024 * 1024,
    ) -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._retry_after_s = retry_connect_after_s
        self._max_request_size = max_request_size
        self._producer: AIOKafkaProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[AIOKafkaProducer] | None = None
        self._failed_at = -retry_connect_after_s
        self._problem: str | None = "not connected to the broker yet"
        # The current window: each request's records with the future that receives their
        # acknowledgement futures once they are handed to the producer.
        self._window: list[tuple[Sequence[Record], asyncio.Future[list[asyncio.Future[Any]]]]] = []
        self._window_timer: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def problem(self) -> str | None:
        """Why publishing fails right now, or None when the last attempt succeeded."""
        return self._problem

    async def publish(self, records: Sequence[Record]) -> None:
        producer: AIOKafkaProducer | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                producer = await self._connected()
                acks = await self._hand_over(producer, records)
                await asyncio.gather(*acks)
        except TimeoutError as exc:
            raise self._failed(producer, f"broker did not acknowledge within {self._timeout_s:g}s") from exc
        except KafkaError as exc:
            raise self._failed(producer, f"broker did not acknowledge: {type(exc).__name__}") from exc
        except PublishError as exc:
            self._problem = str(exc)
            raise
        self._problem = None

    def reconnect(self) -> None:
        """Start connecting in the background when there is no producer (for /healthz: an idle
        edge whose producer was retired finds out by itself that the broker is back)."""
        if self._producer is None and self._starting is None:
            self._keep(asyncio.get_running_loop().create_task(self._connect_quietly()))

    async def close(self) -> None:
        """Send what is queued and disconnect (on the producer's own loop; another loop's
        producer is only forgotten). The next publish connects again."""
        producer, starting, loop, window = self._producer, self._starting, self._loop, self._window
        self._forget()
        if loop is not asyncio.get_running_loop():
            return
        if starting is not None:
            # Still connecting: cancelled, _start stops the half-started producer itself.
            starting.cancel()
            await asyncio.wait([starting])
        if producer is not None:
            await self._send_window(producer, window)
            await producer.stop()
        if self._background:
            await asyncio.wait(set(self._background))

    def _failed(self, producer: AIOKafkaProducer | None, reason: str) -> PublishError:
        """Record the problem and retire the producer that failed (once, whoever noticed first)."""
        self._problem = reason
        if producer is not None and producer is self._producer:
            log.error("ingest: publishing failed (%s); replacing the Kafka producer", reason)
            self._producer = None
            window, self._window = self._window, []
            if self._window_timer is not None:
                self._window_timer.cancel()
                self._window_timer = None
            # The open window goes out on the retiring producer; stop() then flushes it.
            self._keep(asyncio.get_running_loop().create_task(self._retire(producer, window)))
        return PublishError(reason)

    async def _retire(
        self, producer: AIOKafkaProducer, window: list[tuple[Sequence[Record], asyncio.Future[list[Any]]]]
    ) -> None:
        await self._send_window(producer, window)
        try:
            await producer.stop()
        except Exception as exc:  # its requests already have their answer; nothing else to tell
            log.warning("ingest: stopping the retired producer failed (%s)", type(exc).__name__)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        # The loop keeps only weak references to tasks: hold each until it is done.
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _connect_quietly(self) -> None:
        try:
            await self._connected()
        except (PublishError, KafkaError, OSError) as exc:
            self._problem = f"broker unreachable: {exc or type(exc).__name__}"

    def _hand_over(
        self, producer: AIOKafkaProducer, records: Sequence[Record]
    ) -> asyncio.Future[list[asyncio.Future[Any]]]:
        """Queue the records for the current window, opening one if none is open."""
        loop = asyncio.get_running_loop()
        handed: asyncio.Future[list[asyncio.Future[Any]]] = loop.create_future()
        self._window.append((records, handed))
        if self._window_timer is None:
            self._window_timer = loop.call_later(self._linger_ms / 1000, self._close_window, producer)
        return handed

    def _close_window(self, producer: AIOKafkaProducer) -> None:
        window, self._window, self._window_timer = self._window, [], None
        self._keep(asyncio.get_running_loop().create_task(self._send_window(producer, window)))

    @staticmethod
    async def _send_window(
        producer: AIOKafkaProducer, window: list[tuple[Sequence[Record], asyncio.Future[list[Any]]]]
    ) -> None:
        for records, handed in window:
            if handed.done():  # its request gave up waiting
                continue
            try:
                # With the topics' metadata known, send() appends without yielding to the loop,
                # so the sender sees the whole window at once.
                acks = [await producer.send(r.topic, r.value, r.key.encode()) for r in records]
            except Exception as exc:
                if not handed.done():
                    handed.set_exception(exc)
            else:
                if not handed.done():
                    handed.set_result(acks)

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
        self._problem = None
        return producer

    def _forget(self) -> None:
        self._producer = None
        self._starting = None
        self._loop = None
        if self._window_timer is not None:
            self._window_timer.cancel()
        self._window, self._window_timer = [], None

    def _create(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap.split(","),
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=0,  # the window (see the class doc) is the linger
            request_timeout_ms=int(self._timeout_s * 1000),
            retry_backoff_ms=100,
            max_request_size=self._max_request_size,
        )


def _retrieve(task: asyncio.Task[AIOKafkaProducer]) -> None:
    if not task.cancelled():
        task.exception()
