"""Open-loop webhook load and an outside observer of the timeline, for the latency run.

The sender posts pre-signed webhooks at a fixed rate over keep-alive HTTP/1.1 connections
(plain asyncio streams: a full HTTP client would cost more CPU than the edge it measures on a
2-core machine). Open loop: request i is due at start + i/rate whatever happened to earlier
ones; when every connection is busy it waits in a queue, and its response time counts from
when it was due, so a slow edge shows up as latency instead of a lower offered rate.

The observer is a thread that asks PostgreSQL every `interval` seconds which accepted messages
have their timeline row yet (a lookup by idempotency key, as a reader of the timeline would).
A row found by the query that started at time q became visible at or before q and after the
previous query started, so `q - accepted` overstates the true latency by at most one interval.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg2
from sqlalchemy.engine import make_url

from bench.traffic import Webhook


@dataclass
class Outcome:
    due: float  # perf_counter when the request was due
    keys: tuple[str, ...]
    status: int = 0
    accepted: float = 0.0  # perf_counter when the 2xx was read
    error: str = ""


def request_bytes(hook: Webhook, port: int) -> bytes:
    head = [f"POST {hook.path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(hook.body)}"]
    head.extend(f"{name}: {value}" for name, value in hook.headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + hook.body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    port: int, jobs: asyncio.Queue[tuple[bytes, Outcome] | None], observer: Observer, limit_s: float
) -> None:
    # While the edge is down (the fault suite kills it) a request fails as a provider's would,
    # and the connection is tried again for the next one.
    stream = await _open(port)
    try:
        while True:
            job = await jobs.get()
            if job is None:
                return
            payload, outcome = job
            if stream is None:
                stream = await _open(port)
                if stream is None:
                    outcome.error = "ConnectionRefusedError"
                    continue
            reader, writer = stream
            try:
                writer.write(payload)
                status = await asyncio.wait_for(_read_response(reader), limit_s)
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                outcome.error = type(exc).__name__
                writer.close()
                stream = None
                continue
            outcome.status = status
            outcome.accepted = time.perf_counter()
            if 200 <= status < 300:
                observer.watch(outcome)
    finally:
        if stream is not None:
            stream[1].close()


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    try:
        return await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None


async def _send_all(
    hooks: Sequence[Webhook],
    keys: Sequence[tuple[str, ...]],
    port: int,
    rate: float,
    connections: int,
    observer: Observer,
    limit_s: float,
) -> list[Outcome]:
    payloads = [request_bytes(h, port) for h in hooks]
    jobs: asyncio.Queue[tuple[bytes, Outcome] | None] = asyncio.Queue()
    workers = [asyncio.create_task(_connection(port, jobs, observer, limit_s)) for _ in range(connections)]
    outcomes: list[Outcome] = []
    start = time.perf_counter() + 0.05
    for i, payload in enumerate(payloads):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        outcome = Outcome(due=due, keys=keys[i])
        outcomes.append(outcome)
        jobs.put_nowait((payload, outcome))
    for _ in workers:
        jobs.put_nowait(None)
    await asyncio.gather(*workers)
    return outcomes


def send_open_loop(
    hooks: Sequence[Webhook],
    keys: Sequence[tuple[str, ...]],
    port: int,
    rate: float,
    observer: Observer,
    connections: int = 48,
    timeout: float = 30.0,
) -> list[Outcome]:
    """Post every webhook at `rate` per second; each accepted one is handed to the observer."""
    return asyncio.run(_send_all(hooks, keys, port, rate, connections, observer, timeout))


@dataclass
class Observer:
    """Finds when each accepted message's timeline row became visible (see the module doc)."""

    database_url: str
    interval: float = 0.02
    visible: dict[str, float] = field(default_factory=dict)
    accepted: dict[str, float] = field(default_factory=dict)
    queries: int = 0

    def __post_init__(self) -> None:
        self._inbox: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._done_sending = threading.Event()
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)

    def start(self) -> Observer:
        self._thread.start()
        return self

    def watch(self, outcome: Outcome) -> None:
        for key in outcome.keys:
            self._inbox.put((key, outcome.accepted))

    def finish(self, timeout: float) -> None:
        """No more messages are coming: wait until every watched row is visible, or `timeout`."""
        self._done_sending.set()
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join(5)

    def missing(self) -> int:
        return len(self.accepted) - len(self.visible)

    def _run(self) -> None:
        url = make_url(self.database_url)
        conn = psycopg2.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            dbname=url.database,
            connect_timeout=5,
            options="-c statement_timeout=10000",
        )
        conn.autocommit = True
        pending: dict[str, float] = {}
        try:
            with conn.cursor() as cursor:
                while not self._stop.is_set():
                    while True:
                        try:
                            key, at = self._inbox.get_nowait()
                        except queue.Empty:
                            break
                        pending[key] = at
                        self.accepted[key] = at
                    if pending:
                        started = time.perf_counter()
                        cursor.execute(
                            "select idempotency_key from timeline_events where idempotency_key = any(%s)",
                            (list(pending),),
                        )
                        self.queries += 1
                        for (key,) in cursor.fetchall():
                            self.visible[key] = started
                            pending.pop(key, None)
                    elif self._done_sending.is_set() and self._inbox.empty():
                        return
                    time.sleep(self.interval)
        finally:
            conn.close()

    def latencies(self) -> list[float]:
        """Seconds from 2xx to visible, for every message seen."""
        return sorted(self.visible[k] - self.accepted[k] for k in self.visible)
