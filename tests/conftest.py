"""Shared fixtures. Tests marked `infra` talk to the real Kafka and PostgreSQL that
`deploy/infra.sh up` starts (make test does it); each test gets its own database and its own
topic prefix, so tests never see each other's data."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from phoneunify.settings import DEFAULT_DATABASE_URL, Settings

# Suites written once as mixins and run on several stores: pytest rewrites their asserts too.
pytest.register_assert_rewrite("tests.identity_scenarios", "tests.privacy_scenarios", "tests.contract")

KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DATABASE_URL = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """The root logger as it was, after every test: code under test may set phoneunify's logging
    up (the `phoneunify` command and `replay` do), and its handler writes to that test's captured
    stderr, which is closed once the test ends (later log lines, from kafka-python's threads at
    the session's end say, then fail with "I/O operation on closed file")."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


def _admin_engine() -> Engine:
    return create_engine(make_url(DATABASE_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(name: str) -> str:
    """Create and migrate a database on the test server; returns its URL."""
    from schema.migrate import upgrade

    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(name: str) -> None:
    admin = _admin_engine()
    try:
        # FORCE cannot end an autovacuum worker (our role may not signal it), and autovacuum
        # does visit a test's freshly written tables: it is done within moments, so wait for it.
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                return
            except ProgrammingError:
                if attempt == 19:
                    raise
                time.sleep(0.25)
    finally:
        admin.dispose()


def make_settings(database_url: str, unique: str) -> Settings:
    """Test settings: the real servers, a unique topic prefix and groups, test secrets (the
    phone hash key and RingCentral's token are the development values: tests run in dev mode)."""
    return Settings.from_env(
        {},
        env="dev",
        kafka_bootstrap=KAFKA_BOOTSTRAP,
        database_url=database_url,
        topic_prefix=session_prefix(f"t{unique}."),
        worker_id=session_prefix(f"pu-workers-{unique}"),
        writer_group=f"pu-writer-{unique}",
        profile_group=f"pu-profiles-{unique}",
        twilio_auth_token="test-twilio-token",
        meta_app_secret="test-meta-secret",
        meta_verify_token="test-verify-token",
        booking_api_key="test-booking-key",
        api_tokens=("ops:test-api-token-0001",),
        console_session_key="test-console-session-key",
        business_numbers=("+19165550000",),
        resolve_batch_within_s=0.02,
    )


@pytest.fixture
def database_url(unique: str) -> Iterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    name = f"pu_test_{unique}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(database_url: str, unique: str) -> Settings:
    return make_settings(database_url, unique)


# --- topics ------------------------------------------------------------------------------------
# Tests name their topics t<hex>. / it<hex>. and faust's own after the app id (pu-workers-<hex>).
_TEST_TOPIC = re.compile(r"^(t[0-9a-f]{10}\.|it[0-9a-f]{12}\.|pu-workers-[0-9a-f]{10}-)")


class _SessionTopics:
    """The broker's topics before the first infra test, and the topic prefixes this session's
    tests used: at the end only topics with those prefixes are deleted. Other sessions (other
    developers, CI) share the broker and make topics of the same shape meanwhile; deleting every
    new test-shaped topic pulled theirs from under their running stacks."""

    before: set[str] | None = None
    prefixes: set[str] = set()


def session_prefix(prefix: str) -> str:
    """Register a topic prefix (or a faust app id) as this session's; returns it."""
    _SessionTopics.prefixes.add(prefix)
    return prefix


def _list_topics() -> set[str] | None:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP.split(","), request_timeout_ms=10000)
    except Exception:  # no broker: nothing to clean up afterwards either
        return None
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("infra") for item in session.items):
        _SessionTopics.before = _list_topics()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete the topics this session's tests made: a developer's broker otherwise gathers tens
    of thousands of partitions over many runs, and then takes minutes to start."""
    before = _SessionTopics.before
    if before is None:
        return
    from kafka.admin import KafkaAdminClient

    after = _list_topics() or set()
    mine = tuple(_SessionTopics.prefixes)
    ours = sorted(name for name in after - before if _TEST_TOPIC.match(name) and name.startswith(mine))
    if not ours:
        return
    admin = KafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP.split(","), request_timeout_ms=30000)
    try:
        for start in range(0, len(ours), 200):
            admin.delete_topics(ours[start : start + 200], timeout_ms=30000)
    except Exception as exc:  # cleaning up must never fail the run
        print(f"\n(could not delete {len(ours)} test topics: {type(exc).__name__})")
    finally:
        admin.close()
