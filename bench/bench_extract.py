"""Messages per second of our extraction vs ``PhoneNumberMatcher(Leniency.VALID)`` on the business corpus.

Usage: ``.venv/bin/python bench/bench_extract.py [--repeats 5] [--min-ratio 3]``

Both run in this process, on the same messages (tests/corpus/business_chat*.jsonl), with metadata
loaded once before timing. Each repeat times one pass over the corpus; the best pass of each is
reported, with the ratio. Ours runs the whole ``extract`` (candidates, cues, owners, confidence); the
matcher only finds numbers. Exits 1 when the ratio is below ``--min-ratio``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from phonenumbers import Leniency, PhoneNumberMatcher

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.eval_extract import Case, is_business, load_cases  # noqa: E402
from workers.domain.phones import ExtractionContext, extract, warm_up  # noqa: E402


def run_ours(cases: list[tuple[str, str | None, ExtractionContext]]) -> int:
    found = 0
    for text, region, context in cases:
        found += len(extract(text, region, context))
    return found


def run_matcher(cases: list[tuple[str, str | None, ExtractionContext]]) -> int:
    found = 0
    for text, region, _ in cases:
        for _match in PhoneNumberMatcher(text, region, Leniency.VALID):
            found += 1
    return found


def best_rate(
    fn: Callable[[list[tuple[str, str | None, ExtractionContext]]], int],
    cases: list[tuple[str, str | None, ExtractionContext]],
    repeats: int,
) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(cases)
        best = min(best, time.perf_counter() - start)
    return len(cases) / best


def prepare(cases: list[Case]) -> list[tuple[str, str | None, ExtractionContext]]:
    return [
        (
            c.text,
            c.region,
            ExtractionContext(direction=c.direction, business_numbers=c.business_numbers, channel=c.channel),
        )
        for c in cases
        if is_business(c)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-ratio", type=float, default=3.0)
    args = parser.parse_args(argv)
    warm_up()
    cases = prepare(load_cases())
    run_ours(cases)  # one untimed pass each: compiled regexes and metadata are warm for both
    run_matcher(cases)
    ours = best_rate(run_ours, cases, args.repeats)
    matcher = best_rate(run_matcher, cases, args.repeats)
    ratio = ours / matcher
    print(f"messages: {len(cases)} (business chat corpus), best of {args.repeats} passes")
    print(f"ours:                               {ours:>10,.0f} msgs/s")
    print(f"PhoneNumberMatcher(Leniency.VALID): {matcher:>10,.0f} msgs/s")
    print(f"ratio: {ratio:.2f}x (target >= {args.min_ratio:g}x)")
    return 0 if ratio >= args.min_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
