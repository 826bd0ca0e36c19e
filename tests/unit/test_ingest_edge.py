"""The edge on its event loop: verification inline or in a thread by body size, asynchronous
publishing (the 2xx only after every record is acknowledged), and the aiokafka publisher
without a reachable broker."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner as AioPartitioner
from kafka.partitioner.default import murmur2
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from ingest.app import create_app
from ingest.async_publisher import AioKafkaPublisher, InThread, as_async
from ingest.edge import INLINE_BODY_BYTES, Edge
from ingest.publisher import PublishError, Record
from tests.fakes import (
    PATHS,
    FakePublisher,
    fixed_clock,
    fixture_bytes,
    fixture_json,
    make_harness,
    meta_signature,
    served_harness,
    webhook_settings,
)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def prepared_on_loop(monkeypatch) -> list[bool]:
    """For every request, whether its verification and mapping ran on the event loop."""
    seen: list[bool] = []
    original = Edge.prepare

    def spy(self, adapter, inbound):
        seen.append(_on_event_loop())
        return original(self, adapter, inbound)

    monkeypatch.setattr(Edge, "prepare", spy)
    return seen


def big_whatsapp_text(min_bytes: int) -> bytes:
    payload = fixture_json("whatsapp", "text.json")
    text = "colour " * (min_bytes // 7 + 1)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text
    return json.dumps(payload).encode()


def test_an_ordinary_body_is_verified_on_the_event_loop(prepared_on_loop):
    h = make_harness()
    assert h.send.meta_fixture("whatsapp", "text.json").status_code == 200
    assert h.send.meta_fixture("whatsapp", "text.json", secret="forged").status_code == 403
    assert prepared_on_loop == [True, True]


def test_a_big_body_is_verified_in_a_thread_and_published(prepared_on_loop):
    h = make_harness()
    body = big_whatsapp_text(INLINE_BODY_BYTES)
    assert INLINE_BODY_BYTES < len(body) <= h.settings.max_body_bytes
    response = h.send.meta("whatsapp", body)
    assert response.status_code == 200, response.text
    assert h.send.meta("whatsapp", body, secret="forged").status_code == 403
    assert prepared_on_loop == [False, False]
    [envelope] = h.publisher.envelopes()
    assert envelope.text is not None
    assert envelope.text.startswith("colour colour")
    assert h.requests_total("whatsapp", "accepted") == 1
    assert h.requests_total("whatsapp", "forbidden") == 1


@pytest.mark.parametrize("size", ["small", "big"])
def test_an_unexpected_failure_is_400_on_the_loop_and_in_a_thread(monkeypatch, size):
    from ingest.providers import meta

    def explode(*args, **kwargs):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(meta, "map_payload", explode)
    h = make_harness()
    body = fixture_bytes("whatsapp", "text.json") if size == "small" else big_whatsapp_text(INLINE_BODY_BYTES)
    response = h.send.meta("whatsapp", body)
    assert response.status_code == 400
    assert response.json() == {"error": "unprocessable payload"}
    assert h.publisher.records == []
    assert h.requests_total("whatsapp", "malformed") == 1


class AsyncFakePublisher:
    """An asynchronous publisher whose acknowledgement the test releases (or refuses)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.pending: list[Record] = []
        self.acknowledged: list[Record] = []
        self.closed = 0
        self._called: asyncio.Event | None = None
        self._release: asyncio.Event | None = None

    def _events(self) -> tuple[asyncio.Event, asyncio.Event]:
        if self._called is None or self._release is None:
            self._called, self._release = asyncio.Event(), asyncio.Event()
        return self._called, self._release

    async def publish(self, records: Sequence[Record]) -> None:
        called, release = self._events()
        self.pending.extend(records)
        called.set()
        if self.fail:
            raise PublishError("fake broker is down")
        await release.wait()
        self.acknowledged.extend(records)

    async def wait_called(self) -> None:
        await self._events()[0].wait()

    def release(self) -> None:
        self._events()[1].set()

    async def close(self) -> None:
        self.closed += 1


def _signed_whatsapp(name: str) -> tuple[bytes, dict[str, str]]:
    body = fixture_bytes("whatsapp", name)
    secret = webhook_settings().meta_app_secret
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(secret, body)}


def test_the_2xx_waits_until_every_record_of_the_request_is_acknowledged():
    publisher = AsyncFakePublisher()
    app = create_app(webhook_settings(), publisher, CollectorRegistry(), clock=fixed_clock)
    body, headers = _signed_whatsapp("statuses.json")

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
            request = asyncio.create_task(client.post(PATHS["whatsapp"], content=body, headers=headers))
            await asyncio.wait_for(publisher.wait_called(), 5)
            await asyncio.sleep(0.05)
            assert not request.done()  # all three records handed over, none acknowledged yet
            assert len(publisher.pending) == 3
            publisher.release()
            return await asyncio.wait_for(request, 5)

    response = asyncio.run(scenario())
    assert response.status_code == 200
    assert len(publisher.acknowledged) == 3


