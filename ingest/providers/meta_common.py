"""Walking the `{object, entry: [...]}` notification all Meta products send."""

from __future__ import annotations

from typing import Any

from ingest.providers.base import PayloadError


def entries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    value = payload.get("entry")
    if not isinstance(value, list):
        raise PayloadError("entry: missing or not a list")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise PayloadError(f"entry[{index}]: not an object")
    return value


def is_test_entry(entry: dict[str, Any]) -> bool:
    """The dashboard's Test button uses entry id 0 (real page, account and WABA ids never are)."""
    return entry.get("id") in ("0", 0)
