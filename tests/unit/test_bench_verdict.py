"""The pipeline benchmark's verdict names each target it missed, the issue's ratio included."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bench_pipeline import _verdict, rounds_summary


def report(ours: float, null: float | None, p99: float = 300.0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "backfill": {"messages": 10, "rows": 10, "sustained_rate": ours},
        "latency": {"rows_missing": 0, "accepted": 5, "webhooks": 5, "visible_ms": {"p99": p99}},
    }
    if null is not None:
        out["null"] = {"messages": 10, "rows": 10, "sustained_rate": null}
    return out


@pytest.mark.parametrize(
    ("ours", "null", "missed"),
    [
        (6000.0, 9000.0, []),
        (5400.0, 9000.0, []),  # exactly 0.6 meets it
        (5000.0, 9000.0, ["0.56 of the null pipeline's < 0.6"]),
        (4000.0, 9000.0, ["4000.0/s < 5000/s", "0.44 of the null pipeline's < 0.6"]),
        (6000.0, None, []),  # no null run: no ratio to judge
    ],
)
def test_the_verdict_judges_the_rate_and_the_ratio(
    ours: float, null: float | None, missed: list[str]
) -> None:
    failures = _verdict(report(ours, null), quick=False, min_rate=5000, max_p99=500, min_ratio=0.6)
    if missed == ["0.60 of the null"]:
        assert failures == []
        return
    assert len(failures) == len(missed)
    for failure, expected in zip(failures, missed, strict=True):
        assert expected in failure


def test_a_quick_run_judges_only_lost_rows() -> None:
    assert (
        _verdict(report(10.0, 9000.0, p99=9999.0), quick=True, min_rate=5000, max_p99=500, min_ratio=0.6)
        == []
    )


def test_rounds_are_judged_by_their_median_ratio() -> None:
    rounds = rounds_summary([4000.0, 5600.0, 5500.0, None], [9000.0, 9000.0, 10000.0, 9000.0])
    assert rounds["ratios"] == [0.444, 0.622, 0.55]  # a round without a rate counts for nothing
    assert rounds["ratio_median"] == 0.55
    judged = {**report(5600.0, 9000.0), "rounds": rounds}  # the first pair alone would pass
    failures = _verdict(judged, quick=False, min_rate=5000, max_p99=500, min_ratio=0.6)
    assert failures == ["sustained backfill 0.55 of the null pipeline's < 0.6"]
