"""Running phoneunify's processes for real in tests: subprocesses, free ports, polling with deadlines."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.stack import free_port
from phoneunify.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".local" / "logs" / "tests"
T = TypeVar("T")


def with_ports(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        worker_web_port=free_port(),
        writer_metrics_port=free_port(),
        api_port=free_port(),
        ingest_port=free_port(),
        profile_metrics_port=free_port(),
        # The profile fetcher's Graph API: a free port on loopback, where a test (or the demo's
        # simulator) serves a stand-in; never Meta's servers.
        meta_graph_url=f"http://127.0.0.1:{free_port()}",
    )


def wait_for(
    check: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.1, what: str = ""
) -> T:
    """Poll until check() returns something truthy; fail with `what` after the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last  # type: ignore[no-any-return]
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: last={last!r}")


class Process:
    """One phoneunify process (`phoneunify <command>`) with its log in .local/logs/tests/."""

    def __init__(self, command: str, settings: Settings, name: str | None = None) -> None:
        self.command = command
        self.settings = settings
        self.name = name or command
        self.proc: subprocess.Popen[bytes] | None = None
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{settings.topic_prefix or 'x'}{self.name}.log"

    def start(self) -> Process:
        env = {**os.environ, **self.settings.to_env(), "PYTHONUNBUFFERED": "1"}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", self.command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def publish_sms(settings: Settings, count: int, phones: int, first_phone: int, id_prefix: str) -> None:
    """`count` inbound SMS envelopes straight onto the raw topic, from `phones` senders
    (+1916555<first_phone + i % phones>), one a second from 2026-01-01, ids <id_prefix><i:05d>."""
    from datetime import UTC, datetime, timedelta

    from kafka import KafkaProducer

    from phoneunify.privacy import thread_key_hash
    from schema.envelopes import Party, RawEnvelope, utc_iso
    from schema.topics import Topics

    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap.split(","), acks="all", linger_ms=5)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    topic = Topics(settings.topic_prefix).raw("sms")
    for i in range(count):
        phone = f"+1916555{first_phone + i % phones:04d}"
        envelope = RawEnvelope(
            channel="sms",
            provider="twilio",
            kind="message",
            direction="in",
            provider_message_id=f"{id_prefix}{i:05d}",
            thread_key=f"twilio:+19165550000:{phone}",
            business_account="+19165550000",
            customer=Party(id=phone, phone=phone),
            occurred_at=utc_iso(start + timedelta(seconds=i)),
            received_at=utc_iso(start),
            text=f"message {i}",
        )
        producer.send(topic, key=thread_key_hash(envelope.thread_key, "k").encode(), value=envelope.to_json())
    producer.flush(timeout=30)
    producer.close()
