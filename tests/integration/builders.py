"""Seeding the real database the way the pipeline does, for the API and timeline tests.

`Pipeline` wraps the identity scenarios' `Script` (real extract stage, real resolver, real
CommandHandler) and adds what the timeline writer does: every emitted linked event goes through
the real projection and `write_batch` into `timeline_events`. Nothing is inserted by hand.
`api_client` builds the real FastAPI app over the same database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from api.app import create_app
from ingest.publisher import Publisher, Record
from phoneunify.settings import Settings
from schema.envelopes import RawEnvelope, utc_iso
from schema.linked import LinkedEvent
from tests.identity_scenarios import BUSINESS, T0, Script
from workers.timeline.projection import Change, Row, project
from workers.timeline.store import write_batch

__all__ = ["BUSINESS", "T0", "Pipeline", "api_client", "at", "retimed"]

TOKEN = "test-api-token-0001"
# A second admin, configured by the digest of their token only (as a secret store would hold it).
SECOND_TOKEN = "second-admin-token-0002"
CREDENTIALS = (f"ops:{TOKEN}", "second:sha256:" + hashlib.sha256(SECOND_TOKEN.encode()).hexdigest())


def at(minutes: float) -> datetime:
    """A moment `minutes` after the scenarios' T0."""
    return T0 + timedelta(minutes=minutes)


def retimed(envelope: RawEnvelope, moment: datetime) -> RawEnvelope:
    """The same envelope as if the provider had said it happened at `moment`."""
    stamp = utc_iso(moment)
    return dataclasses.replace(envelope, occurred_at=stamp, received_at=stamp)


@dataclasses.dataclass(kw_only=True)
class Pipeline(Script):
    """Resolver + admin commands + timeline writer, all real, in one process."""

    written: int = 0

    def flush(self, order: str = "emitted", seed: int = 0) -> int:
        """Write the events emitted since the last flush, as the timeline writer would, one event
        per batch so arrival order matters. `order`: emitted, reversed or shuffled; or together,
        all in one batch (the writer must then see what the batch itself holds)."""
        pending = self.stream[self.written :]
        self.written = len(self.stream)
        if order == "together":
            return write_events(self.engine, pending)
        if order == "reversed":
            pending = pending[::-1]
        elif order == "shuffled":
            pending = list(pending)
            random.Random(seed).shuffle(pending)
        inserted = 0
        for event in pending:
            inserted += write_events(self.engine, [event])
        return inserted

    def run(self, *envelopes: RawEnvelope) -> list[LinkedEvent]:
        """Resolve one batch and write its events to the timeline."""
        events = self.send(*envelopes)
        self.flush()
        return events

    def admin(self, action: str, **params: Any) -> list[LinkedEvent]:
        """Apply an admin command and write its events to the timeline."""
        events = self.command(action, **params)
        self.flush()
        return events


def write_events(engine: Engine, events: Sequence[LinkedEvent]) -> int:
    rows: list[Row] = []
    reprojections: list[Change] = []
    for event in events:
        row, reproject = project(event)
        rows.append(row)
        if reproject is not None:
            reprojections.append(reproject)
    return write_batch(engine, rows, reprojections)


class RecordingPublisher:
    """Keeps what the API published, for tests that do not need the broker."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def publish(self, records: Sequence[Record]) -> None:
        self.records.extend(records)

    def close(self) -> None:
        return None


@contextmanager
def api_client(
    settings: Settings, engine: Engine, publisher: Publisher | None = None, token: str | None = TOKEN
) -> Iterator[TestClient]:
    """The real API app over the test database; every request carries `token` unless None."""
    settings = dataclasses.replace(settings, api_tokens=CREDENTIALS)
    app = create_app(settings, engine, publisher or RecordingPublisher(), CollectorRegistry())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with TestClient(app, headers=headers, follow_redirects=False) as client:
        yield client
