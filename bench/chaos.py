"""The fault suite: signed webhooks stream through the real stack while faults strike mid-stream.

Usage: ``.venv/bin/python bench/chaos.py [--messages 20000] [--rate 120] [--faults a,b,...]``
(``make chaos``; a smaller run is tests/e2e/test_chaos.py in ``make test``).

It runs its OWN Kafka and PostgreSQL (deploy/infra.sh with a private PHONEUNIFY_LOCAL_DIR under
.local/chaos/ and free ports), because it kills them: the shared servers of a developer or a CI
machine are never touched. The stack is what `make up` runs: deploy/stack.sh, with every process
under the supervisor, in development mode. Traffic is bench/traffic.py's signed webhooks of every
channel, posted open loop by bench/loadgen.py, a phase per fault, the fault struck halfway:

  ingest, workers, resolver, writer, api   SIGKILL of that process (the supervisor restarts it)
  kafka                                    the broker SIGKILLed, started again 10 s later
  postgres                                 PostgreSQL stopped in immediate mode, started 10 s later
  oversized                                a 1.2 MB booking (stored), a body over the body limit
                                           and one that would outgrow the record limit (both 413)
  hostile                                  forged, unsigned, malformed and oversized webhooks, slow
                                           clients, anonymous 1 MB API posts and NUL URLs

A delivery that did not get a 2xx is delivered again after its phase, as providers do. "Seconds
to recover" is from the fault to the first moment every process answers its health check and a
canary message sent after the fault is on the timeline. At the end, once the pipeline drained:
acked (2xx deliveries' messages), rows (of those, on the timeline), lost (acked, no row), doubled
(more than one row for a message), phone violations (a person whose provider-attested messages -
SMS, WhatsApp - are not all on one customer). Exit 1 unless lost, doubled and violations are 0,
every fault recovered, and no hostile request got a 5xx or reached the timeline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import Outcome, send_open_loop  # noqa: E402
from bench.stack import free_port, serves  # noqa: E402
from bench.traffic import BUSINESS_NUMBERS, Person, Traffic, Webhook  # noqa: E402
from phoneunify.settings import Settings  # noqa: E402
from schema.envelopes import utc_iso  # noqa: E402

PROCESS_FAULTS = ("ingest", "workers", "resolver", "writer", "api")
FAULTS = (*PROCESS_FAULTS, "kafka", "postgres", "oversized", "hostile")
ATTESTED = ("sms", "ringcentral", "whatsapp")  # the provider vouches for the sender's number
OUTAGE_S = 10.0


# --- the private infrastructure and the stack ---------------------------------------------------


class Lab:
    """Kafka, PostgreSQL and the supervised stack of one run, on private ports and folders."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = {
            name: free_port()
            for name in ("kafka", "controller", "pg", "ingest", "api", "workers", "resolver", "writer", "sup")
        }
        self.database_url = (
            f"postgresql+psycopg2://phoneunify:phoneunify@127.0.0.1:{self.ports['pg']}/phoneunify"
        )
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PHONEUNIFY_", "KAFKA_", "PG_", "STACK_")) and k != "DATABASE_URL"
        }
        self.infra_env = {
            **inherited,
            "PHONEUNIFY_LOCAL_DIR": str(root),
            "KAFKA_PORT": str(self.ports["kafka"]),
            "KAFKA_CONTROLLER_PORT": str(self.ports["controller"]),
            "PG_PORT": str(self.ports["pg"]),
        }
        self.env = {
            **self.infra_env,
            "PHONEUNIFY_ENV": "dev",
            "KAFKA_BOOTSTRAP": f"127.0.0.1:{self.ports['kafka']}",
            "DATABASE_URL": self.database_url,
            "PHONEUNIFY_INGEST_PORT": str(self.ports["ingest"]),
            "PHONEUNIFY_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.ports['ingest']}",
            "PHONEUNIFY_API_PORT": str(self.ports["api"]),
            "PHONEUNIFY_WORKER_WEB_PORT": str(self.ports["workers"]),
            "STACK_RESOLVER_PORT": str(self.ports["resolver"]),
            "PHONEUNIFY_WRITER_METRICS_PORT": str(self.ports["writer"]),
            "STACK_SUPERVISOR_PORT": str(self.ports["sup"]),
            "PHONEUNIFY_WORKER_DATA_DIR": str(root / "faust"),
            "PHONEUNIFY_BUSINESS_NUMBERS": ",".join(BUSINESS_NUMBERS),
        }
        self.settings = Settings.from_env(self.env)

    def sh(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> None:
        log = self.root / "logs" / "lab.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            done = subprocess.run(  # noqa: PLW1510 - the status is checked below, with the log's name
                list(argv),
                cwd=ROOT,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed (exit {done.returncode}); see {log}")

    def up(self) -> None:
        self.sh("deploy/infra.sh", "up", env=self.infra_env, timeout=600)
        self.sh("deploy/stack.sh", "start")

    def down(self) -> None:
        with suppress(Exception):
            self.sh("deploy/stack.sh", "stop", timeout=120)
        with suppress(Exception):
            self.sh("deploy/infra.sh", "down", env=self.infra_env, timeout=180)
        for data in ("kafka", "postgres", "faust"):  # logs stay, for whoever reads the table
            shutil.rmtree(self.root / data, ignore_errors=True)

    def pid(self, name: str) -> int | None:
        state = json.loads((self.root / "run" / "supervisor.json").read_text())
        pid = state["programs"][name]["pid"]
        return int(pid) if pid else None

    def restarts(self) -> dict[str, int]:
        state = json.loads((self.root / "run" / "supervisor.json").read_text())
        return {name: int(p["restarts"]) for name, p in state["programs"].items()}

    def health_urls(self) -> list[str]:
        p = self.ports
        return [
            f"http://127.0.0.1:{p['ingest']}/healthz",
            f"http://127.0.0.1:{p['workers']}/healthz",
            f"http://127.0.0.1:{p['resolver']}/healthz",
            f"http://127.0.0.1:{p['writer']}/metrics",
            f"http://127.0.0.1:{p['api']}/healthz",
        ]

    def all_healthy(self) -> bool:
        return all(serves(url) for url in self.health_urls())

    # --- faults --------------------------------------------------------------------------------
    def kill(self, name: str) -> None:
        pid = self.pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running, nothing to kill")
        os.kill(pid, signal.SIGKILL)

    def kafka_crash(self) -> None:
        self.sh("deploy/kafka/kafka.sh", "kill", env=self.infra_env)

    def kafka_start(self) -> None:
        self.sh("deploy/kafka/kafka.sh", "start", env=self.infra_env, timeout=300)

    def postgres_crash(self) -> None:
        self.sh("deploy/postgres/postgres.sh", "stop", env={**self.infra_env, "PG_STOP_MODE": "immediate"})

    def postgres_start(self) -> None:
        self.sh("deploy/postgres/postgres.sh", "start", env=self.infra_env, timeout=300)


# --- the timeline, read while PostgreSQL may be down ----------------------------------------------


class Timeline:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._params = {
            "host": url.host,
            "port": url.port,
            "user": url.username,
            "password": url.password,
            "dbname": url.database,
            "connect_timeout": 3,
        }

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]] | None:
        """Rows, or None while the database does not answer."""
        try:
            with psycopg2.connect(**self._params) as conn, conn.cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        except psycopg2.Error:
            return None

    def rows_per_key(self, keys: Sequence[str]) -> dict[str, int] | None:
        found = self.query(
            "select idempotency_key, count(*) from timeline_events"
            " where idempotency_key = any(%s) group by 1",
            list(keys),
        )
        return None if found is None else {key: int(n) for key, n in found}

    def survivors(self, keys: Sequence[str]) -> dict[str, str | None] | None:
        """Each message's customer after merges (None when no customer owns it)."""
        found = self.query(
            """
            with recursive chain(id, survivor) as (
                select id, id from customers where merged_into is null
                union all
                select c.id, chain.survivor from customers c join chain on c.merged_into = chain.id
            )
            select te.idempotency_key, chain.survivor::text
            from timeline_events te left join chain on chain.id = te.customer_id
            where te.idempotency_key = any(%s)
            """,
            list(keys),
        )
        return None if found is None else {key: survivor for key, survivor in found}


