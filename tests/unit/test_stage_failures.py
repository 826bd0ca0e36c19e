"""What a stage does when handling a message fails: the agents stop the process on anything they
let escape (faust would ack it), and the timeline writer commits a batch's offsets only after
its dead letters are acknowledged."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import pytest
from kafka import OffsetAndMetadata, TopicPartition
from kafka.errors import CommitFailedError, KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError
from prometheus_client import CollectorRegistry

from phoneunify.retry import Backoff, RetriesExhaustedError
from phoneunify.settings import Settings
from schema.linked import make_event
from schema.topics import Topics
from workers import bootstrap
from workers.streams.app import guarded
from workers.timeline.writer import TimelineWriter

# --- the agents ------------------------------------------------------------------------------------


async def _values(*values: bytes) -> AsyncIterator[bytes]:
    for value in values:
        yield value


def test_an_agent_that_raises_stops_the_process_instead_of_letting_faust_ack() -> None:
    handled: list[bytes] = []
    stopped: list[tuple[str, str]] = []

    async def agent(stream: Any) -> None:
        async for value in stream:
            if value == b"boom":
                raise KeyError("a bug")
            handled.append(value)

    run = guarded("resolve", agent, stop=lambda stage, exc: stopped.append((stage, repr(exc))))
    asyncio.run(run(_values(b"a", b"boom", b"never")))
    assert handled == [b"a"]
    assert stopped == [("resolve", "KeyError('a bug')")]


def test_an_agent_that_ends_normally_is_not_stopped() -> None:
    stopped: list[Any] = []

    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    asyncio.run(guarded("extract", agent, stop=lambda *args: stopped.append(args))(_values(b"a")))
    assert stopped == []


# --- the timeline writer ---------------------------------------------------------------------------


@dataclass
class Record:
    offset: int
    value: bytes


@dataclass
class Journal:
    """What happened, in order, across the writer's fakes."""

    steps: list[str] = field(default_factory=list)


class Sent:
    def __init__(self, journal: Journal, error: Exception | None) -> None:
        self.journal, self.error = journal, error

    def get(self, timeout: float | None = None) -> None:
        self.journal.steps.append("dlq acknowledged" if self.error is None else "dlq failed")
        if self.error is not None:
            raise self.error


@dataclass
class Producer:
    journal: Journal
    error: Exception | None = None
    letters: list[tuple[str, bytes]] = field(default_factory=list)

    # Errors of the next sends' acknowledgements, one per send, before `error` applies.
    errors: list[Exception] = field(default_factory=list)

    def send(self, topic: str, value: bytes) -> Sent:
        self.letters.append((topic, value))
        self.journal.steps.append("dlq sent")
        return Sent(self.journal, self.errors.pop(0) if self.errors else self.error)

    def close(self, timeout: float | None = None) -> None:
        return None


@dataclass
class Consumer:
    journal: Journal
    batches: list[dict[TopicPartition, list[Record]]]
    committed: list[dict[TopicPartition, OffsetAndMetadata]] = field(default_factory=list)
    # Raised, one per call, by the next polls and commits (a broker outage).
    poll_errors: list[Exception] = field(default_factory=list)
    commit_errors: list[Exception] = field(default_factory=list)

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Record]]:
        if self.poll_errors:
            self.journal.steps.append("poll failed")
            raise self.poll_errors.pop(0)
        return self.batches.pop(0) if self.batches else {}

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        if self.commit_errors:
            self.journal.steps.append("commit failed")
            raise self.commit_errors.pop(0)
        self.journal.steps.append("offsets committed")
        self.committed.append(offsets)

    def close(self) -> None:
        return None


TP = TopicPartition("customer.linked", 0)


def _good(offset: int) -> Record:
    customer = str(uuid.UUID(int=offset + 1))
    event = make_event(
        "customer.created", "2026-03-06T17:00:00.000Z", customer, {"customer_id": customer}, str(offset)
    )
    return Record(offset, event.to_json())


def _writer(journal: Journal, producer: Producer, consumer: Consumer) -> TimelineWriter:
    def write(rows: Any, reprojections: Any) -> int:
        journal.steps.append(f"{len(rows)} rows written")
        return len(rows)

    return TimelineWriter(consumer, producer, write, Topics(""), CollectorRegistry(), backoff=_quick)


