"""End-to-end throughput and latency of the real pipeline, against a null pipeline's ceiling.

Usage: ``.venv/bin/python bench/bench_pipeline.py [--quick] [--messages N] [--rate R] [--duration S]``
(``make bench`` runs it after the extraction benchmark; Kafka and PostgreSQL from deploy/infra.sh).

Every run makes its own database and topics (like the tests) and starts the real processes:

1. backfill: N synthetic provider messages (bench/traffic.py: every channel, ~1/3 with a phone in
   the text, repeat senders, threads of several messages) are mapped by the ingest adapters and
   published straight to the raw topics; then the workers (extract and resolve in processes of
   their own, PHONEUNIFY_WORKER_STAGES; --one-process runs them together) and the timeline
   writer start, and we time raw topic -> committed timeline row. "Sustained" is the rate
   between the 10th and 90th percentile of the message rows' commit-transaction times
   (timeline_events.written_at, set by PostgreSQL's now()), so start-up and the tail do not
   dilute it; "total" is N over the whole run from process start to the last row seen.
2. latency: on the same stack, warm from the backfill, the ingest edge starts and signed webhooks
   are posted at a fixed rate (open loop, bench/loadgen.py). Latency is 2xx received -> row
   visible to a reader polling PostgreSQL by idempotency key every 20 ms (it overstates the
   truth by at most one poll interval). The first seconds are warm-up and not counted.
3. null pipeline: the same messages through pass-through faust agents and a COPY writer
   (bench/null_pipeline.py), same topics and partitions: the ceiling, and ours/null.
4. profile: a second backfill with py-spy sampling the workers and the writer (bench/profile.py),
   plus CPU seconds per component (/proc) and per-stage batch times from /metrics in every run.

Figures go to stdout as a table and to .local/bench/pipeline.json. Exits 1 when a target is
missed (full mode: sustained backfill >= --min-rate and >= --min-ratio of the null pipeline's,
p99 <= --max-p99-ms) or a row is missing. `--rounds N` runs the backfill of ours and of the null
N times in turn and judges the median of the rounds' ratios: on a shared machine one pair of runs
drifts by as much as most changes move the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import null_pipeline, profile  # noqa: E402
from bench.loadgen import Observer, send_open_loop  # noqa: E402
from bench.stack import (  # noqa: E402
    Database,
    Proc,
    base_database_url,
    bench_settings,
    cpu_seconds,
    create_topics,
    free_port,
    kafka_pid,
    new_tag,
    phoneunify,
    produce,
    replace,
    scrape,
    wait_for,
    wait_serving,
)
from bench.traffic import Traffic  # noqa: E402
from ingest.publisher import Record  # noqa: E402
from phoneunify.settings import Settings  # noqa: E402
from schema.topics import Topics  # noqa: E402

OUT = ROOT / ".local" / "bench"
# The message rows (identity and consent entries of the timeline have 'event:' keys): rates and
# counts are of messages, as the null pipeline's are.
MESSAGE_ROWS = "timeline_events where idempotency_key not like 'event:%'"


# --- one stack -------------------------------------------------------------------------------
@dataclass
class Stack:
    """A database, topics and the processes of one run; close() removes all of it."""

    tag: str
    db: Database
    settings: Settings
    replicas: int = 1
    split_stages: bool = False
    procs: dict[str, Proc] = field(default_factory=dict)

    @classmethod
    def create(cls, replicas: int = 1, split_stages: bool = False, **overrides: Any) -> Stack:
        tag = new_tag()
        db = Database(base_database_url(), f"pu_bench_{tag}")
        settings = bench_settings(db.url, tag, **overrides)
        create_topics(settings)
        return cls(tag, db, settings, replicas, split_stages)

    def start(self, name: str, proc: Proc, health: str) -> Proc:
        self.procs[name] = proc.start()
        wait_serving([(proc, health)], timeout=90)
        return proc

    def start_pipeline(self, null: bool = False) -> None:
        s = self.settings
        if null:
            null_pipeline.create_table(self.db.engine)
        # Worker replicas share the consumer group (Kafka splits the partitions between them);
        # each has its own web port and faust folder.
        waits: list[tuple[Proc, str]] = []
        # Each replica runs every stage, or with split_stages extract and resolve run in processes
        # of their own (two per replica, each stage in a consumer group of its own).
        split = self.split_stages and not null  # the null pipeline's agents are one app
        groups = [("extract",), ("resolve", "commands")] if split else [s.worker_stages]
        for index, stages in enumerate(g for _ in range(self.replicas) for g in groups):
            own = replace(s, worker_stages=tuple(stages))
            if index:
                own = replace(
                    own, worker_web_port=free_port(), worker_data_dir=f"{s.worker_data_dir}-{index + 1}"
                )
            name = "workers" if index == 0 else f"workers-{index + 1}"
            proc = Proc(f"null-{name}", ["-m", "bench.null_pipeline", "workers"], own) if null else None
            proc = proc or Proc(name, ["-m", "cli", "workers"], own)
            self.procs[name] = proc.start()
            waits.append((proc, f"http://127.0.0.1:{own.worker_web_port}/healthz"))
        writer = Proc("null-writer", ["-m", "bench.null_pipeline", "writer"], s) if null else None
        writer = writer or phoneunify("writer", s)
        # All start together, as a deployment would; then wait until each serves.
        self.procs["writer"] = writer.start()
        waits.append((writer, f"http://127.0.0.1:{s.writer_metrics_port}/metrics"))
        wait_serving(waits, timeout=90)

    def worker_ports(self) -> list[int]:
        return [
            proc.settings.worker_web_port for name, proc in self.procs.items() if name.startswith("workers")
        ]

    def stage_seconds(self) -> dict[str, dict[str, float]]:
        """Per-stage batch counts and seconds from the processes' own /metrics."""
        out: dict[str, dict[str, float]] = {}
        s = self.settings
        try:
            replicas = [scrape(f"http://127.0.0.1:{port}/metrics") for port in self.worker_ports()]
            writer = scrape(f"http://127.0.0.1:{s.writer_metrics_port}/metrics")
        except OSError:
            return out
        for stage in ("extract", "resolve"):
            count = f"phoneunify_worker_batch_seconds_count{{stage={stage}}}"
            total = f"phoneunify_worker_batch_seconds_sum{{stage={stage}}}"
            out[stage] = {
                "batches": sum(m.get(count, 0.0) for m in replicas),
                "seconds": sum(m.get(total, 0.0) for m in replicas),
            }
        out["writer"] = {
            "batches": writer.get("phoneunify_timeline_batch_seconds_count{}", 0.0),
            "seconds": writer.get("phoneunify_timeline_batch_seconds_sum{}", 0.0),
        }
        return out

    def close(self) -> None:
        """Stop the processes, drop the database and the topics; never raises (it runs in a
        finally, and must not hide what went wrong before it)."""
        for proc in self.procs.values():
            proc.stop()
        try:
            self.db.close()
        finally:
            _delete_topics(self.settings)


