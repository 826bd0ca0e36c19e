"""Every body the edge accepts is storable: the body limit, the record limit, the topics'
max.message.bytes and the producers' max_request_size are one chain of numbers.

A webhook of any provider, grown to the body limit around the content that grows most in its
envelope (text that is kept twice, as the provider's raw payload and as the mapped text, with
characters that need JSON escaping or are several bytes of UTF-8), is accepted and each of its
records fits the record limit. A body that would grow past it (a booking full of numbers JSON
re-encodes longer) is refused with 413, before the producer sees it: a record the broker
refuses costs an idempotent producer its sequence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoneunify.settings import RECORD_OVERHEAD, Settings
from tests.fakes import Harness, fixture_bytes, fixture_json, make_harness

MAX_BODY = 48 * 1024
# Text as people and bots write it: any character but a lone surrogate (which no provider's JSON
# carries unescaped), control characters and quotes included.
UNIT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=24)


def _largest(make_body: Callable[[str], bytes], unit: str, limit: int) -> bytes:
    """The body with `unit` repeated as often as still fits `limit` bytes."""
    low, high = 1, 2
    while len(make_body(unit * high)) <= limit:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(make_body(unit * middle)) <= limit else (low, middle)
    body = make_body(unit * low)
    assert len(body) <= limit
    return body


def _whatsapp(text: str, ascii_only: bool) -> bytes:
    payload = fixture_json("whatsapp", "text.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def _ringcentral(text: str) -> bytes:
    payload = fixture_json("ringcentral", "inbound.json")
    payload["body"]["subject"] = text
    return json.dumps(payload).encode()


def _booking(text: str) -> bytes:
    payload = fixture_json("booking", "booking.json")
    payload["notes"] = text[:1000]
    payload["page_html"] = text  # a field of the business's own, kept whole in the raw payload
    return json.dumps(payload, ensure_ascii=False).encode()


def _twilio(text: str) -> bytes:
    params = dict(item.split("=", 1) for item in fixture_bytes("twilio", "sms.txt").decode().split("&"))
    params["Body"] = text
    # What Twilio posts: application/x-www-form-urlencoded, every reserved byte percent-encoded.
    return urlencode({k: v for k, v in params.items() if k != "Body"} | {"Body": text}).encode()


def _records_fit(h: Harness) -> None:
    assert h.publisher.records, "nothing was published"
    for record in h.publisher.records:
        assert len(record.value) <= h.settings.record_limit
        assert len(record.value) + len(record.key) + 1024 <= h.settings.message_max_bytes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=UNIT, ascii_only=st.booleans())
def test_a_whatsapp_text_as_long_as_the_body_limit_allows_is_stored(unit: str, ascii_only: bool) -> None:
    h = make_harness(max_body_bytes=MAX_BODY)
    body = _largest(lambda text: _whatsapp(text, ascii_only), unit, MAX_BODY)
    assert h.send.meta("whatsapp", body).status_code == 200
    _records_fit(h)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=UNIT)
def test_a_ringcentral_sms_as_long_as_the_body_limit_allows_is_stored(unit: str) -> None:
    h = make_harness(max_body_bytes=MAX_BODY)
    assert h.send.ringcentral(_largest(_ringcentral, unit, MAX_BODY)).status_code == 200
    _records_fit(h)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=UNIT)
def test_a_booking_with_a_field_as_long_as_the_body_limit_allows_is_stored(unit: str) -> None:
    h = make_harness(max_body_bytes=MAX_BODY)
    response = h.send.booking(_largest(_booking, unit, MAX_BODY))
    assert response.status_code in (200, 202), response.text
    _records_fit(h)


# A form body's control characters are 3 bytes ("%01") that JSON writes as 6 ("\u0001"), kept
# twice: such a body grows four times, and near the limit is refused (413) like the numbers below.
# Twilio bodies are at most 1,600 characters, far from the body limit.
FORM_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=24)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=FORM_TEXT)
def test_a_twilio_sms_as_long_as_the_body_limit_allows_is_stored(unit: str) -> None:
    h = make_harness(max_body_bytes=MAX_BODY)
    response = h.send.twilio(_largest(_twilio, unit, MAX_BODY))
    assert response.status_code == 200, response.text
    _records_fit(h)


def test_the_issue_s_1_2_mb_booking_is_accepted_with_the_default_limits() -> None:
    h = make_harness(max_body_bytes=Settings().max_body_bytes)
    body = _booking("é" * 600_000)  # 1.2 MB of UTF-8 in one field
    assert len(body) > 1_200_000
    assert h.send.booking(body).status_code == 202
    _records_fit(h)


def test_a_body_that_would_outgrow_the_record_limit_is_413_and_nothing_is_published() -> None:
    h = make_harness(max_body_bytes=MAX_BODY)
    payload: dict[str, Any] = fixture_json("booking", "booking.json")
    payload["readings"] = "READINGS"
    # 9,000 times "1e15", which JSON re-encodes as "1000000000000000.0": 4.5 times longer.
    body = json.dumps(payload).replace('"READINGS"', "[" + ",".join(["1e15"] * 9000) + "]").encode()
    assert len(body) <= MAX_BODY
    response = h.send.booking(body)
    assert response.status_code == 413
    assert "we store" in response.json()["error"]
    assert h.publisher.records == []


def test_topics_and_producers_share_one_derived_limit() -> None:
    from phoneunify.kafka_admin import topic_configs

    settings = Settings(max_body_bytes=1_000_000)
    assert settings.record_limit >= 2 * settings.max_body_bytes
    assert topic_configs(settings)["max.message.bytes"] == str(settings.message_max_bytes)
    assert settings.message_max_bytes == settings.record_limit + RECORD_OVERHEAD
    # A dead letter holds the largest message as a JSON string: its topic takes that too.
    from workers.streams.deadletter import dead_letter

    # The worst case: a record of the limit made of characters a JSON string escapes.
    letter = dead_letter("extract", b'"' * settings.record_limit, "a reason")
    assert len(letter) + 1024 <= int(topic_configs(settings, "dlq.extract")["max.message.bytes"])
    # Set by hand, the record limit still bounds what the topics take.
    manual = Settings(max_body_bytes=1_000_000, max_record_bytes=5_000_000)
    assert manual.record_limit == 5_000_000
    assert topic_configs(manual)["max.message.bytes"] == str(5_000_000 + RECORD_OVERHEAD)
