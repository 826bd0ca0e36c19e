"""What one message costs the resolver: the resolver child's work, in this process, on a real database.

Usage: ``.venv/bin/python bench/bench_resolver.py [--messages N] [--batch B] [--repeat R] [--profile]``

The pipeline benchmark needs a quiet machine and minutes; this needs neither. It builds the
resolve stage's input as the extract stage publishes it (bench/traffic.py backfill traffic
mapped by the ingest adapters, evidence gathered, each request encoded as on the resolve topic),
then feeds it, a batch at a time, to exactly what the resolver child runs per batch: decode the
requests, resolve them in one transaction, encode what to send. Every repeat uses a fresh
database and the same messages, so repeats compare.

Per message it reports the wall time, this process's CPU (the child's Python) and the CPU of
PostgreSQL's backend serving it (read from /proc), and the SQL statements sent per batch.
`--profile` also samples this process with py-spy and prints where its Python time goes
(bench/profile.py's categories).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2.extensions

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import profile  # noqa: E402
from bench.stack import Database, base_database_url, cpu_seconds, new_tag  # noqa: E402
from bench.traffic import BUSINESS_NUMBERS, Traffic  # noqa: E402
from phoneunify import gctune  # noqa: E402
from phoneunify.settings import Settings  # noqa: E402
from schema.envelopes import utc_iso  # noqa: E402
from workers.services.evidence import EvidencePolicy, gather  # noqa: E402

OUT = ROOT / ".local" / "bench"


def resolve_inputs(messages: int, seed: int = 7) -> list[bytes]:
    """The resolve topic's records for a backfill of `messages` deliveries."""
    settings = Settings(twilio_auth_token="x", meta_app_secret="x", booking_api_key="x")
    traffic = Traffic(settings, seed=seed)
    crowd = traffic.people(max(50, messages // 8))
    hooks = traffic.backfill(messages, crowd, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    policy = EvidencePolicy.build("US", BUSINESS_NUMBERS)
    values: list[bytes] = []
    for hook in hooks:
        for envelope in hook.envelopes(utc_iso(hook.at)):
            request, _rejected = gather(envelope, policy)
            values.append(request.to_json(envelope_json=envelope.to_json()))
    return values


@dataclass
class Run:
    messages: int
    wall_s: float
    cpu_s: float
    db_cpu_s: float
    statements: float

    def per_message_ms(self) -> dict[str, float]:
        n = max(self.messages, 1)
        return {
            "wall_ms": 1000 * self.wall_s / n,
            "cpu_ms": 1000 * self.cpu_s / n,
            "db_cpu_ms": 1000 * self.db_cpu_s / n,
        }


class _CountingCursor(psycopg2.extensions.cursor):
    """Counts every statement and COPY sent, whoever sends them (SQLAlchemy or bulk_sql)."""

    sent = 0

    def execute(self, query: Any, vars: Any = None) -> Any:
        _CountingCursor.sent += 1
        return super().execute(query, vars)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        _CountingCursor.sent += 1
        return super().copy_expert(sql, file, size)


def _child(database_url: str) -> tuple[Callable[[list[bytes]], object], Callable[[], int]]:
    """The resolver child's per-batch work as the composition root wires it, and a counter of
    the statements it sends."""
    from sqlalchemy import create_engine

    from workers import bootstrap

    engine = create_engine(database_url, connect_args={"cursor_factory": _CountingCursor})
    # The largest batch Settings allows: the child never splits a measured batch.
    settings = Settings(phone_hash_key="bench-key", resolve_batch_size=100_000)
    child = bootstrap.resolver_child(settings, uow=bootstrap.postgres_units(engine))
    # The real child tunes its collector once built (resolver_process.py): measure what it pays.
    gctune.tune()
    return child.resolve_values, lambda: _CountingCursor.sent


def run_once(values: list[bytes], batch: int, warmup: int) -> Run:
    db = Database(base_database_url(), f"pu_bench_resolver_{new_tag()}")
    try:
        work, statements = _child(db.url)
        for start in range(0, warmup, batch):
            work(values[start : min(start + batch, warmup)])
        backends = db.backend_pids()
        db_before = sum(cpu_seconds(pid) for pid in backends)
        counted_before = statements()
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        batches = 0
        for start in range(warmup, len(values), batch):
            work(values[start : start + batch])
            batches += 1
        wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
        db_cpu = sum(cpu_seconds(pid) for pid in backends) - db_before
        return Run(len(values) - warmup, wall, cpu, db_cpu, (statements() - counted_before) / max(batches, 1))
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=12000, help="messages resolved per repeat")
    parser.add_argument("--batch", type=int, default=500, help="messages per transaction (default 500)")
    parser.add_argument("--warmup", type=int, default=2000, help="messages resolved before measuring")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-database repeats (default 3)")
    parser.add_argument("--profile", action="store_true", help="sample this process with py-spy")
    args = parser.parse_args(argv)

    values = resolve_inputs(args.messages + args.warmup)
    print(
        f"resolver microbenchmark: {args.messages:,} messages after {args.warmup:,} warm-up,"
        f" batches of {args.batch}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    recording = None
    if args.profile:
        recording = profile.record("resolver", os.getpid(), 3600, OUT / "profile-resolver", rate=100)
    runs = []
    for number in range(args.repeat):
        run = run_once(values, args.batch, args.warmup)
        runs.append(run)
        figures = run.per_message_ms()
        print(
            f"  run {number + 1}: {figures['wall_ms']:.3f} ms wall, {figures['cpu_ms']:.3f} ms CPU,"
            f" {figures['db_cpu_ms']:.3f} ms PostgreSQL CPU per message;"
            f" {run.statements:.1f} statements per batch",
            flush=True,
        )
    best = min(runs, key=lambda r: r.wall_s).per_message_ms()
    median = statistics.median(r.wall_s / r.messages * 1000 for r in runs)
    rate = 1000 / best["wall_ms"]
    print(f"best {best['wall_ms']:.3f} ms/message wall (median {median:.3f}); {rate:.0f} msg/s")
    if recording is not None:
        recording.proc.send_signal(signal.SIGINT)
        recording.proc.wait(timeout=30)
        summary = profile.summarize(recording.output).as_dict()
        print("profile (share of this process's Python samples):")
        for key in ("categories_pct", "top_self_pct", "inclusive_pct"):
            print(f"  {key}: {summary[key]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
