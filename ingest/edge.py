"""The request pipeline every webhook endpoint shares: read -> verify -> map -> publish -> reply.

Each provider supplies an `Adapter` (its handshake, its verification and its mapping); this
module owns what must be identical for all of them:

- the body is read once, capped by Content-Length and again while streaming, and handed to
  the adapter as raw bytes so signatures are checked on exactly what was signed;
- verification, parsing and mapping run on the event loop for ordinary bodies (a fraction of
  a millisecond of HMAC and JSON: less than a hop to a thread and back costs) and in a worker
  thread for big ones, so a 3 MB WhatsApp batch never stalls the other requests; any exception
  they raise on odd input becomes a 400, never a 500;
- the request's envelopes are published together and the 2xx is sent only after the broker
  acknowledged all of them; a PublishError becomes 503 so the provider retries; the wait for
  the broker is a coroutine, not a thread;
- a record larger than the topics take (settings.record_limit, derived from the body limit so
  that only a pathological body gets there) is refused with 413 before it reaches the producer:
  a record the broker refuses would cost the producer its sequence (see async_publisher.py);
- every outcome is counted by provider, and rejections are logged with a reason that never
  contains payload values.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ingest import metrics as m
from ingest.async_publisher import AsyncPublisher
from ingest.providers.base import Mapped, PayloadError
from ingest.publisher import PublishError, Record
from phoneunify.privacy import thread_key_hash
from schema import jsoncodec
from schema.envelopes import EnvelopeError, RawEnvelope, storable
from schema.topics import Topics

log = logging.getLogger(__name__)

JSON = "application/json"

# Bodies up to this size are verified and mapped on the event loop; bigger ones in a thread.
INLINE_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Inbound:
    """One webhook request as the adapters see it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # case-insensitive (Starlette Headers)
    body: bytes
    received_at: str

    def query_params(self) -> dict[str, str]:
        """Query parameters, first occurrence wins."""
        params: dict[str, str] = {}
        for name, value in parse_qsl(self.query, keep_blank_values=True):
            params.setdefault(name, value)
        return params


