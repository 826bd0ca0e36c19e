"""Logging set-up shared by every process: one line per record, phone numbers and URL passwords masked.

Our own code never formats a phone number or a password into a message; the filter is the
second line of defence for third-party libraries that might (a provider payload in an exception
text, a database URL in a connection error).
"""

from __future__ import annotations

import logging
from typing import Any

from phoneunify.privacy import redact


class MaskPhones(logging.Filter):
    """Passes every record through `privacy.redact` (phones and URL passwords)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class RedactingFormatter(logging.Formatter):
    """Tracebacks are not part of a record's message: they are masked as they are formatted."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhones())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
