"""Logging set-up shared by every process: one line per record, phone numbers masked.

Our own code never formats a phone number into a message; the filter is the second line of
defence for third-party libraries that might (a provider payload in an exception text).
"""

from __future__ import annotations

import logging
import re

# A + followed by 7-15 digits, or a run of 10+ digits with common separators.
_PHONE_LIKE = re.compile(r"\+\d[\d\s().-]{6,18}\d|\b\d[\d\s().-]{8,16}\d\b")


def _mask(match: re.Match[str]) -> str:
    text = match.group(0)
    return re.sub(r"\d(?=(?:\D*\d){2})", "*", text)


class MaskPhones(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _PHONE_LIKE.sub(_mask, message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhones())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
