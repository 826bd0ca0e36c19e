"""The profile fetcher's use case: learn who Messenger and Instagram senders are, off the
resolve path, and hand each profile to the resolver as an observation.

`observe` notes the senders of inbound messages (read from the raw topics by the fetcher's own
consumer group); `run_due` fetches the profiles that are due, within each account's rate
budget, and publishes each as a raw envelope of kind "profile" on the channel's raw topic,
keyed like the thread it was seen in. From there it flows through extract and resolve like any
observation: the resolver (the single writer of identity) records the name on the identity, and
it takes part in the identity rules like every other observed name; a replay of the raw topics
gives it back without asking Meta again.

Cached: a sender's profile is not fetched again before the TTL, nor after it unless the sender
was seen since. Failures leave the identity as it was: a throttled call holds the account for
as long as Meta asks; a transient failure is retried with doubling backoff, at most
`max_attempts` times, then given up until the TTL; a permanent one (no consent, blocked) waits
for the TTL. Nothing here logs a token, a sender's id or a name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

from schema.envelopes import Party, RawEnvelope, utc_iso
from workers.domain.profiles import PROFILE_CHANNELS, Fetched, GraphFailure, Profile, Sender
from workers.profiles.limiter import TokenBucket

log = logging.getLogger(__name__)


class Schedule(Protocol):
    """The fetcher's cache and retry schedule (workers/adapters/profile_schedule.py)."""

    def seen(self, senders: Sequence[Sender], now: datetime) -> None: ...

    def due(self, now: datetime, limit: int) -> list[tuple[Sender, int]]: ...

    def settle(self, sender: Sender, now: datetime, next_due: datetime, error: str | None = None) -> None: ...

    def retry_later(self, sender: Sender, attempts: int, next_due: datetime, error: str) -> None: ...


class Graph(Protocol):
    """The Graph API's user-profile endpoints (workers/adapters/graph.py)."""

    def has_token(self, account: str) -> bool: ...

    def fetch(self, sender: Sender) -> Fetched: ...


@dataclass(frozen=True)
class ProfilePolicy:
    ttl_s: float = 7 * 24 * 3600
    max_attempts: int = 5
    rate_per_s: float = 2.0
    burst: int = 10
    backoff_first_s: float = 30.0
    backoff_max_s: float = 3600.0
    # Fetches per call of run_due, so the consumer keeps polling (and its group membership).
    batch: int = 50


@dataclass
class ProfileMetrics:
    fetches: Counter
    senders: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ProfileMetrics:
        return cls(
            fetches=Counter(
                "phoneunify_profile_fetches_total",
                "Graph API profile fetches, by channel and outcome (fetched, throttled, transient,"
                " permanent, gave_up).",
                ["channel", "outcome"],
                registry=registry,
            ),
            senders=Counter(
                "phoneunify_profile_senders_total",
                "Senders of inbound messages noted, by channel and whether their account has a token.",
                ["channel", "outcome"],
                registry=registry,
            ),
        )


@dataclass
class ProfileService:
    schedule: Schedule
    graph: Graph
    publish: Callable[[RawEnvelope], None]
    clock: Callable[[], datetime]
    metrics: ProfileMetrics
    policy: ProfilePolicy = field(default_factory=ProfilePolicy)
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)
    _untokened: set[str] = field(default_factory=set)

    def observe(self, envelopes: Iterable[RawEnvelope]) -> int:
        """Note the senders of inbound messages; returns how many were noted."""
        senders: list[Sender] = []
        for env in envelopes:
            if env.channel not in PROFILE_CHANNELS or env.kind != "message" or env.direction != "in":
                continue
            if not env.customer.id:
                continue
            if not self.graph.has_token(env.business_account):
                self.metrics.senders.labels(env.channel, "no_token").inc()
                if env.business_account not in self._untokened:
                    self._untokened.add(env.business_account)
                    log.warning(
                        "no Graph API token for %s account %s: its senders' profiles are not fetched"
                        " (PHONEUNIFY_META_PAGE_TOKENS)",
                        env.channel,
                        env.business_account,
                    )
                continue
            self.metrics.senders.labels(env.channel, "noted").inc()
            senders.append(Sender(env.channel, env.business_account, env.customer.id, env.thread_key))
        if senders:
            self.schedule.seen(senders, self.clock())
        return len(senders)

    def run_due(self) -> int:
        """Fetch the profiles that are due and the rate limits allow; returns how many were
        fetched. A sender whose account must wait stays due for the next call."""
        now = self.clock()
        fetched = 0
        for sender, attempts in self.schedule.due(now, self.policy.batch):
            bucket = self._bucket(sender.account)
            if bucket.take(now.timestamp()) > 0:
                continue
            try:
                answer = self.graph.fetch(sender)
            except GraphFailure as failure:
                self._failed(sender, attempts, failure, now, bucket)
                continue
            if answer.pause_s > 0:
                bucket.hold(now.timestamp() + answer.pause_s)
            if not answer.profile.empty:
                self.publish(profile_envelope(sender, answer.profile, now))
            self.schedule.settle(sender, now, now + timedelta(seconds=self.policy.ttl_s))
            self.metrics.fetches.labels(sender.channel, "fetched").inc()
            fetched += 1
        return fetched

    def _failed(
        self, sender: Sender, attempts: int, failure: GraphFailure, now: datetime, bucket: TokenBucket
    ) -> None:
        policy = self.policy
        if failure.kind == "throttled":
            # Not the sender's fault: the account waits, the attempt is not counted.
            bucket.hold(now.timestamp() + failure.retry_after_s)
            self.schedule.retry_later(
                sender, attempts, now + timedelta(seconds=failure.retry_after_s), failure.reason
            )
            outcome = "throttled"
        elif failure.kind == "transient" and attempts + 1 < policy.max_attempts:
            delay = min(policy.backoff_max_s, policy.backoff_first_s * 2**attempts)
            self.schedule.retry_later(sender, attempts + 1, now + timedelta(seconds=delay), failure.reason)
            outcome = "transient"
        else:
            self.schedule.settle(sender, now, now + timedelta(seconds=policy.ttl_s), failure.reason)
            outcome = "permanent" if failure.kind == "permanent" else "gave_up"
        self.metrics.fetches.labels(sender.channel, outcome).inc()
        log.warning(
            "profile fetch on %s account %s: %s (%s)", sender.channel, sender.account, outcome, failure
        )

    def _bucket(self, account: str) -> TokenBucket:
        if account not in self._buckets:
            self._buckets[account] = TokenBucket(self.policy.rate_per_s, self.policy.burst)
        return self._buckets[account]


def profile_envelope(sender: Sender, profile: Profile, at: datetime) -> RawEnvelope:
    """A profile as an observation on the channel's raw topic. Its id is the sender's and the
    profile's (an unchanged profile fetched again is the same observation)."""
    moment = utc_iso(at)
    return RawEnvelope(
        channel=sender.channel,  # type: ignore[arg-type]
        provider="meta",
        kind="profile",
        direction="in",
        provider_message_id=f"profile:{sender.user_id}:{profile.digest()}",
        thread_key=sender.thread_key,
        business_account=sender.account,
        customer=Party(id=sender.user_id, handle=profile.handle, name=profile.name),
        occurred_at=moment,
        received_at=moment,
        raw={"source": "graph_api_user_profile", "username": profile.handle, "name": profile.name},
    )
