"""The ingest edge against the real broker (deploy/infra.sh up; KAFKA_BOOTSTRAP).

Each test gets its own topic prefix, runs the app with the edge's real publisher (aiokafka,
acks=all, on the app's event loop), sends
the providers' requests and then reads the raw topics back: the exact record count comes from
the partitions' end offsets (final once the edge answered 2xx), the records are read with a
polling deadline, never a sleep. "Nothing published" is shown by sending the hostile requests
first and a valid one last: the topic then holds exactly the valid one's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from prometheus_client import CollectorRegistry

from ingest.app import create_app
from ingest.async_publisher import AioKafkaPublisher
from ingest.publisher import KafkaPublisher, PublishError, Record
from phoneunify.kafka_admin import ensure_topics
from phoneunify.privacy import thread_key_hash
from phoneunify.settings import Settings
from schema.envelopes import RawEnvelope
from schema.topics import Topics
from tests.conftest import session_prefix
from tests.fakes import (
    Harness,
    fixture_bytes,
    fixture_json,
    make_harness,
    meta_signature,
    schema_errors,
    served_harness,
)

pytestmark = pytest.mark.infra

KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def publisher() -> AioKafkaPublisher:
    # Each app closes it on its own loop at shutdown; the next app's first request reconnects.
    return AioKafkaPublisher(KAFKA_BOOTSTRAP, timeout_s=15.0, client_id="phoneunify-ingest-it")


@pytest.fixture
def h(publisher: AioKafkaPublisher) -> Iterator[Harness]:
    prefix = session_prefix(f"it{uuid.uuid4().hex[:12]}.")
    with served_harness(publisher=publisher, kafka_bootstrap=KAFKA_BOOTSTRAP, topic_prefix=prefix) as harness:
        yield harness


@dataclass(frozen=True)
class Consumed:
    topic: str
    key: str
    envelope: RawEnvelope
    value: bytes


def consume(h: Harness, channels: set[str]) -> list[Consumed]:
    """Every record on the given raw topics, in offset order per partition."""
    topics = Topics(h.settings.topic_prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=KAFKA_BOOTSTRAP,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=20000,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        partitions: list[TopicPartition] = []
        for channel in sorted(channels):
            name = topics.raw(channel)
            found = consumer.partitions_for_topic(name)
            while not found and time.monotonic() < deadline:
                consumer.topics()  # refresh metadata
                found = consumer.partitions_for_topic(name)
            assert found, f"topic {name} never appeared"
            partitions += [TopicPartition(name, p) for p in sorted(found)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        expected = sum(ends[tp] - starts[tp] for tp in partitions)
        out: list[Consumed] = []
        while len(out) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    out.append(
                        Consumed(
                            record.topic,
                            record.key.decode(),
                            RawEnvelope.from_json(record.value),
                            record.value,
                        )
                    )
        assert len(out) == expected, f"read {len(out)} of {expected} records before the deadline"
        return out
    finally:
        consumer.close()


def assert_well_formed(h: Harness, records: list[Consumed]) -> None:
    for record in records:
        assert schema_errors(record.value) == []
        assert record.key == thread_key_hash(record.envelope.thread_key, h.settings.phone_hash_key)
        assert record.topic == Topics(h.settings.topic_prefix).raw(record.envelope.channel)


def send(h: Harness, provider: str, name: str) -> httpx.Response:
    if provider in ("messenger", "instagram", "whatsapp"):
        return h.send.meta_fixture(provider, name)
    if provider == "twilio":
        return h.send.twilio_fixture(name)
    if provider == "ringcentral":
        return h.send.ringcentral_fixture(name)
    return h.send.booking(fixture_bytes(provider, name))


# (provider, fixture, [(channel, kind, direction), ...], a text fragment the first envelope carries)
DELIVERIES = [
    ("twilio", "sms.txt", [("sms", "message", "in")], "patio"),
    ("twilio", "sms_phone.txt", [("sms", "message", "in")], "415 555 0199"),
    ("twilio", "sms_unicode.txt", [("sms", "message", "in")], "mañana? 😊"),
    ("twilio", "mms_empty_body.txt", [("sms", "message", "in")], None),
    ("twilio", "mms_no_body.txt", [("sms", "message", "in")], None),
    ("twilio", "status_delivered.txt", [("sms", "status", "out")], None),
    ("twilio", "whatsapp.txt", [("whatsapp", "message", "in")], "¿está abierto hoy?"),
    ("twilio", "stop.txt", [("sms", "message", "in"), ("sms", "consent", "in")], "STOP"),
    ("messenger", "text.json", [("messenger", "message", "in")], "table for 4"),
    ("messenger", "text_with_phone.json", [("messenger", "message", "in")], "(916) 555-0142"),
    (
        "messenger",
        "spanish_emoji.json",
        [("messenger", "message", "in")],
        "mañana? Mi número es +34 612 34 56 78 😊",
    ),
    ("messenger", "echo.json", [("messenger", "message", "out")], "916-555-0199"),
    ("messenger", "media_only.json", [("messenger", "message", "in")], None),
    ("messenger", "delivery.json", [("messenger", "status", "out")], None),
    ("messenger", "read.json", [("messenger", "status", "out")], None),
    (
        "messenger",
        "batch.json",
        [("messenger", "message", "in"), ("messenger", "message", "in"), ("messenger", "status", "out")],
        "First message",
    ),
    ("instagram", "text.json", [("instagram", "message", "in")], "sundays"),
    ("instagram", "text_with_phone.json", [("instagram", "message", "in")], "+44 7700 900123"),
    ("instagram", "spanish_emoji.json", [("instagram", "message", "in")], "😍🔥 ¿puedo"),
    ("instagram", "echo.json", [("instagram", "message", "out")], "See you Saturday"),
    ("instagram", "media_only.json", [("instagram", "message", "in")], None),
    ("instagram", "read.json", [("instagram", "status", "out")], None),
    ("instagram", "deleted.json", [("instagram", "deleted", "in")], None),
    ("instagram", "batch.json", [("instagram", "message", "in"), ("instagram", "message", "in")], "one"),
    ("whatsapp", "text.json", [("whatsapp", "message", "in")], "another color"),
    ("whatsapp", "text_with_phone.json", [("whatsapp", "message", "in")], "650 555 0199"),
    ("whatsapp", "spanish_emoji.json", [("whatsapp", "message", "in")], "¡Gracias! 🙏🏽"),
    ("whatsapp", "smb_echo.json", [("whatsapp", "message", "out")], "ships tomorrow"),
    ("whatsapp", "image_caption.json", [("whatsapp", "message", "in")], "en azul"),
    ("whatsapp", "media_only.json", [("whatsapp", "message", "in")], None),
    ("whatsapp", "statuses.json", [("whatsapp", "status", "out")] * 3, None),
    ("whatsapp", "username_no_phone.json", [("whatsapp", "message", "in")], "¿a qué hora abren?"),
    (
        "whatsapp",
        "batch.json",
        [("whatsapp", "message", "in"), ("whatsapp", "message", "in"), ("whatsapp", "status", "out")],
        "first",
    ),
    ("ringcentral", "inbound.json", [("sms", "message", "in")], "deliver"),
    ("ringcentral", "inbound_phone.json", [("sms", "message", "in")], "415-555-0123"),
    ("ringcentral", "inbound_unicode.json", [("sms", "message", "in")], "😊 Grüße"),
    ("ringcentral", "outbound.json", [("sms", "message", "out")], "table is ready"),
    ("ringcentral", "mms_no_subject.json", [("sms", "message", "in")], None),
    ("booking", "booking.json", [("booking", "booking", "in")], "Window seat"),
    ("booking", "booking_minimal.json", [("booking", "booking", "in")], None),
]


@pytest.mark.parametrize(
    ("provider", "name", "expected", "fragment"), DELIVERIES, ids=[f"{p}-{n}" for p, n, _, _ in DELIVERIES]
)
def test_delivery_reaches_its_raw_topic(h, provider, name, expected, fragment):
    response = send(h, provider, name)
    assert 200 <= response.status_code < 300, response.text
    records = consume(h, {channel for channel, _, _ in expected})
    assert_well_formed(h, records)
    # Kafka orders records per partition only; compare as multisets, and the text on the first message.
    got = sorted((r.envelope.channel, r.envelope.kind, r.envelope.direction) for r in records)
    assert got == sorted(expected)
    if fragment is not None:
        assert any(r.envelope.text and fragment in r.envelope.text for r in records)
    assert h.requests_total(provider, "accepted") == 1


# Hostile requests per provider: a forged or unsigned one and a signed malformed one.
def forged_and_malformed(h: Harness, provider: str) -> list[httpx.Response]:
    if provider == "twilio":
        return [
            h.send.twilio_fixture("sms.txt", token="forged"),
            h.client.post("/webhooks/twilio/sms", content=fixture_bytes("twilio", "sms.txt")),
            h.send.twilio(b"From=%2B14155550132&Body=no+sid"),
        ]
    if provider == "ringcentral":
        return [
            h.send.ringcentral_fixture("inbound.json", token="forged"),
            h.client.post("/webhooks/ringcentral/sms", content=fixture_bytes("ringcentral", "inbound.json")),
            h.send.ringcentral(
                b'{"event": "/restapi/v1.0/account/~/extension/1/message-store/instant", "body": {}}'
            ),
        ]
    if provider == "booking":
        body = fixture_bytes("booking", "booking.json")
        return [h.send.booking(body, api_key="forged"), h.send.booking(b'{"guests": 2}')]
    body = fixture_bytes(provider, "text.json")
    return [
        h.send.meta(provider, body, secret="forged"),
        h.send.meta(provider, body.replace(b"text", b"tekst"), signature=meta_signature("x", body)),
        h.client.post(f"/webhooks/meta/{provider}", content=body),
        h.send.meta(provider, body[:-3]),
    ]


VALID = {
    "twilio": ("sms.txt", "sms"),
    "messenger": ("text.json", "messenger"),
    "instagram": ("text.json", "instagram"),
    "whatsapp": ("text.json", "whatsapp"),
    "ringcentral": ("inbound.json", "sms"),
    "booking": ("booking.json", "booking"),
}


@pytest.mark.parametrize("provider", sorted(VALID))
def test_forged_and_malformed_publish_nothing(h, provider):
    statuses = [response.status_code for response in forged_and_malformed(h, provider)]
    assert all(status in (400, 401, 403) for status in statuses), statuses
    name, channel = VALID[provider]
    assert send(h, provider, name).status_code in (200, 202)
    records = consume(h, {channel})
    assert len(records) == 1  # only the valid request's envelope
    assert_well_formed(h, records)


@pytest.mark.parametrize("provider", ["messenger", "instagram", "whatsapp", "ringcentral"])
def test_handshakes_and_test_payloads_publish_nothing(h, provider):
    if provider == "ringcentral":
        response = h.client.post("/webhooks/ringcentral/sms", headers={"Validation-Token": "tok-123"})
        assert response.headers["validation-token"] == "tok-123"
    else:
        assert h.send.meta_verify(provider, "verify_get.json").text == "1158201444"
        assert h.send.meta_verify(provider, "verify_get_wrong_token.json").status_code == 403
        if provider != "messenger":
            assert h.send.meta_fixture(provider, "dashboard_test.json").status_code == 200
    name, channel = VALID[provider]
    assert send(h, provider, name).status_code == 200
    assert len(consume(h, {channel})) == 1


def test_redelivery_is_published_again_with_the_same_idempotency_key(h):
    for _ in range(2):
        assert h.send.meta_fixture("whatsapp", "text.json").status_code == 200
    first, second = consume(h, {"whatsapp"})
    assert first.value == second.value
    assert first.key == second.key
    assert first.envelope.idempotency_key == second.envelope.idempotency_key


def test_one_thread_keeps_its_order_on_one_partition(h):
    for name in ("text.json", "text_with_phone.json", "spanish_emoji.json"):
        payload = fixture_json("messenger", name)
        payload["entry"][0]["messaging"][0]["sender"]["id"] = "6954325141259031"
        assert h.send.meta("messenger", json.dumps(payload).encode()).status_code == 200
    records = consume(h, {"messenger"})
    assert len({r.key for r in records}) == 1
    assert records[0].envelope.text.startswith("Hi!")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("provider", sorted(VALID))
def test_broker_down_is_503(provider):
    dead = KafkaPublisher(f"127.0.0.1:{_closed_port()}", timeout_s=1.0)
    try:
        h = make_harness(publisher=dead)
        name, _ = VALID[provider]
        response = send(h, provider, name)
        assert response.status_code == 503
        assert response.json()["error"].startswith("broker unavailable")
        assert h.requests_total(provider, "unavailable") == 1
    finally:
        dead.close()


def test_a_synchronous_kafka_publisher_still_serves_the_edge():
    """kafka-python's publisher (the API's and replay's) works at the edge too, in threads."""
    sync = KafkaPublisher(KAFKA_BOOTSTRAP, timeout_s=15.0, client_id="phoneunify-ingest-it-sync")
    try:
        h = make_harness(publisher=sync, topic_prefix=session_prefix(f"it{uuid.uuid4().hex[:12]}."))
        assert h.send.meta_fixture("whatsapp", "batch.json").status_code == 200
        assert len(consume(h, {"whatsapp"})) == 3
    finally:
        sync.close()


