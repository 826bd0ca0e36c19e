"""Worker metrics, registered on an injected registry (a fresh one per test).

Labels are stages, outcomes and reasons: never a phone number, a customer or a thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class WorkerMetrics:
    messages: Counter
    batch_seconds: Histogram
    normalize_failures: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WorkerMetrics:
        return cls(
            messages=Counter(
                "phoneunify_worker_messages_total",
                "Messages handled by a worker stage, by outcome.",
                ["stage", "outcome"],
                registry=registry,
            ),
            batch_seconds=Histogram(
                "phoneunify_worker_batch_seconds",
                "Seconds to process one batch, by stage.",
                ["stage"],
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                registry=registry,
            ),
            normalize_failures=Counter(
                "phoneunify_phone_normalize_failures_total",
                "Phone numbers that could not be normalized, by where they came from and why.",
                ["source", "reason"],
                registry=registry,
            ),
        )
