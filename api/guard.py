"""The API's front door, in front of FastAPI: authenticate, then read a bounded body.

FastAPI reads and parses a request's body before it runs the dependencies that authenticate
it, so an anonymous client could make the API hold any body it sent (a 150 MB POST took the
process from 119 to 610 MB). This ASGI middleware runs first:

- every `/api/` request must carry a bearer token of a named credential, checked before one
  byte of the body is read: 401 otherwise (the name is left in the scope for the routes: the
  actor of the ledger). Other paths (`/console/` with its own session login, `/healthz`,
  `/metrics`, the docs) pass through to their own checks;
- every body, authenticated or not, is capped at `max_body_bytes`: a larger Content-Length is
  refused at once, and a body without one (chunked) is read only up to the cap: 413;
- a path or query holding a NUL character is refused (400): no database takes one, and a driver
  error is not the client's answer.

How long a client may take to send its request is bounded by the HTTP server itself
(phoneunify.httpserver).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phoneunify.credentials import Credentials

PROTECTED_PREFIX = "/api/"
_ADMIN = "phoneunify.admin"


def admin_of(scope: Mapping[str, Any]) -> str | None:
    """The credential name the guard authenticated for this request (None if it did not)."""
    state = scope.get("state") or {}
    name = state.get(_ADMIN)
    return name if isinstance(name, str) else None


class TooLargeError(Exception):
    pass


class Guard:
    def __init__(self, app: ASGIApp, credentials: Credentials, max_body_bytes: int) -> None:
        self.app = app
        self.credentials = credentials
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            await _reply(send, 400, "a NUL character is not allowed in a URL")
            return
        if scope["path"].startswith(PROTECTED_PREFIX):
            name, problem = self._who(scope)
            if name is None:
                await _reply(send, 401, problem, {"www-authenticate": _challenge(problem)})
                return
            scope.setdefault("state", {})[_ADMIN] = name
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            status = 413 if declared.isdigit() else 400
            await _reply(send, status, self._too_large() if status == 413 else "bad Content-Length")
            return
        try:
            body = await self._read(receive)
        except TooLargeError:
            await _reply(send, 413, self._too_large())
            return
        await self.app(scope, _replay(body, receive), send)

    def _who(self, scope: Scope) -> tuple[str | None, str]:
        header = _header(scope, b"authorization")
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "missing bearer token"
        name = self.credentials.who(token.strip())
        # 401, not 403 (RFC 6750): the credentials are wrong, not the permissions.
        return name, "unknown bearer token"

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: the app sees it too
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise TooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> str:
        return f"body larger than {self.max_body} bytes"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then waits as the server's would."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


def _challenge(problem: str) -> str:
    return "Bearer" if problem.startswith("missing") else 'Bearer error="invalid_token"'


async def _reply(send: Send, status: int, error: str, headers: Mapping[str, str] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    # The body was not read: the connection cannot carry another request after this one.
    raw.append((b"connection", b"close"))
    raw.extend((k.encode(), v.encode()) for k, v in (headers or {}).items())
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
