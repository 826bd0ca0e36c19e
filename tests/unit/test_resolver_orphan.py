"""The resolver child never outlives the workers process: a real parent with a real pool,
SIGKILLed (no shutdown runs), and the child must be gone soon after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phoneunify.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# The workers process in miniature: the real ResolverPool, started as app.py starts it, with a
# child that needs no database; it prints the child's pid, then idles until killed.
PARENT = """
import asyncio
from phoneunify.settings import Settings
from tests.unit.test_resolver_orphan import idle_child
from workers.streams.resolver_process import ResolverPool

async def main() -> None:
    pool = ResolverPool(Settings(phone_hash_key="test-key"), idle_child)
    await pool.on_start()
    print(*pool._pool._processes, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def idle_child(settings: Settings) -> object:
    """The child's ResolverChild stand-in (pickled by name into the spawned child)."""
    return object()


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody reaped yet (PID 1 in a container may not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_the_resolver_child_exits_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline().strip())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 60  # a bound for a busy machine, not a speed requirement
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the resolver child outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
