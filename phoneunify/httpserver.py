"""The one way phoneunify serves HTTP (the ingest edge and the API): uvicorn, with deadlines.

uvicorn bounds only the idle time between two requests on a keep-alive connection. A client
that connects and never finishes its request line, its headers or its body holds a connection
(and, mid-body, a request task and its buffers) for as long as it likes: a hundred slow
clients held the edge for as long as they chose. `ReadDeadline` gives every request a
deadline: from the moment a connection opens, or the previous response on it was sent, the
client has `http_read_timeout_s` to deliver the whole request, headers and body; past it the
connection is closed. A request that is fully read is not bounded here: how long the app
takes to answer is the app's business (the edge bounds its wait for the broker itself).

uvicorn accepts a protocol class for `http=`; this one is its httptools protocol (the one
both servers ran already) with a timer that `connection_made`, `on_response_complete` and
`on_message_complete` arm and disarm. uvicorn is pinned, and a test drives a slow client
against a real server, so a change in those hooks fails there first.

Logging goes to the root logger (`log_config=None`): uvicorn's own handlers would bypass the
masking of phone numbers and URL passwords (phoneunify.logs).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from phoneunify.settings import Settings


class ReadDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request takes too long to arrive."""

    read_timeout_s: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection has a deadline of its own

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.read_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def read_deadline(read_timeout_s: float) -> type[ReadDeadline]:
    """The protocol class for one server's deadline."""
    return type("ReadDeadlineProtocol", (ReadDeadline,), {"read_timeout_s": read_timeout_s})


def config(
    app: Any, *, host: str, port: int, read_timeout_s: float, keepalive_s: int, loop: str = "auto"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=loop,
        http=read_deadline(read_timeout_s),
        timeout_keep_alive=keepalive_s,
        log_config=None,
        log_level="info",
        access_log=False,
    )


def serve(app: Any, settings: Settings, *, host: str, port: int, loop: str = "auto") -> None:
    """Run `app` with the settings' deadlines until interrupted (SIGTERM or SIGINT: uvicorn
    drains, then the app's lifespan ends)."""
    read, keepalive = settings.http_read_timeout_s, settings.http_keepalive_timeout_s
    server = config(app, host=host, port=port, read_timeout_s=read, keepalive_s=keepalive, loop=loop)
    uvicorn.Server(server).run()
