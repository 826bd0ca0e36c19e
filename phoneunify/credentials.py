"""Named API credentials: who an admin is comes from the token they present, never from a body.

`PHONEUNIFY_API_TOKENS` holds comma-separated entries, each `name:token`, or `name:sha256:<hex>`
where the secret store should not hold the token itself. Only SHA-256 digests stay in memory;
a presented token is hashed and compared with every digest in constant time. The name is what
the identity ledger records as the actor (`admin:<name>`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class CredentialError(ValueError):
    """A credential entry that cannot be used; the message says which and why (never the token)."""


@dataclass(frozen=True)
class Credential:
    name: str
    digest: bytes  # SHA-256 of the token


def digest_of(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def parse_entry(entry: str) -> Credential:
    name, sep, secret = entry.strip().partition(":")
    if not sep or not secret:
        raise CredentialError(f"credential {name[:16]!r}... is not name:token (or name:sha256:<hex>)")
    if not _NAME.fullmatch(name):
        raise CredentialError(f"credential name {name[:64]!r} must be 1-64 of letters, digits, . _ @ -")
    scheme, sep, hexdigest = secret.partition(":")
    if scheme == "sha256" and sep:
        if not _HEX_DIGEST.fullmatch(hexdigest):
            raise CredentialError(f"credential {name!r}: sha256 needs 64 lowercase hex digits")
        return Credential(name, bytes.fromhex(hexdigest))
    if len(secret) < 16:
        raise CredentialError(f"credential {name!r}: a token needs at least 16 characters")
    return Credential(name, digest_of(secret))


def plain_token(entry: str) -> str | None:
    """The token of a `name:token` entry (the demo's own client uses it); None for a digest."""
    _name, _sep, secret = entry.strip().partition(":")
    return None if secret.startswith("sha256:") or not secret else secret


class Credentials:
    """The accepted credentials, by digest."""

    def __init__(self, entries: Iterable[str]) -> None:
        parsed = [parse_entry(entry) for entry in entries if entry.strip()]
        names = [c.name for c in parsed]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise CredentialError(f"credential names must be unique: {', '.join(duplicates)}")
        self._all = tuple(parsed)

    def __len__(self) -> int:
        return len(self._all)

    def who(self, presented: str) -> str | None:
        """The name of the credential whose token this is, or None. Every digest is compared,
        so the time taken does not say which entry (or whether any) came close."""
        digest = digest_of(presented)
        found: str | None = None
        for credential in self._all:
            if hmac.compare_digest(digest, credential.digest):
                found = credential.name
        return found
