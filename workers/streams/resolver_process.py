"""The resolver and the admin commands in a child process of the workers.

Resolving is CPU-bound Python with a round trip to PostgreSQL every few milliseconds. In a
thread of the faust process it shared one GIL with the event loop: after every round trip the
resolver thread waited to win the GIL back from the loop (consuming, extracting, sending), and
under live traffic that wait, not PostgreSQL, was most of a batch's time (its backend sat idle
in transaction, waiting for the client). In a process of its own it has a core's worth of
interpreter, and the faust process keeps its loop responsive.

One child, one task at a time: batches reach the database in the order the agents submit them,
as they did on the single database thread. The child only decodes, resolves or applies, and
encodes; the agents still send everything and faust commits offsets only after the sends are
acknowledged, so a child that dies mid-batch loses nothing (the batch is read again and the
outbox makes the second pass re-emit the same events).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from mode import Service

from phoneunify import gctune, logs
from phoneunify.db import make_engine
from phoneunify.retry import Backoff, RetriesExhaustedError, transient_db_error
from phoneunify.settings import Settings
from schema import jsoncodec
from schema.commands import Command
from schema.linked import LinkedEvent
from workers.domain.identity import Policy
from workers.domain.requests import ResolveRequest
from workers.services.commands import CommandHandler
from workers.services.resolve import BatchResult, Resolver, TransientError
from workers.streams.deadletter import dead_letter

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

    def count(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


# --- the child ---------------------------------------------------------------------------------
@dataclass
class _Child:
    settings: Settings
    resolver: Resolver
    commands: CommandHandler


class _InThisProcess:
    """The child's state (set by the initializer; the parent never has one)."""

    child: _Child | None = None


def _start_child(settings: Settings, loglevel: str) -> None:
    """Initializer of the child process (spawned: nothing of the parent's threads or loop)."""
    # The parent decides when to stop: Ctrl-C or a supervisor's SIGTERM reach the whole process
    # group, and a batch cut short here would only be redone. The child ends when the parent
    # shuts the pool down, or when its pipe to a dead parent closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.setup(loglevel.upper())
    engine = make_engine(settings.database_url)
    policy = Policy(
        settings.link_threshold,
        settings.merge_threshold,
        shared_phone_min_identities=settings.shared_phone_min_identities,
    )
    _InThisProcess.child = _Child(
        settings,
        Resolver(engine, policy, settings.phone_hash_key, on_outcome=None),
        CommandHandler(engine, policy),
    )
    gctune.tune()


def _state() -> _Child:
    if _InThisProcess.child is None:
        raise RuntimeError("resolver process not initialized")
    return _InThisProcess.child


def _ready() -> bool:
    return _InThisProcess.child is not None


def _with_retry(call: Callable[[], T]) -> T:
    """Retry transient database errors with backoff; past the bound, give up loudly."""
    backoff = Backoff()
    while True:
        try:
            return call()
        except TransientError as exc:
            try:
                delay = backoff.next_delay()
            except RetriesExhaustedError as gave_up:
                raise DatabaseUnavailableError(str(gave_up)) from exc
            log.warning("resolve batch hit a transient database error (%s); retry in %.1fs", exc, delay)
            time.sleep(delay)


def resolve_values(values: list[bytes]) -> Output:
    """Decode resolve requests, resolve them in transactions of at most resolve_batch_size,
    and encode what to send. Poison goes to the dead-letter list with its reason."""
    child = _state()
    out = Output()
    requests: list[ResolveRequest] = []
    for value in values:
        try:
            requests.append(ResolveRequest.from_dict(jsoncodec.loads(value)))
        except Exception as exc:  # poison: a reason on the dead-letter topic, never a crash
            out.count("dead_letter")
            out.dead.append((None, dead_letter("resolve", value, exc)))
    size = child.settings.resolve_batch_size
    for start in range(0, len(requests), size):
        chunk = requests[start : start + size]
        result: BatchResult = _with_retry(partial(child.resolver.resolve_batch, chunk))
        pairs = zip(result.events, result.payloads, strict=True)
        out.linked.extend((event.key.encode(), body) for event, body in pairs)
        for failed in result.dead:
            out.count("dead_letter")
            out.dead.append((None, dead_letter("resolve", failed.request.to_json(), failed.reason)))
        for outcome, count in result.outcomes.items():
            out.count(outcome, count)
    return out


def apply_command(value: bytes) -> Output:
    """Apply one admin command. Transient database errors are retried like a resolve batch's
    (faust acks whatever its agent let escape, so nothing may); a command that cannot apply,
    for whatever other reason, goes to the dead-letter list with it."""
    child = _state()
    out = Output()
    try:
        command = Command.from_json(value)
        events = _with_retry(partial(_apply, child.commands, command))
    except DatabaseUnavailableError:
        raise
    except Exception as exc:
        out.count("dead_letter")
        out.dead.append((None, dead_letter("commands", value, exc)))
        return out
    out.count(command.action)
    out.linked.extend((event.key.encode(), event.to_json()) for event in events)
    return out


def _apply(commands: CommandHandler, command: Command) -> list[LinkedEvent]:
    try:
        return commands.apply(command)
    except Exception as exc:
        if transient_db_error(exc):
            raise TransientError(str(exc)) from exc
        raise


# --- the parent --------------------------------------------------------------------------------
class ResolverPool(Service):
    """A one-process pool, started before the agents and stopped after them."""

    def __init__(self, settings: Settings, loglevel: str = "info", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._loglevel = loglevel
        self._pool: ProcessPoolExecutor | None = None

    async def on_start(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            # spawn, not fork: the faust process already runs threads (Kafka clients, the web
            # server) whose locks a forked child could inherit held.
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(self._settings, self._loglevel),
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
        return await self._run(resolve_values, values)

    async def command(self, value: bytes) -> Output:
        return await self._run(apply_command, value)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            raise RuntimeError("resolver pool is not started")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
