"""The supervisor of `make up`, with real processes: restarts with backoff, counts, gives up on a
program that keeps exiting, and stops every program (and its children) on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from phoneunify.supervisor import BACKOFF, FATAL, RUNNING, Policy, Program, Supervisor
from tests.harness import free_port

FAST = Policy(backoff_first_s=0.05, backoff_max_s=0.2, stable_after_s=30, give_up_after=4, window_s=60)
SLEEPER = f"{sys.executable} -c 'import time; time.sleep(120)'"


def _until(check: Callable[[], bool], sup: Supervisor | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        if sup is not None:
            sup.step()
        time.sleep(0.02)


def _supervisor(tmp_path: Path, *specs: str) -> tuple[Supervisor, CollectorRegistry]:
    registry = CollectorRegistry()
    programs = [Program.parse(spec) for spec in specs]
    return Supervisor(programs, tmp_path / "run", tmp_path / "logs", registry, FAST), registry


def _state(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run" / "supervisor.json").read_text())["programs"]


def test_a_killed_program_is_started_again_and_the_restart_is_counted(tmp_path: Path) -> None:
    sup, registry = _supervisor(tmp_path, f"api={SLEEPER}", f"writer={SLEEPER}")
    sup.start_all()
    try:
        first = sup.children["api"].proc
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        _until(lambda: sup.children["api"].restarts == 1 and sup.children["api"].state == RUNNING, sup)
        again = sup.children["api"].proc
        assert again is not None and again.pid != first.pid and again.poll() is None
        assert sup.children["api"].last_exit == -signal.SIGKILL
        assert registry.get_sample_value("phoneunify_supervisor_restarts_total", {"process": "api"}) == 1
        assert registry.get_sample_value("phoneunify_supervisor_process_up", {"process": "api"}) == 1
        assert sup.children["writer"].restarts == 0  # the others are left alone
        state = _state(tmp_path)["api"]
        assert (state["state"], state["restarts"], state["pid"]) == (RUNNING, 1, again.pid)
    finally:
        sup.stop_all()


def test_what_a_killed_program_left_in_its_group_goes_with_it(tmp_path: Path) -> None:
    """SIGKILL of the workers left their resolver child running beside the restarted workers."""
    grandchild = tmp_path / "grandchild.pid"
    spawner = (
        f'{sys.executable} -c "import subprocess, sys, time, pathlib; '
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"pathlib.Path('{grandchild}').write_text(str(p.pid)); time.sleep(120)\""
    )
    sup, _ = _supervisor(tmp_path, f"workers={spawner}")
    sup.start_all()
    try:
        _until(grandchild.exists)
        orphan = int(grandchild.read_text())
        grandchild.unlink()
        first = sup.children["workers"].proc
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)  # the program only, as a crash would
        _until(lambda: sup.children["workers"].restarts == 1, sup)
        _until(lambda: not _alive(orphan))
        _until(grandchild.exists)  # the restarted program has a child of its own again
    finally:
        sup.stop_all()


def test_a_program_that_keeps_exiting_is_backed_off_then_given_up_and_reported(tmp_path: Path) -> None:
    sup, registry = _supervisor(tmp_path, f"workers={sys.executable} -c 'raise SystemExit(70)'")
    sup.start_all()
    waits: list[float] = []

    def record() -> bool:
        child = sup.children["workers"]
        if child.state == BACKOFF and (not waits or waits[-1] != child.next_start):
            waits.append(child.next_start)
        return child.state == FATAL

    _until(record, sup)
    child = sup.children["workers"]
    assert child.restarts == FAST.give_up_after - 1
    assert child.backoff_s == FAST.backoff_max_s  # 0.05, 0.1, 0.2, then capped
    assert "exited 4 times" in child.reason
    assert registry.get_sample_value("phoneunify_supervisor_gave_up", {"process": "workers"}) == 1
    assert registry.get_sample_value("phoneunify_supervisor_process_up", {"process": "workers"}) == 0
    assert _state(tmp_path)["workers"]["state"] == FATAL
    time.sleep(0.3)
    sup.step()
    assert child.restarts == FAST.give_up_after - 1  # and it stays given up


def test_a_program_that_could_not_start_once_runs_without_the_old_reason(tmp_path: Path) -> None:
    """A start that failed (the program's file was not there yet) is retried; once it runs, `make
    status` no longer shows why the earlier start failed."""
    script = tmp_path / "late.sh"
    sup, _ = _supervisor(tmp_path, f"api={script}")
    sup.start_all()
    child = sup.children["api"]
    assert "could not start" in child.reason
    script.write_text("#!/bin/sh\nexec sleep 120\n")
    script.chmod(0o755)
    try:
        _until(lambda: child.state == RUNNING, sup)
        assert child.reason == ""
        assert _state(tmp_path)["api"]["reason"] == ""
    finally:
        sup.stop_all()


def test_a_configuration_error_is_not_restarted(tmp_path: Path) -> None:
    sup, _ = _supervisor(tmp_path, f"api={sys.executable} -c 'raise SystemExit(78)'")
    sup.start_all()
    _until(lambda: sup.children["api"].state == FATAL, sup)
    assert sup.children["api"].restarts == 0
    assert "configuration" in sup.children["api"].reason


def test_run_and_status_from_the_command_line(tmp_path: Path) -> None:
    """What deploy/stack.sh does: run in the background, read the status, scrape the metrics,
    then SIGTERM, which stops every program and its process group (the workers' child too)."""
    port = free_port()
    grandchild = tmp_path / "grandchild.pid"
    spawner = (
        f'{sys.executable} -c "import subprocess, sys, time, pathlib; '
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"pathlib.Path('{grandchild}').write_text(str(p.pid)); time.sleep(120)\""
    )
    argv = [
        sys.executable, "-m", "phoneunify.supervisor", "run",
        "--state-dir", str(tmp_path / "run"), "--log-dir", str(tmp_path / "logs"),
        "--metrics-port", str(port), f"workers={spawner}", f"api={SLEEPER}",
    ]  # fmt: skip
    supervisor = subprocess.Popen(argv)
    argv_status = [
        sys.executable,
        "-m",
        "phoneunify.supervisor",
        "status",
        "--state-dir",
        str(tmp_path / "run"),
    ]

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv_status, check=False, capture_output=True, text=True)

    try:
        _until(lambda: grandchild.exists() and status().returncode == 0)
        out = status().stdout
        assert "supervisor: running" in out and "workers: running" in out and "restarts 0" in out
        api_pid = _state(tmp_path)["api"]["pid"]
        os.kill(api_pid, signal.SIGKILL)
        _until(lambda: _state(tmp_path)["api"]["restarts"] == 1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'phoneunify_supervisor_restarts_total{process="api"} 1.0' in metrics
        assert "restarts 1" in status().stdout
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
    pid = int(grandchild.read_text())
    _until(lambda: not _alive(pid))
    assert status().returncode == 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (its parent, the stopped program, has not reaped it yet).
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


@pytest.mark.parametrize("spec", ["noequals", "bad name=x", "name="])
def test_a_malformed_program_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="NAME=COMMAND"):
        Program.parse(spec)