# --- one phase ------------------------------------------------------------------------------------


@dataclass
class Delivery:
    person: Person | None
    hook: Webhook
    keys: tuple[str, ...]


@dataclass
class Phase:
    fault: str
    deliveries: list[Delivery] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    recover_s: float | None = None
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    hostile_keys: list[str] = field(default_factory=list)  # messages that must never be stored
    # Results, once the pipeline drained.
    rows: int = 0
    lost: int = 0
    doubled: int = 0
    violations: int = 0


class Chaos:
    def __init__(self, lab: Lab, people: int, rate: float, seed: int = 13) -> None:
        self.lab = lab
        self.rate = rate
        self.traffic = Traffic(lab.settings, seed=seed, claim_share=0.0)
        self.people = self.traffic.people(people)
        self.canary_person = self.traffic.people(people + 1)[-1]
        self.rng = random.Random(seed)
        self.clock = datetime(2026, 3, 1, tzinfo=UTC)
        self.timeline = Timeline(lab.database_url)

    def deliveries(self, count: int) -> list[Delivery]:
        weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(self.people))]
        out = []
        for _ in range(count):
            person = self.rng.choices(self.people, weights)[0]
            channel = self.rng.choice(person.channels)
            self.clock += timedelta(seconds=1)
            (hook,) = self.traffic.thread(person, channel, 1, self.clock, replies=False)
            out.append(Delivery(person, hook, _keys(hook)))
        return out

    def run_phase(self, fault: str, count: int) -> Phase:
        restarts = self.lab.restarts()
        batch = self.deliveries(count)
        phase = Phase(fault, list(batch))  # the canaries of the recovery check join it
        strike = threading.Timer(count / self.rate / 2, self._strike, (phase,))
        strike.start()
        outcomes = self._send([d.hook for d in batch], [d.keys for d in batch])
        strike.join()
        self._record(phase, batch, outcomes)
        self._redeliver(phase)
        after = self.lab.restarts()
        restarted = {name: after[name] - restarts[name] for name in after if after[name] > restarts[name]}
        if restarted:
            phase.notes.append(
                "supervisor restarted " + ", ".join(f"{name} x{n}" for name, n in restarted.items())
            )
        return phase

    # --- faults --------------------------------------------------------------------------------
    def _strike(self, phase: Phase) -> None:
        try:
            started = time.monotonic()
            if phase.fault in PROCESS_FAULTS:
                before = self.lab.restarts()[phase.fault]
                self.lab.kill(phase.fault)
                _until(lambda: self.lab.restarts()[phase.fault] > before, 60, "the supervisor's restart")
            elif phase.fault == "kafka":
                self.lab.kafka_crash()
                time.sleep(OUTAGE_S)
                self.lab.kafka_start()
            elif phase.fault == "postgres":
                self.lab.postgres_crash()
                time.sleep(OUTAGE_S)
                self.lab.postgres_start()
            elif phase.fault == "oversized":
                self._oversized(phase)
            elif phase.fault == "hostile":
                self._hostile(phase)
            phase.recover_s = self._recovered_since(started, phase)
        except Exception as exc:  # the table says what failed; the run goes on to the next fault
            phase.failures.append(f"{type(exc).__name__}: {exc}")

    def _recovered_since(self, started: float, phase: Phase, timeout: float = 180) -> float | None:
        """Seconds from the fault until every process is healthy and a canary sent after the
        fault is on the timeline (None when that did not happen within `timeout`)."""
        deadline = started + timeout
        canaries: list[Delivery] = []
        while time.monotonic() < deadline:
            self.clock += timedelta(seconds=1)
            (hook,) = self.traffic.thread(self.canary_person, "sms", 1, self.clock, replies=False)
            canary = Delivery(self.canary_person, hook, _keys(hook))
            canaries.append(canary)
            if _post(self.lab.ports["ingest"], hook) // 100 == 2:
                phase.acked.update(canary.keys)
                while time.monotonic() < deadline:
                    rows = self.timeline.rows_per_key(canary.keys)
                    if rows and all(rows.get(k) for k in canary.keys) and self.lab.all_healthy():
                        phase.deliveries.extend(canaries)
                        return time.monotonic() - started
                    time.sleep(0.2)
            time.sleep(0.5)
        phase.deliveries.extend(canaries)
        phase.failures.append(f"not recovered within {timeout:.0f} s")
        return None

    def _oversized(self, phase: Phase) -> None:
        s = self.lab.settings
        person = self.people[0]
        self.clock += timedelta(seconds=1)
        big = _with_field(self.traffic.message(person, "booking", "a big one", self.clock), 1_200_000)
        status = _post(self.lab.ports["ingest"], big)
        phase.notes.append(f"1.2 MB booking: {status}")
        if status // 100 != 2:
            phase.failures.append(f"the 1.2 MB booking got {status}")
        phase.deliveries.append(Delivery(person, big, _keys(big)))
        if status // 100 == 2:
            phase.acked.update(_keys(big))
        too_big = _with_field(
            self.traffic.message(person, "booking", "too big", self.clock), s.max_body_bytes
        )
        grows = _with_numbers(self.traffic.message(person, "booking", "grows", self.clock), s.max_body_bytes)
        for name, hook in (("over the body limit", too_big), ("outgrowing the record limit", grows)):
            status = _post(self.lab.ports["ingest"], hook)
            phase.notes.append(f"{name}: {status or 'cut off'}")
            # Cut off (0) is how a client that keeps sending a refused body may see its 413.
            if status not in (413, 0):
                phase.failures.append(f"a body {name} got {status}, not 413")

    def _hostile(self, phase: Phase) -> None:
        """A burst of requests that must all be refused: none may get a 5xx or reach the timeline."""
        ingest, api = self.lab.ports["ingest"], self.lab.ports["api"]
        probes: list[tuple[str, Callable[[], int]]] = []
        forged_keys: list[str] = []
        for delivery in self.deliveries(300):
            hook = delivery.hook
            forged_keys.extend(delivery.keys)
            headers = tuple(
                (k, "0" * len(v)) if k.lower() in _AUTH_HEADERS else (k, v) for k, v in hook.headers
            )
            forged = Webhook(hook.channel, hook.path, hook.body, headers, hook.at)
            probes.append(("forged", lambda f=forged: _post(ingest, f)))
            stripped = Webhook(
                hook.channel,
                hook.path,
                hook.body,
                tuple(h for h in hook.headers if h[0].lower() not in _AUTH_HEADERS),
                hook.at,
            )
            probes.append(("unsigned", lambda f=stripped: _post(ingest, f)))
            cut = _replace_body(hook, hook.body[: len(hook.body) // 2])
            probes.append(("malformed", lambda f=cut: _post(ingest, f)))
        for _ in range(20):
            probes.append(
                (
                    "oversized",
                    lambda: _raw_post(
                        ingest, "/webhooks/booking", b"{" * (self.lab.settings.max_body_bytes + 1)
                    ),
                )
            )
            probes.append(
                ("anonymous API post", lambda: _raw_post(api, "/api/v1/admin/commands", b"x" * 1_000_000))
            )
            probes.append(("NUL in an API URL", lambda: _get(api, "/api/v1/admin/commands/%00")))
        slow = [_slow_client(ingest) for _ in range(50)] + [_slow_client(api) for _ in range(50)]
        try:
            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(lambda probe: (probe[0], probe[1]()), probes))
        finally:
            for sock in slow:
                sock.close()
        by_kind: dict[str, dict[int, int]] = {}
        for kind, status in results:
            by_kind.setdefault(kind, {}).setdefault(status, 0)
            by_kind[kind][status] += 1
        phase.notes.append(
            "; ".join(
                f"{kind} " + ",".join(f"{s}x{n}" for s, n in sorted(c.items())) for kind, c in by_kind.items()
            )
        )
        # 0: cut off by the server (a body it refused before reading it all): refused too.
        if any(status >= 500 or 0 < status < 400 for _, status in results):
            phase.failures.append("a hostile request was not refused with a 4xx")
        phase.hostile_keys = forged_keys

    # --- sending -------------------------------------------------------------------------------
    def _send(self, hooks: Sequence[Webhook], keys: Sequence[tuple[str, ...]]) -> list[Outcome]:
        return send_open_loop(hooks, keys, self.lab.ports["ingest"], self.rate, _NoObserver(), connections=16)  # type: ignore[arg-type]

    def _record(
        self, phase: Phase, deliveries: Sequence[Delivery], outcomes: Sequence[Outcome]
    ) -> list[Delivery]:
        refused = []
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            if 200 <= outcome.status < 300:
                phase.acked.update(delivery.keys)
            else:
                refused.append(delivery)
        return refused

    def _redeliver(self, phase: Phase, rounds: int = 20) -> None:
        """Deliver again what was not acknowledged, as a provider retries (with a pause)."""
        pending = [d for d in phase.deliveries if d.person is not None and not set(d.keys) <= phase.acked]
        if pending:
            phase.notes.append(f"{len(pending)} redelivered")
        for _ in range(rounds):
            if not pending:
                return
            outcomes = self._send([d.hook for d in pending], [d.keys for d in pending])
            pending = self._record(phase, pending, outcomes)
            if pending:
                time.sleep(2)
        if pending:
            phase.failures.append(f"{len(pending)} deliveries never acknowledged")

    # --- the verdict ---------------------------------------------------------------------------
    def settle(self, phases: Sequence[Phase], timeout: float = 300) -> None:
        every = sorted({k for p in phases for k in p.acked})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.timeline.rows_per_key(every)
            if rows is not None and all(rows.get(k) for k in every):
                break
            time.sleep(1)
        rows = self.timeline.rows_per_key(every) or {}
        survivors = self.timeline.survivors(every) or {}
        for phase in phases:
            phase.rows = sum(1 for k in phase.acked if rows.get(k))
            phase.lost = len(phase.acked) - phase.rows
            phase.doubled = sum(1 for k in phase.acked if rows.get(k, 0) > 1)
            owners: dict[str, set[str | None]] = {}
            for d in phase.deliveries:
                if d.person is None or d.hook.channel not in ATTESTED:
                    continue
                for key in d.keys:
                    if key in phase.acked:
                        owners.setdefault(d.person.e164, set()).add(survivors.get(key))
            phase.violations = sum(1 for found in owners.values() if len(found) != 1 or None in found)
            if phase.hostile_keys:
                published = self.timeline.rows_per_key(phase.hostile_keys) or {}
                if published:
                    phase.failures.append(f"{len(published)} hostile messages reached the timeline")


_AUTH_HEADERS = {"x-twilio-signature", "x-hub-signature-256", "verification-token", "x-api-key"}


class _NoObserver:
    """send_open_loop reports each 2xx to an observer; the suite reads the timeline itself."""

    def watch(self, outcome: Outcome) -> None:
        return None


def _keys(hook: Webhook) -> tuple[str, ...]:
    return tuple(e.idempotency_key for e in hook.envelopes(utc_iso(hook.at)))


def _with_field(hook: Webhook, size: int) -> Webhook:
    payload = json.loads(hook.body)
    payload["page_html"] = "x" * size
    return _replace_body(hook, json.dumps(payload).encode())


def _with_numbers(hook: Webhook, size: int) -> Webhook:
    """A booking under the body limit that JSON re-encodes 4.5 times longer (1e15 -> 1000000000000000.0)."""
    payload = json.loads(hook.body)
    payload["readings"] = "N"
    count = (size - len(json.dumps(payload))) // 5
    return _replace_body(
        hook, json.dumps(payload).replace('"N"', "[" + ",".join(["1e15"] * count) + "]").encode()
    )


def _replace_body(hook: Webhook, body: bytes) -> Webhook:
    return Webhook(hook.channel, hook.path, body, hook.headers, hook.at)


def _post(port: int, hook: Webhook, timeout: float = 30) -> int:
    return _raw_post(port, hook.path, hook.body, dict(hook.headers), timeout)


def _raw_post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 30
) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers=headers or {}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0  # refused or cut off: not acknowledged


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _slow_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"POST /webhooks/booking HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{")
    return sock


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.1)


