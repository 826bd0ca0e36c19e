"""Accuracy of phone extraction on the evaluation corpus: ours, libphonenumber's matcher, the design regexes.

Usage: ``.venv/bin/python bench/eval_extract.py [--verbose]``

For each source of cases (the generated business chat, the hand-written tricky chat, and each public
matcher test suite) it prints precision, recall and F1 of the phone numbers found, compared per
message as multisets of E.164 strings, for three systems:

* ``ours``: :func:`workers.domain.phones.extract`;
* ``matcher``: ``phonenumbers.PhoneNumberMatcher(text, region, Leniency.VALID)``;
* ``design_regexes``: the four regexes of the design document, each match normalized with
  ``phonenumbers.parse`` + ``is_valid_number`` (what its ``validate_phone`` promises).

It also prints, for ours, how well the sender's own numbers are told apart (owner SENDER with
confidence >= 0.5 against ``sender_phones``). Exits 1 when ours misses a target: precision and
recall >= 0.98 on business chat, F1 >= 0.99 on the matcher suites.

``business_chat_heldout`` (tests/corpus/HELDOUT.md) is REPORT-ONLY: scored and printed like the other
sources, but never part of the targets, the sender-attribution line, ``load_cases()``'s default (so
tests and bench_extract.py do not see it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workers.domain.phones import ExtractionContext, Owner, extract, warm_up  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
BUSINESS_FILES = ("business_chat.jsonl", "business_chat_tricky.jsonl")
SUITE_FILE = "matcher_suites.jsonl"
HELDOUT_FILES = ("business_chat_heldout.jsonl",)  # report-only, see HELDOUT.md
REPORT_ONLY = frozenset(name.removesuffix(".jsonl") for name in HELDOUT_FILES)

BUSINESS_PRECISION = 0.98
BUSINESS_RECALL = 0.98
SUITE_F1 = 0.99
IDENTIFY_THRESHOLD = 0.5

DESIGN_PATTERNS = [
    re.compile(r"\+1[\s-]?\(?\d{3}\)?[\s-]?\d{3}[\s-]?\d{4}"),
    re.compile(r"\(?\d{3}\)?[\s-]?\d{3}[\s-]?\d{4}"),
    re.compile(r"\d{3}[\s-]?\d{3}[\s-]?\d{4}"),
    re.compile(r"\+\d{1,3}[\s-]?\d{6,14}"),
]


@dataclass(frozen=True)
class Case:
    source: str
    text: str
    region: str | None
    phones: tuple[str, ...]
    sender_phones: tuple[str, ...]
    business_numbers: frozenset[str]
    direction: str
    channel: str
    case_id: str


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, expected: Iterable[str], predicted: Iterable[str]) -> tuple[list[str], list[str]]:
        want, got = Counter(expected), Counter(predicted)
        hit = sum((want & got).values())
        self.tp += hit
        self.fp += sum(got.values()) - hit
        self.fn += sum(want.values()) - hit
        return sorted((got - want).elements()), sorted((want - got).elements())


def load_cases(corpus: Path = CORPUS, names: Iterable[str] = (*BUSINESS_FILES, SUITE_FILE)) -> list[Case]:
    cases: list[Case] = []
    for name in names:
        path = corpus / name
        if not path.exists():
            continue
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            record = json.loads(line)
            source = record.get("source") or name.removesuffix(".jsonl")
            cases.append(
                Case(
                    source=source,
                    text=record["text"],
                    region=record.get("region"),
                    phones=tuple(record.get("phones", [])),
                    sender_phones=tuple(record.get("sender_phones", [])),
                    business_numbers=frozenset(record.get("business_numbers", [])),
                    direction=record.get("direction", "in"),
                    channel=record.get("channel", ""),
                    case_id=str(record.get("id", f"{name}:{line_no}")),
                )
            )
    return cases


def is_business(case: Case) -> bool:
    return case.source.startswith("business_chat")


def ours(case: Case) -> list[str]:
    context = ExtractionContext(
        direction=case.direction, business_numbers=case.business_numbers, channel=case.channel
    )
    return [c.e164 for c in extract(case.text, case.region, context)]


def matcher(case: Case) -> list[str]:
    found = PhoneNumberMatcher(case.text, case.region, Leniency.VALID)
    return [str(phonenumbers.format_number(m.number, PhoneNumberFormat.E164)) for m in found]


def design_regexes(case: Case) -> list[str]:
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    for pattern in DESIGN_PATTERNS:
        for match in pattern.finditer(case.text):
            start, end = match.span()
            if any(start < e and end > s for s, e in taken):
                continue
            try:
                number = phonenumbers.parse(match.group(0), case.region)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(number):
                continue
            taken.append((start, end))
            found.append(str(phonenumbers.format_number(number, PhoneNumberFormat.E164)))
    return found


SYSTEMS: dict[str, Callable[[Case], list[str]]] = {
    "ours": ours,
    "matcher": matcher,
    "design_regexes": design_regexes,
}


@dataclass
class Report:
    scores: dict[tuple[str, str], Score]  # (system, source) -> score
    identify: dict[str, Score]  # source -> score of sender attribution (ours)
    misses: list[str]

    def group(self, system: str, sources: Iterable[str]) -> Score:
        total = Score()
        for source in sources:
            score = self.scores.get((system, source))
            if score is not None:
                total.tp += score.tp
                total.fp += score.fp
                total.fn += score.fn
        return total

    @property
    def sources(self) -> list[str]:
        return sorted({source for _, source in self.scores}, key=lambda s: (not s.startswith("business"), s))

    def targets_met(self) -> list[str]:
        failures: list[str] = []
        business = [s for s in self.sources if s.startswith("business_chat") and s not in REPORT_ONLY]
        suites = [s for s in self.sources if not s.startswith("business_chat")]
        for source in business:
            score = self.scores[("ours", source)]
            if score.precision < BUSINESS_PRECISION or score.recall < BUSINESS_RECALL:
                failures.append(f"{source}: precision {score.precision:.4f}, recall {score.recall:.4f}")
        if suites:
            suite_score = self.group("ours", suites)
            if suite_score.f1 < SUITE_F1:
                failures.append(f"matcher suites: F1 {suite_score.f1:.4f} < {SUITE_F1}")
        return failures


def evaluate(cases: list[Case], systems: Iterable[str] = tuple(SYSTEMS)) -> Report:
    report = Report(scores={}, identify={}, misses=[])
    for case in cases:
        for system in systems:
            predicted = SYSTEMS[system](case)
            score = report.scores.setdefault((system, case.source), Score())
            extra, missing = score.add(case.phones, predicted)
            if system == "ours" and (extra or missing):
                where = f"[{case.source} {case.case_id} {case.region}]"
                report.misses.append(f"{where} {case.text!r} extra={extra} missing={missing}")
        if (
            is_business(case)
            and case.source not in REPORT_ONLY
            and case.direction == "in"
            and "ours" in systems
        ):
            context = ExtractionContext(
                direction=case.direction, business_numbers=case.business_numbers, channel=case.channel
            )
            identifying = [
                c.e164
                for c in extract(case.text, case.region, context)
                if c.owner is Owner.SENDER and c.confidence >= IDENTIFY_THRESHOLD
            ]
            report.identify.setdefault(case.source, Score()).add(case.sender_phones, identifying)
    return report


def print_report(report: Report, cases: list[Case], out: Callable[[str], None] = print) -> None:
    counts = Counter(case.source for case in cases)
    with_phone = Counter(case.source for case in cases if case.phones)
    out(f"{'source':<34} {'cases':>6} {'w/phone':>8}  {'system':<15} {'prec':>7} {'recall':>7} {'F1':>7}")
    systems = sorted({system for system, _ in report.scores}, key=list(SYSTEMS).index)
    groups: list[tuple[str, list[str]]] = [(source, [source]) for source in report.sources]
    suites = [s for s in report.sources if not s.startswith("business_chat")]
    if len(suites) > 1:
        groups.append(("ALL matcher suites", suites))
    for label, sources in groups:
        n = sum(counts[s] for s in sources)
        np_ = sum(with_phone[s] for s in sources)
        for i, system in enumerate(systems):
            score = report.group(system, sources)
            head = f"{label:<34} {n:>6} {np_:>8}" if i == 0 else " " * 50
            out(f"{head}  {system:<15} {score.precision:>7.4f} {score.recall:>7.4f} {score.f1:>7.4f}")
    for source, score in sorted(report.identify.items()):
        out(
            f"sender attribution (ours, inbound) {source}: precision {score.precision:.4f} "
            f"recall {score.recall:.4f} (owner=sender, confidence>={IDENTIFY_THRESHOLD})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list every case ours gets wrong")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    warm_up()
    cases = load_cases(args.corpus) + load_cases(args.corpus, HELDOUT_FILES)
    report = evaluate(cases)
    print_report(report, cases)
    if REPORT_ONLY & set(report.sources):
        print(f"report-only, not in the targets: {', '.join(sorted(REPORT_ONLY & set(report.sources)))}")
    if args.verbose:
        for miss in report.misses:
            print("  miss", miss)
    failures = report.targets_met()
    if failures:
        print("TARGETS MISSED: " + "; ".join(failures))
        return 1
    print("targets met: business chat precision/recall >= 0.98, matcher suites F1 >= 0.99")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
