"""Where the time goes: py-spy samples of the stack processes, folded into a short summary.

py-spy (a sampling profiler that reads another process's stacks from outside) records each
process for the length of a run, sampling only the thread that holds the GIL (--gil): the
shares are shares of the process's Python CPU. Time a thread spends waiting for PostgreSQL or
Kafka, or in C code that released the GIL, is not in it; PostgreSQL's own time is measured
separately as the CPU seconds of its backends. Blocking mode (the default) pauses the process
for each sample, which costs it a few percent; that is why the profile comes from its own run,
not from the measured ones.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Leaf-most frame whose file matches decides the category (first rule that matches wins).
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("json", ("json/", "orjson")),
    ("phone extraction", ("workers/domain/phone", "phonenumbers/")),
    ("identity rules", ("workers/domain/identity",)),
    ("resolver logic", ("workers/services/resolve", "workers/services/evidence")),
    ("identity SQL (repository)", ("workers/adapters/",)),
    ("timeline projection+store", ("workers/timeline/",)),
    ("contracts (envelopes, events)", ("schema/", "workers/domain/requests", "workers/domain/model")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("psycopg2", ("psycopg2/",)),
    ("faust/mode", ("faust/", "mode/")),
    ("aiokafka", ("aiokafka/",)),
    ("kafka-python", ("kafka/",)),
    ("asyncio", ("asyncio/", "selectors.py")),
    ("uuid/datetime", ("uuid.py", "datetime", "_strptime")),
    ("prometheus", ("prometheus_client/",)),
    ("threading/queue", ("threading.py", "queue.py", "concurrent/")),
)
# Our functions whose inclusive share (anywhere on the stack) is worth a line of its own.
WATCHED = (
    "gather",
    "Resolver.resolve_batch",
    "ResolveRequest.from_json",
    "ResolveRequest.to_json",
    "RawEnvelope.from_json",
    "LinkedEvent.to_json",
    "LinkedEvent.from_json",
    "project",
    "write_batch",
    "Consumer.getmany",
    "Producer.send",
)


def pyspy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


@dataclass
class Recording:
    name: str
    output: Path
    proc: subprocess.Popen[bytes]


def record(name: str, pid: int, seconds: float, out_dir: Path, rate: int = 50) -> Recording | None:
    exe = pyspy()
    if exe is None:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{name}.folded"
    proc = subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            str(rate),
            # Only the thread holding the GIL: what the process spends Python CPU on. (Here
            # py-spy's idle detection counts threads blocked in epoll or on a PostgreSQL reply
            # as running, which would drown the profile in waiting.)
            "--gil",
            # The workers' resolver is a child process: sample it too.
            "--subprocesses",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Recording(name, output, proc)


@dataclass
class Summary:
    samples: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    leaves: Counter[str] = field(default_factory=Counter)
    watched: Counter[str] = field(default_factory=Counter)

    def as_dict(self, top: int = 12) -> dict[str, object]:
        total = max(self.samples, 1)

        def share(counter: Counter[str]) -> dict[str, float]:
            return {k: round(100 * v / total, 1) for k, v in counter.most_common(top)}

        return {
            "samples": self.samples,
            "categories_pct": share(self.categories),
            "top_self_pct": share(self.leaves),
            "inclusive_pct": share(self.watched),
        }


def summarize(path: Path) -> Summary:
    summary = Summary()
    if not path.exists():
        return summary
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        summary.samples += count
        summary.categories[_category(frames)] += count
        summary.leaves[_short(frames[-1])] += count
        names = {_function(frame) for frame in frames}
        for name in WATCHED:
            if name in names:
                summary.watched[name] += count
    return summary


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        where = frame[frame.rfind("(") + 1 :]
        for category, needles in CATEGORIES:
            if any(needle in where for needle in needles):
                return category
    return "other"


def _function(frame: str) -> str:
    return frame.split(" (", 1)[0]


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit('/', 2)[-1] if where else '?'})"
