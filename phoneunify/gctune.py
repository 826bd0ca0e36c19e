"""Garbage-collector settings for the long-running processes.

CPython's cyclic collector runs after every 700 net container allocations, and its older
generations are scanned whole. Our processes hold a large, stable heap (faust, SQLAlchemy,
caches) and churn through batches of decoded messages, so those scans were a hidden share of
their CPU: decoding one 1.2 kB resolve request took 33 us with the defaults, 10 us once the
start-up heap was frozen, 6 us with no collector at all. Messages, rows and events are acyclic
and freed by reference counting the moment they are dropped; the collector only has to catch
the rare cycle, so it can run far less often, and need never scan what start-up built.
"""

from __future__ import annotations

import gc

# Net container allocations between young collections (CPython's default: 700), then how many
# young collections per middle one and middle ones per full one.
YOUNG = 50_000
MIDDLE = 20
OLD = 10


def tune() -> None:
    """Call once the process has built its long-lived objects (apps, engines, caches)."""
    gc.freeze()  # what exists now lives as long as the process: never scan it again
    gc.set_threshold(YOUNG, MIDDLE, OLD)
