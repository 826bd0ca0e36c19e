"""Test doubles and the providers' side of the webhooks, shared by unit and integration tests.

- `FakePublisher`: an in-memory Publisher that can be switched to "broker down" (synchronous;
  the app runs it in worker threads, as it would kafka-python's).
- `ProviderSide`: sends fixture payloads the way each provider does (its headers, its
  signature over exactly the bytes sent), so tests exercise the real verification code.
  The signing here is written from the providers' documentation, independently of
  ingest/signatures.py, so a bug there cannot hide behind the same bug here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from ingest.app import create_app
from ingest.async_publisher import AsyncPublisher
from ingest.publisher import Publisher, PublishError, Record
from phoneunify.settings import Settings
from schema.envelopes import RawEnvelope

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
RAW_ENVELOPE_SCHEMA = Path(__file__).parent.parent / "schema" / "jsonschema" / "raw_envelope.v1.json"

RECEIVED_AT = "2026-06-10T15:30:00.000Z"

PATHS = {
    "twilio": "/webhooks/twilio/sms",
    "messenger": "/webhooks/meta/messenger",
    "instagram": "/webhooks/meta/instagram",
    "whatsapp": "/webhooks/meta/whatsapp",
    "ringcentral": "/webhooks/ringcentral/sms",
    "booking": "/webhooks/booking",
    "outbound": "/outbound/v1/messages",
}


def webhook_settings(**overrides: Any) -> Settings:
    """Settings with every webhook secret set (distinct values, so a mix-up fails a test)."""
    values: dict[str, Any] = {
        "public_base_url": "https://hooks.example.com",
        "twilio_auth_token": "twilio-test-auth-token",
        "meta_app_secret": "meta-test-app-secret",
        "instagram_app_secret": "instagram-test-app-secret",
        "meta_verify_token": "meatyhamhock",
        "ringcentral_verification_token": "rc-test-verification-token",
        "booking_api_key": "booking-test-api-key",
        "outbound_api_key": "outbound-test-api-key",
        "phone_hash_key": "test-phone-hash-key",
        "topic_prefix": "test.",
        "max_body_bytes": 256 * 1024,
    }
    values.update(overrides)
    return Settings(**values)


def fixture_bytes(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / name).read_bytes()


def fixture_json(provider: str, name: str) -> Any:
    return json.loads(fixture_bytes(provider, name))


def fixed_clock() -> str:
    return RECEIVED_AT


def schema_errors(value: bytes) -> list[str]:
    """Where a published record breaks the raw envelope JSON Schema (empty when valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads(RAW_ENVELOPE_SCHEMA.read_text()))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(json.loads(value))
    ]


class FakePublisher:
    """Keeps every acknowledged batch; `down = True` makes it fail like an unreachable broker."""

    def __init__(self) -> None:
        self.batches: list[list[Record]] = []
        self.down = False
        self.closed = False

    def publish(self, records: Sequence[Record]) -> None:
        if self.down:
            raise PublishError("fake broker is down")
        self.batches.append(list(records))

    def close(self) -> None:
        self.closed = True

    @property
    def records(self) -> list[Record]:
        return [record for batch in self.batches for record in batch]

    def envelopes(self) -> list[RawEnvelope]:
        return [RawEnvelope.from_json(record.value) for record in self.records]


# --- signing, as each provider documents it ----------------------------------------------------


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """URL, then each parameter name followed by its values, names sorted, values sorted."""
    by_name: dict[str, set[str]] = {}
    for name, value in params:
        by_name.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(by_name) for value in sorted(by_name[name]))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