def test_an_async_publish_error_is_503_with_retry_after_and_the_app_closes_the_publisher():
    publisher = AsyncFakePublisher(fail=True)
    with served_harness(publisher=publisher) as h:
        response = h.send.meta_fixture("whatsapp", "text.json")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json() == {"error": "broker unavailable: fake broker is down"}
        assert h.requests_total("whatsapp", "unavailable") == 1
        assert publisher.closed == 0
    assert publisher.closed == 1  # at the app's shutdown, on its loop


def test_a_synchronous_publisher_is_run_in_a_thread_and_left_open():
    fake = FakePublisher()
    wrapped = as_async(fake)
    assert isinstance(wrapped, InThread)
    publisher = AsyncFakePublisher()
    assert as_async(publisher) is publisher
    with served_harness(publisher=fake) as h:
        assert h.send.meta_fixture("whatsapp", "text.json").status_code == 200
    assert len(fake.records) == 1
    assert not fake.closed  # the caller's to close


# --- the aiokafka publisher without a broker ------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung broker, a black-holed route)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_the_edge_starts_without_a_broker_and_answers_503_fast():
    publisher = AioKafkaPublisher(f"127.0.0.1:{_closed_port()}", timeout_s=5.0)
    with served_harness(publisher=publisher) as h:
        started = time.monotonic()
        response = h.send.twilio_fixture("sms.txt")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"].startswith("broker unavailable")
        assert time.monotonic() - started < 2.0  # refused: no wait for the 5 s timeout
        started = time.monotonic()
        assert h.send.twilio_fixture("sms.txt").status_code == 503
        assert time.monotonic() - started < 0.3  # right after a failed attempt: no new one
        assert h.requests_total("twilio", "unavailable") == 2
        # The health check says what providers see, not merely that the process is up.
        health = h.client.get("/healthz")
        assert health.status_code == 503
        assert "broker" in health.json()["error"]


def test_a_broker_that_never_answers_is_503_after_the_publish_timeout(silent_broker):
    publisher = AioKafkaPublisher(silent_broker, timeout_s=0.5)
    with served_harness(publisher=publisher) as h:
        started = time.monotonic()
        response = h.send.meta_fixture("whatsapp", "text.json")
        assert response.status_code == 503
        assert response.json()["error"].startswith("broker unavailable")
        assert time.monotonic() - started < 3.0


def test_the_aiokafka_publisher_is_never_bound_to_a_finished_loop():
    publisher = AioKafkaPublisher(f"127.0.0.1:{_closed_port()}", timeout_s=0.5, retry_connect_after_s=0.0)
    record = Record("t", "k", b"v")

    async def publish() -> None:
        with pytest.raises(PublishError):
            await publisher.publish([record])

    for _ in range(2):  # a new loop each time: a fresh attempt, not a RuntimeError about loops
        asyncio.run(publish())
    asyncio.run(publisher.close())


def test_aiokafka_and_kafka_python_put_a_key_on_the_same_partition():
    """The edge publishes with aiokafka, replay with kafka-python: one thread's records must
    land on one partition whichever of them sent it."""
    partitioner = AioPartitioner()
    for count in (1, 3, 6, 12):
        partitions = list(range(count))
        for i in range(500):
            key = f"th_{i:040x}".encode()
            expected = partitions[(murmur2(key) & 0x7FFFFFFF) % count]
            assert partitioner(key, partitions, partitions) == expected


# --- the webhook fast path answers exactly as the FastAPI app behind it ---------------------------


