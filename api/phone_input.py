"""Phone numbers as people type them into the API and the CLI: the workers' one reading of them
(admin commands read a typed number the same way when they apply)."""

from __future__ import annotations

from fastapi import HTTPException

from workers.domain import phones
from workers.domain.typed_phone import canonical_phone

__all__ = ["canonical_phone", "e164_of"]


def e164_of(phone: str, region: str) -> str:
    """A phone a route was given, as E.164; a 400 with the reason when it is not one."""
    try:
        return canonical_phone(phone, region)
    except phones.PhoneError as exc:
        raise HTTPException(400, f"not a phone number: {exc.reason}") from exc
