"""Dead-letter records (`dlq.<stage>`): the original bytes, the stage and the reason, as one JSON
object. Every stage writes them with `dead_letter`, so one tool reads them all."""

from __future__ import annotations

import json
from datetime import UTC, datetime


def dead_letter(stage: str, value: bytes | None, reason: BaseException | str) -> bytes:
    text = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
    body = {
        "stage": stage,
        # A reason quoting a lone surrogate (an emoji cut in half) still encodes.
        "reason": text[:1000].encode("utf-8", "replace").decode(),
        "failed_at": datetime.now(UTC).isoformat(),
        # Kept whole so the message can be replayed once fixed; dead-letter topics share the raw
        # topics' access rules.
        "value": (value or b"").decode("utf-8", errors="replace"),
    }
    return json.dumps(body, ensure_ascii=False).encode()
