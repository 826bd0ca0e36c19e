"""`phoneunify dlq` against the real broker: list with masked previews, re-drive each stage's
dead letters onto their source topic with the key their producer gave them."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from api.commands_check import partition_key
from cli.main import main
from phoneunify.kafka_admin import ensure_topics
from phoneunify.privacy import thread_key_hash
from phoneunify.settings import Settings
from schema.commands import Command
from schema.envelopes import Party, RawEnvelope
from schema.linked import LinkedEvent
from schema.topics import Topics
from workers.streams.deadletter import dead_letter

pytestmark = pytest.mark.infra

PHONE = "+19165551234"


def _envelope(message_id: str) -> RawEnvelope:
    return RawEnvelope(
        channel="sms",
        provider="twilio",
        kind="message",
        direction="in",
        provider_message_id=message_id,
        thread_key=f"twilio:+19165550000:{PHONE}",
        business_account="+19165550000",
        customer=Party(id=PHONE, phone=PHONE),
        occurred_at="2026-01-01T00:00:00.000Z",
        received_at="2026-01-01T00:00:00.000Z",
        text=f"call me on {PHONE}",
    )


def _put(settings: Settings, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap.split(","), acks="all")
    for value in values:
        producer.send(topic, value=value)
    producer.flush(timeout=30)
    producer.close()


def _records(settings: Settings, topic: str) -> list[tuple[bytes, bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        out: list[tuple[bytes, bytes]] = []
        while sum(ends.values()) > len(out):
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend((r.key, r.value) for r in records)
        return out
    finally:
        consumer.close()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch, restored_logging: None) -> Settings:
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    ensure_topics(settings)
    return settings


def test_list_shows_every_dead_letter_with_a_masked_preview(env: Settings, capsys) -> None:
    topics = Topics(env.topic_prefix)
    _put(env, topics.dlq("extract"), [dead_letter("extract", _envelope("SM1").to_json(), KeyError("region"))])
    _put(env, topics.dlq("timeline"), [dead_letter("timeline", b"{not json", "ValueError: bad")])
    assert main(["dlq", "list"]) == 0
    out = capsys.readouterr().out
    assert "2 dead letter(s)" in out
    assert "KeyError: 'region'" in out and "ValueError: bad" in out
    assert PHONE not in out and "5551234" not in out  # the preview is masked


def test_redrive_puts_each_message_back_where_its_stage_reads_it_keyed_as_before(
    env: Settings, capsys
) -> None:
    topics = Topics(env.topic_prefix)
    envelope = _envelope("SM2")
    command = Command(
        action="split", actor="ops", params={"customer_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}
    )
    event = LinkedEvent("customer.created", "ev-1", "2026-01-01T00:00:00Z", "c-42")
    _put(
        env,
        topics.dlq("extract"),
        [
            dead_letter("extract", envelope.to_json(), "KeyError: x"),
            dead_letter("extract", b"\x00junk", "bad"),
        ],
    )
    _put(env, topics.dlq("resolve"), [dead_letter("commands", command.to_json(), "a bug, since fixed")])
    _put(env, topics.dlq("timeline"), [dead_letter("timeline", event.to_json(), "a bug, since fixed")])

    assert main(["dlq", "redrive", "--stage", "extract", "--dry-run"]) == 1  # one letter cannot be read
    assert _records(env, topics.raw("sms")) == []
    assert main(["dlq", "redrive", "--stage", "extract"]) == 1
    assert "1 dead letter(s) re-driven, 1 skipped" in capsys.readouterr().out
    ((key, value),) = _records(env, topics.raw("sms"))
    assert key == thread_key_hash(envelope.thread_key, env.phone_hash_key).encode()
    assert RawEnvelope.from_json(value) == envelope

    assert main(["dlq", "redrive", "--stage", "resolve"]) == 0
    ((key, value),) = _records(env, topics.commands)
    assert key == partition_key(command, env.default_region, env.phone_hash_key).encode()
    assert json.loads(value)["command_id"] == command.command_id

    assert main(["dlq", "redrive", "--stage", "timeline"]) == 0
    ((key, value),) = _records(env, topics.linked)
    assert key == b"c-42" and LinkedEvent.from_json(value) == event