class Forwarder:
    """A TCP forwarder to the broker on a port of its own: the broker is "reachable" through
    it only between start() and stop(). After bootstrapping through it, a Kafka client talks to
    the broker's advertised address directly, so it only has to carry bootstrap connections."""

    def __init__(self, target: str) -> None:
        host, _, port = target.split(",", maxsplit=1)[0].rpartition(":")
        self.target = (host, int(port))
        self.port = _closed_port()
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        target = self.target

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(target) as upstream:
                    back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
                    back.start()
                    _pump(self.request, upstream)
                    back.join(5)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pipe)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def test_the_edge_answers_503_while_the_broker_is_unreachable_then_recovers():
    forwarder = Forwarder(KAFKA_BOOTSTRAP)
    bootstrap = f"127.0.0.1:{forwarder.port}"
    publisher = AioKafkaPublisher(bootstrap, timeout_s=5.0, client_id="phoneunify-ingest-it-down")
    prefix = session_prefix(f"it{uuid.uuid4().hex[:12]}.")
    try:
        with served_harness(publisher=publisher, kafka_bootstrap=bootstrap, topic_prefix=prefix) as h:
            started = time.monotonic()
            for _ in range(3):
                response = h.send.meta_fixture("whatsapp", "text.json")
                assert response.status_code == 503
                assert response.headers["retry-after"] == "5"
            assert time.monotonic() - started < 3.0  # refused at once, not after the 5 s timeout
            forwarder.start()
            deadline = time.monotonic() + DEADLINE_S
            while (status := h.send.meta_fixture("whatsapp", "text.json").status_code) != 200:
                assert status == 503
                assert time.monotonic() < deadline, "the edge never reconnected"
                time.sleep(0.2)
            assert h.requests_total("whatsapp", "unavailable") >= 3
            assert len(consume(h, {"whatsapp"})) == 1  # nothing of the refused requests was stored
    finally:
        forwarder.stop()