def _delete_topics(settings: Settings) -> None:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap.split(","), request_timeout_ms=30000
        )
    except Exception:  # the broker went away: nothing to clean
        return
    try:
        existing = set(admin.list_topics())
        mine = [t for t in Topics(settings.topic_prefix).all if t in existing]
        # faust's own internal topics (changelogs, leader election) carry the app id.
        mine += [t for t in existing if t.startswith(settings.worker_id)]
        if mine:
            admin.delete_topics(mine, timeout_ms=30000)
    except Exception as exc:
        print(f"(could not delete bench topics: {type(exc).__name__})", file=sys.stderr)
    finally:
        admin.close()


# --- CPU accounting --------------------------------------------------------------------------
class CpuMeter:
    """CPU seconds used by each component between start() and stop()."""

    def __init__(self, stack: Stack, names: Sequence[str]) -> None:
        self.stack = stack
        self.names = names
        self.before: dict[str, float] = {}
        self.backends_before: dict[int, float] = {}

    def _now(self) -> tuple[dict[str, float], dict[int, float]]:
        # A name covers its replicas ("workers" is workers, workers-2, ...).
        values = {
            name: sum(
                cpu_seconds(proc.pid)
                for key, proc in self.stack.procs.items()
                if key == name or key.startswith(name + "-")
            )
            for name in self.names
            if name in self.stack.procs
        }
        # With stages in processes of their own, each worker process too: which stage costs what.
        workers = [(k, p) for k, p in self.stack.procs.items() if k.startswith("workers")]
        if len(workers) > 1:
            for key, proc in workers:
                values[f"  {key}: {'+'.join(proc.settings.worker_stages)}"] = cpu_seconds(proc.pid)
        kafka = kafka_pid()
        if kafka is not None:
            values["kafka broker (shared)"] = cpu_seconds(kafka)
        backends = {pid: cpu_seconds(pid) for pid in self.stack.db.backend_pids()}
        return values, backends

    def start(self) -> CpuMeter:
        self.before, self.backends_before = self._now()
        return self

    def stop(self) -> dict[str, float]:
        after, backends = self._now()
        out = {name: round(after[name] - self.before.get(name, 0.0), 2) for name in after}
        out["postgres backends"] = round(
            sum(cpu - self.backends_before.get(pid, 0.0) for pid, cpu in backends.items()), 2
        )
        return out


