"""What every console route needs: the signed-in admin, templates, form fields, problem pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.console import views
from api.console.session import SESSION_COOKIE, Admin, Signer, same_token
from phoneunify.credentials import Credentials
from phoneunify.settings import Settings
from schema.topics import CONSENT_CHANNELS

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 16 * 1024


class NotSignedIn(Exception):
    """Raised by `Console.admin`: pages send the browser to the log-in form, polls answer 401."""


class Console:
    """What every console route needs: templates, the cookie signer, the credentials."""

    def __init__(self, settings: Settings, credentials: Credentials, signer: Signer) -> None:
        self.settings = settings
        self.credentials = credentials
        self.signer = signer
        self.templates = templates()

    def admin(self, request: Request) -> Admin:
        admin = self.signer.session(request.cookies.get(SESSION_COOKIE))
        if admin is None:
            raise NotSignedIn
        return admin

    def page(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        admin = self.signer.session(request.cookies.get(SESSION_COOKIE))
        context = {"admin": admin, "csrf": admin.csrf if admin else "", **context}
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def problem(self, request: Request, status: int, title: str, detail: str, back: str = "") -> HTMLResponse:
        return self.page(
            request, "problem.html", {"title": title, "detail": detail, "back": back}, status=status
        )

    def checked_form(self, request: Request, form: dict[str, str]) -> Admin:
        """The signed-in admin, when the form carries their session's CSRF token."""
        admin = self.admin(request)
        if not same_token(form.get("csrf"), admin.csrf):
            raise BadForm
        return admin


class BadForm(Exception):
    """A POST without the session's CSRF token (a forged form, or a page from an old session)."""


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    env = found.env
    env.filters["when"] = views.when
    env.filters["channel"] = views.channel_name
    env.filters["intent"] = views.intent_name
    env.globals.update(
        highlight=views.highlight,
        evidence_text=views.evidence_text,
        sentiment=views.sentiment_label,
        question=views.conflict_question,
        web_link=views.web_link,
        CONSOLE=views.CONSOLE,
        ROUTINE=views.ROUTINE_CHANGES,
        CONSENT_CHANNELS=CONSENT_CHANNELS,
    )
    return found


async def form_fields(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (first value of each); forms here are a few short fields."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=64)
    return {key: values[0] for key, values in parsed.items()}
