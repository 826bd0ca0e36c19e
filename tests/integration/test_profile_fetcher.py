"""The profile fetcher on the real Kafka and PostgreSQL, against the simulator's Graph API
stand-in on loopback: a Messenger message on its raw topic becomes, off the resolve path, a
profile observation on the same topic (on the thread's key), fetched once."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select

from cli.simulate import GraphStandIn
from phoneunify.kafka_admin import ensure_topics
from phoneunify.privacy import thread_key_hash
from phoneunify.settings import Settings
from schema import tables as t
from schema.envelopes import Party, RawEnvelope, utc_iso
from schema.topics import Topics
from tests.harness import wait_for
from workers.bootstrap import profile_fetcher

pytestmark = pytest.mark.infra
PAGE = "100200300400500"


@pytest.fixture
def graph(settings: Settings) -> Iterator[GraphStandIn]:
    with GraphStandIn(
        settings.page_tokens.values(), {"psid-77": {"first_name": "John", "last_name": "Doe"}}
    ) as g:
        yield g


def test_a_messenger_sender_is_fetched_once_and_observed_on_the_raw_topic(
    settings: Settings, engine: Engine, graph: GraphStandIn
) -> None:
    settings = dataclasses.replace(
        settings, meta_graph_url=graph.url, profile_group=f"pu-prof-{uuid.uuid4().hex[:8]}"
    )
    ensure_topics(settings)
    topic = Topics(settings.topic_prefix).raw("messenger")
    now = utc_iso(datetime.now(UTC))
    message = RawEnvelope(
        channel="messenger",
        provider="meta",
        kind="message",
        direction="in",
        provider_message_id="mid.77",
        thread_key=f"messenger:{PAGE}:psid-77",
        business_account=PAGE,
        customer=Party(id="psid-77"),
        occurred_at=now,
        received_at=now,
        text="hi",
    )
    key = thread_key_hash(message.thread_key, settings.phone_hash_key).encode()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    for n in range(2):  # the sender twice: one fetch
        again = dataclasses.replace(message, provider_message_id=f"mid.77.{n}")
        producer.send(topic, key=key, value=again.to_json()).get(timeout=10)
    producer.close()

    fetcher = profile_fetcher(settings, CollectorRegistry())
    runner = threading.Thread(target=fetcher.run, daemon=True)
    runner.start()
    try:
        reader = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=500,
        )
        profiles: list[tuple[bytes, RawEnvelope]] = []

        def observed() -> bool:
            for record in reader:
                envelope = RawEnvelope.from_json(record.value)
                if envelope.kind == "profile":
                    profiles.append((record.key, envelope))
            return bool(profiles)

        wait_for(observed, 60, 0.2, "a profile observation on the raw topic")
        ((record_key, profile),) = profiles
        assert record_key == key  # the thread's key: the same partition as its messages
        assert profile.customer == Party(id="psid-77", name="John Doe")
        assert profile.thread_key == message.thread_key
        with engine.connect() as conn:
            (row,) = conn.execute(select(t.profile_fetches)).all()
        assert (row.provider_user_id, row.attempts, row.last_error) == ("psid-77", 0, None)
        assert row.fetched_at is not None
        assert graph.calls == 1
        reader.close()
    finally:
        fetcher.stop.set()
        runner.join(timeout=15)