# --- phases ----------------------------------------------------------------------------------
def backfill_records(
    traffic: Traffic, messages: int, people: int, topics: Topics, hash_key: str
) -> list[Record]:
    crowd = traffic.people(people)
    hooks = traffic.backfill(messages, crowd, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    return [record for hook in hooks for record in hook.records(topics, hash_key)]


def retarget(records: Sequence[Record], source: Topics, target: Topics) -> list[Record]:
    return [Record(target.prefix + r.topic[len(source.prefix) :], r.key, r.value) for r in records]


class RowsWritten:
    """Whether every message's row is in, asked of PostgreSQL only when it can be so.

    A count(*) over the table every poll cost PostgreSQL about 2 s of CPU in a 100,000-message
    run, growing with the table, on the machine the run measures. So the poll reads the writer's
    counter of rows written (it counts identity rows too, so it reaches `expected` a little
    early), and counts the message rows only once the counter has reached `expected` and stood
    still since the last poll: the writer is idle then, and the count is read once or twice."""

    def __init__(self, stack: Stack, rows_from: str, expected: int) -> None:
        self.stack = stack
        self.rows_from = rows_from
        self.expected = expected
        self.url = f"http://127.0.0.1:{stack.settings.writer_metrics_port}/metrics"
        self.last = -1.0

    def __call__(self) -> bool:
        if not _check_alive(self.stack):
            return False
        written = scrape(self.url).get("phoneunify_timeline_events_total{outcome=written}", 0.0)
        settled, self.last = written == self.last, written
        if written < self.expected or not settled:
            return False
        return bool(self.stack.db.scalar(f"select count(*) from {self.rows_from}") >= self.expected)


def run_backfill(
    stack: Stack,
    records: Sequence[Record],
    rows_from: str,
    timeout: float,
    null: bool = False,
    during: Callable[[Stack, float], Any] | None = None,
) -> dict[str, Any]:
    expected = len(records)
    produce_s = produce(stack.settings, records)
    started_wall = time.time()
    started = time.perf_counter()
    stack.start_pipeline(null=null)
    serving_s = time.perf_counter() - started
    meter = CpuMeter(stack, ("workers", "writer")).start()
    extra = during(stack, serving_s) if during else None
    wait_for(RowsWritten(stack, rows_from, expected), timeout, f"{expected} rows", interval=0.25)
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    stages = {} if null else stack.stage_seconds()
    with stack.db.engine.connect() as conn:
        times = [
            float(t)
            for t in conn.execute(
                text(f"select extract(epoch from written_at) from {rows_from} order by 1")
            ).scalars()
        ]
    rows = stack.db.scalar(f"select count(*) from {rows_from}")
    result: dict[str, Any] = {
        "messages": expected,
        "rows": rows,
        "produce_s": round(produce_s, 2),
        "startup_s": round(serving_s, 2),
        "first_row_s": round(times[0] - started_wall, 2) if times else None,
        # When the 10th, 50th, 90th and last percent of rows committed, from process start:
        # start-up and the tail show here, outside the sustained rate.
        "rows_at_s": {
            f"p{q}": round(times[min(len(times) - 1, len(times) * q // 100)] - started_wall, 2)
            for q in (10, 50, 90, 100)
        }
        if times
        else {},
        "elapsed_s": round(elapsed, 2),
        "total_rate": round(expected / elapsed, 1),
        "sustained_rate": None if (rate := _sustained(times)) is None else round(rate, 1),
        "cpu_s": cpu,
        "cpu_ms_per_msg": {k: round(1000 * v / expected, 3) for k, v in cpu.items()},
        "stages": stages,
    }
    if extra is not None:
        result["profile"] = extra
    return result


def _sustained(times: list[float]) -> float | None:
    """Rows per second between the 10th and the 90th percentile of commit times (a row's time is
    its writer transaction's start, so rows come in steps of one batch). None when that span
    holds too few transactions to call anything steady (a small run: see total_rate)."""
    if len(times) < 20:
        return None
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    if len(set(times[lo : hi + 1])) < 10:
        return None
    return (hi - lo) / max(times[hi] - times[lo], 1e-3)


def _check_alive(stack: Stack) -> bool:
    for proc in stack.procs.values():
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
    return True


def run_latency(
    stack: Stack, traffic: Traffic, rate: float, duration: float, warmup: float
) -> dict[str, Any]:
    s = stack.settings
    ingest = phoneunify("ingest", s)
    stack.start("ingest", ingest, f"http://127.0.0.1:{s.ingest_port}/healthz")
    crowd = traffic.people(max(200, int(rate * duration / 6)))
    count = int(rate * duration)
    hooks = traffic.live(count, crowd, datetime.now(UTC) + timedelta(seconds=1), rate)
    keys = [tuple(e.idempotency_key for e in hook.envelopes("2026-01-01T00:00:00.000Z")) for hook in hooks]
    observer = Observer(s.database_url).start()
    meter = CpuMeter(stack, ("ingest", "workers", "writer")).start()
    stages_before = stack.stage_seconds()
    # perf_counter (the observer's clock) to wall clock, for the stages' own timestamps.
    wall_offset = time.time() - time.perf_counter()
    started = time.perf_counter()
    own_cpu = time.process_time()
    outcomes = send_open_loop(hooks, keys, s.ingest_port, rate, observer)
    send_s = time.perf_counter() - started
    observer.finish(timeout=60 + count / 100)
    cpu = meter.stop()
    # The load generator and the observer share the machine too: their CPU, for the record.
    cpu["bench client (load + observer)"] = round(time.process_time() - own_cpu, 2)
    stages = _stage_delta(stages_before, stack.stage_seconds())
    first_due = outcomes[0].due
    counted = [o for o in outcomes if o.due - first_due >= warmup]
    counted_keys = {k for o in counted if o.accepted for k in o.keys}
    lat = sorted(observer.visible[k] - observer.accepted[k] for k in counted_keys if k in observer.visible)
    edge = sorted(o.accepted - o.due for o in counted if 200 <= o.status < 300)
    statuses: dict[str, int] = {}
    for o in outcomes:
        label = str(o.status) if o.status else (o.error or "none")
        statuses[label] = statuses.get(label, 0) + 1
    return {
        "breakdown_ms": _breakdown(stack, observer, counted_keys, wall_offset),
        "stages": stages,
        "offered_rate": rate,
        "duration_s": duration,
        "warmup_s": warmup,
        "webhooks": len(outcomes),
        "send_s": round(send_s, 2),
        "statuses": statuses,
        "accepted": sum(1 for o in outcomes if 200 <= o.status < 300),
        "rows_expected": len(observer.accepted),
        "rows_missing": observer.missing(),
        "counted": len(lat),
        "visible_ms": _percentiles(lat),
        "edge_ms": _percentiles(edge),
        "poll_interval_ms": observer.interval * 1000,
        "cpu_s": cpu,
        "cpu_ms_per_msg": {k: round(1000 * v / max(len(outcomes), 1), 3) for k, v in cpu.items()},
    }


def _stage_delta(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    out = {}
    for stage, figures in after.items():
        batches = figures["batches"] - before.get(stage, {}).get("batches", 0.0)
        seconds = figures["seconds"] - before.get(stage, {}).get("seconds", 0.0)
        out[stage] = {"batches": batches, "seconds": round(seconds, 3)}
    return out


def _breakdown(stack: Stack, observer: Observer, keys: set[str], wall_offset: float) -> dict[str, Any]:
    """Where a message's latency goes, from timestamps the pipeline leaves anyway: accepted
    (2xx read) -> seen by the extract stage (payload.seen_ms) -> its timeline row's transaction
    began (written_at, PostgreSQL's now()) -> visible to the observer."""
    with stack.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT idempotency_key, (payload->>'seen_ms')::bigint, extract(epoch FROM written_at)"
                " FROM timeline_events WHERE idempotency_key = ANY(:k)"
            ),
            {"k": list(keys)},
        ).all()
    to_extract, to_txn, to_visible = [], [], []
    for key, seen_ms, written in rows:
        if key not in observer.visible or not seen_ms:
            continue
        accepted = observer.accepted[key] + wall_offset
        visible = observer.visible[key] + wall_offset
        to_extract.append(seen_ms / 1000 - accepted)
        to_txn.append(float(written) - seen_ms / 1000)
        to_visible.append(visible - float(written))
    return {
        "accepted_to_extract": _percentiles(to_extract),
        "extract_to_row_txn": _percentiles(to_txn),
        "row_txn_to_visible": _percentiles(to_visible),
    }


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(1000 * ordered[-1], 1),
        "mean": round(1000 * statistics.fmean(ordered), 1),
    }


def profile_during(seconds: float) -> Callable[[Stack, float], Any]:
    """Start py-spy on every workers process and the writer for `seconds` (after they serve)."""

    def start(stack: Stack, _serving_s: float) -> Any:
        out_dir = OUT / "profile"
        names = [name for name in stack.procs if name.startswith("workers")] + ["writer"]
        return [profile.record(label(stack, name), stack.procs[name].pid, seconds, out_dir) for name in names]

    return start


def label(stack: Stack, name: str) -> str:
    """A process's name in the profile: workers processes say which stages they run."""
    if not name.startswith("workers"):
        return name
    return f"{name}-{'+'.join(stack.procs[name].settings.worker_stages)}"


# --- main ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and fast: a smoke run, no targets")
    parser.add_argument("--messages", type=int, help="backfill messages (default 100000; quick 1500)")
    parser.add_argument("--rate", type=float, help="latency run: webhooks per second (default 1000)")
    parser.add_argument("--duration", type=float, help="latency run: seconds of load (default 25)")
    parser.add_argument("--min-rate", type=float, default=5000.0, help="target: sustained backfill msgs/s")
    parser.add_argument(
        "--min-ratio",
        type=float,
        default=0.6,
        help="target: sustained backfill as a share of the null pipeline's (when it runs)",
    )
    parser.add_argument("--max-p99-ms", type=float, default=500.0, help="target: p99 latency in ms")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="backfill rounds, ours then the null in turn; the ratio judged is the rounds' median",
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="worker processes sharing the consumer group (default 1)"
    )
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="every worker stage in one process (default: extract and resolve in processes of their own)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled run")
    parser.add_argument("--no-null", action="store_true", help="skip the null pipeline")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency run")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a Settings override"
    )
    args = parser.parse_args(argv)

    quick = args.quick
    messages = args.messages or (1500 if quick else 100_000)
    rate = args.rate or (200.0 if quick else 1000.0)
    duration = args.duration or (4.0 if quick else 25.0)
    warmup = 1.0 if quick else 3.0
    do_profile = not (quick or args.no_profile)
    overrides = _overrides(args.set)
    out_path = args.json or OUT / ("pipeline-quick.json" if quick else "pipeline.json")
    timeout = 120 + messages / 200

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": {"cpus": os.cpu_count()},
        "settings": overrides,
    }
    print(f"pipeline benchmark ({report['mode']}): {messages:,} backfill messages", flush=True)

    stack = Stack.create(args.replicas, not args.one_process, **overrides)
    try:
        topics = Topics(stack.settings.topic_prefix)
        traffic = Traffic(stack.settings)
        records = backfill_records(
            traffic, messages, max(50, messages // 8), topics, stack.settings.phone_hash_key
        )
        report["settings"] = {
            "topic_partitions": stack.settings.topic_partitions,
            "resolve_batch_size": stack.settings.resolve_batch_size,
            "resolve_batch_within_s": stack.settings.resolve_batch_within_s,
            "writer_batch_size": stack.settings.writer_batch_size,
            **overrides,
        }
        print("  backfill ...", flush=True)
        report["backfill"] = run_backfill(stack, records, MESSAGE_ROWS, timeout)
        if not args.no_latency:
            print(f"  latency at {rate:g}/s for {duration:g}s ...", flush=True)
            report["latency"] = run_latency(stack, traffic, rate, duration, warmup)
    finally:
        stack.close()

    def backfill_again(null: bool, during: Callable[[Stack, float], Any] | None = None) -> dict[str, Any]:
        """The same records through a fresh stack: ours, or the null pipeline."""
        again = Stack.create(args.replicas, not args.one_process, **overrides)
        try:
            moved = retarget(records, topics, Topics(again.settings.topic_prefix))
            rows_from = null_pipeline.TABLE if null else MESSAGE_ROWS
            return run_backfill(again, moved, rows_from, timeout, null=null, during=during)
        finally:
            again.close()

    if not args.no_null:
        print("  null pipeline ...", flush=True)
        report["null"] = backfill_again(null=True)
        if args.rounds > 1:
            ours_rates = [report["backfill"]["sustained_rate"]]
            null_rates = [report["null"]["sustained_rate"]]
            for n in range(2, args.rounds + 1):
                print(f"  round {n} of {args.rounds}: ours, then the null ...", flush=True)
                ours_rates.append(backfill_again(null=False)["sustained_rate"])
                null_rates.append(backfill_again(null=True)["sustained_rate"])
            report["rounds"] = rounds_summary(ours_rates, null_rates)

    if do_profile:
        if profile.pyspy() is None:
            report["profile"] = {"error": "py-spy not installed (make venv)"}
        else:
            print("  profiled backfill ...", flush=True)
            seconds = report["backfill"]["elapsed_s"] - report["backfill"]["startup_s"]
            prof_stack = Stack.create(args.replicas, not args.one_process, **overrides)
            try:
                prof_records = retarget(records, topics, Topics(prof_stack.settings.topic_prefix))
                run = run_backfill(
                    prof_stack,
                    prof_records,
                    MESSAGE_ROWS,
                    timeout,
                    during=profile_during(seconds),
                )
                recordings = run.pop("profile", [])
                for recording in recordings:
                    if recording is not None:
                        recording.proc.wait(timeout=seconds + 60)
                report["profile"] = {
                    "backfill_under_profiler": {k: run[k] for k in ("sustained_rate", "elapsed_s", "cpu_s")},
                    **{r.name: profile.summarize(r.output).as_dict() for r in recordings if r is not None},
                }
            finally:
                prof_stack.close()

    failures = _verdict(report, quick, args.min_rate, args.max_p99_ms, args.min_ratio)
    report["failures"] = failures
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"figures: {out_path}")
    if failures:
        print("MISSED: " + "; ".join(failures))
    return 1 if failures else 0


