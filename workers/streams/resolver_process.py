"""The resolver and the admin commands in a child process of the workers.

Resolving is CPU-bound Python between round trips to PostgreSQL. In a thread of the faust
process it shared one GIL with the event loop: after every round trip the resolver thread
waited to win the GIL back from the loop (consuming, extracting, sending), and under live
traffic that wait, not PostgreSQL, was most of a batch's time. In a process of its own it has a
core's worth of interpreter, and the faust process keeps its loop responsive.

One child, one task at a time: batches reach the database in the order the agents submit them.
The child only decodes, resolves or applies, and encodes (`ResolverChild`, built by the
composition root, workers/bootstrap.py); the agents send everything, and faust commits offsets
only after the sends are acknowledged, so a child that dies mid-batch loses nothing (the batch
is read again and the outbox makes the second pass re-emit the same events).

The child never outlives the workers process: a SIGKILLed parent runs no shutdown, and the
pool's pipes do not close for the child (it holds both ends of its call queue), so a thread in
the child watches its parent and ends the child once the parent is gone (`watch_parent`).

Poison and bugs are told apart: a message that is itself invalid (`InvalidMessage`: it does
not decode, breaks its contract, or is a command that names nothing) comes back in `dead`
with its reason. Anything else the child raises is a bug or a database that stayed down: the
agent stops the process without acking the batch (see app.py).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from mode import Service

from phoneunify import gctune, logs
from phoneunify.exits import EX_SOFTWARE
from phoneunify.retry import Backoff, RetriesExhaustedError, retrying
from phoneunify.settings import Settings
from schema.commands import Command
from schema.deadletter import dead_letter
from schema.erasures import fence_records
from schema.invalid import InvalidMessage
from workers.domain.ports import TransientError
from workers.domain.requests import ResolveRequest
from workers.services.commands import CommandHandler
from workers.services.resolve import Resolver

log = logging.getLogger(__name__)

Record = tuple[bytes | None, bytes]  # key, value
T = TypeVar("T")


class DatabaseUnavailableError(RuntimeError):
    """PostgreSQL stayed unreachable past the retry bound: nothing of the batch may be acked."""


@dataclass
class Output:
    """What a batch or a command produced, for the agent to send and count."""

    linked: list[Record] = field(default_factory=list)
    dead: list[Record] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    # Records of the erasure fence (privacy.erasures), sent before the linked events.
    erasures: list[Record] = field(default_factory=list)

    def count(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


def with_retry(
    call: Callable[[], T], sleep: Callable[[float], None] = time.sleep, backoff: Backoff | None = None
) -> T:
    """Retry transient database errors with backoff; past the bound, give up loudly."""
    try:
        return retrying(
            call, lambda exc: isinstance(exc, TransientError), "the database", backoff=backoff, wait=sleep
        )
    except RetriesExhaustedError as gave_up:
        raise DatabaseUnavailableError(str(gave_up)) from gave_up.__context__


@dataclass
class ResolverChild:
    """The resolver child's work on a batch of resolve requests or on one admin command."""

    resolver: Resolver
    commands: CommandHandler
    batch_size: int
    retry: Callable[[Callable[[], Any]], Any] = with_retry

    def resolve_values(self, values: list[bytes]) -> Output:
        """Decode resolve requests, resolve them in units of work of at most `batch_size`, and
        encode what to send. An invalid request goes to the dead-letter list with its reason."""
        out = Output()
        requests: list[ResolveRequest] = []
        for value in values:
            try:
                requests.append(ResolveRequest.from_json(value))
            except InvalidMessage as exc:
                out.count("dead_letter")
                out.dead.append((None, dead_letter("resolve", value, exc)))
        for start in range(0, len(requests), self.batch_size):
            chunk = requests[start : start + self.batch_size]
            result = self.retry(partial(self.resolver.resolve_batch, chunk))
            pairs = zip(result.events, result.payloads, strict=True)
            out.linked.extend((event.key.encode(), body) for event, body in pairs)
            for outcome, count in result.outcomes.items():
                out.count(outcome, count)
        return out

    def apply_command(self, value: bytes) -> Output:
        """Apply one admin command (retrying transient database errors). A command that does
        not decode, or cannot apply (it names nothing that exists), goes to the dead-letter list
        with the reason."""
        out = Output()
        try:
            command = Command.from_json(value)
            events = self.retry(partial(self.commands.apply, command))
        except InvalidMessage as exc:
            out.count("dead_letter")
            out.dead.append((None, dead_letter("commands", value, exc)))
            return out
        out.count(command.action)
        out.linked.extend((event.key.encode(), event.to_json()) for event in events)
        out.erasures.extend(
            (record.subject.encode(), record.to_json()) for event in events for record in fence_records(event)
        )
        return out


