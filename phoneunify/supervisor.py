"""A small process supervisor for `make up` (docker-compose has its restart policies instead).

    python -m phoneunify.supervisor run --state-dir .local/run --log-dir .local/logs \\
        --metrics-port 9110 workers='phoneunify workers' writer='phoneunify writer' ...
    python -m phoneunify.supervisor status --state-dir .local/run

Each program runs in a process group of its own (so a stop reaches the workers' resolver child
too, and a program that exits takes what it left in its group with it), its output appended to
<log-dir>/<name>.log. A program that exits, whatever the status,
is started again after a backoff that doubles from `backoff_first_s` to `backoff_max_s` (and
starts over once a run lasted `stable_after_s`), and each restart is counted. A program that
exits `give_up_after` times within `window_s`, or exits 78 (EX_CONFIG: its configuration is
wrong, and the same configuration fails the same way), is not restarted: it is reported as
FATAL in the log, in `status` and in the metrics, and the others keep running.

Why our own and not supervisord or circus: the state and the metrics are what matter here (the
restart count in `make status` and in Prometheus), and neither tool exports them; this is a few
hundred lines of the standard library and prometheus_client, which every phoneunify process
already has, and it is tested with real processes (tests/unit/test_supervisor.py).

State: <state-dir>/supervisor.json (rewritten atomically on every change) holds each program's
state, pid, restarts and last exit status; /metrics on 127.0.0.1:<metrics-port> serves
phoneunify_supervisor_restarts_total{process}, phoneunify_supervisor_process_up{process} and
phoneunify_supervisor_gave_up{process}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from phoneunify import logs
from phoneunify.exits import EX_CONFIG

log = logging.getLogger("phoneunify.supervisor")

RUNNING, BACKOFF, FATAL, STOPPED = "running", "backoff", "FATAL", "stopped"


@dataclass(frozen=True)
class Policy:
    backoff_first_s: float = 1.0
    backoff_max_s: float = 30.0
    stable_after_s: float = 60.0  # a run this long resets the backoff
    give_up_after: int = 5  # exits ...
    window_s: float = 300.0  # ... within this long: FATAL
    stop_timeout_s: float = 25.0  # SIGTERM, then SIGKILL after this long


@dataclass(frozen=True)
class Program:
    name: str
    argv: tuple[str, ...]

    @classmethod
    def parse(cls, spec: str) -> Program:
        """NAME=COMMAND, the command split as a shell would (no shell runs it)."""
        name, sep, command = spec.partition("=")
        if not sep or not name.isidentifier() or not command.strip():
            raise ValueError(f"program {spec!r} is not NAME=COMMAND")
        return cls(name, tuple(shlex.split(command)))


@dataclass
class Child:
    program: Program
    proc: subprocess.Popen[bytes] | None = None
    state: str = STOPPED
    started_at: float = 0.0
    restarts: int = 0
    last_exit: int | None = None
    next_start: float = 0.0
    backoff_s: float = 0.0
    exits: deque[float] = field(default_factory=deque)
    reason: str = ""


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.restarts = Counter(
            "phoneunify_supervisor_restarts",
            "Times the supervisor started a program again after it exited.",
            ["process"],
            registry=registry,
        )
        self.up = Gauge(
            "phoneunify_supervisor_process_up",
            "1 while the program runs, else 0.",
            ["process"],
            registry=registry,
        )
        self.gave_up = Gauge(
            "phoneunify_supervisor_gave_up",
            "1 once the supervisor stopped restarting a program that keeps exiting.",
            ["process"],
            registry=registry,
        )


class Supervisor:
    def __init__(
        self,
        programs: Sequence[Program],
        state_dir: Path,
        log_dir: Path,
        registry: CollectorRegistry,
        policy: Policy = Policy(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [p.name for p in programs]
        if len(set(names)) != len(names):
            raise ValueError(f"program names must be unique: {names}")
        self.children = {p.name: Child(p) for p in programs}
        self.state_path = state_dir / "supervisor.json"
        self.log_dir = log_dir
        self.policy = policy
        self.clock = clock
        self.metrics = Metrics(registry)
        state_dir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            self.metrics.restarts.labels(name)
            self.metrics.up.labels(name).set(0)
            self.metrics.gave_up.labels(name).set(0)

    # --- one pass of the loop ------------------------------------------------------------------
    def start_all(self) -> None:
        for child in self.children.values():
            self._start(child)
        self._save()

    def step(self) -> None:
        """Reap what exited, start what is due; the loop calls this a few times a second."""
        changed = False
        now = self.clock()
        for child in self.children.values():
            if child.state == RUNNING and child.proc is not None and child.proc.poll() is not None:
                self._exited(child, child.proc.returncode, now)
                changed = True
            elif child.state == BACKOFF and now >= child.next_start:
                child.restarts += 1
                self.metrics.restarts.labels(child.program.name).inc()
                self._start(child)
                changed = True
        if changed:
            self._save()

    def stop_all(self) -> None:
        running = [c for c in self.children.values() if c.proc is not None and c.proc.poll() is None]
        for child in running:
            _signal_group(child, signal.SIGTERM)
        deadline = self.clock() + self.policy.stop_timeout_s
        for child in running:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                log.warning("supervisor: %s did not stop in time; SIGKILL", child.program.name)
                _signal_group(child, signal.SIGKILL)
                child.proc.wait(timeout=10)
        for child in self.children.values():
            if child.state != FATAL:
                child.state = STOPPED
            self.metrics.up.labels(child.program.name).set(0)
        self._save()

    # --- transitions ---------------------------------------------------------------------------
    def _start(self, child: Child) -> None:
        name = child.program.name
        with (self.log_dir / f"{name}.log").open("ab") as out:
            try:
                # The argv is the operator's own command line (deploy/stack.sh), run without a shell.
                child.proc = subprocess.Popen(  # noqa: S603
                    child.program.argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            except OSError as exc:
                child.proc = None
                child.reason = f"could not start: {exc}"
                self._exited(child, 127, self.clock())
                return
        child.state = RUNNING
        child.reason = ""  # a failed start's reason ends with the start that worked
        child.started_at = self.clock()
        self.metrics.up.labels(name).set(1)
        log.info("supervisor: %s started (pid %d)", name, child.proc.pid)

    def _exited(self, child: Child, status: int, now: float) -> None:
        name = child.program.name
        # What the program left behind in its process group (a killed worker's resolver child)
        # goes with it, so a restart never runs beside a stale half of the previous run.
        _signal_group(child, signal.SIGKILL)
        child.last_exit = status
        self.metrics.up.labels(name).set(0)
        ran_s = now - child.started_at
        child.exits.append(now)
        while child.exits and now - child.exits[0] > self.policy.window_s:
            child.exits.popleft()
        if status == EX_CONFIG:
            self._give_up(child, "exited 78: its configuration is wrong (see its log)")
            return
        if len(child.exits) >= self.policy.give_up_after:
            self._give_up(child, f"exited {len(child.exits)} times within {self.policy.window_s:g} s")
            return
        if ran_s >= self.policy.stable_after_s or child.backoff_s == 0:
            child.backoff_s = self.policy.backoff_first_s
        else:
            child.backoff_s = min(self.policy.backoff_max_s, child.backoff_s * 2)
        child.state = BACKOFF
        child.next_start = now + child.backoff_s
        log.warning(
            "supervisor: %s exited with %s after %.1f s; restarting in %.1f s",
            name,
            _describe(status),
            ran_s,
            child.backoff_s,
        )

    def _give_up(self, child: Child, why: str) -> None:
        child.state = FATAL
        child.reason = why
        self.metrics.gave_up.labels(child.program.name).set(1)
        log.critical("supervisor: %s is FATAL, not restarted: %s", child.program.name, why)

    def _save(self) -> None:
        now = self.clock()
        state = {
            name: {
                "state": c.state,
                "pid": c.proc.pid if c.proc is not None and c.state == RUNNING else None,
                "restarts": c.restarts,
                "last_exit": c.last_exit,
                # Wall-clock start, so `status` can say how long it has been up.
                "since": round(time.time() - (now - c.started_at), 1) if c.state == RUNNING else None,
                "reason": c.reason,
            }
            for name, c in self.children.items()
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"supervisor_pid": os.getpid(), "programs": state}, indent=1))
        tmp.replace(self.state_path)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    if child.proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.proc.pid, sig)


def _describe(status: int) -> str:
    if status < 0:
        return f"signal {signal.Signals(-status).name}"
    return f"status {status}"


# --- command line ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    logs.setup("INFO")
    policy = Policy(
        backoff_first_s=args.backoff_first,
        backoff_max_s=args.backoff_max,
        stable_after_s=args.stable_after,
        give_up_after=args.give_up_after,
        window_s=args.window,
    )
    registry = CollectorRegistry()
    supervisor = Supervisor(
        [Program.parse(spec) for spec in args.programs],
        Path(args.state_dir),
        Path(args.log_dir),
        registry,
        policy,
    )
    if args.metrics_port:
        start_http_server(args.metrics_port, addr="127.0.0.1", registry=registry)
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    supervisor.start_all()
    while not stopping:
        supervisor.step()
        time.sleep(0.2)
    log.info("supervisor: stopping every program")
    supervisor.stop_all()
    return 0


def status(args: argparse.Namespace) -> int:
    path = Path(args.state_dir) / "supervisor.json"
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        print("supervisor: not running (no state file)")
        return 1
    alive = _alive(int(state.get("supervisor_pid") or 0))
    print(f"supervisor: {'running' if alive else 'NOT running'} (pid {state.get('supervisor_pid')})")
    for name, p in state["programs"].items():
        line = f"{name}: {p['state']}"
        if p["pid"]:
            line += f" (pid {p['pid']}, up {time.time() - p['since']:.0f} s)"
        line += f", restarts {p['restarts']}"
        if p["last_exit"] is not None:
            line += f", last exit {_describe(int(p['last_exit']))}"
        if p["reason"]:
            line += f": {p['reason']}"
        print(line)
    return 0 if alive and all(p["state"] == RUNNING for p in state["programs"].values()) else 1


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m phoneunify.supervisor", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the programs until SIGTERM")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--log-dir", required=True)
    p.add_argument("--metrics-port", type=int, default=0, help="serve /metrics on 127.0.0.1 (0: none)")
    defaults = Policy()
    p.add_argument("--backoff-first", type=float, default=defaults.backoff_first_s)
    p.add_argument("--backoff-max", type=float, default=defaults.backoff_max_s)
    p.add_argument("--stable-after", type=float, default=defaults.stable_after_s)
    p.add_argument("--give-up-after", type=int, default=defaults.give_up_after)
    p.add_argument("--window", type=float, default=defaults.window_s)
    p.add_argument("programs", nargs="+", metavar="NAME=COMMAND")
    p.set_defaults(func=run)
    p = sub.add_parser("status", help="print each program's state (exit 1 unless all run)")
    p.add_argument("--state-dir", required=True)
    p.set_defaults(func=status)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
