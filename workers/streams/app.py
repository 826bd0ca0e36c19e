"""Faust wiring: the extract and resolve stages. Agents only decode, call one service, and send.

Both stages read in batches (`stream.take`), and faust acks a batch only when the loop asks
for the next one: so every send of a batch is awaited to its broker acknowledgement, and every
database commit finishes, before its offsets can be committed. Faust acks a message whose
agent raised, so no exception may escape an agent: a message that is itself invalid goes to a
dead-letter topic with the reason; transient database trouble is retried with backoff; and
anything else (a bug, the database down past the retry bound, a dead resolver process) stops
the process without acking the batch: a supervisor restarts it and the batch is read again.
Resolving and the admin commands run in a child process (resolver_process.py); the agents send.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterable, Callable, Coroutine, Sequence
from typing import Any, NoReturn

import faust
from prometheus_client import CollectorRegistry, generate_latest

from phoneunify.exits import EX_SOFTWARE
from phoneunify.privacy import phone_key, thread_key_hash
from phoneunify.settings import Settings
from schema.deadletter import dead_letter
from schema.envelopes import RawEnvelope
from schema.invalid import InvalidMessage
from schema.topics import Topics
from workers.domain.requests import ResolveRequest
from workers.services.evidence import EvidencePolicy, gather
from workers.streams.metrics import WorkerMetrics
from workers.streams.resolver_process import ResolverPool
from workers.streams.sender import BatchSender, unpack

log = logging.getLogger(__name__)

Record = tuple[bytes | None, bytes]  # key, value

# Prometheus text format 0.0.4 (its default charset is UTF-8).
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
EXTRACT_BATCH = 500
EXTRACT_WITHIN_S = 0.02


Agent = Callable[[AsyncIterable[bytes]], Coroutine[Any, Any, None]]


def stop_loudly(stage: str, exc: BaseException) -> NoReturn:
    """End the process without acking the batch in hand: the supervisor restarts it and the
    batch is read again. (Raising would not do: faust acks what an agent let escape.)"""
    log.critical(
        "%s stage stopped on %s; exiting %d without ack",
        stage,
        type(exc).__name__,
        EX_SOFTWARE,
        exc_info=exc,
    )
    os._exit(EX_SOFTWARE)


def guarded(stage: str, agent: Agent, stop: Callable[[str, BaseException], Any] = stop_loudly) -> Agent:
    """The agent, stopping the process on any exception it lets escape."""

    @functools.wraps(agent)  # faust names the agent after the function it runs
    async def run(stream: AsyncIterable[bytes]) -> None:
        try:
            await agent(stream)
        except Exception as exc:
            stop(stage, exc)

    return run


def route_key(request: ResolveRequest, hash_key: str) -> str:
    """One resolver owns each phone: key by the strongest sender phone, else by the thread."""
    best = request.best
    if best is not None:
        return phone_key(best.e164, hash_key)
    return thread_key_hash(request.envelope.thread_key, hash_key)


STAGES = ("extract", "resolve", "commands")


def group_id(settings: Settings) -> str:
    """The consumer group: the worker id for a process running every stage; a process running
    some (to give each its own process) is in a group of its own for them."""
    stages = [stage for stage in STAGES if stage in settings.worker_stages]
    unknown = set(settings.worker_stages) - set(STAGES)
    if unknown or not stages:
        raise ValueError(f"worker_stages must name some of {', '.join(STAGES)}")
    return settings.worker_id if len(stages) == len(STAGES) else "-".join([settings.worker_id, *stages])


def faust_app(settings: Settings) -> faust.App:
    """The workers' faust application as configured for production (also the null pipeline's,
    so the benchmark compares the work, not the settings)."""
    return faust.App(
        group_id(settings),
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # A killed worker's partitions move to a live one after this long, not faust's 60 s default.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        web_host=settings.worker_web_host,
        web_port=settings.worker_web_port,
        web_in_thread=False,
        stream_recovery_delay=0.0,
        # faust keeps local state here; memory:// tables need none, but it still creates the folder.
        datadir=settings.worker_data_dir,
    )


def create_app(settings: Settings, registry: CollectorRegistry, pool: ResolverPool) -> faust.App:
    """The workers' app. `pool`: the resolver child process (see resolver_process.py), started
    with the app when it runs the resolve or commands stage."""
    topics = Topics(settings.topic_prefix)
    app = faust_app(settings)
    metrics = WorkerMetrics.create(registry)
    evidence_policy = EvidencePolicy.build(settings.default_region, settings.business_numbers)
    stages = set(settings.worker_stages)
    group_id(settings)  # refuses unknown stages before anything starts
    if stages & {"resolve", "commands"}:
        app.add_dependency(pool)

    raw_in = app.topic(*topics.raw_all, key_serializer="raw", value_serializer="raw")
    resolve_topic = app.topic(topics.resolve, key_serializer="raw", value_serializer="raw")
    commands_topic = app.topic(topics.commands, key_serializer="raw", value_serializer="raw")
    # Every stage sends through one producer of its own, a batch at a time (see sender.py); a
    # dependency of the app, so it starts before the agents and stops after them.
    sender = BatchSender(settings.kafka_bootstrap, f"{settings.worker_id}-sender")
    app.add_dependency(sender)

    async def send(topic: str, records: Sequence[Record]) -> None:
        if records:
            await sender.send_many(topic, records)

    async def extract(stream: AsyncIterable[bytes]) -> None:
        async for batch in stream.take(EXTRACT_BATCH, within=EXTRACT_WITHIN_S):  # type: ignore[attr-defined]
            started = time.perf_counter()
            now_ms = int(time.time() * 1000)
            out: list[Record] = []
            dead: list[Record] = []
            # Counted per batch: a labelled child's lookup per message was a cost of its own.
            outcomes: Counter[str] = Counter()
            failures: Counter[tuple[str, str]] = Counter()
            for value in batch:
                try:
                    envelope = RawEnvelope.from_json(value)
                except InvalidMessage as exc:
                    outcomes["dead_letter"] += 1
                    dead.append((None, dead_letter("extract", value, exc)))
                    continue
                request, rejected = gather(envelope, evidence_policy, seen_ms=now_ms)
                body = request.to_json(envelope_json=value)
                for item in rejected:
                    failures[item.source, item.reason] += 1
                outcomes["with_phone" if request.best else "no_phone"] += 1
                out.append((route_key(request, settings.phone_hash_key).encode(), body))
            for outcome, count in outcomes.items():
                metrics.messages.labels("extract", outcome).inc(count)
            for (source, reason), count in failures.items():
                metrics.normalize_failures.labels(source, reason).inc(count)
            # Both awaited to the broker's acknowledgement before faust may commit the batch.
            # Requests travel packed (one record per partition per batch, see sender.py): the
            # resolve stage then pays faust's per-record cost once per pack, not per message.
            if out:
                await sender.send_packed(topics.resolve, out)
            await send(topics.dlq("extract"), dead)
            metrics.batch_seconds.labels("extract").observe(time.perf_counter() - started)

    async def resolve(stream: AsyncIterable[bytes]) -> None:
        # Records are packs (one per partition per extract batch): a fast stream fills this many
        # at once; a slow one waits resolve_batch_within_s, so a transaction holds more than one
        # small extract batch's worth. The child keeps transactions within resolve_batch_size.
        packs = max(1, settings.resolve_batch_size // 10)
        async for batch in stream.take(packs, within=settings.resolve_batch_within_s):  # type: ignore[attr-defined]
            started = time.perf_counter()
            values = [line for pack in batch for line in unpack(pack)]
            out = await pool.resolve(values)
            await send(topics.linked, out.linked)
            await send(topics.dlq("resolve"), out.dead)
            for outcome, count in out.outcomes.items():
                metrics.messages.labels("resolve", outcome).inc(count)
            metrics.batch_seconds.labels("resolve").observe(time.perf_counter() - started)

    async def admin_commands(stream: AsyncIterable[bytes]) -> None:
        async for batch in stream.take(50, within=0.05):  # type: ignore[attr-defined]
            linked: list[Record] = []
            dead: list[Record] = []
            erasures: list[Record] = []
            for value in batch:
                out = await pool.command(value)
                linked.extend(out.linked)
                dead.extend(out.dead)
                erasures.extend(out.erasures)
                for outcome, count in out.outcomes.items():
                    metrics.messages.labels("commands", outcome).inc(count)
            # The fence first: once downstream hears of an erasure, a replay already knows it.
            await send(topics.erasures, erasures)
            await send(topics.linked, linked)
            await send(topics.dlq("resolve"), dead)

    # Only the stages this process runs subscribe to their topics.
    for stage, topic, agent in (
        ("extract", raw_in, extract),
        ("resolve", resolve_topic, resolve),
        ("commands", commands_topic, admin_commands),
    ):
        if stage in stages:
            app.agent(topic, name=stage)(guarded(stage, agent))

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        # aiohttp takes the charset apart from the content type (it refuses one inside it).
        return web.bytes(generate_latest(registry), content_type=METRICS_CONTENT_TYPE)

    @app.page("/healthz")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"ok": True})

    return app
