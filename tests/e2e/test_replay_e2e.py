"""Deterministic replay, for real: the raw topics read again into an empty database, in another
cross-channel order, give the same customers, links and timelines.

The first run takes the scenarios as webhooks, round by round. The replay copies every raw
message into a second set of topics channel by channel, in reverse (all SMS first, then
bookings, ...), which keeps Kafka's guarantee (order within a partition) and nothing more, and
runs fresh workers and a fresh writer over them into a second database.

What must match: the customers (their numbers, names, emails), phones and their raw addresses,
identities (customer, confidence, verification), threads, every message's customer and time,
open conflicts and consent, each link read through merges. What order may change is the path:
when the first run met two numbers of one person as two customers and merged them, a replay
that met the person's own words first links the second number directly, and the customer's id
comes from whichever of its numbers founded it (see `snapshot`). Either way the same messages
land on the same person. Identity-change entries on timelines follow the path taken, so they
are not compared.

Not replayed here: the family phone. When two different people claim one phone in messages that
sit on different partitions, the first one read owns it and the other waits in the review queue;
a replay may read them the other way round (the same question reaches review, about the other
person). Kafka orders only within a partition, so no resolver can promise more without a
canonical order of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import Engine, create_engine, text

from cli.demo import ApiClient
from cli.simulate import ProviderSimulator
from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import Settings
from schema.topics import CHANNELS, Topics
from tests.conftest import create_database, drop_database, make_settings
from tests.e2e.conftest import start_processes
from tests.e2e.scenarios import RAW_ONLY, World, run_rounds, wait_resolved
from tests.harness import wait_for, with_ports

pytestmark = pytest.mark.infra
REPLAYABLE = {name: rounds for name, rounds in RAW_ONLY.items() if name != "family"}


def snapshot(engine: Engine) -> dict[str, Any]:
    """The outcome as a person sees it. Every link is read through merges to the customer it
    lands on today, and a customer is named by the phone numbers it owns: messages of one
    thread that carry different numbers are routed by number, so they may be resolved out of
    thread order, and which of a person's numbers founded the customer (its id) can change."""

    def q(sql: str) -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    merged_into = {row[0]: row[1] for row in q("SELECT id, merged_into FROM customers")}

    def eff(customer: Any) -> Any:
        while customer is not None and merged_into.get(customer) is not None:
            customer = merged_into[customer]
        return customer

    numbers: dict[Any, list[str]] = {}
    for e164, owner in q("SELECT e164, customer_id FROM phones WHERE customer_id IS NOT NULL"):
        numbers.setdefault(eff(owner), []).append(e164)

    def who(customer: Any) -> tuple[str, ...] | None:
        return None if customer is None else tuple(sorted(numbers.get(eff(customer), [str(customer)])))

    return {
        "customers": sorted(
            (who(i), name, email)
            for i, name, email in q("SELECT id, name, email FROM customers WHERE merged_into IS NULL")
        ),
        "phones": sorted(
            (e, who(c), shared, by)
            for e, c, shared, by in q("SELECT e164, customer_id, shared, shared_by FROM phones")
        ),
        "addresses": sorted(q("SELECT channel, address, e164 FROM phone_addresses")),
        "identities": sorted(
            (i, p, u, who(c), conf, v)
            for i, p, u, c, conf, v in q(
                "SELECT id, platform, provider_user_id, customer_id, confidence, verification FROM identities"
            )
        ),
        "threads": sorted(
            (i, k, who(c), n)
            for i, k, c, n in q("SELECT id, thread_key, customer_id, message_count FROM threads")
        ),
        "messages": sorted(
            (k, who(c), th, at, content, d)
            for k, c, th, at, content, d in q(
                "SELECT idempotency_key, customer_id, thread_id, occurred_at, content, direction"
                " FROM timeline_events WHERE type NOT IN ('identity', 'consent')"
            )
        ),
        "conflicts": sorted(
            (k, i, who(c), who(o), e)
            for k, i, c, o, e in q(
                "SELECT kind, identity_id, customer_id, other_customer_id, e164 FROM identity_conflicts"
                " WHERE status = 'open'"
            )
        ),
        "consent": sorted(q("SELECT e164, channel, status, at FROM consent_ledger")),
    }


def copy_raw_topics(source: Settings, target: Settings) -> int:
    """Copy every raw message, channel by channel in reverse, keeping partition, key and order."""
    return copy_topics(source, target, [lambda topics, c=c: topics.raw(c) for c in reversed(CHANNELS)])


def copy_topics(source: Settings, target: Settings, names: Sequence[Callable[[Topics], str]]) -> int:
    """Copy every record of the named topics (named under each prefix by `names`), one topic
    after the other, keeping partition, key and order within a partition."""
    consumer = KafkaConsumer(
        bootstrap_servers=source.kafka_bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
        request_timeout_ms=15000,
    )
    producer = KafkaProducer(bootstrap_servers=target.kafka_bootstrap, acks="all", linger_ms=5)
    copied = 0
    try:
        for name in names:
            topic = name(Topics(source.topic_prefix))
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            for tp in partitions:
                consumer.assign([tp])
                consumer.seek_to_beginning(tp)
                while consumer.position(tp) < ends[tp]:
                    for record in consumer.poll(timeout_ms=1000).get(tp, []):
                        producer.send(
                            name(Topics(target.topic_prefix)),
                            key=record.key,
                            value=record.value,
                            partition=tp.partition,
                        )
                        copied += 1
            producer.flush(timeout=30)
    finally:
        consumer.close()
        producer.close(timeout=10)
    return copied


@pytest.fixture
def two_databases() -> Iterator[tuple[Settings, Settings]]:
    names, settings = [], []
    for _ in range(2):
        unique = uuid.uuid4().hex[:10]
        names.append(f"pu_test_{unique}")
        settings.append(with_ports(make_settings(create_database(names[-1]), unique)))
    try:
        yield settings[0], settings[1]
    finally:
        for name in names:
            drop_database(name)


def test_replaying_the_raw_topics_in_another_order_gives_the_same_identities_and_timelines(
    two_databases: tuple[Settings, Settings],
) -> None:
    live, replay = two_databases
    live_engine, replay_engine = create_engine(live.database_url), create_engine(replay.database_url)
    try:
        ensure_topics(live)
        processes = start_processes(live, ("workers", "writer", "ingest"))
        try:
            world = World(live, live_engine, ProviderSimulator(live), ApiClient(live))
            sent = run_rounds(world, REPLAYABLE)
        finally:
            for process in processes.values():
                process.stop()

        ensure_topics(replay)
        assert copy_raw_topics(live, replay) == sent
        processes = start_processes(replay, ("workers", "writer"))
        try:
            again = World(replay, replay_engine, ProviderSimulator(replay), ApiClient(replay))
            wait_resolved(again, sent)
            wait_for(
                lambda: (
                    again.scalar(
                        "SELECT count(*) FROM timeline_events WHERE type NOT IN ('identity', 'consent')"
                    )
                    == sent
                ),
                timeout=60,
                what="the replayed timelines",
            )
        finally:
            for process in processes.values():
                process.stop()

        first, second = snapshot(live_engine), snapshot(replay_engine)
        # The scenarios exercised what the comparison is about.
        assert len(first["customers"]) == 7 and len(first["messages"]) == sent
        for part, content in first.items():
            assert second[part] == content, (part, sorted(set(content) ^ set(second[part]), key=str))
    finally:
        live_engine.dispose()
        replay_engine.dispose()