# --- the child process -------------------------------------------------------------------------
# The child's ResolverChild, set once by the pool's initializer in the child process (the
# parent never has one): the pool runs module-level functions, so they find it here.
_child: ResolverChild | None = None


def _start_child(
    build: Callable[[Settings], ResolverChild], settings: Settings, loglevel: str, parent_pid: int
) -> None:
    """Initializer of the child process (spawned: nothing of the parent's threads or loop)."""
    # The parent decides when to stop: Ctrl-C or a supervisor's SIGTERM reach the whole process
    # group, and a batch cut short here would only be redone. The child ends when the parent
    # shuts the pool down, or when the parent is gone (watch_parent).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.setup(loglevel.upper())
    watch_parent(parent_pid)
    global _child  # noqa: PLW0603 - the one process-wide object of the child, set once
    _child = build(settings)
    gctune.tune()


# How often the child looks for its parent; an orphan finishes at most this much later.
PARENT_POLL_S = 0.5


def watch_parent(parent_pid: int, poll_s: float = PARENT_POLL_S) -> threading.Thread:
    """End this process once `parent_pid` is no longer its parent (the parent died, and the
    child was re-parented to init or a subreaper). Polling getppid works on every platform and
    whatever the child is doing: waiting for a task, inside a batch, or in a retry's sleep (a
    transaction cut short is rolled back, and the batch is read again after the restart).
    prctl(PR_SET_PDEATHSIG) would be Linux-only and fires when the parent's spawning *thread*
    exits, which a pool may do long before the parent does."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        log.error("the workers process %d is gone: the resolver child exits", parent_pid)
        os._exit(EX_SOFTWARE)  # not sys.exit: that would end only this thread

    thread = threading.Thread(target=watch, name="watch-parent", daemon=True)
    thread.start()
    return thread


def _in_child() -> ResolverChild:
    if _child is None:
        raise RuntimeError("resolver process not initialized")
    return _child


def _ready() -> bool:
    return _child is not None


def _resolve(values: list[bytes]) -> Output:
    return _in_child().resolve_values(values)


def _command(value: bytes) -> Output:
    return _in_child().apply_command(value)


# --- the parent --------------------------------------------------------------------------------
class ResolverPool(Service):
    """A one-process pool, started before the agents and stopped after them. `build` makes the
    child's ResolverChild from the settings, in the child (a module-level function: it is
    pickled by name)."""

    def __init__(
        self,
        settings: Settings,
        build: Callable[[Settings], ResolverChild],
        loglevel: str = "info",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._build = build
        self._loglevel = loglevel
        self._pool: ProcessPoolExecutor | None = None

    async def on_start(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            # spawn, not fork: the faust process already runs threads (Kafka clients, the web
            # server) whose locks a forked child could inherit held.
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(self._build, self._settings, self._loglevel, os.getpid()),
        )
        # Start the child now, so a broken configuration shows at start-up, not on a batch.
        if not await self._run(_ready):
            raise RuntimeError("resolver process did not initialize")

    async def on_stop(self) -> None:
        if self._pool is not None:
            # Off the loop: shutdown waits for the batch in hand to finish.
            await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown)
            self._pool = None

    async def resolve(self, values: list[bytes]) -> Output:
        return await self._run(_resolve, values)

    async def command(self, value: bytes) -> Output:
        return await self._run(_command, value)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            raise RuntimeError("resolver pool is not started")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