def test_concurrent_requests_are_each_acknowledged_before_their_2xx():
    """Many requests in flight at once share the publisher's windows; every 2xx still means
    every record of that request is stored (the end offsets, read after the last 2xx, count
    them all)."""
    publisher = AioKafkaPublisher(KAFKA_BOOTSTRAP, timeout_s=15.0, client_id="phoneunify-ingest-it-many")
    h = make_harness(publisher=publisher, topic_prefix=session_prefix(f"it{uuid.uuid4().hex[:12]}."))
    app = create_app(h.settings, publisher, CollectorRegistry())
    body = fixture_bytes("whatsapp", "batch.json")  # three records per request
    headers = {"X-Hub-Signature-256": meta_signature(h.settings.meta_app_secret, body)}

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
                responses = await asyncio.gather(
                    *(
                        client.post("/webhooks/meta/whatsapp", content=body, headers=headers)
                        for _ in range(40)
                    )
                )
                return [r.status_code for r in responses]
        finally:
            await publisher.close()

    assert asyncio.run(scenario()) == [200] * 40
    records = consume(h, {"whatsapp"})
    assert len(records) == 40 * 3
    assert_well_formed(h, records)


@pytest.mark.parametrize(("loop", "http"), [("asyncio", "h11"), ("uvloop", "httptools")])
def test_over_real_http_with_uvicorn(publisher, loop, http):
    """The app served by uvicorn on a socket: Content-Length, chunking and the size cap as a
    provider's HTTP client meets them, with the default and the production loop and parser."""
    prefix = session_prefix(f"it{uuid.uuid4().hex[:12]}.")
    h = make_harness(publisher=publisher, topic_prefix=prefix)
    port = _closed_port()
    app = create_app(h.settings, publisher, CollectorRegistry())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop=loop, http=http)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20.0) as client:
            deadline = time.monotonic() + DEADLINE_S
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
            live = type(h.send)(client, h.settings)
            assert live.meta_fixture("whatsapp", "batch.json").status_code == 200
            assert live.twilio_fixture("sms_unicode.txt").status_code == 200
            too_big = b"{" * (h.settings.max_body_bytes + 10)
            assert live.meta("whatsapp", too_big).status_code == 413
            streamed = client.post(
                "/webhooks/meta/whatsapp",
                content=iter([b"{" * 100_000] * 4),
                headers={"X-Hub-Signature-256": "x"},
            )
            assert streamed.status_code == 413
            assert 'outcome="accepted",provider="whatsapp"' in client.get("/metrics").text
        records = consume(h, {"whatsapp", "sms"})
        assert sorted(r.envelope.channel for r in records) == ["sms", "whatsapp", "whatsapp", "whatsapp"]
        assert_well_formed(h, records)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- big bodies, and a producer that recovers from a refused batch --------------------------------


