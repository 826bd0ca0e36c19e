"""Accents dropped: "está" and "esta", "José" and "jose" are one word to a person typing on a phone."""

from __future__ import annotations

import unicodedata


def without_accents(text: str) -> str:
    """`text` decomposed for compatibility (NFKD) with its combining marks dropped: accents go, and
    the compatibility forms (a full-width letter, a ligature) become the letters they stand for.

    Left decomposed: callers compare the result with words folded the same way. (The cue words
    of phone extraction are recomposed instead, to match message text as written: see
    phone_patterns.spellings.)"""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
