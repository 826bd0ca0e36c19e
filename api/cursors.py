"""Signed page cursors: a client can pass back only a cursor this API issued.

A cursor is the keyset position of `queries.Cursor` followed by a MAC of it: `<position>.<mac>`,
both base64url. An edited or hand-made cursor is refused (400) before anything reads the
database, so a cursor cannot be used to probe the timeline table with positions of one's
choosing, and docs/api.md's "a cursor the API did not issue: 400" holds.

The key is derived from PHONEUNIFY_PHONE_HASH_KEY (`privacy.derive_key`, purpose "api cursor"):
every API process of a deployment shares it without a secret of its own, and rotating the phone
hash key (which re-keys every Kafka key anyway) also retires every cursor in flight; a client
then starts paging again from the top.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from fastapi import HTTPException

from api.queries import Cursor

MAC_BYTES = 16  # 128 bits: out of reach of guessing, and a cursor stays short


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, cursor: Cursor) -> str:
        position = cursor.encode()
        return f"{position}.{_b64(self._mac(position))}"

    def decode(self, text: str) -> Cursor:
        """The cursor, or ValueError when this API did not issue `text`."""
        position, _, mac = text.rpartition(".")
        try:
            given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
        except ValueError:
            given = b""
        if not position or not hmac.compare_digest(given, self._mac(position)):
            raise ValueError("not a cursor this API issued (use next_cursor as given)")
        return Cursor.decode(position)

    def requested(self, text: str | None) -> Cursor | None:
        """Where a request's `cursor` parameter says to go on from: None (absent or empty) is
        the first page; a cursor this API did not issue is a 400 with the reason."""
        try:
            return self.decode(text) if text else None
        except ValueError as exc:
            raise HTTPException(400, f"bad cursor: {exc}") from exc

    def next_page(self, cursor: Cursor | None) -> str | None:
        """A page's next_cursor: the position after it, or None on the last page."""
        return self.encode(cursor) if cursor else None

    def _mac(self, position: str) -> bytes:
        return hmac.new(self._key, position.encode(), hashlib.sha256).digest()[:MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