def _quick() -> Backoff:
    """The production backoff's shape with milliseconds for seconds: a few retries, then the bound."""
    return Backoff(first_s=0.001, max_s=0.002, max_total_s=0.02)


def test_a_poison_event_is_dead_lettered_before_the_offsets_are_committed() -> None:
    journal = Journal()
    producer = Producer(journal)
    consumer = Consumer(journal, [{TP: [_good(0), Record(1, b"{not json"), _good(2)]}])
    assert _writer(journal, producer, consumer).poll_once() == 2
    assert journal.steps == ["dlq sent", "dlq acknowledged", "2 rows written", "offsets committed"]
    ((topic, letter),) = producer.letters
    assert topic == "dlq.timeline"
    assert json.loads(letter)["stage"] == "timeline" and "not JSON" in json.loads(letter)["reason"]
    assert consumer.committed == [{TP: OffsetAndMetadata(3, "", -1)}]


def test_a_dead_letter_the_broker_never_acknowledges_stops_the_writer_uncommitted() -> None:
    journal = Journal()
    producer = Producer(journal, error=KafkaTimeoutError("no acknowledgement in 10s"))
    consumer = Consumer(journal, [{TP: [_good(0), Record(1, b'{"schema_version": 9}')]}])
    with pytest.raises(RetriesExhaustedError):
        _writer(journal, producer, consumer).poll_once()
    assert len(producer.letters) > 1  # sent again while the bound lasted
    assert consumer.committed == []
    assert "offsets committed" not in journal.steps


def test_a_dead_letter_the_broker_refuses_stops_the_writer_at_once() -> None:
    journal = Journal()
    producer = Producer(journal, error=MessageSizeTooLargeError("too big"))
    consumer = Consumer(journal, [{TP: [Record(0, b"{not json")]}])
    with pytest.raises(MessageSizeTooLargeError):
        _writer(journal, producer, consumer).poll_once()
    assert len(producer.letters) == 1 and consumer.committed == []


def test_a_dead_letter_is_sent_again_until_acknowledged_and_only_then_committed() -> None:
    journal = Journal()
    producer = Producer(journal, errors=[KafkaTimeoutError("broker away"), KafkaConnectionError("refused")])
    consumer = Consumer(journal, [{TP: [_good(0), Record(1, b"{not json")]}])
    assert _writer(journal, producer, consumer).poll_once() == 1
    assert journal.steps == [
        *["dlq sent", "dlq failed"] * 2,
        "dlq sent",
        "dlq acknowledged",
        "1 rows written",
        "offsets committed",
    ]
    assert len({letter for _, letter in producer.letters}) == 1  # the same letter each time


def test_the_writer_rides_out_a_broker_outage_when_polling_and_committing() -> None:
    journal = Journal()
    outage = [KafkaTimeoutError("no broker"), KafkaConnectionError("refused")]
    consumer = Consumer(journal, [{TP: [_good(0)]}], poll_errors=list(outage), commit_errors=list(outage))
    assert _writer(journal, Producer(journal), consumer).poll_once() == 1
    assert journal.steps == [
        "poll failed",
        "poll failed",
        "1 rows written",
        "commit failed",
        "commit failed",
        "offsets committed",
    ]
    assert consumer.committed == [{TP: OffsetAndMetadata(1, "", -1)}]


def test_an_outage_past_the_bound_stops_the_writer_loudly_uncommitted() -> None:
    journal = Journal()
    consumer = Consumer(journal, [{TP: [_good(0)]}], commit_errors=[KafkaTimeoutError("no broker")] * 1000)
    with pytest.raises(RetriesExhaustedError):
        _writer(journal, Producer(journal), consumer).poll_once()
    assert consumer.committed == []


def test_a_lost_group_membership_is_not_retried() -> None:
    """CommitFailedError: the partitions went to another member; the batch is theirs to redo."""
    journal = Journal()
    consumer = Consumer(journal, [{TP: [_good(0)]}], commit_errors=[CommitFailedError("rebalanced")])
    with pytest.raises(CommitFailedError):
        _writer(journal, Producer(journal), consumer).poll_once()
    assert journal.steps.count("commit failed") == 1