def _requests() -> list[tuple[str, str, bytes, dict[str, str]]]:
    body, headers = _signed_whatsapp("text.json")
    twilio = fixture_bytes("twilio", "sms.txt")
    return [
        ("POST", PATHS["whatsapp"], body, headers),
        ("POST", PATHS["whatsapp"], body, {**headers, "X-Hub-Signature-256": "sha256=00"}),
        ("POST", PATHS["whatsapp"], b"{", headers),
        ("POST", PATHS["twilio"], twilio, {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", PATHS["booking"], b"x" * (webhook_settings().max_body_bytes + 1), {}),
        (
            "GET",
            PATHS["whatsapp"] + "?hub.mode=subscribe&hub.verify_token=meatyhamhock&hub.challenge=7",
            b"",
            {},
        ),
        ("GET", PATHS["twilio"], b"", {}),
        ("HEAD", PATHS["booking"], b"", {}),
        ("PUT", PATHS["messenger"], b"{}", {}),
        ("OPTIONS", PATHS["ringcentral"], b"", {}),
        ("POST", PATHS["booking"] + "/", b"{}", {}),
        ("POST", "/webhooks/nope", b"{}", {}),
        ("GET", "/healthz", b"", {}),
        ("GET", "/openapi.json", b"", {}),
    ]


# FastAPI warns that a GET+POST webhook route has one operation id for both methods.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
@pytest.mark.parametrize("root_path", ["", "/edge"])
def test_the_webhook_fast_path_answers_as_the_fastapi_app_would(root_path):
    app = create_app(webhook_settings(), FakePublisher(), CollectorRegistry(), clock=fixed_clock)
    fast = TestClient(app, root_path=root_path, follow_redirects=False)
    full = TestClient(app.api, root_path=root_path, follow_redirects=False)
    for method, path, body, headers in _requests():
        got = fast.request(method, path, content=body, headers=headers)
        want = full.request(method, path, content=body, headers=headers)
        assert (got.status_code, got.content) == (want.status_code, want.content), (method, path)
        assert {k: v for k, v in got.headers.items() if k != "date"} == {
            k: v for k, v in want.headers.items() if k != "date"
        }, (method, path)
    assert "/webhooks/meta/whatsapp" in full.get("/openapi.json").json()["paths"]
    assert {route.path for route in app.routes} >= set(PATHS.values()) | {"/healthz", "/metrics"}


def test_webhooks_bypass_the_fastapi_stack_and_the_rest_goes_through_it():
    app = create_app(webhook_settings(), FakePublisher(), CollectorRegistry(), clock=fixed_clock)
    inner = app.api
    through_fastapi: list[str] = []

    async def spy(scope, receive, send):
        through_fastapi.append(scope["path"])
        await inner(scope, receive, send)

    app.api = spy
    client = TestClient(app)
    body, headers = _signed_whatsapp("text.json")
    assert client.post(PATHS["whatsapp"], content=body, headers=headers).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get(PATHS["twilio"]).status_code == 405
    assert through_fastapi == ["/healthz", PATHS["twilio"]]


# --- the aiokafka publisher's window, on a stand-in producer -------------------------------------


class StandInProducer:
    """What AioKafkaPublisher uses of AIOKafkaProducer; acknowledgements are released by the test.

    `bursts` groups the sent records by loop iteration: records appended in one go share one."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.bursts: list[list[bytes]] = []
        self.acks: list[asyncio.Future[None]] = []
        self.stopped = False
        self._burst_handle: asyncio.Handle | None = None
        self._new_burst: asyncio.Event | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for ack in self.acks:  # like AIOKafkaProducer.stop: what was sent is flushed first
            if not ack.done():
                ack.set_result(None)
        self.stopped = True

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        if self._burst_handle is None:
            self.bursts.append([])
            self._burst_handle = loop.call_soon(self._end_burst)
            self._burst_event().set()
        self.bursts[-1].append(value)
        self.sent.append((topic, value, key))
        ack: asyncio.Future[None] = loop.create_future()
        self.acks.append(ack)
        return ack

    def _end_burst(self) -> None:
        self._burst_handle = None

    def _burst_event(self) -> asyncio.Event:
        if self._new_burst is None:
            self._new_burst = asyncio.Event()
        return self._new_burst

    async def bursts_reach(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.bursts) < count:
                await self._burst_event().wait()
                self._burst_event().clear()

    def acknowledge_all(self) -> None:
        for ack in self.acks:
            if not ack.done():
                ack.set_result(None)


def _stand_in_publisher(producer: StandInProducer, **kwargs) -> AioKafkaPublisher:
    publisher = AioKafkaPublisher("stand-in:9092", **kwargs)
    publisher._create = lambda: producer  # type: ignore[method-assign]
    return publisher


def _records(name: str, count: int) -> list[Record]:
    return [Record("t", f"k{i}", f"{name}-{i}".encode()) for i in range(count)]


def test_one_window_of_requests_is_handed_to_the_producer_in_one_go():
    producer = StandInProducer()
    publisher = _stand_in_publisher(producer, linger_ms=300)

    async def scenario() -> None:
        first = asyncio.create_task(publisher.publish(_records("a", 2)))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(publisher.publish(_records("b", 3)))
        await asyncio.sleep(0.01)
        assert producer.sent == []  # the window is still open
        await producer.bursts_reach(1)
        assert producer.bursts == [[b"a-0", b"a-1", b"b-0", b"b-1", b"b-2"]]
        await asyncio.sleep(0.01)
        assert not first.done() and not second.done()  # sent, not acknowledged
        producer.acks[0].set_result(None)
        await asyncio.sleep(0.01)
        assert not first.done()  # one of its two records is acknowledged: no answer yet
        producer.acknowledge_all()
        await asyncio.wait_for(asyncio.gather(first, second), 1)
        third = asyncio.create_task(publisher.publish(_records("c", 1)))  # a new window
        await producer.bursts_reach(2)
        assert producer.bursts[1] == [b"c-0"]
        producer.acknowledge_all()
        await asyncio.wait_for(third, 1)
        await publisher.close()

    asyncio.run(scenario())
    assert [key for _, _, key in producer.sent[:2]] == [b"k0", b"k1"]
    assert producer.stopped


def test_a_request_that_gave_up_in_the_window_is_not_sent_and_close_sends_the_open_window():
    producer = StandInProducer()
    publisher = _stand_in_publisher(producer, linger_ms=1000, timeout_s=0.05)

    async def scenario() -> None:
        with pytest.raises(PublishError, match=r"within 0\.05s"):
            await publisher.publish(_records("late", 1))
        pending = asyncio.create_task(publisher.publish(_records("open", 1)))
        await asyncio.sleep(0.01)
        await publisher.close()  # long before the window's second is up
        assert producer.stopped
        await asyncio.wait_for(pending, 1)

    asyncio.run(scenario())
    assert producer.bursts == [[b"open-0"]]


def test_a_producer_failure_in_the_window_is_that_requests_publish_error():
    producer = StandInProducer()
    publisher = _stand_in_publisher(producer, linger_ms=1)
    original = producer.send

    async def send(topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        if value.startswith(b"big"):
            from aiokafka.errors import MessageSizeTooLargeError

            raise MessageSizeTooLargeError()
        return await original(topic, value, key)

    producer.send = send  # type: ignore[method-assign]

    async def scenario() -> None:
        ok = asyncio.create_task(publisher.publish(_records("ok", 1)))
        with pytest.raises(PublishError, match="MessageSizeTooLargeError"):
            await publisher.publish(_records("big", 1))
        producer.acknowledge_all()
        await asyncio.wait_for(ok, 1)
        await publisher.close()

    asyncio.run(scenario())


def test_a_producer_whose_batch_failed_is_replaced_and_health_says_so_meanwhile():
    """Under idempotence a refused batch (a record over the topic's limit, say) leaves a gap in
    the producer's sequence, and the broker then answers every later batch of that partition
    with OutOfOrderSequenceNumber: the edge must start a new producer by itself, not answer 503
    until someone restarts it, and /healthz must not say ok while publishing fails."""
    from aiokafka.errors import MessageSizeTooLargeError, OutOfOrderSequenceNumber

    wedged, fresh = StandInProducer(), StandInProducer()
    created = [wedged, fresh]
    publisher = AioKafkaPublisher("stand-in:9092", linger_ms=1)
    publisher._create = lambda: created.pop(0)  # type: ignore[method-assign]

    async def scenario() -> None:
        first = asyncio.create_task(publisher.publish(_records("big", 1)))
        await wedged.bursts_reach(1)
        wedged.acks[0].set_exception(MessageSizeTooLargeError())
        with pytest.raises(PublishError, match="MessageSizeTooLargeError"):
            await first
        assert publisher.problem is not None and "MessageSizeTooLargeError" in publisher.problem
        # The wedged producer would now fail everything; the next publish must not reach it.
        wedged.send = _failing_send(OutOfOrderSequenceNumber)  # type: ignore[method-assign]
        second = asyncio.create_task(publisher.publish(_records("ok", 1)))
        await fresh.bursts_reach(1)
        fresh.acknowledge_all()
        await asyncio.wait_for(second, 1)
        assert publisher.problem is None
        await publisher.close()

    asyncio.run(scenario())
    assert wedged.stopped
    assert created == []
    assert fresh.bursts == [[b"ok-0"]]


def test_healthz_is_503_while_publishing_fails_and_200_once_it_works_again():
    failing = FakePublisher()
    with served_harness(publisher=_ReportingPublisher(failing)) as h:
        assert h.client.get("/healthz").status_code == 200
        failing.down = True
        assert h.send.twilio_fixture("sms.txt").status_code == 503
        assert h.client.get("/healthz").json() == {"status": "unavailable", "error": "fake broker is down"}
        failing.down = False
        assert h.send.twilio_fixture("sms.txt").status_code == 200
        assert h.client.get("/healthz").status_code == 200


class _ReportingPublisher:
    """An async publisher over a FakePublisher that reports its last failure, as AioKafkaPublisher does."""

    def __init__(self, inner: FakePublisher) -> None:
        self.inner = inner
        self.problem: str | None = None
        self.reconnects = 0

    async def publish(self, records):
        try:
            self.inner.publish(records)
        except PublishError as exc:
            self.problem = str(exc)
            raise
        self.problem = None

    def reconnect(self) -> None:
        self.reconnects += 1

    async def close(self) -> None:
        return None


def _failing_send(error: type[Exception]):
    async def send(topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        raise error()

    return send
