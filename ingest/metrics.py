"""Ingest metrics on an injected registry (a fresh one per app, so tests never share state).

Labels are bounded vocabularies: the endpoint's provider, an outcome, a channel and an
envelope kind. Never a phone number, a user id or a message id.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# Outcomes of one webhook request.
ACCEPTED = "accepted"  # 2xx, at least one envelope published
IGNORED = "ignored"  # 2xx, only event types we do not ingest
TEST_PAYLOAD = "test_payload"  # 2xx, the Meta dashboard's Test button
HANDSHAKE = "handshake"  # 2xx, hub.challenge or Validation-Token echoed
UNAUTHORIZED = "unauthorized"  # 401, no signature/token
FORBIDDEN = "forbidden"  # 403, forged signature or wrong token
MALFORMED = "malformed"  # 400
TOO_LARGE = "too_large"  # 413
UNAVAILABLE = "unavailable"  # 503, the broker did not acknowledge
NOT_CONFIGURED = "not_configured"  # 503, the endpoint's secret is not set

IGNORED_KIND = "ignored"


@dataclass(frozen=True)
class IngestMetrics:
    requests: Counter
    messages: Counter
    publish_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IngestMetrics:
        return cls(
            requests=Counter(
                "phoneunify_ingest_requests",
                "Webhook requests by provider endpoint and outcome.",
                ("provider", "outcome"),
                registry=registry,
            ),
            messages=Counter(
                "phoneunify_ingest_messages",
                "Provider events by channel and envelope kind ('ignored' for event types not ingested).",
                ("provider", "channel", "kind"),
                registry=registry,
            ),
            publish_seconds=Histogram(
                "phoneunify_ingest_publish_seconds",
                "Time until the broker acknowledged every message of one request.",
                ("provider",),
                registry=registry,
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            ),
        )
