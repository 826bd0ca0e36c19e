"""Accuracy targets of extraction on the evaluation corpus (tests/corpus), run as a test.

The same evaluation as ``bench/eval_extract.py`` (which also scores libphonenumber's matcher and the
design document's regexes): on each tuning source precision and recall >= 0.98, on the tuning set a
wrong-link rate <= 0.2%, F1 >= 0.99 on the cases taken from public matcher test suites. The held-out and
frozen test
sets are not loaded here: their figures come from ``make eval`` only. Timing is not asserted here; see
bench/bench_extract.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_extract", ROOT / "bench" / "eval_extract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_extract"] = module
    spec.loader.exec_module(module)
    return module


Evaluation = tuple[ModuleType, dict[str, object], list[object]]


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    module = _load_eval()
    cases = module.load_cases()
    return module, module.evaluate(cases, systems=("ours",)), cases


def test_corpus_is_there_and_large_enough(evaluation: Evaluation) -> None:
    module, _, cases = evaluation
    business = [c for c in cases if module.is_business(c)]
    suites = [c for c in cases if not module.is_business(c)]
    assert {c.set_name for c in cases} == {module.TUNING, module.SUITES}  # never the held-out or frozen
    assert len(business) >= 8000
    assert sum(1 for c in business if not c.phones) > len(business) / 2  # most chat has no phone
    assert len(suites) >= 500


def test_tuning_precision_recall_and_wrong_links(evaluation: Evaluation) -> None:
    module, reports, _ = evaluation
    report = reports[module.TUNING]
    for source in report.sources:
        score = report.total("ours", [source])
        assert score.precision >= module.PRECISION_TARGET, (source, report.misses[:20])
        assert score.recall >= module.RECALL_TARGET, (source, report.misses[:20])
    assert report.wrong_rate() <= module.WRONG_LINK_TARGET, report.misses[:20]


def test_matcher_suites_f1(evaluation: Evaluation) -> None:
    module, reports, _ = evaluation
    report = reports[module.SUITES]
    assert report.total("ours").f1 >= module.SUITE_F1, report.misses[:20]


def test_every_suite_case_records_origin_and_license() -> None:
    for line in (ROOT / "tests" / "corpus" / "matcher_suites.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert record["origin"] and record["license"] in {"Apache-2.0", "MIT"}