def _overrides(pairs: Sequence[str]) -> dict[str, Any]:
    from dataclasses import fields

    from phoneunify.settings import _coerce

    defaults = {f.name: f.default for f in fields(Settings)}
    out: dict[str, Any] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in defaults:
            raise SystemExit(f"--set: unknown setting {name!r}")
        out[name] = _coerce(value, defaults[name])
    return out


def rounds_summary(ours: Sequence[float | None], null: Sequence[float | None]) -> dict[str, Any]:
    """Rounds of ours and the null run in turn. The ratio is taken within each round (the two ran
    minutes apart, on the machine as it was then) and its median judged: the machine drifts by as
    much as a change moves the ratio, and one pair of runs cannot tell them apart."""
    ratios = [o / n for o, n in zip(ours, null, strict=True) if o and n]
    return {
        "ours": list(ours),
        "null": list(null),
        "ratios": [round(r, 3) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
    }


def _verdict(
    report: dict[str, Any], quick: bool, min_rate: float, max_p99: float, min_ratio: float = 0.0
) -> list[str]:
    failures: list[str] = []
    backfill = report.get("backfill", {})
    if backfill.get("rows") != backfill.get("messages"):
        failures.append(f"backfill rows {backfill.get('rows')} != messages {backfill.get('messages')}")
    latency = report.get("latency")
    if latency is not None and latency["rows_missing"]:
        failures.append(f"latency run: {latency['rows_missing']} accepted message(s) never became rows")
    if latency is not None and latency["accepted"] != latency["webhooks"]:
        failures.append(f"latency run: {latency['webhooks'] - latency['accepted']} webhook(s) not accepted")
    null = report.get("null")
    if null is not None and null.get("rows") != null.get("messages"):
        failures.append("null pipeline lost rows")
    if quick:
        return failures
    if (backfill.get("sustained_rate") or 0) < min_rate:
        failures.append(f"sustained backfill {backfill.get('sustained_rate')}/s < {min_rate:g}/s")
    ours, theirs = backfill.get("sustained_rate"), (null or {}).get("sustained_rate")
    ratio = ours / theirs if ours and theirs else None
    if report.get("rounds"):
        ratio = report["rounds"]["ratio_median"]
    if ratio is not None and ratio < min_ratio:
        failures.append(f"sustained backfill {ratio:.2f} of the null pipeline's < {min_ratio:g}")
    if latency is not None and latency["visible_ms"].get("p99", float("inf")) > max_p99:
        failures.append(f"p99 {latency['visible_ms'].get('p99')} ms > {max_p99:g} ms")
    return failures


def print_table(report: dict[str, Any]) -> None:
    b = report["backfill"]
    null = report.get("null")
    print()
    print(f"{'':34}{'ours':>14}{'null':>14}{'ours/null':>11}")

    def line(label: str, key: str, fmt: str = "{:,.0f}") -> None:
        ours = b.get(key)
        theirs = null.get(key) if null else None
        ratio = f"{ours / theirs:.2f}" if ours and theirs else ""
        print(
            f"{label:34}{fmt.format(ours) if ours is not None else '-':>14}"
            f"{fmt.format(theirs) if theirs is not None else '-':>14}{ratio:>11}"
        )

    line("backfill messages", "messages")
    line("sustained msgs/s (p10-p90 rows)", "sustained_rate")
    line("total msgs/s (incl. start-up)", "total_rate")
    line("seconds, start to last row", "elapsed_s", "{:.1f}")
    line("seconds to start serving", "startup_s", "{:.1f}")
    print("CPU ms per message:")
    for name, value in b["cpu_ms_per_msg"].items():
        theirs = null["cpu_ms_per_msg"].get(name) if null else None
        print(f"  {name:32}{value:>14.3f}{'' if theirs is None else f'{theirs:.3f}':>14}")
    for stage, figures in b.get("stages", {}).items():
        if figures.get("batches"):
            print(
                f"  stage {stage:10} {figures['batches']:>6.0f} batches,"
                f" {figures['seconds']:.1f}s in batches,"
                f" {1000 * figures['seconds'] / figures['batches']:.1f} ms per batch"
            )
    rounds = report.get("rounds")
    if rounds:
        pairs = zip(rounds["ours"], rounds["null"], strict=True)
        print(
            "rounds (sustained msgs/s, ours / null): "
            + ", ".join(f"{o or 0:,.0f} / {n or 0:,.0f}" for o, n in pairs)
            + f"; ours/null {rounds['ratios']}, median {rounds['ratio_median']}"
        )
    latency = report.get("latency")
    if latency:
        v, e = latency["visible_ms"], latency["edge_ms"]
        print(
            f"\nlatency at {latency['offered_rate']:g} webhooks/s for {latency['duration_s']:g}s"
            f" ({latency['counted']:,} messages after {latency['warmup_s']:g}s warm-up;"
            f" statuses {latency['statuses']}):"
        )
        print(f"  {'':30}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
        for label, values in (("2xx -> row visible (ms)", v), ("due -> 2xx at the edge (ms)", e)):
            print(
                f"  {label:30}"
                + "".join(f"{values.get(q, float('nan')):>8.0f}" for q in ("p50", "p95", "p99", "max"))
            )
        for label, key in (
            ("  accepted -> extract stage", "accepted_to_extract"),
            ("  extract -> row transaction", "extract_to_row_txn"),
            ("  row transaction -> visible", "row_txn_to_visible"),
        ):
            values = latency["breakdown_ms"].get(key, {})
            print(
                f"{label:32}"
                + "".join(f"{values.get(q, float('nan')):>8.0f}" for q in ("p50", "p95", "p99", "max"))
            )
        print(
            "  CPU ms per message: " + ", ".join(f"{k} {v:.3f}" for k, v in latency["cpu_ms_per_msg"].items())
        )
    prof = report.get("profile")
    if prof and "error" not in prof:
        print(f"\nprofile (py-spy, CPU samples; run under the profiler: {prof['backfill_under_profiler']})")
        for name in (key for key in prof if key != "backfill_under_profiler"):
            summary = prof.get(name)
            if not summary:
                continue
            print(f"  {name} ({summary['samples']} samples), % of CPU by where it was spent:")
            print("    " + ", ".join(f"{k} {v}" for k, v in summary["categories_pct"].items()))
            print("    inclusive: " + ", ".join(f"{k} {v}" for k, v in summary["inclusive_pct"].items()))
    elif prof:
        print(f"\nprofile: {prof['error']}")
    print()


if __name__ == "__main__":
    raise SystemExit(main())
