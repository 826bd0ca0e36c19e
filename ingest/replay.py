"""Replay stored webhook payloads or raw envelopes onto the raw topics (backfills, tests).

Input files are JSON lines. A line is either
- a raw envelope (it has `schema_version`; checked against the JSON Schema and republished), or
- a stored provider request `{"provider": ..., "payload": ..., "headers": {...}?,
  "received_at": "..."?}` mapped through the very mapping the webhooks use, without the
  signature check (the payload was verified when it was first received, or is a fixture).
  `provider` is twilio, messenger, instagram, whatsapp, meta (routed by `object`),
  ringcentral, booking or outbound (a report of the business's own send); a Twilio payload is
  the form body string or a parameter object.

A malformed line is counted and reported with its file and line number; it never stops the
replay. A broker failure does (PublishError propagates): what was not acknowledged must be
replayed again, and replay is idempotent downstream.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ingest.edge import records_for
from ingest.providers import booking, meta, outbound, ringcentral, twilio
from ingest.providers.base import Mapped, PayloadError
from ingest.publisher import KafkaPublisher, Publisher, Record
from ingest.timeutil import now_iso, parse
from phoneunify import logs
from phoneunify.settings import Settings
from schema.envelopes import EnvelopeError, RawEnvelope, utc_iso
from schema.topics import Topics

log = logging.getLogger(__name__)

BATCH_RECORDS = 500

StoredMapper = Callable[[Any, str], Mapped]


def _meta_product(product: meta.Product | None) -> StoredMapper:
    return lambda payload, received_at: meta.map_payload(payload, received_at, product)


MAPPERS: dict[str, StoredMapper] = {
    "twilio": twilio.map_stored,
    "meta": _meta_product(None),
    "messenger": _meta_product(meta.MESSENGER),
    "instagram": _meta_product(meta.INSTAGRAM),
    "whatsapp": _meta_product(meta.WHATSAPP),
    "ringcentral": ringcentral.map_payload,
    "booking": booking.map_payload,
    "booking_form": booking.map_payload,
    "outbound": outbound.map_report,
}


@dataclass(frozen=True)
class LineError:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class ReplayStats:
    lines: int = 0  # non-blank lines read
    published: int = 0  # envelopes acknowledged by the broker
    ignored: int = 0  # events the mapping does not ingest, dashboard test payloads
    errors: list[LineError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)


def replay(
    paths: Iterable[str | Path],
    settings: Settings,
    publisher: Publisher,
    progress: bool = True,
    clock: Callable[[], str] = now_iso,
) -> ReplayStats:
    """Publish every line of every file; returns what happened line by line."""
    files = [Path(p) for p in paths]
    topics = Topics(settings.topic_prefix)
    stats = ReplayStats()
    pending: list[Record] = []
    pending_envelopes = 0
    total = sum(p.stat().st_size for p in files if p.is_file())
    with tqdm(total=total, unit="B", unit_scale=True, disable=not progress, file=sys.stderr) as bar:
        for path in files:
            for number, line in _lines(path, stats):
                bar.update(len(line))
                if not line.strip():
                    continue
                stats.lines += 1
                try:
                    mapped = decode_line(line, clock)
                    pending.extend(records_for(mapped.envelopes, topics, settings.phone_hash_key))
                except (PayloadError, EnvelopeError) as exc:
                    stats.errors.append(LineError(str(path), number, str(exc)))
                    continue
                except Exception as exc:
                    # Same rule as the webhooks: odd input is reported, never a crash.
                    stats.errors.append(LineError(str(path), number, f"unprocessable ({type(exc).__name__})"))
                    continue
                pending_envelopes += len(mapped.envelopes)
                stats.ignored += mapped.ignored + (1 if mapped.test_payload and not mapped.envelopes else 0)
                if len(pending) >= BATCH_RECORDS:
                    publisher.publish(pending)
                    stats.published += pending_envelopes
                    pending, pending_envelopes = [], 0
        if pending:
            publisher.publish(pending)
            stats.published += pending_envelopes
    return stats


def _lines(path: Path, stats: ReplayStats) -> Iterable[tuple[int, bytes]]:
    try:
        with path.open("rb") as handle:
            yield from enumerate(handle, start=1)
    except OSError as exc:
        stats.errors.append(LineError(str(path), 0, f"cannot read: {exc.strerror or exc}"))


def decode_line(line: bytes, clock: Callable[[], str] = now_iso) -> Mapped:
    """One JSON line as the envelopes it stands for (raises on a malformed line)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("not valid JSON") from exc
    if not isinstance(data, dict):
        raise PayloadError("line is not a JSON object")
    if "schema_version" in data:
        errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(part) for part in errors[0].absolute_path) or "envelope"
            raise EnvelopeError(f"{where}: {errors[0].validator} check failed")
        return Mapped((RawEnvelope.from_dict(data),))
    provider = data.get("provider")
    mapper = MAPPERS.get(provider) if isinstance(provider, str) else None
    if mapper is None:
        raise PayloadError(f"provider: expected one of {', '.join(sorted(MAPPERS))}")
    if "payload" not in data:
        raise PayloadError("payload: missing")
    moment = parse(data.get("received_at"))
    received_at = utc_iso(moment) if moment is not None else clock()
    return mapper(data["payload"], received_at)


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    text = resources.files("schema").joinpath("jsonschema/raw_envelope.v1.json").read_text()
    return Draft202012Validator(json.loads(text))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ingest.replay FILE...`; exit 1 when any line failed."""
    parser = argparse.ArgumentParser(prog="phoneunify replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="JSON-lines files of envelopes or stored provider payloads")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logs.setup()
    settings = Settings.from_env()
    settings.require("replay", "phone_hash_key")  # it keys the records, as the edge does
    publisher = KafkaPublisher(
        settings.kafka_bootstrap,
        timeout_s=settings.publish_timeout_s,
        max_request_size=settings.message_max_bytes,
    )
    try:
        stats = replay(args.files, settings, publisher, progress=not args.no_progress)
    finally:
        publisher.close()
    for error in stats.errors:
        print(f"error: {error}", file=sys.stderr)
    print(
        f"replayed {stats.lines} line(s): {stats.published} envelope(s) published, "
        f"{stats.ignored} ignored, {stats.failed} malformed",
        file=sys.stderr,
    )
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
