"""Console sessions: a signed, expiring cookie that names the admin, and a CSRF token per session.

The cookie holds `{"n": admin name, "e": expiry, "c": CSRF token}`, base64url-encoded, then a dot
and the HMAC-SHA256 of that text under `console_session_key`. Nothing is stored on the server, so
any API process with the same key accepts it; changing the key logs everyone out, and a session
ends on its own after :data:`SESSION_SECONDS`. The cookie is HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it) and Secure when the console is served over https.

Every state-changing form carries the session's CSRF token in a hidden field `csrf`, compared in
constant time on POST. The log-in form, before there is a session, gets a short-lived signed
cookie of its own with a token the form must repeat, so another site cannot log a browser in as
someone else either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "pu_console"
LOGIN_COOKIE = "pu_console_login"
SESSION_SECONDS = 8 * 3600
LOGIN_SECONDS = 3600
MIN_KEY_CHARS = 16


@dataclass(frozen=True)
class Admin:
    """Who is signed in (the credential's name, the actor of every command they send)."""

    name: str
    csrf: str
    expires: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks the console's cookies with one key; a purpose tag keeps a log-in cookie
    from passing as a session cookie."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"the console session key needs at least {MIN_KEY_CHARS} characters")
        self._key = key.encode()

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}.{payload}".encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, values: dict[str, object]) -> str:
        payload = _b64(json.dumps(values, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(purpose, payload)}"

    def verify(self, purpose: str, cookie: str | None, now: float | None = None) -> dict[str, object] | None:
        """The values of a cookie this key signed for this purpose and that has not expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        try:
            values = json.loads(_unb64(payload))
        except ValueError:
            return None
        expires = values.get("e") if isinstance(values, dict) else None
        if not isinstance(expires, int) or expires <= (time.time() if now is None else now):
            return None
        return dict(values)

    # --- sessions ------------------------------------------------------------------------------
    def new_session(self, name: str, now: float | None = None) -> tuple[str, Admin]:
        expires = int((time.time() if now is None else now) + SESSION_SECONDS)
        admin = Admin(name, secrets.token_urlsafe(32), expires)
        return self.sign("session", {"n": admin.name, "c": admin.csrf, "e": expires}), admin

    def session(self, cookie: str | None, now: float | None = None) -> Admin | None:
        values = self.verify("session", cookie, now)
        if values is None:
            return None
        name, csrf, expires = values.get("n"), values.get("c"), values.get("e")
        if not isinstance(name, str) or not isinstance(csrf, str) or not isinstance(expires, int):
            return None
        return Admin(name, csrf, expires)

    # --- the log-in form's own token -----------------------------------------------------------
    def new_login(self, now: float | None = None) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        expires = int((time.time() if now is None else now) + LOGIN_SECONDS)
        return self.sign("login", {"c": token, "e": expires}), token

    def login_token(self, cookie: str | None, now: float | None = None) -> str | None:
        values = self.verify("login", cookie, now)
        token = values.get("c") if values else None
        return token if isinstance(token, str) else None


def same_token(presented: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())
