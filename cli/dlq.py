"""`phoneunify dlq`: read the dead-letter topics, and re-drive dead letters once their cause is fixed.

    phoneunify dlq list [--stage extract|resolve|timeline] [--limit N]
    phoneunify dlq redrive --stage extract|resolve|timeline [--since ISO-TIME] [--dry-run]

A dead letter (schema/deadletter.py, every stage's) is JSON with the stage that refused a
message, the reason, when, and the message's bytes whole. `list` shows each with a preview that
passes through the log masker (phone-like digits masked), never a raw number. `redrive` puts each
message back on the topic its stage consumes, with the key its producer gave it, so a fixed
stage reads it again in order with its thread, phone or customer:

    stage      source topic         key
    extract    raw.<channel>        keyed hash of the envelope's thread (as the edge keys it)
    resolve    identity.resolve     the phone's keyed hash, else the thread's (as extract keys it)
    commands   identity.commands    the command's partition key (as the API keys it)
    timeline   customer.linked      the event's customer, else its thread

A dead letter that names its `topic` and `key` itself is re-driven there. Re-driving is
idempotent: the pipeline deduplicates by each message's idempotency key (the resolver's outbox,
the timeline's unique key), so re-driving a letter twice, or one that was handled meanwhile,
changes nothing. A letter whose message cannot be read (the bytes are not what its stage takes)
is reported and left where it is.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.commands_check import partition_key
from ingest.edge import records_for
from ingest.publisher import KafkaPublisher, Record
from phoneunify.kafka_admin import MissingTopicError, read_to_end
from phoneunify.privacy import redact
from phoneunify.settings import Settings
from schema.commands import Command
from schema.envelopes import RawEnvelope
from schema.linked import LinkedEvent
from schema.topics import Topics
from workers.domain.requests import ResolveRequest
from workers.streams.app import route_key

DLQ_STAGES = ("extract", "resolve", "timeline")  # the dead-letter topics: dlq.<stage>
PREVIEW = 100


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    body: dict[str, Any]

    @property
    def stage(self) -> str:
        return str(self.body.get("stage") or "?")

    @property
    def value(self) -> bytes:
        return str(self.body.get("value") or "").encode()

    def failed_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(str(self.body.get("failed_at")))
        except ValueError:
            return None

    def preview(self) -> str:
        text = str(self.body.get("value") or "").replace("\n", " ")
        return redact(text[:PREVIEW]) + ("..." if len(text) > PREVIEW else "")


def read(settings: Settings, stage: str, timeout_s: float = 30.0) -> Iterator[DeadLetter]:
    """Every dead letter of a stage's topic, oldest first per partition (no consumer group: reading
    commits nothing)."""
    topic = Topics(settings.topic_prefix).dlq(stage)
    try:
        for record in read_to_end(settings, topic, timeout_s):
            yield DeadLetter(topic, record.partition, record.offset, _body(record.value))
    except MissingTopicError:
        return


def _body(value: bytes | None) -> dict[str, Any]:
    try:
        body = json.loads(value or b"")
    except ValueError:
        body = None
    return (
        body if isinstance(body, dict) else {"stage": "?", "reason": "not a dead-letter record", "value": ""}
    )


def source_of(letter: DeadLetter, settings: Settings) -> Record:
    """Where the letter's message came from and its key there; ValueError when it cannot be told."""
    topics = Topics(settings.topic_prefix)
    value = letter.value
    if letter.body.get("topic"):  # a dead letter that names its source
        return Record(str(letter.body["topic"]), str(letter.body.get("key") or ""), value)
    try:
        if letter.stage == "extract":
            (record,) = records_for([RawEnvelope.from_json(value)], topics, settings.phone_hash_key)
            return Record(record.topic, record.key, value)
        if letter.stage == "resolve":
            request = ResolveRequest.from_json(value)
            return Record(topics.resolve, route_key(request, settings.phone_hash_key), value)
        if letter.stage == "commands":
            command = Command.from_json(value)
            key = partition_key(command, settings.default_region, settings.phone_hash_key)
            return Record(topics.commands, key, value)
        if letter.stage == "timeline":
            return Record(topics.linked, LinkedEvent.from_json(value).key, value)
    except Exception as exc:
        raise ValueError(
            f"its message is not what the {letter.stage} stage reads ({type(exc).__name__})"
        ) from exc
    raise ValueError(f"unknown stage {letter.stage!r}")


def list_letters(args: argparse.Namespace, settings: Settings) -> int:
    shown = 0
    for stage in [args.stage] if args.stage else DLQ_STAGES:
        for letter in read(settings, stage):
            if args.limit and shown >= args.limit:
                return 0
            reason = str(letter.body.get("reason") or "").replace("\n", " ")
            print(
                f"{letter.topic} {letter.partition}:{letter.offset}  {letter.body.get('failed_at', '?')}"
                f"  {letter.stage}  {redact(reason[:160])}\n    {letter.preview()}"
            )
            shown += 1
    print(f"{shown} dead letter(s)")
    return 0


def redrive(args: argparse.Namespace, settings: Settings) -> int:
    settings.require("dlq redrive", "phone_hash_key")  # it keys the messages as their producers did
    since = datetime.fromisoformat(args.since) if args.since else None
    records: list[Record] = []
    skipped = 0
    for letter in read(settings, args.stage):
        failed_at = letter.failed_at()
        if since is not None and (failed_at is None or failed_at < since):
            continue
        try:
            record = source_of(letter, settings)
        except ValueError as exc:
            print(f"skipped {letter.topic} {letter.partition}:{letter.offset}: {exc}")
            skipped += 1
            continue
        verb = "would re-drive" if args.dry_run else "re-driving"
        print(f"{verb} {letter.topic} {letter.partition}:{letter.offset} to {record.topic}")
        records.append(record)
    if records and not args.dry_run:
        publisher = KafkaPublisher(
            settings.kafka_bootstrap, settings.publish_timeout_s, "phoneunify-dlq", settings.message_max_bytes
        )
        try:
            for start in range(0, len(records), 500):
                publisher.publish(records[start : start + 500])
        finally:
            publisher.close()
    verb = "would be re-driven" if args.dry_run else "re-driven"
    print(f"{len(records)} dead letter(s) {verb}, {skipped} skipped")
    return 1 if skipped else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("dlq", help="list dead letters, or re-drive them onto their source topic after a fix")
    actions = p.add_subparsers(dest="dlq_action", required=True)
    listing = actions.add_parser("list", help="every dead letter: topic, reason, when, a masked preview")
    listing.add_argument("--stage", choices=DLQ_STAGES, help="one dead-letter topic (default: all)")
    listing.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    listing.set_defaults(func=list_letters)
    again = actions.add_parser("redrive", help="publish a stage's dead letters to their source topic again")
    again.add_argument("--stage", choices=DLQ_STAGES, required=True)
    again.add_argument("--since", help="only letters that failed at or after this ISO 8601 time")
    again.add_argument("--dry-run", action="store_true", help="say what would be re-driven, publish nothing")
    again.set_defaults(func=redrive)