# --- the run ------------------------------------------------------------------------------------


@contextmanager
def lab() -> Iterator[Lab]:
    """A lab for one run; its logs stay in .local/chaos/<id>/logs, its data is removed."""
    the_lab = Lab(ROOT / ".local" / "chaos" / uuid.uuid4().hex[:8])
    try:
        print(f"[chaos] starting Kafka, PostgreSQL and the stack in {the_lab.root}", flush=True)
        the_lab.up()
        yield the_lab
    finally:
        the_lab.down()


def run(faults: Sequence[str], messages: int, rate: float, people: int = 400) -> list[Phase]:
    phases: list[Phase] = []
    with lab() as the_lab:
        chaos = Chaos(the_lab, people, rate)
        per_phase = max(1, messages // len(faults))
        for fault in faults:
            print(f"[chaos] {fault}: {per_phase} messages at {rate:g}/s, the fault halfway", flush=True)
            phases.append(chaos.run_phase(fault, per_phase))
        print("[chaos] waiting for the pipeline to drain", flush=True)
        chaos.settle(phases)
    return phases


def table(phases: Sequence[Phase]) -> str:
    head = ("fault", "acked", "rows", "lost", "doubled", "phone violations", "seconds to recover")
    rows = [
        (
            p.fault,
            f"{len(p.acked):,}",
            f"{p.rows:,}",
            str(p.lost),
            str(p.doubled),
            str(p.violations),
            f"{p.recover_s:.1f}" if p.recover_s is not None else "NOT RECOVERED",
        )
        for p in phases
    ]
    total = (
        "total",
        f"{sum(len(p.acked) for p in phases):,}",
        f"{sum(p.rows for p in phases):,}",
        str(sum(p.lost for p in phases)),
        str(sum(p.doubled for p in phases)),
        str(sum(p.violations for p in phases)),
        "",
    )
    widths = [max(len(r[i]) for r in (head, *rows, total)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [line(head), sep, *(line(r) for r in rows), line(total)]
    for p in phases:
        for note in p.notes:
            out.append(f"  {p.fault}: {note}")
        for failure in p.failures:
            out.append(f"  {p.fault}: FAILED: {failure}")
    return "\n".join(out)


def verdict(phases: Sequence[Phase]) -> list[str]:
    problems = []
    for p in phases:
        if p.lost or p.doubled or p.violations:
            problems.append(f"{p.fault}: {p.lost} lost, {p.doubled} doubled, {p.violations} phone violations")
        if p.recover_s is None:
            problems.append(f"{p.fault}: not recovered")
        problems.extend(f"{p.fault}: {f}" for f in p.failures)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="deliveries in all (default 20000)")
    parser.add_argument("--rate", type=float, default=120.0, help="deliveries per second (default 120)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma separated, of {', '.join(FAULTS)}")
    args = parser.parse_args(argv)
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    phases = run(faults, args.messages, args.rate)
    print(table(phases))
    problems = verdict(phases)
    print(
        f"[chaos] {len(faults)} faults in {time.monotonic() - started:.0f} s: "
        + ("PASSED" if not problems else "FAILED")
    )
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
