"""Microseconds per message of the timeline writer's pure projection (`workers.timeline.projection`).

Usage: ``.venv/bin/python bench/bench_projection.py [--passes 7]``

The writer projects every linked event before its batch insert, so what the projection costs per
message is paid by every backfill. This times `project()` alone on `timeline.event`s made from the
business chat corpus (tests/corpus/business_chat*.jsonl: several languages, inbound and outbound,
as labelled), one untimed pass first, then `--passes` timed passes; it prints the best and the
median pass in microseconds of CPU time per message, overall and for inbound and outbound apart.
Informational: no gate (a timing gate on a shared machine would be noise), but run it before and
after changing the projection and compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from schema.linked import LinkedEvent  # noqa: E402
from workers.timeline.projection import project  # noqa: E402

CORPUS = sorted((ROOT / "tests" / "corpus").glob("business_chat*.jsonl"))


def events() -> list[LinkedEvent]:
    out: list[LinkedEvent] = []
    for path in CORPUS:
        for n, line in enumerate(path.read_text().splitlines()):
            case = json.loads(line)
            data = {
                "idempotency_key": f"{case.get('channel', 'sms')}:{path.stem}-{n}",
                "thread_id": "3f1c2d3e-8a4b-5c6d-9e7f-0a1b2c3d4e5f",
                "owner_customer_id": None,
                "type": "sms",
                "channel": case.get("channel", "sms"),
                "platform": case.get("channel", "sms"),
                "kind": "message",
                "direction": case.get("direction", "in"),
                "content": case["text"],
                "sender": "customer",
                "attachments": [],
                "status": None,
                "booking": None,
                "evidence": [],
                "seen_ms": 1,
                "received_at": "2025-11-21T10:30:00Z",
            }
            out.append(LinkedEvent("timeline.event", f"e{n}", "2025-11-21T10:30:00Z", None, data))
    return out


def timed(batch: list[LinkedEvent]) -> float:
    # CPU time of this process: on a shared machine, wall time also counts other processes' turns.
    started = time.process_time()
    for event in batch:
        project(event)
    return (time.process_time() - started) / max(1, len(batch)) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=7)
    args = parser.parse_args()
    every = events()
    groups = {
        "all": every,
        "inbound": [e for e in every if e.data["direction"] == "in"],
        "outbound": [e for e in every if e.data["direction"] == "out"],
    }
    timed(every)  # warm-up: caches, lazily built analyzers
    print(f"project() over {len(every)} corpus messages, {args.passes} passes")
    for name, batch in groups.items():
        if not batch:
            continue
        passes = [timed(batch) for _ in range(args.passes)]
        print(
            f"  {name:<9} {len(batch):>5} messages: best {min(passes):7.1f} us/message,"
            f" median {statistics.median(passes):7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
