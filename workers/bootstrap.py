"""The composition root: every process, and every test, builds the workers' objects here.

Settings are read once by the entry point and passed in; a test passes its own stores (the
dict unit of work of tests/fake_identity.py, say) and gets the very wiring production runs:
the same policy, region, hash key and batch size from the same settings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import faust
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from phoneunify.db import make_engine
from phoneunify.privacy import thread_key_hash
from phoneunify.settings import Settings
from schema.envelopes import RawEnvelope
from schema.topics import Topics
from workers.adapters.graph import GraphClient
from workers.adapters.postgres import PostgresUnitOfWork
from workers.adapters.profile_schedule import PostgresSchedule
from workers.domain.identity import Policy
from workers.domain.ports import UnitOfWork, UnitOfWorkFactory
from workers.profiles.fetcher import ProfileFetcher
from workers.profiles.service import ProfileMetrics, ProfilePolicy, ProfileService
from workers.services import erasure
from workers.services.commands import CommandHandler
from workers.services.resolve import Resolver
from workers.streams.app import create_app
from workers.streams.fence_topic import read_fence
from workers.streams.resolver_process import ResolverChild, ResolverPool, with_retry
from workers.timeline.store import write_batch
from workers.timeline.writer import TimelineWriter


def policy(settings: Settings) -> Policy:
    return Policy(
        settings.link_threshold,
        settings.merge_threshold,
        shared_phone_min_identities=settings.shared_phone_min_identities,
    )


def postgres_units(engine: Engine) -> UnitOfWorkFactory:
    """Units of work on PostgreSQL, one transaction each."""

    def unit() -> UnitOfWork:
        return PostgresUnitOfWork(engine)

    return unit


def resolver(settings: Settings, uow: UnitOfWorkFactory) -> Resolver:
    return Resolver(uow, policy(settings), settings.phone_hash_key)


def command_handler(
    settings: Settings, uow: UnitOfWorkFactory, clock: Callable[[], datetime] | None = None
) -> CommandHandler:
    """Admin commands read typed phones in the business's region, as the API checks them."""
    handler = CommandHandler(uow, policy(settings), settings.default_region, hash_key=settings.phone_hash_key)
    if clock is not None:
        handler.clock = clock
    return handler


def resolver_child(settings: Settings, uow: UnitOfWorkFactory | None = None) -> ResolverChild:
    """What the resolver child process runs (built in the child: it opens its own engine)."""
    units = uow if uow is not None else postgres_units(make_engine(settings.database_url))
    return ResolverChild(
        resolver(settings, units), command_handler(settings, units), settings.resolve_batch_size
    )


def start_resolver(settings: Settings) -> ResolverChild:
    """The resolver child process's start: the erasure fence restored from its topic into the
    database first (an empty database included), then the child's work built."""
    units = postgres_units(make_engine(settings.database_url))
    fence = read_fence(settings)
    with_retry(lambda: erasure.restore(units, fence))
    return resolver_child(settings, units)


def workers_app(settings: Settings, registry: CollectorRegistry, loglevel: str = "info") -> faust.App:
    """The faust workers, with the resolver child process they start."""
    return create_app(settings, registry, ResolverPool(settings, build=start_resolver, loglevel=loglevel))


def timeline_writer(settings: Settings, registry: CollectorRegistry) -> TimelineWriter:
    """The writer with its own consumer (offsets committed by hand) and dead-letter producer:
    one Kafka client library, kafka-python, for the writer's two roles."""
    engine = make_engine(settings.database_url)
    return TimelineWriter(
        timeline_consumer(settings),
        acked_producer(settings),
        lambda rows, reprojections: write_batch(engine, rows, reprojections),
        Topics(settings.topic_prefix),
        registry,
    )


def acked_producer(settings: Settings) -> KafkaProducer:
    """A kafka-python producer whose sends the caller waits on (acks from every replica). Its
    max_request_size is the topics' limit derived from the body limit (settings.message_max_bytes),
    not kafka-python's 1 MB default: a dead letter wraps a whole record, which may be larger."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        acks="all",
        max_block_ms=10000,
        request_timeout_ms=10000,
        max_request_size=settings.message_max_bytes,
    )


def timeline_consumer(settings: Settings) -> KafkaConsumer:
    """The writer's consumer of customer.linked, offsets committed by hand (also the null
    pipeline's, so the benchmark compares the work, not the settings)."""
    return KafkaConsumer(
        Topics(settings.topic_prefix).linked,
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        group_id=settings.writer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.writer_batch_size,
        request_timeout_ms=30000,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        max_poll_interval_ms=300000,
    )


def profile_fetcher(settings: Settings, registry: CollectorRegistry) -> ProfileFetcher:
    """The profile fetcher: its own consumer group on the Messenger and Instagram raw topics,
    the Graph API client, the schedule in PostgreSQL, and a producer for the profile envelopes
    (on the channel's raw topic, keyed like the thread, acknowledged before the fetch is settled)."""
    topics = Topics(settings.topic_prefix)
    producer = acked_producer(settings)

    def publish(envelope: RawEnvelope) -> None:
        key = thread_key_hash(envelope.thread_key, settings.phone_hash_key).encode()
        producer.send(topics.raw(envelope.channel), key=key, value=envelope.to_json()).get(timeout=10)

    service = ProfileService(
        PostgresSchedule(make_engine(settings.database_url)),
        GraphClient(
            settings.meta_graph_url,
            settings.meta_graph_version,
            settings.page_tokens,
            settings.profile_timeout_s,
        ),
        publish,
        lambda: datetime.now(UTC),
        ProfileMetrics.create(registry),
        ProfilePolicy(
            ttl_s=settings.profile_ttl_s,
            max_attempts=settings.profile_max_attempts,
            rate_per_s=settings.profile_rate_per_s,
            burst=settings.profile_burst,
        ),
    )
    consumer = KafkaConsumer(
        topics.raw("messenger"),
        topics.raw("instagram"),
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        group_id=settings.profile_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        max_poll_interval_ms=300000,
    )
    return ProfileFetcher(consumer, service)
