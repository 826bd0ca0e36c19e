"""What the API answers when something other than the request is wrong.

- The database is down, restarting, or its pool is exhausted: 503 `{"error": ...}` with
  Retry-After, and one log line with the error's type. The client retries; nothing it sent was
  wrong, and a traceback is nothing for a client to read.
- Anything else unexpected is a bug of ours: 500 `{"error": "internal error"}`; the traceback
  goes to the server's log (masked like every log line), never to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from phoneunify.retry import transient_db_error

log = logging.getLogger("api")

RETRY_AFTER_S = "5"


def database_unavailable(exc: BaseException) -> bool:
    """Trouble reaching PostgreSQL, not a fault of the query: worth a 503 and a retry."""
    if isinstance(exc, PoolTimeoutError) or transient_db_error(exc):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def install(app: FastAPI) -> None:
    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            log.error("api %s: database unavailable (%s)", request.url.path, type(exc).__name__)
            return JSONResponse(
                {"error": "the database is unavailable; retry later"},
                status_code=503,
                headers={"Retry-After": RETRY_AFTER_S},
            )
        return await internal_error(request, exc)

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("api %s: internal error", request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal error"}, status_code=500)

    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(PoolTimeoutError, database_error)
    app.add_exception_handler(Exception, internal_error)
