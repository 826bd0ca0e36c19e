"""The profile fetcher's parts on fakes: the token bucket, the Graph client's reading of Meta's
answers (against the simulator's stand-in on loopback), and the service's cache, rate limit,
retries and envelopes (a dict schedule and a scripted Graph)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from cli.simulate import GraphStandIn
from schema.envelopes import Party, RawEnvelope
from workers.adapters.graph import GraphClient, usage_pause_s
from workers.domain.profiles import Fetched, GraphFailure, Profile, Sender
from workers.profiles.limiter import TokenBucket
from workers.profiles.service import ProfileMetrics, ProfilePolicy, ProfileService, profile_envelope

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGE, IG = "100200300400500", "17841400000000100"
TOKENS = {PAGE: "page-token-secret-1", IG: "ig-token-secret-2"}


# --- the token bucket ----------------------------------------------------------------------------
def test_the_bucket_allows_a_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)  # the next call in half a second
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) > 0
    assert [bucket.take(100.0) for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # refilled to the burst only


def test_a_held_bucket_gives_nothing_until_the_hold_ends() -> None:
    bucket = TokenBucket(rate=100.0, burst=10)
    bucket.hold(60.0)
    assert bucket.take(1.0) == pytest.approx(59.0)
    bucket.hold(30.0)  # an earlier end never shortens a hold
    assert bucket.take(59.0) == pytest.approx(1.0)
    assert bucket.take(60.0) == 0.0


# --- the Graph client against the stand-in ----------------------------------------------------------
@pytest.fixture
def graph() -> GraphStandIn:
    profiles = {
        "psid-1": {"first_name": "John", "last_name": "Doe"},
        "igsid-1": {"username": "johndoe", "name": "John Doe"},
    }
    with GraphStandIn(TOKENS.values(), profiles) as stand_in:
        yield stand_in


def client(url: str, tokens: dict[str, str] | None = None) -> GraphClient:
    return GraphClient(url, "v25.0", TOKENS if tokens is None else tokens, timeout_s=2.0)


def test_messenger_gives_the_name_and_instagram_the_username_and_name(graph: GraphStandIn) -> None:
    graph_client = client(graph.url)
    assert graph_client.fetch(Sender("messenger", PAGE, "psid-1")) == Fetched(Profile(None, "John Doe"))
    assert graph_client.fetch(Sender("instagram", IG, "igsid-1")) == Fetched(Profile("johndoe", "John Doe"))


def test_failures_are_told_apart_and_never_show_the_token(graph: GraphStandIn) -> None:
    graph_client = client(graph.url)
    with pytest.raises(GraphFailure) as unknown:
        graph_client.fetch(Sender("messenger", PAGE, "psid-nobody"))
    assert unknown.value.kind == "permanent" and "Graph error 100" in str(unknown.value)
    with pytest.raises(GraphFailure) as bad_token:
        client(graph.url, {PAGE: "not-the-token"}).fetch(Sender("messenger", PAGE, "psid-1"))
    assert bad_token.value.kind == "permanent" and "190" in str(bad_token.value)
    with pytest.raises(GraphFailure, match="no access token"):
        graph_client.fetch(Sender("messenger", "another-page", "psid-1"))
    graph.status = 429
    with pytest.raises(GraphFailure) as throttled:
        graph_client.fetch(Sender("messenger", PAGE, "psid-1"))
    assert throttled.value.kind == "throttled" and throttled.value.retry_after_s >= 60
    graph.status = 503
    with pytest.raises(GraphFailure) as down:
        graph_client.fetch(Sender("messenger", PAGE, "psid-1"))
    assert down.value.kind == "transient"
    for failure in (unknown, bad_token, throttled, down):
        assert "token" not in str(failure.value).replace("access token for", "") or "secret" not in str(
            failure.value
        )
        assert "secret" not in str(failure.value)


def test_a_server_that_does_not_answer_in_time_is_a_transient_failure() -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        graph_client = GraphClient(
            f"http://127.0.0.1:{silent.getsockname()[1]}", "v25.0", TOKENS, timeout_s=0.2
        )
        with pytest.raises(GraphFailure) as timed_out:
            graph_client.fetch(Sender("messenger", PAGE, "psid-1"))
        assert timed_out.value.kind == "transient"
    finally:
        silent.close()


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({}, 0.0),
        ({"X-App-Usage": json.dumps({"call_count": 12, "total_cputime": 3, "total_time": 5})}, 0.0),
        ({"X-App-Usage": json.dumps({"call_count": 95, "total_cputime": 3, "total_time": 5})}, 60.0),
        (
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        "1234": [
                            {
                                "type": "messenger",
                                "call_count": 40,
                                "total_cputime": 1,
                                "total_time": 1,
                                "estimated_time_to_regain_access": 7,
                            }
                        ]
                    }
                )
            },
            420.0,
        ),
        ({"X-App-Usage": "not json"}, 0.0),
    ],
)
def test_usage_headers_pause_an_account_near_its_limit(headers: dict[str, str], pause: float) -> None:
    assert usage_pause_s(headers) == pause


# --- the service on fakes ---------------------------------------------------------------------------
class DictSchedule:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], dict[str, object]] = {}

    def seen(self, senders: Sequence[Sender], now: datetime) -> None:
        for s in senders:
            row = self.rows.setdefault(
                s.key, {"sender": s, "due": now, "fetched": None, "attempts": 0, "error": None}
            )
            row["seen"], row["sender"] = now, s

    def due(self, now: datetime, limit: int) -> list[tuple[Sender, int]]:
        found = [
            r
            for r in self.rows.values()
            if r["due"] <= now and (r["fetched"] is None or r["seen"] > r["fetched"])  # type: ignore[operator]
        ]
        return [(r["sender"], r["attempts"]) for r in found][:limit]  # type: ignore[misc]

    def settle(self, sender: Sender, now: datetime, next_due: datetime, error: str | None = None) -> None:
        self.rows[sender.key].update(fetched=now, due=next_due, attempts=0, error=error)

    def retry_later(self, sender: Sender, attempts: int, next_due: datetime, error: str) -> None:
        self.rows[sender.key].update(due=next_due, attempts=attempts, error=error)


class ScriptedGraph:
    def __init__(self, *answers: Fetched | GraphFailure) -> None:
        self.answers = list(answers)
        self.calls: list[Sender] = []

    def has_token(self, account: str) -> bool:
        return account in TOKENS

    def fetch(self, sender: Sender) -> Fetched:
        self.calls.append(sender)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, GraphFailure):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def dm(user: str, account: str = PAGE, channel: str = "messenger", **kw: str) -> RawEnvelope:
    return RawEnvelope(
        channel=channel,  # type: ignore[arg-type]
        provider="meta",
        kind=kw.get("kind", "message"),  # type: ignore[arg-type]
        direction=kw.get("direction", "in"),  # type: ignore[arg-type]
        provider_message_id=f"mid.{user}.{kw.get('n', '1')}",
        thread_key=f"{channel}:{account}:{user}",
        business_account=account,
        customer=Party(id=user),
        occurred_at="2026-03-01T12:00:00.000Z",
        received_at="2026-03-01T12:00:00.000Z",
        text="hi",
    )


def service(
    graph: ScriptedGraph, **policy: float
) -> tuple[ProfileService, DictSchedule, Clock, list[RawEnvelope]]:
    schedule, clock, published = DictSchedule(), Clock(), []
    svc = ProfileService(
        schedule,
        graph,
        published.append,
        clock,
        ProfileMetrics.create(CollectorRegistry()),
        ProfilePolicy(**policy),  # type: ignore[arg-type]
    )
    return svc, schedule, clock, published


JOHN = Fetched(Profile(None, "John Doe"))


def test_a_new_sender_is_fetched_once_and_published_as_a_profile_observation() -> None:
    graph = ScriptedGraph(JOHN)
    svc, _, clock, published = service(graph)
    assert (
        svc.observe(
            [dm("psid-1"), dm("psid-1", n="2"), dm("psid-1", direction="out"), dm("x", kind="status")]
        )
        == 2
    )
    assert svc.run_due() == 1
    (envelope,) = published
    assert (envelope.kind, envelope.channel, envelope.business_account) == ("profile", "messenger", PAGE)
    assert envelope.customer == Party(id="psid-1", name="John Doe")
    assert envelope.thread_key == f"messenger:{PAGE}:psid-1"  # travels on the thread's key
    assert envelope.provider_message_id == f"profile:psid-1:{JOHN.profile.digest()}"
    assert RawEnvelope.from_json(envelope.to_json()) == envelope  # a valid raw envelope
    # Cached: seen again, not fetched again before the TTL...
    svc.observe([dm("psid-1", n="3")])
    assert svc.run_due() == 0 and len(graph.calls) == 1
    # ...and after it only when seen since.
    clock.advance(ProfilePolicy().ttl_s + 1)
    assert svc.run_due() == 0
    svc.observe([dm("psid-1", n="4")])
    assert svc.run_due() == 1 and len(graph.calls) == 2


def test_senders_of_accounts_without_a_token_are_skipped_loudly(caplog: pytest.LogCaptureFixture) -> None:
    graph = ScriptedGraph(JOHN)
    svc, schedule, _, _ = service(graph)
    with caplog.at_level(logging.WARNING):
        assert svc.observe([dm("psid-1", account="unknown-page"), dm("psid-2", account="unknown-page")]) == 0
    assert schedule.rows == {}
    assert [r.message for r in caplog.records].count(
        "no Graph API token for messenger account unknown-page: its senders' profiles are not fetched"
        " (PHONEUNIFY_META_PAGE_TOKENS)"
    ) == 1


def test_the_rate_limit_holds_an_account_without_holding_the_others() -> None:
    graph = ScriptedGraph(JOHN)
    svc, schedule, clock, published = service(graph, rate_per_s=1.0, burst=2)
    svc.observe([dm(f"psid-{n}") for n in range(5)] + [dm("igsid-1", account=IG, channel="instagram")])
    assert svc.run_due() == 3  # two of the page's, and the Instagram account's own
    assert svc.run_due() == 0  # the page waits for its bucket
    clock.advance(1.0)
    assert svc.run_due() == 1
    clock.advance(10.0)
    assert svc.run_due() == 2
    assert len(published) == 6 and all(r["fetched"] for r in schedule.rows.values())


def test_a_throttled_account_waits_as_long_as_meta_asks() -> None:
    graph = ScriptedGraph(GraphFailure("throttled", "HTTP 429", retry_after_s=300), JOHN)
    svc, schedule, clock, published = service(graph)
    svc.observe([dm("psid-1"), dm("psid-2")])
    assert svc.run_due() == 0
    assert len(graph.calls) == 1  # the second sender waits too: the whole account is held
    assert schedule.rows[("messenger", PAGE, "psid-1")]["attempts"] == 0  # not the sender's fault
    clock.advance(299)
    assert svc.run_due() == 0 and len(graph.calls) == 1
    clock.advance(2)
    assert svc.run_due() == 2 and len(published) == 2


def test_usage_headers_near_the_limit_pause_the_account() -> None:
    graph = ScriptedGraph(Fetched(Profile(None, "John Doe"), pause_s=120))
    svc, _, clock, _ = service(graph)
    svc.observe([dm("psid-1"), dm("psid-2")])
    assert svc.run_due() == 1
    clock.advance(119)
    assert svc.run_due() == 0
    clock.advance(2)
    assert svc.run_due() == 1


def test_transient_failures_back_off_then_give_up_until_the_ttl() -> None:
    graph = ScriptedGraph(GraphFailure("transient", "timed out"))
    svc, schedule, clock, published = service(graph, max_attempts=3, backoff_first_s=10, rate_per_s=100)
    svc.observe([dm("psid-1")])
    row = schedule.rows[("messenger", PAGE, "psid-1")]
    svc.run_due()
    assert (row["attempts"], row["due"]) == (1, clock.now + timedelta(seconds=10))
    clock.advance(10)
    svc.run_due()
    assert (row["attempts"], row["due"]) == (2, clock.now + timedelta(seconds=20))
    clock.advance(20)
    svc.run_due()
    assert row["attempts"] == 0 and row["fetched"] == clock.now and row["error"] == "timed out"
    assert row["due"] == clock.now + timedelta(seconds=ProfilePolicy().ttl_s)
    assert published == [] and len(graph.calls) == 3


def test_a_permanent_failure_waits_for_the_ttl_and_publishes_nothing() -> None:
    graph = ScriptedGraph(GraphFailure("permanent", "HTTP 400, Graph error 100"))
    svc, _, clock, published = service(graph)
    svc.observe([dm("psid-1")])
    svc.run_due()
    clock.advance(3600)
    svc.observe([dm("psid-1", n="2")])
    svc.run_due()
    assert len(graph.calls) == 1 and published == []


def test_an_unchanged_profile_is_the_same_observation() -> None:
    sender = Sender("instagram", IG, "igsid-1", "instagram:ig:igsid-1")
    first = profile_envelope(sender, Profile("johndoe", "John Doe"), T0)
    again = profile_envelope(sender, Profile("johndoe", "John Doe"), T0 + timedelta(days=8))
    renamed = profile_envelope(sender, Profile("john.doe", "John Doe"), T0 + timedelta(days=8))
    assert first.idempotency_key == again.idempotency_key != renamed.idempotency_key
