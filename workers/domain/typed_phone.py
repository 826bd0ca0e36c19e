"""Phone numbers as people type them: into the API, the CLI and admin commands."""

from __future__ import annotations

from workers.domain import phones


def canonical_phone(raw: str, region: str) -> str:
    """The canonical E.164 of a number written in any format, in the business's region. A
    provider form libphonenumber calls invalid (a Brazilian WhatsApp number without its 9th
    digit) is accepted when its canonical form is valid, as the resolver accepts it.
    Raises PhoneError with the first attempt's reason."""
    try:
        return phones.canonical(phones.normalize(raw, region))
    except phones.PhoneError as first:
        try:
            canonical = phones.normalize_channel_address(raw, "twilio", region).canonical
            return phones.normalize(canonical)
        except phones.PhoneError:
            raise first from None
