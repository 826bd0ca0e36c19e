"""The benchmark's own stack: a fresh database, a unique topic prefix and real processes.

Like the test suite (tests/conftest.py), every run creates its own migrated database and its
own topics on the shared broker and removes the database afterwards, so runs never see each
other's data. Processes are the real `phoneunify` commands (or the null pipeline's modules),
started as subprocesses with their logs in .local/logs/bench/.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ingest.publisher import Record
from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import DEFAULT_DATABASE_URL, Settings

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".local" / "logs" / "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free loopback port for a server we are about to start, taken below the kernel's ephemeral range.

    A port from bind(0) lies inside that range, where any outgoing connection (a Kafka client's, say) may
    take it as its source port between this check and the server's own bind: under load that was seen as
    EADDRINUSE in a benchmark's worker. Below the range only another server's bind can take it.
    """
    floor = _ephemeral_floor()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, floor) if floor > 20100 else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free loopback port below the ephemeral range")


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class Database:
    """A fresh migrated database, dropped by close()."""

    def __init__(self, base_url: str, name: str) -> None:
        from schema.migrate import upgrade

        self.name = name
        self._admin = create_engine(make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
        upgrade(self.url)
        self.engine: Engine = create_engine(self.url, pool_size=2, connect_args={"connect_timeout": 5})

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def backend_pids(self) -> list[int]:
        """Server processes serving this database (the pipeline's connections, not ours only)."""
        with self.engine.connect() as conn:
            return [
                int(pid)
                for (pid,) in conn.execute(
                    text("select pid from pg_stat_activity where datname = :d and pid <> pg_backend_pid()"),
                    {"d": self.name},
                )
            ]

    def close(self) -> None:
        self.engine.dispose()
        try:
            # FORCE cannot end a session it has no right to signal (an autovacuum worker busy on
            # the freshly written tables): wait for it a few times before giving up.
            for attempt in range(10):
                try:
                    with self._admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                    return
                except Exception as exc:
                    if attempt == 9:
                        print(f"(could not drop database {self.name}: {type(exc).__name__})", file=sys.stderr)
                    time.sleep(1.0)
        finally:
            self._admin.dispose()


def bench_settings(database_url: str, tag: str, **overrides: Any) -> Settings:
    """Settings for one benchmark stack: its own topics, groups and ports."""
    ingest_port = free_port()
    values: dict[str, Any] = {
        # Development mode: the secrets not set here (the phone hash key, RingCentral's token)
        # take their development values.
        "env": "dev",
        "kafka_bootstrap": os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        "database_url": database_url,
        "topic_prefix": f"bench{tag}.",
        "worker_id": f"pu-bench-workers-{tag}",
        "writer_group": f"pu-bench-writer-{tag}",
        "worker_data_dir": str(ROOT / ".local" / "faust-bench" / tag),
        "twilio_auth_token": "bench-twilio-token",
        "meta_app_secret": "bench-meta-secret",
        "meta_verify_token": "bench-verify-token",
        "booking_api_key": "bench-booking-key",
        "business_numbers": ("+19165550000", "+19165550002", "+19165550001"),
        "worker_web_port": free_port(),
        "writer_metrics_port": free_port(),
        "api_port": free_port(),
        "ingest_port": ingest_port,
        "public_base_url": f"http://127.0.0.1:{ingest_port}",
    }
    values.update(overrides)
    # faust creates its data folder but not the folder's parents.
    Path(values["worker_data_dir"]).parent.mkdir(parents=True, exist_ok=True)
    return Settings.from_env({}, **values)


def new_tag() -> str:
    return uuid.uuid4().hex[:8]


def base_database_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


def create_topics(settings: Settings) -> None:
    ensure_topics(settings)


class Proc:
    """One stack process; `argv` after the interpreter (e.g. ["-m", "cli", "workers"])."""

    def __init__(
        self, name: str, argv: Sequence[str], settings: Settings, extra_env: dict[str, str] | None = None
    ):
        self.name = name
        self.argv = list(argv)
        self.settings = settings
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{settings.topic_prefix}{name}.log"

    def start(self) -> Proc:
        env = {**os.environ, **self.settings.to_env(), **self.extra_env, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *self.argv],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def phoneunify(command: str, settings: Settings) -> Proc:
    return Proc(command, ["-m", "cli", command], settings)


def serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_serving(procs: Iterable[tuple[Proc, str]], timeout: float = 60.0) -> None:
    for proc, url in procs:

        def check(proc: Proc = proc, url: str = url) -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
            return serves(url)

        wait_for(check, timeout, f"{proc.name} at {url}")


def produce(settings: Settings, records: Sequence[Record]) -> float:
    """Publish records as fast as the broker takes them (acks=all, like the edge); returns seconds."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        max_request_size=8 * 1024 * 1024,
        request_timeout_ms=30000,
        max_block_ms=30000,
    )
    started = time.perf_counter()
    try:
        for record in records:
            producer.send(record.topic, key=record.key.encode(), value=record.value)
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=10)
    return time.perf_counter() - started


def scrape(url: str) -> dict[str, float]:
    """A Prometheus endpoint as {"name{label=value,...}": value} (samples only)."""
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = float(sample.value)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, its finished children and its live descendants
    (the workers' resolver runs in a child process), 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state is field 3; utime, stime, cutime, cstime are fields 14-17.
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    own = (utime + stime + cutime + cstime) / CLOCK_TICKS
    return own + sum(cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out.extend(int(v) for v in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


def kafka_pid() -> int | None:
    pid_file = ROOT / ".local" / "kafka" / "kafka.pid"
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def replace(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)
