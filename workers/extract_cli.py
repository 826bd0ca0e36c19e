"""``phoneunify extract``: phone numbers in JSON lines, one answer line per input line.

Input, one JSON object per line on stdin: ``{"text": "...", "region": "US"}``; ``region`` is optional
(the ``--region`` flag is the default); ``direction``, ``business_numbers`` and ``channel`` are read
too when present, for attribution. Output, one line per input line, in order::

    {"phones": ["+19165551234"], "candidates": [{"e164": "+19165551234", "start": 10, "end": 24,
     "confidence": 0.95, "evidence": ["format:punctuated", ...], "owner": "sender", "raw": "..."}]}

``phones`` is every phone number in the text, whoever it belongs to; ``candidates`` carry the
attribution. A line that is not a JSON object with a string ``text`` gives ``{"error": "..."}`` on its
line, and the stream goes on. Every line is flushed as it is written, so the command streams.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from workers.domain.phones import Candidate, ExtractionContext, extract, warm_up


class _BadLine(ValueError):
    pass


def _context(record: dict[str, Any]) -> ExtractionContext:
    direction = record.get("direction", "in")
    if direction not in {"in", "out"}:
        raise _BadLine('"direction" must be "in" or "out"')
    numbers = record.get("business_numbers", [])
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise _BadLine('"business_numbers" must be a list of strings')
    channel = record.get("channel", "")
    if not isinstance(channel, str):
        raise _BadLine('"channel" must be a string')
    return ExtractionContext(direction=direction, business_numbers=frozenset(numbers), channel=channel)


def _candidate(candidate: Candidate) -> dict[str, Any]:
    return {
        "e164": candidate.e164,
        "start": candidate.start,
        "end": candidate.end,
        "confidence": candidate.confidence,
        "evidence": list(candidate.evidence),
        "owner": candidate.owner.value,
        "raw": candidate.raw,
    }


def answer(line: str, default_region: str | None) -> dict[str, Any]:
    """The output object for one input line (an ``error`` object when the line is malformed)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"not JSON: {exc.msg} at column {exc.colno}"}
    try:
        if not isinstance(record, dict):
            raise _BadLine("expected a JSON object")
        text = record.get("text")
        if not isinstance(text, str):
            raise _BadLine('"text" must be a string')
        region = record.get("region", default_region)
        if region is not None and not isinstance(region, str):
            raise _BadLine('"region" must be a string')
        candidates = extract(text, region or None, _context(record))
    except _BadLine as exc:
        return {"error": str(exc)}
    return {"phones": [c.e164 for c in candidates], "candidates": [_candidate(c) for c in candidates]}


def run(stdin: TextIO, stdout: TextIO, default_region: str) -> int:
    """Stream ``stdin`` to ``stdout``; returns the exit status (0: every line got its answer line)."""
    warm_up()
    region = default_region or None
    for line in stdin:
        if not line.strip():
            result: dict[str, Any] = {"error": "empty line"}
        else:
            result = answer(line, region)
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0
