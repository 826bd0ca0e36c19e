"""The admin console: server-rendered pages under /console/, on the API's process and port.

A person finds a customer, reads their whole story on one page, sees why each identity and phone
is linked, and corrects the machine from the review queue. Pages are plain HTML forms and links
(Jinja2 templates, one hand-written stylesheet); a few lines of script only make them livelier
(new activity without a reload, local times, a command's progress), and every page works without
it. Decisions go through the same `CommandSubmitter` as `POST /api/v1/admin/commands`: the actor
is the signed-in admin's credential name, and the resolver applies them.

Mounted by api.app; its routes are not part of the API's OpenAPI document.
"""

from __future__ import annotations

import html
import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from api import failures
from api.console import views
from api.console.base import HERE, BadForm, Console, NotSignedIn, form_fields
from api.console.pages import page_routes
from api.console.session import (
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    Signer,
    same_token,
)
from api.cursors import CursorCodec
from api.submit import CommandSubmitter
from phoneunify.credentials import Credentials
from phoneunify.settings import Settings, env_var

log = logging.getLogger(__name__)

# Customer data: nothing cached, no other site frames it, no script but ours runs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_console(
    settings: Settings,
    engine: Engine,
    submitter: CommandSubmitter,
    credentials: Credentials,
    cursors: CursorCodec,
) -> FastAPI:
    try:
        signer = Signer(settings.console_session_key)
    except ValueError as exc:
        log.error(
            "ADMIN CONSOLE DISABLED: %s; set %s to serve /console/",
            exc,
            env_var("console_session_key"),
        )
        return _unconfigured(str(exc))
    console = Console(settings, credentials, signer)
    app = FastAPI(title="phoneunify console", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def secure(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def sign_in_first(request: Request, _: NotSignedIn) -> Response:
        if request.method != "GET" or request.headers.get("x-console-poll"):
            return Response("signed out", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{views.CONSOLE}/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, _: BadForm) -> Response:
        return console.problem(
            request,
            403,
            "This form has expired",
            "The page was opened before you last signed in (or by another site). Go back, reload"
            " the page and try again.",
        )

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeoutError)
    async def database_down(request: Request, exc: Exception) -> Response:
        if not failures.database_unavailable(exc):
            raise exc  # a bug of ours: the server's error handling logs it and answers 500
        log.error("console %s: database unavailable (%s)", request.url.path, type(exc).__name__)
        return console.problem(
            request, 503, "The database is not answering", "Nothing was changed. Try again in a minute."
        )

    def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=views.CONSOLE,
            httponly=True,
            samesite="strict",
            # Behind a TLS proxy, run uvicorn with --proxy-headers so the scheme reads https.
            secure=request.url.scheme == "https",
        )

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "") -> Response:
        if signer.session(request.cookies.get(SESSION_COOKIE)) is not None:
            return RedirectResponse(views.local_path(next), status_code=303)
        cookie, token = signer.new_login()
        response = console.page(request, "login.html", {"login_csrf": token, "next": views.local_path(next)})
        set_cookie(response, request, LOGIN_COOKIE, cookie, LOGIN_SECONDS)
        return response

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await form_fields(request)
        expected = signer.login_token(request.cookies.get(LOGIN_COOKIE))
        target = views.local_path(form.get("next"))
        if not same_token(form.get("csrf"), expected):
            return console.problem(
                request,
                403,
                "Please log in again",
                "The log-in form expired or did not come from this console (the browser must"
                " accept cookies from it).",
                back=f"{views.CONSOLE}/login",
            )
        name = console.credentials.who(form.get("token", ""))
        if name is None:
            log.warning("console: failed log-in from %s", request.client.host if request.client else "?")
            cookie, token = signer.new_login()
            refused = console.page(
                request,
                "login.html",
                {"login_csrf": token, "next": target, "error": "That is not an admin token."},
                status=401,
            )
            set_cookie(refused, request, LOGIN_COOKIE, cookie, LOGIN_SECONDS)
            return refused
        session, _admin = signer.new_session(name)
        log.info("console: %s logged in", name)
        response = RedirectResponse(target, status_code=303)
        set_cookie(response, request, SESSION_COOKIE, session, SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path=views.CONSOLE)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await form_fields(request)
        admin = console.checked_form(request, form)
        log.info("console: %s logged out", admin.name)
        response = RedirectResponse(f"{views.CONSOLE}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=views.CONSOLE)
        return response

    app.include_router(page_routes(console, settings, engine, submitter, cursors))
    return app


def _unconfigured(reason: str) -> FastAPI:
    """Every console path answers 503 with what to set: no half-secured console."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Console not configured</title>"
        "<h1>The admin console is not configured</h1>"
        f"<p>Set <code>{env_var('console_session_key')}</code> (16 or more random characters) in"
        " the API's environment and restart it. The JSON API works without it.</p>"
        f"<p>({html.escape(reason)})</p></html>"
    )

    @app.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
    def unavailable(path: str) -> HTMLResponse:
        return HTMLResponse(page, status_code=503, headers={"Cache-Control": "no-store"})

    return app
