"""Smoke tests for the local infrastructure started by ``deploy/infra.sh up``.

They assume a running broker and database: KAFKA_BOOTSTRAP (default 127.0.0.1:19092) and DATABASE_URL
(default: the private cluster's URL printed by ``deploy/postgres/postgres.sh url``).
"""

from __future__ import annotations

import os
import time
import uuid

import psycopg2
import pytest
from kafka import KafkaConsumer, KafkaProducer
from psycopg2 import sql
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.infra

KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgresql+psycopg2://phoneunify:phoneunify@127.0.0.1:15432/phoneunify"
)
DEADLINE_S = 30.0


def _pg_connect(dbname: str | None = None) -> psycopg2.extensions.connection:
    url = make_url(DATABASE_URL)
    return psycopg2.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=dbname or url.database,
        connect_timeout=10,
    )


def test_kafka_round_trip_acks_all() -> None:
    topic = f"smoke-{uuid.uuid4().hex}"
    key, value = b"smoke-key", f"smoke-{uuid.uuid4()}".encode()

    producer = KafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", request_timeout_ms=15000)
    try:
        # The first send auto-creates the topic; get() waits for the acks=all acknowledgement.
        meta = producer.send(topic, key=key, value=value).get(timeout=DEADLINE_S)
    finally:
        producer.close(timeout=10)
    assert meta.topic == topic
    assert meta.offset >= 0

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=KAFKA_BOOTSTRAP,
        group_id=f"smoke-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    received: list[tuple[bytes, bytes, int, int]] = []
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not received and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received.extend((r.key, r.value, r.partition, r.offset) for r in records)
        consumer.commit()
    finally:
        consumer.close()

    assert received == [(key, value, meta.partition, meta.offset)], f"nothing consumed from {topic}"


def test_postgres_answers_select_1() -> None:
    conn = _pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()


def test_postgres_role_can_create_and_drop_database() -> None:
    name = f"smoke_{uuid.uuid4().hex[:16]}"
    conn = _pg_connect()
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            try:
                other = _pg_connect(name)
                try:
                    with other.cursor() as cur2:
                        cur2.execute("create table t (id int primary key)")
                        cur2.execute("insert into t values (1)")
                        cur2.execute("select count(*) from t")
                        assert cur2.fetchone() == (1,)
                    other.commit()
                finally:
                    other.close()
            finally:
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            cur.execute("select count(*) from pg_database where datname = %s", (name,))
            assert cur.fetchone() == (0,)
    finally:
        conn.close()
