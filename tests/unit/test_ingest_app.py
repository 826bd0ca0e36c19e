"""What every endpoint shares: size limits, error bodies, metrics, the envelope contract, the
publisher's failure modes."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from ingest import replay
from ingest.publisher import KafkaPublisher, PublishError, Record
from tests.fakes import FIXTURES, PATHS, RECEIVED_AT, fixture_bytes, make_harness, schema_errors
from workers.domain.requests import ResolveRequest
from workers.services.evidence import EvidencePolicy, gather

# Every fixture that is a real delivery (handshake parameter files excluded).
DELIVERIES = sorted(
    (path.parent.name, path.name)
    for path in FIXTURES.glob("*/*")
    if not path.name.startswith("verify_get") and path.name != "booking_no_contact.json"
)


def send_fixture(h, provider: str, name: str):
    if provider in ("messenger", "instagram", "whatsapp"):
        return h.send.meta_fixture(provider, name)
    if provider == "twilio":
        return h.send.twilio_fixture(name)
    if provider == "ringcentral":
        return h.send.ringcentral_fixture(name)
    if provider == "outbound":
        return h.send.outbound(json.loads(fixture_bytes(provider, name)))
    return h.send.booking(fixture_bytes(provider, name))


@pytest.fixture
def h():
    return make_harness()


@pytest.mark.parametrize(("provider", "name"), DELIVERIES)
def test_every_fixture_is_accepted_and_every_record_meets_the_schema(h, provider, name):
    response = send_fixture(h, provider, name)
    assert 200 <= response.status_code < 300, response.text
    for record in h.publisher.records:
        assert schema_errors(record.value) == []
        assert record.key.startswith("th_")


@pytest.mark.parametrize(("provider", "name"), DELIVERIES)
def test_replaying_raw_gives_back_the_same_envelopes(h, provider, name):
    send_fixture(h, provider, name)
    for envelope in h.publisher.envelopes():
        stored = {"provider": provider, "payload": envelope.raw, "received_at": RECEIVED_AT}
        replayed = replay.decode_line(json.dumps(stored).encode())
        assert envelope in replayed.envelopes


def test_healthz(h):
    assert h.client.get("/healthz").json() == {"status": "ok"}


def test_metrics_are_labelled_without_ids_or_numbers(h):
    for name in ("sms.txt", "status_delivered.txt", "whatsapp.txt"):
        h.send.twilio_fixture(name)
    h.send.meta_fixture("whatsapp", "batch.json")
    h.send.meta_fixture("messenger", "text.json", secret="forged")
    response = h.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'phoneunify_ingest_requests_total{outcome="accepted",provider="twilio"} 3.0' in text
    assert 'phoneunify_ingest_requests_total{outcome="forbidden",provider="messenger"} 1.0' in text
    assert 'phoneunify_ingest_messages_total{channel="whatsapp",kind="message",provider="twilio"} 1.0' in text
    assert (
        'phoneunify_ingest_messages_total{channel="whatsapp",kind="ignored",provider="whatsapp"} 1.0' in text
    )
    assert "phoneunify_ingest_publish_seconds_count" in text
    for secretish in ("4155550132", "16505551234", "6954325141259031", "wamid", "SM3f1a"):
        assert secretish not in text


def test_unknown_path_is_a_json_404(h):
    response = h.client.post("/webhooks/nope", content=b"{}")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


@pytest.mark.parametrize("provider", sorted(PATHS))
def test_oversized_body_is_413_before_reading(h, provider):
    body = b"x" * (h.settings.max_body_bytes + 1)
    response = h.client.post(PATHS[provider], content=body, headers={"X-Api-Key": "booking-test-api-key"})
    assert response.status_code == 413
    assert "error" in response.json()
    assert h.publisher.records == []
    assert h.requests_total(provider, "too_large") == 1


def test_oversized_chunked_body_is_413_while_reading(h):
    def chunks():
        for _ in range(10):
            yield b"x" * (h.settings.max_body_bytes // 4)

    response = h.client.post(PATHS["messenger"], content=chunks())
    assert response.status_code == 413
    assert h.publisher.records == []


def test_a_body_at_the_limit_is_read(h):
    body = b" " * (h.settings.max_body_bytes - 2) + b"{}"
    response = h.send.meta("messenger", body)
    assert response.status_code == 400  # read and verified, then refused as a page notification
    assert response.json() == {"error": "object: missing"}


def test_unexpected_mapping_failure_is_400_not_500(h, monkeypatch):
    from ingest.providers import meta_messaging

    def explode(*args, **kwargs):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(meta_messaging, "_event", explode)
    response = h.send.meta_fixture("messenger", "text.json")
    assert response.status_code == 400
    assert response.json() == {"error": "unprocessable payload"}
    assert h.publisher.records == []


def test_nul_and_cut_emoji_in_a_message_are_published_as_replacement_characters(h):
    """A NUL or a lone surrogate (an emoji the provider cut in half) in a customer's message
    would make the resolver refuse the envelope (PostgreSQL stores neither): the edge publishes
    U+FFFD in its place, in the text and in the provider's raw payload, and the workers take it."""
    body = (
        b'{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},'
        b'"recipient":{"id":"1"},"timestamp":1718000000000,'
        b'"message":{"mid":"m_1","text":"hel\\u0000lo, cut \\ud83d, whole \\ud83d\\ude00"}}]}]}'
    )
    assert h.send.meta("messenger", body).status_code == 200
    (record,) = h.publisher.records
    assert b"\\u0000" not in record.value and b"\\ud83d" not in record.value
    (envelope,) = h.publisher.envelopes()
    assert envelope.text == "hel\ufffdlo, cut \ufffd, whole \U0001f600"
    assert envelope.raw["entry"][0]["messaging"][0]["message"]["text"] == envelope.text
    request, _ = gather(envelope, EvidencePolicy.build("US", []))
    assert ResolveRequest.from_json(request.to_json()).envelope.text == envelope.text


def test_one_request_is_one_publish_call(h):
    h.send.meta_fixture("whatsapp", "statuses.json")
    assert [len(batch) for batch in h.publisher.batches] == [3]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_kafka_publisher_starts_without_a_broker_and_fails_fast():
    publisher = KafkaPublisher(f"127.0.0.1:{_closed_port()}", timeout_s=0.5)  # no connection yet
    record = Record("t", "k", b"v")
    with pytest.raises(PublishError):
        publisher.publish([record])
    started = time.monotonic()
    with pytest.raises(PublishError):
        publisher.publish([record])  # right after a failed bootstrap: no second wait
    assert time.monotonic() - started < 0.3
    publisher.close()


def test_broker_down_with_the_real_publisher_is_503():
    publisher = KafkaPublisher(f"127.0.0.1:{_closed_port()}", timeout_s=0.5)
    h = make_harness(publisher=publisher)
    response = h.send.twilio_fixture("sms.txt")
    assert response.status_code == 503
    assert response.json()["error"].startswith("broker unavailable")
    publisher.close()


def test_fixtures_exist_for_every_provider():
    assert {Path(p).name for p in FIXTURES.iterdir()} >= set(PATHS)
