"""The pipeline benchmark runs end to end in its quick mode and reports real figures.

Not a speed test (figures depend on the machine; targets are only checked by `make bench`):
it checks that every backfilled message became a row, every accepted webhook became a visible
row, the null pipeline copied everything, and each figure is there and positive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASE_URL, KAFKA_BOOTSTRAP
from tests.harness import ROOT

pytestmark = pytest.mark.infra


def test_quick_benchmark_produces_every_row_and_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "pipeline.json"
    env = {**os.environ, "KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP, "DATABASE_URL": DATABASE_URL}
    run = subprocess.run(
        [sys.executable, "bench/bench_pipeline.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mode"] == "quick" and report["failures"] == []

    backfill = report["backfill"]
    assert backfill["rows"] == backfill["messages"] > 0
    assert backfill["total_rate"] > 0 and backfill["elapsed_s"] > 0
    assert all(value > 0 for name, value in backfill["cpu_s"].items() if name in ("workers", "writer"))
    # The workers' and the writer's own /metrics were read: every stage ran batches.
    assert {stage: figures["batches"] > 0 for stage, figures in backfill["stages"].items()} == {
        "extract": True,
        "resolve": True,
        "writer": True,
    }

    latency = report["latency"]
    assert latency["accepted"] == latency["webhooks"] > 0
    assert latency["rows_missing"] == 0 and latency["rows_expected"] >= latency["accepted"]
    assert latency["counted"] > 0
    visible = latency["visible_ms"]
    assert 0 < visible["p50"] <= visible["p95"] <= visible["p99"] <= visible["max"]
    assert all(latency["breakdown_ms"][part] for part in ("accepted_to_extract", "row_txn_to_visible"))

    null = report["null"]
    assert null["rows"] == null["messages"] == backfill["messages"]
    assert null["total_rate"] > 0
