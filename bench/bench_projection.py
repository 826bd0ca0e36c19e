"""Microseconds per message of the timeline writer's pure projection (`workers.timeline.projection`).

Usage: ``.venv/bin/python bench/bench_projection.py [--passes 7] [--write [--messages N] [--repeat R]]``

The writer projects every linked event before its batch insert, so what the projection costs per
message is paid by every backfill. This times `project()` alone on `timeline.event`s made from the
business chat corpus (tests/corpus/business_chat*.jsonl: several languages, inbound and outbound,
as labelled), one untimed pass first, then `--passes` timed passes; it prints the best and the
median pass in microseconds of CPU time per message, overall and for inbound and outbound apart.
Informational: no gate (a timing gate on a shared machine would be noise), but run it before and
after changing the projection and compare.

`--write` also measures the whole writer's work per linked event on bench traffic, with the
shared PostgreSQL (DATABASE_URL): bench/bench_resolver.py's backfill is resolved by the resolver
child into a fresh database, and its linked events (identity changes included) are decoded
(`LinkedEvent.from_json`), projected and written by `write_batch` a batch at a time (the writer's
default size), with the garbage collector tuned as in the writer's process (phoneunify.gctune).
It prints, per repeat, the decode and projection microseconds of this process's CPU per event,
and write_batch's microseconds of this process's CPU (Python) and of PostgreSQL's backend CPU
(read from /proc) per row. Each repeat empties timeline_events first, so repeats
write the same rows into the same identity tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from phoneunify import gctune  # noqa: E402
from schema.linked import LinkedEvent  # noqa: E402
from workers.timeline.projection import Change, Row, project  # noqa: E402

CORPUS = sorted((ROOT / "tests" / "corpus").glob("business_chat*.jsonl"))


def events() -> list[LinkedEvent]:
    out: list[LinkedEvent] = []
    for path in CORPUS:
        for n, line in enumerate(path.read_text().splitlines()):
            case = json.loads(line)
            data = {
                "idempotency_key": f"{case.get('channel', 'sms')}:{path.stem}-{n}",
                "thread_id": "3f1c2d3e-8a4b-5c6d-9e7f-0a1b2c3d4e5f",
                "owner_customer_id": None,
                "type": "sms",
                "channel": case.get("channel", "sms"),
                "platform": case.get("channel", "sms"),
                "kind": "message",
                "direction": case.get("direction", "in"),
                "content": case["text"],
                "sender": "customer",
                "attachments": [],
                "status": None,
                "booking": None,
                "evidence": [],
                "seen_ms": 1,
                "received_at": "2025-11-21T10:30:00Z",
            }
            out.append(LinkedEvent("timeline.event", f"e{n}", "2025-11-21T10:30:00Z", None, data))
    return out


def timed(batch: list[LinkedEvent]) -> float:
    # CPU time of this process: on a shared machine, wall time also counts other processes' turns.
    started = time.process_time()
    for event in batch:
        project(event)
    return (time.process_time() - started) / max(1, len(batch)) * 1e6


def linked_payloads(database_url: str, messages: int) -> list[bytes]:
    """customer.linked records for a backfill of `messages` deliveries, as the resolver child
    emits them, its identity tables left in the database at `database_url`."""
    from bench.bench_resolver import _child, resolve_inputs

    values = resolve_inputs(messages)
    work, _statements = _child(database_url)
    payloads: list[bytes] = []
    for start in range(0, len(values), 1000):
        payloads += [value for _key, value in work(values[start : start + 1000]).linked]  # type: ignore[attr-defined]
    return payloads


def write_once(db: Any, payloads: list[bytes], batch: int) -> dict[str, float]:
    """One repeat, a batch at a time as the writer's poll loop goes: decode, project, write_batch.
    Figures in microseconds per event (row)."""
    from sqlalchemy import text

    from bench.stack import cpu_seconds
    from phoneunify.db import make_engine
    from workers.timeline.store import write_batch

    engine = make_engine(db.url)
    totals = dict.fromkeys(("from_json", "project", "write_python", "write_postgres"), 0.0)
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE timeline_events"))
        backends = db.backend_pids()
        for start in range(0, len(payloads), batch):
            began = time.process_time()
            events = [LinkedEvent.from_json(p) for p in payloads[start : start + batch]]
            decoded = time.process_time()
            projected = [project(event) for event in events]
            rows: list[Row] = [row for row, _ in projected]
            changes: list[Change] = [change for _, change in projected if change is not None]
            done = time.process_time()
            db_before = sum(cpu_seconds(pid) for pid in backends)
            write_began = time.process_time()
            write_batch(engine, rows, changes)
            written = time.process_time()
            totals["write_postgres"] += sum(cpu_seconds(pid) for pid in backends) - db_before
            totals["from_json"] += decoded - began
            totals["project"] += done - decoded
            totals["write_python"] += written - write_began
        return {name: 1e6 * seconds / max(1, len(payloads)) for name, seconds in totals.items()}
    finally:
        engine.dispose()


def bench_write(messages: int, repeat: int, batch: int) -> None:
    from bench.stack import Database, base_database_url, new_tag

    db = Database(base_database_url(), f"pu_bench_projection_{new_tag()}")
    try:
        payloads = linked_payloads(db.url, messages)
        print(
            f"writer on bench traffic: {len(payloads):,} linked events from {messages:,} messages,"
            f" batches of {batch}"
        )
        write_once(db, payloads[: batch * 2], batch)  # warm-up: caches, lazily built analyzers, connections
        gctune.tune()  # as the writer does once started (workers/timeline/__main__.py)
        for number in range(repeat):
            f = write_once(db, payloads, batch)
            print(
                f"  run {number + 1}: from_json {f['from_json']:5.1f} us/event,"
                f" project {f['project']:5.1f} us/event; write_batch {f['write_python']:5.1f} us Python"
                f" + {f['write_postgres']:5.1f} us PostgreSQL per row",
                flush=True,
            )
    finally:
        db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument(
        "--write", action="store_true", help="also measure the writer on bench traffic and PostgreSQL"
    )
    parser.add_argument("--messages", type=int, default=20000, help="bench traffic messages for --write")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of --write")
    parser.add_argument("--batch", type=int, default=1000, help="rows per write_batch (the writer's default)")
    args = parser.parse_args()
    every = events()
    groups = {
        "all": every,
        "inbound": [e for e in every if e.data["direction"] == "in"],
        "outbound": [e for e in every if e.data["direction"] == "out"],
    }
    timed(every)  # warm-up: caches, lazily built analyzers
    print(f"project() over {len(every)} corpus messages, {args.passes} passes")
    for name, batch in groups.items():
        if not batch:
            continue
        passes = [timed(batch) for _ in range(args.passes)]
        print(
            f"  {name:<9} {len(batch):>5} messages: best {min(passes):7.1f} us/message,"
            f" median {statistics.median(passes):7.1f}"
        )
    if args.write:
        bench_write(args.messages, args.repeat, args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