def test_a_stop_during_an_outage_ends_the_retries() -> None:
    journal = Journal()
    consumer = Consumer(journal, [], poll_errors=[KafkaTimeoutError("no broker")] * 1000)
    writer = _writer(journal, Producer(journal), consumer)
    writer.backoff = Backoff  # seconds, not milliseconds: only the stop can end this quickly
    writer.stop.set()
    with pytest.raises(KafkaTimeoutError):
        writer.poll_once()
    assert journal.steps == ["poll failed"]


def test_the_dead_letter_producer_takes_records_as_large_as_the_topics() -> None:
    """kafka-python's default max_request_size (1 MB) is below the derived record limit: a
    dead letter wrapping a large record would be refused by the producer itself."""
    settings = Settings(phone_hash_key="k", max_body_bytes=4 * 1024 * 1024, kafka_bootstrap="127.0.0.1:1")
    with patch.object(bootstrap, "KafkaProducer") as producer:
        bootstrap.acked_producer(settings)
    assert producer.call_args.kwargs["max_request_size"] == settings.message_max_bytes
    assert settings.message_max_bytes > 2 * settings.max_body_bytes > 1024 * 1024


def test_a_bug_in_the_write_stops_the_writer_uncommitted() -> None:
    journal = Journal()
    consumer = Consumer(journal, [{TP: [_good(0)]}])

    def write(rows: Any, reprojections: Any) -> int:
        raise AttributeError("a bug")

    writer = TimelineWriter(
        consumer, Producer(journal), write, Topics(""), CollectorRegistry(), backoff=_quick
    )
    with pytest.raises(AttributeError):
        writer.poll_once()
    assert consumer.committed == []


def test_an_event_whose_data_breaks_the_contract_is_dead_lettered_with_the_field() -> None:
    journal = Journal()
    producer = Producer(journal)
    bad = make_event("thread.linked", "2026-03-06T17:00:00.000Z", None, {"thread_id": "not-a-uuid"}, "x")
    consumer = Consumer(journal, [{TP: [_good(0), Record(1, bad.to_json())]}])
    assert _writer(journal, producer, consumer).poll_once() == 1
    ((_, letter),) = producer.letters
    assert "data.thread_id is not a UUID" in json.loads(letter)["reason"]
    assert consumer.committed == [{TP: OffsetAndMetadata(2, "", -1)}]


@pytest.mark.parametrize("bug", [KeyError("channel"), ValueError("a bug"), TypeError("a bug")])
def test_a_bug_in_the_projection_stops_the_writer_uncommitted(monkeypatch, bug: Exception) -> None:
    """Only InvalidMessage is poison: a KeyError or ValueError of our own is not dead-lettered."""
    from workers.timeline import writer as writer_module

    def project(event: Any) -> Any:
        raise bug

    monkeypatch.setattr(writer_module, "project", project)
    journal = Journal()
    producer = Producer(journal)
    consumer = Consumer(journal, [{TP: [_good(0)]}])
    with pytest.raises(type(bug)):
        _writer(journal, producer, consumer).poll_once()
    assert producer.letters == [] and consumer.committed == []


def test_the_writer_process_exits_as_the_stages_do_when_its_loop_stops(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A writer whose loop raised (a bug, or an outage past the bound) exits EX_SOFTWARE, as a
    stopped stage does, with the reason logged: the supervisor restarts it and the batch is read
    again."""
    from phoneunify.exits import EX_SOFTWARE
    from workers.timeline import __main__ as writer_main

    class Broken:
        topics = Topics("t.")

        def run(self) -> None:
            raise RuntimeError("a bug in the writer")

    monkeypatch.setattr(writer_main, "start_http_server", lambda *a, **k: None)
    monkeypatch.setattr(writer_main, "timeline_writer", lambda settings, registry: Broken())
    monkeypatch.setattr(writer_main.gctune, "tune", lambda: None)
    with caplog.at_level("CRITICAL"):
        assert writer_main.run_writer(Settings()) == EX_SOFTWARE
    assert "a bug in the writer" in caplog.text
