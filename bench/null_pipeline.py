"""The null pipeline: the ceiling the real pipeline is measured against.

Same broker, same topic layout and partition count, same faust configuration and batching as
workers/streams/app.py, but the agents pass every message through untouched (raw -> resolve
-> linked, keys kept) and the writer COPYs each linked message into one table, committing
offsets after the database commit as the real writer does. No extraction, no JSON decoding,
no identity SQL: what is left is the cost of Kafka, faust and PostgreSQL themselves.

    python -m bench.null_pipeline workers   # settings from the environment, like phoneunify
    python -m bench.null_pipeline writer
"""

from __future__ import annotations

import io
import logging
import signal
import sys
from threading import Event
from typing import Any

import faust
from kafka import OffsetAndMetadata, TopicPartition
from prometheus_client import CollectorRegistry, Counter, start_http_server
from sqlalchemy import Engine, text

from phoneunify import logs
from phoneunify.db import make_engine
from phoneunify.settings import Settings
from schema.topics import Topics
from workers.bootstrap import timeline_consumer
from workers.streams.app import EXTRACT_BATCH, EXTRACT_WITHIN_S, faust_app
from workers.streams.sender import BatchSender, unpack

log = logging.getLogger("null_pipeline")

TABLE = "bench_null_rows"
CREATE = f"""
create table if not exists {TABLE} (
    value jsonb not null,
    written_at timestamptz not null default now()
)"""


def create_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(CREATE))


def create_app(settings: Settings) -> faust.App:
    topics = Topics(settings.topic_prefix)
    # The real workers' configuration, so the comparison is of the work, not of the settings.
    app = faust_app(settings)
    raw_in = app.topic(*topics.raw_all, key_serializer="raw", value_serializer="raw")
    resolve_topic = app.topic(topics.resolve, key_serializer="raw", value_serializer="raw")
    # The real workers' sending machinery too (one aiokafka batch per partition per stage batch),
    # so the null pipeline stays the ceiling of the same design, not of a slower one.
    sender = BatchSender(settings.kafka_bootstrap, f"{settings.worker_id}-sender")
    app.add_dependency(sender)

    # Like the real agents: a batch at a time, its sends acknowledged before it is acked, the
    # internal topic packed (JSON Lines per partition) as the real extract stage packs it.
    @app.agent(raw_in, name="extract")
    async def extract(stream: Any) -> None:
        async for batch in stream.take_events(EXTRACT_BATCH, within=EXTRACT_WITHIN_S):
            await sender.send_packed(topics.resolve, [(event.key, event.value) for event in batch])

    @app.agent(resolve_topic, name="resolve")
    async def resolve(stream: Any) -> None:
        packs = max(1, settings.resolve_batch_size // 10)  # as the real resolve agent takes them
        async for batch in stream.take_events(packs, within=settings.resolve_batch_within_s):
            out = [(event.key, line) for event in batch for line in unpack(event.value)]
            await sender.send_many(topics.linked, out)

    @app.page("/healthz")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"ok": True})

    return app


def run_workers(settings: Settings) -> int:
    app = create_app(settings)
    sys.argv = [
        "null-workers",
        "worker",
        "--loglevel",
        "warn",
        "--web-port",
        str(settings.worker_web_port),
        "--web-bind",
        settings.worker_web_host,
    ]
    app.main()
    return 0


def run_writer(settings: Settings) -> int:
    """Poll a batch, COPY it, commit the transaction, then the offsets."""
    registry = CollectorRegistry()
    written = Counter("phoneunify_timeline_events_total", "Rows copied.", ["outcome"], registry=registry)
    start_http_server(settings.writer_metrics_port, addr=settings.writer_metrics_host, registry=registry)
    engine = make_engine(settings.database_url)
    create_table(engine)
    stop = Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer = timeline_consumer(settings)
    try:
        while not stop.is_set():
            polled = consumer.poll(timeout_ms=500)
            if not polled:
                continue
            buffer = io.BytesIO()
            offsets: dict[TopicPartition, OffsetAndMetadata] = {}
            count = 0
            for tp, records in polled.items():
                for record in records:
                    buffer.write(_copy_text(record.value))
                    count += 1
                offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
            buffer.seek(0)
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.copy_expert(f"COPY {TABLE} (value) FROM STDIN", buffer)
                cursor.close()
                raw.commit()
            finally:
                raw.close()
            consumer.commit(offsets)
            written.labels("written").inc(count)
    finally:
        consumer.close()
    return 0


def _copy_text(value: bytes | None) -> bytes:
    """One line of COPY's text format: backslashes, tabs and newlines escaped."""
    data = (value or b"null").replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n")
    return data.replace(b"\r", b"\\r") + b"\n"


def main() -> int:
    logs.setup("WARNING")
    settings = Settings.from_env()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "workers":
        return run_workers(settings)
    if command == "writer":
        return run_writer(settings)
    print("usage: python -m bench.null_pipeline workers|writer", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