@dataclass(frozen=True)
class Reply:
    status: int
    outcome: str
    body: bytes = b""
    media_type: str | None = JSON
    headers: Mapping[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return Response(
            self.body, status_code=self.status, media_type=self.media_type, headers=dict(self.headers)
        )


def json_reply(status: int, outcome: str, payload: Mapping[str, object], **headers: str) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Reply(status, outcome, body, JSON, headers)


def error_reply(status: int, outcome: str, reason: str, **headers: str) -> Reply:
    return json_reply(status, outcome, {"error": reason}, **headers)


class RejectedError(Exception):
    """Stop handling a request with this status; `reason` goes into the JSON error body."""

    def __init__(self, status: int, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.outcome = outcome
        self.reason = reason


def unauthorized(reason: str) -> RejectedError:
    return RejectedError(401, m.UNAUTHORIZED, reason)


def forbidden(reason: str) -> RejectedError:
    return RejectedError(403, m.FORBIDDEN, reason)


def not_configured(what: str) -> RejectedError:
    # 503, not 4xx: a provider retries a 503, so nothing is lost while an operator sets the secret.
    return RejectedError(503, m.NOT_CONFIGURED, f"{what} is not configured on this server")


class Adapter(Protocol):
    """One provider endpoint."""

    name: str  # metric label and log field: twilio, messenger, instagram, whatsapp, ringcentral, booking
    channel: str  # channel label for events the adapter ignores

    def handshake(self, inbound: Inbound) -> Reply | None:
        """The provider's subscription handshake, if this request is one."""

    def accept(self, inbound: Inbound) -> Mapped:
        """Verify authenticity (raise RejectedError), then parse and map (raise PayloadError)."""

    def acknowledge(self, mapped: Mapped) -> Reply:
        """The 2xx body this provider expects once everything is stored."""


def records_for(envelopes: Sequence[RawEnvelope], topics: Topics, hash_key: str) -> list[Record]:
    """Raw topic records, keyed by the keyed hash of the thread so one thread stays ordered."""
    return [
        Record(topics.raw(e.channel), thread_key_hash(e.thread_key, hash_key), _value(e)) for e in envelopes
    ]


def _value(envelope: RawEnvelope) -> bytes:
    """The envelope's record: UTF-8 JSON whose every string PostgreSQL takes. A NUL (JSON writes
    it as an escape) or a lone surrogate (the encoder refuses it) in any field, the customer's
    text included, becomes U+FFFD: the message reaches the timeline with a mark where the
    character was, instead of being refused downstream. Ordinary envelopes take the fast path."""
    try:
        encoded = envelope.to_json()
    except UnicodeEncodeError:
        pass
    else:
        if _ESCAPED_NUL not in encoded:
            return encoded
    return jsoncodec.dumps(storable(envelope.to_dict()))


# How JSON writes a NUL; text holding a literal backslash-u0000 also matches, and then merely
# takes the slow path, which changes nothing in it.
_ESCAPED_NUL = b"\\u0000"


class Edge:
    def __init__(
        self,
        *,
        publisher: AsyncPublisher,
        metrics: m.IngestMetrics,
        topics: Topics,
        hash_key: str,
        max_body_bytes: int,
        max_record_bytes: int,
        clock: Callable[[], str],
    ) -> None:
        self._publisher = publisher
        self._metrics = metrics
        self._topics = topics
        self._hash_key = hash_key
        self._max_body = max_body_bytes
        self._max_record = max_record_bytes
        self._clock = clock

    async def handle(self, adapter: Adapter, request: Request) -> Response:
        received_at = self._clock()
        try:
            body = await self._read_body(request)
        except RejectedError as exc:
            reply = self._rejected(adapter, exc)
        else:
            inbound = Inbound(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                headers=request.headers,
                body=body,
                received_at=received_at,
            )
            reply = await self.process(adapter, inbound)
        self._metrics.requests.labels(adapter.name, reply.outcome).inc()
        return reply.response()

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise RejectedError(400, m.MALFORMED, "bad Content-Length")
            if int(declared) > self._max_body:
                raise RejectedError(413, m.TOO_LARGE, f"body larger than {self._max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self._max_body:
                    raise RejectedError(413, m.TOO_LARGE, f"body larger than {self._max_body} bytes")
                chunks.append(chunk)
        except ClientDisconnect as exc:
            raise RejectedError(400, m.MALFORMED, "client disconnected") from exc
        return b"".join(chunks)

    async def process(self, adapter: Adapter, inbound: Inbound) -> Reply:
        """Everything after the body is read: verify and map, publish, then the reply."""
        if len(inbound.body) <= INLINE_BODY_BYTES:
            prepared = self.prepare(adapter, inbound)
        else:
            prepared = await anyio.to_thread.run_sync(self.prepare, adapter, inbound)
        if isinstance(prepared, Reply):
            return prepared
        mapped, records = prepared
        largest = max((len(r.value) for r in records), default=0)
        if largest > self._max_record:
            return self._rejected(
                adapter,
                RejectedError(
                    413, m.TOO_LARGE, f"a message of {largest} bytes is over the {self._max_record} we store"
                ),
            )
        if records:
            started = time.perf_counter()
            try:
                await self._publisher.publish(records)
            except PublishError as exc:
                log.error("ingest %s: %d message(s) not acknowledged: %s", adapter.name, len(records), exc)
                return error_reply(503, m.UNAVAILABLE, f"broker unavailable: {exc}", **{"Retry-After": "5"})
            finally:
                self._metrics.publish_seconds.labels(adapter.name).observe(time.perf_counter() - started)
        self._count(adapter, mapped)
        return adapter.acknowledge(mapped)

    def prepare(self, adapter: Adapter, inbound: Inbound) -> Reply | tuple[Mapped, list[Record]]:
        """Handshake, verification and mapping: the final reply, or what to publish. Synchronous
        and free of I/O, so it may run on the loop or in a thread."""
        try:
            reply = adapter.handshake(inbound)
            if reply is not None:
                return reply
            mapped = adapter.accept(inbound)
            for envelope in mapped.envelopes:
                envelope.check()
            return mapped, records_for(mapped.envelopes, self._topics, self._hash_key)
        except RejectedError as exc:
            return self._rejected(adapter, exc)
        except (PayloadError, EnvelopeError) as exc:
            return self._rejected(adapter, RejectedError(400, m.MALFORMED, str(exc)))
        except Exception as exc:
            # Input we did not foresee must not become a 500; the type is enough to debug.
            log.warning("ingest %s: unprocessable payload (%s)", adapter.name, type(exc).__name__)
            return self._rejected(adapter, RejectedError(400, m.MALFORMED, "unprocessable payload"))

    def _count(self, adapter: Adapter, mapped: Mapped) -> None:
        for envelope in mapped.envelopes:
            self._metrics.messages.labels(adapter.name, envelope.channel, envelope.kind).inc()
        if mapped.ignored:
            self._metrics.messages.labels(adapter.name, adapter.channel, m.IGNORED_KIND).inc(mapped.ignored)

    def _rejected(self, adapter: Adapter, exc: RejectedError) -> Reply:
        log.info("ingest %s: %d %s (%s)", adapter.name, exc.status, exc.outcome, exc.reason)
        return error_reply(exc.status, exc.outcome, exc.reason)


def outcome_of(mapped: Mapped) -> str:
    """The 2xx outcome label of a mapped request."""
    if mapped.envelopes:
        return m.ACCEPTED
    if mapped.test_payload:
        return m.TEST_PAYLOAD
    return m.IGNORED