def test_a_1_2_mb_booking_through_the_edge_is_stored_whole(publisher: AioKafkaPublisher):
    """The issue's case: an authentic booking with a 1.2 MB field got 503 MessageSizeTooLarge
    (the topic took 1 MB, the edge 3 MiB). Topics made by `phoneunify topics` take what the
    edge accepts."""
    prefix = f"it{uuid.uuid4().hex[:12]}."
    limits = {"max_body_bytes": Settings().max_body_bytes}  # the defaults, as in production
    with served_harness(publisher, kafka_bootstrap=KAFKA_BOOTSTRAP, topic_prefix=prefix, **limits) as h:
        ensure_topics(h.settings)
        payload = fixture_json("booking", "booking.json")
        payload["page_html"] = "<p>" + "é" * 600_000 + "</p>"
        body = json.dumps(payload, ensure_ascii=False).encode()
        assert len(body) > 1_200_000
        response = h.send.booking(body)
        assert response.status_code == 202, response.text
        (stored,) = consume(h, {"booking"})
        assert stored.envelope.raw["page_html"] == payload["page_html"]
        # ... and ordinary traffic carries on.
        assert h.send.meta_fixture("whatsapp", "text.json").status_code == 200


def test_a_batch_the_broker_refuses_does_not_wedge_the_publisher():
    """A refused batch leaves an idempotent producer with a gap in its sequence: every later
    batch of that partition was refused with OutOfOrderSequenceNumber until ingest restarted.
    The publisher now retires the producer, and the next publish goes through."""
    topic = f"it{uuid.uuid4().hex[:12]}.small"
    admin = KafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    try:
        small = {"num_partitions": 1, "replication_factor": 1, "configs": {"max.message.bytes": "100000"}}
        admin.create_topics({topic: small})
    finally:
        admin.close()
    publisher = AioKafkaPublisher(KAFKA_BOOTSTRAP, timeout_s=10.0, client_id="phoneunify-ingest-it-wedge")

    async def scenario() -> list[str]:
        outcomes = []
        try:
            await publisher.publish([Record(topic, "k", b"first")])
            with pytest.raises(PublishError, match="MessageSizeTooLarge"):
                await publisher.publish([Record(topic, "k", b"x" * 200_000)])
            assert publisher.problem is not None
            for i in range(5):
                await publisher.publish([Record(topic, "k", f"after-{i}".encode())])
                outcomes.append("ok")
            assert publisher.problem is None
        finally:
            await publisher.close()
        return outcomes

    assert asyncio.run(scenario()) == ["ok"] * 5
