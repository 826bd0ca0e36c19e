"""The whole stack as separate processes against the real broker and database."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from cli.demo import ApiClient
from cli.simulate import ProviderSimulator
from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import Settings
from tests.harness import Process, wait_for, with_ports


def answers(url: str) -> bool:
    """Does the URL answer 200 (within 2 s)?"""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Stack:
    settings: Settings
    processes: dict[str, Process]
    sim: ProviderSimulator
    api: ApiClient

    def restart(self, name: str) -> None:
        self.processes[name] = Process(name, self.settings).start()


def health_url(name: str, s: Settings) -> str:
    return {
        "workers": f"http://127.0.0.1:{s.worker_web_port}/healthz",
        "writer": f"http://127.0.0.1:{s.writer_metrics_port}/metrics",
        "ingest": f"http://127.0.0.1:{s.ingest_port}/healthz",
        "api": f"http://127.0.0.1:{s.api_port}/healthz",
        "profiles": f"http://127.0.0.1:{s.profile_metrics_port}/metrics",
    }[name]


def start_processes(settings: Settings, names: tuple[str, ...]) -> dict[str, Process]:
    """Start the named stack processes and wait until each serves; stop them all on failure."""
    processes = {name: Process(name, settings).start() for name in names}
    try:
        for name in names:
            wait_for(
                lambda name=name: answers(health_url(name, settings)),
                timeout=60,
                what=f"{name} to serve\n{processes[name].log_tail()}",
            )
    except BaseException:
        for process in processes.values():
            process.stop()
        raise
    return processes


@contextmanager
def running_stack(settings: Settings) -> Iterator[Stack]:
    """Every stack process on free ports of its own, stopped when the block ends."""
    settings = with_ports(settings)
    ensure_topics(settings)
    processes = start_processes(settings, ("workers", "writer", "ingest", "api"))
    try:
        yield Stack(settings, processes, ProviderSimulator(settings), ApiClient(settings))
    finally:
        for process in processes.values():
            process.stop()


@pytest.fixture
def stack(settings: Settings) -> Iterator[Stack]:
    with running_stack(settings) as running:
        yield running
