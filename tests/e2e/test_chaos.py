"""A small `make chaos`: the fault suite's own Kafka and PostgreSQL and the supervised stack of
`make up`, a few faults mid-stream, and nothing lost, doubled or misattributed (bench/chaos.py)."""

from __future__ import annotations

import pytest

from bench import chaos

pytestmark = pytest.mark.infra


def test_a_few_faults_mid_stream_lose_nothing_and_heal_by_themselves() -> None:
    phases = chaos.run(["resolver", "postgres", "oversized"], messages=600, rate=40, people=60)
    print("\n" + chaos.table(phases))
    assert chaos.verdict(phases) == []
    assert all(p.recover_s is not None for p in phases)
    assert sum(len(p.acked) for p in phases) >= 600
    resolver = next(p for p in phases if p.fault == "resolver")
    assert any("supervisor restarted resolver" in note for note in resolver.notes)