class ProviderSide:
    """Sends webhooks to an app (TestClient or a live httpx client) as the providers would."""

    def __init__(self, client: httpx.Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def meta(
        self, product: str, body: bytes, *, secret: str | None = None, signature: str | None = None
    ) -> httpx.Response:
        if secret is None:
            secret = self.settings.meta_app_secret
            if product == "instagram" and self.settings.instagram_app_secret:
                secret = self.settings.instagram_app_secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": signature if signature is not None else meta_signature(secret, body),
        }
        return self.client.post(PATHS[product], content=body, headers=headers)

    def meta_fixture(self, product: str, name: str, **kwargs: Any) -> httpx.Response:
        return self.meta(product, fixture_bytes(product, name), **kwargs)

    def meta_verify(self, product: str, name: str) -> httpx.Response:
        params = fixture_json(product, name)
        return self.client.get(PATHS[product] + "?" + urlencode(params))

    def twilio(
        self,
        body: bytes,
        *,
        query: str = "",
        token: str | None = None,
        signature: str | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        path = PATHS["twilio"] + (f"?{query}" if query else "")
        signed_url = url or self.settings.public_base_url.rstrip("/") + path
        params = parse_qsl(body.decode(), keep_blank_values=True)
        if signature is None:
            signature = twilio_signature(token or self.settings.twilio_auth_token, signed_url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": "a1b2c3d4-e5f6-4789-8abc-def012345678",
        }
        return self.client.post(path, content=body, headers=headers)

    def twilio_fixture(self, name: str, **kwargs: Any) -> httpx.Response:
        return self.twilio(fixture_bytes("twilio", name), **kwargs)

    def ringcentral(self, body: bytes, *, token: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=UTF-8", "User-Agent": "RingCentral-Webhook/8.3"}
        token = self.settings.ringcentral_verification_token if token is None else token
        if token:
            headers["Verification-Token"] = token
        return self.client.post(PATHS["ringcentral"], content=body, headers=headers)

    def ringcentral_fixture(self, name: str, **kwargs: Any) -> httpx.Response:
        return self.ringcentral(fixture_bytes("ringcentral", name), **kwargs)

    def booking(
        self, body: bytes, *, api_key: str | None = None, hmac_key: str | None = None
    ) -> httpx.Response:
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if hmac_key is not None:
            headers["X-Signature-256"] = meta_signature(hmac_key, body)
        else:
            headers["X-Api-Key"] = self.settings.booking_api_key if api_key is None else api_key
        return self.client.post(PATHS["booking"], content=body, headers=headers)

    def outbound(self, report: Mapping[str, Any], *, api_key: str | None = None) -> httpx.Response:
        """The business's sending system reporting one send (JSON, X-Api-Key)."""
        headers = {
            "Content-Type": "application/json",
            "X-Api-Key": self.settings.outbound_api_key if api_key is None else api_key,
        }
        return self.client.post(PATHS["outbound"], content=json.dumps(report).encode(), headers=headers)

    def post(self, provider: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        return self.client.post(PATHS[provider], content=body, headers=dict(headers))


@dataclass
class Harness:
    """The ingest app under test with its publisher, metrics registry and a provider side."""

    settings: Settings
    publisher: Any
    registry: CollectorRegistry
    client: TestClient
    send: ProviderSide

    def requests_total(self, provider: str, outcome: str) -> float:
        labels = {"provider": provider, "outcome": outcome}
        return self.registry.get_sample_value("phoneunify_ingest_requests_total", labels) or 0.0

    def messages_total(self, provider: str, channel: str, kind: str) -> float:
        labels = {"provider": provider, "channel": channel, "kind": kind}
        return self.registry.get_sample_value("phoneunify_ingest_messages_total", labels) or 0.0


def make_harness(publisher: Publisher | AsyncPublisher | None = None, **overrides: Any) -> Harness:
    """A fresh app on a FakePublisher (or the given one) with a pinned receive time.

    Its TestClient is not entered: each request runs on a loop of its own, which suits
    synchronous publishers. An async publisher needs `served_harness`."""
    settings = webhook_settings(**overrides)
    registry = CollectorRegistry()
    publisher = publisher if publisher is not None else FakePublisher()
    client = TestClient(create_app(settings, publisher, registry, clock=fixed_clock))
    return Harness(settings, publisher, registry, client, ProviderSide(client, settings))


@contextmanager
def served_harness(
    publisher: Publisher | AsyncPublisher | None = None, **overrides: Any
) -> Iterator[Harness]:
    """`make_harness` with the app running: one event loop for every request and the lifespan
    (startup, and the shutdown that closes an async publisher) as a server would run them."""
    h = make_harness(publisher, **overrides)
    with h.client:
        yield h
