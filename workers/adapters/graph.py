"""The Graph API's user-profile endpoints, for the profile fetcher (workers/profiles).

Messenger (Messenger Platform, User Profile API): GET {base}/{version}/{PSID}
?fields=first_name,last_name with the Page access token. Instagram (Messenger API for Instagram,
User Profile API): GET {base}/{version}/{IGSID}?fields=name,username with the Page access token
of the Page linked to the Instagram professional account. Meta's developer documentation
("User Profile API" under Messenger Platform and under Instagram Messaging; "Rate Limits" under
Graph API) is the reference for the fields, the error codes and the usage headers read here.

Every call has a timeout. Rate limits: an error with one of the throttling codes (4, 17, 32,
613; 80001 Pages, 80002 Instagram, 80006 Messenger business-use-case limits) or HTTP 429 is
`throttled`, with the wait Meta estimates when it says one; on success the X-App-Usage and
X-Business-Use-Case-Usage headers are read, and an account at 90% of any budget (or with an
estimated time to regain access) is paused. Tokens never reach a log line or an error message:
they travel in the query string, so an error names the path only, and that without the sender's id
(a person's page-scoped id is theirs: errors are logged).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any

from workers.domain.profiles import Fetched, GraphFailure, Profile, Sender

FIELDS = {"messenger": "first_name,last_name", "instagram": "name,username"}
THROTTLING_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80006})
# Invalid token, permissions, no such user or no consent (100), user unavailable (551): asking
# again soon gives the same answer.
PERMANENT_CODES = frozenset({10, 100, 190, 200, 230, 551})
BUSY_PERCENT = 90
# A throttled answer without an estimate waits this long at least.
DEFAULT_THROTTLE_S = 60.0
MAX_BODY = 64 * 1024

Opener = Callable[[urllib.request.Request, float], Any]


def _open(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) base URL, checked in settings


class GraphClient:
    """One GET per profile. `tokens`: access token by business account (Page id or Instagram
    account id)."""

    def __init__(
        self,
        base_url: str,
        version: str,
        tokens: Mapping[str, str],
        timeout_s: float,
        opener: Opener = _open,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.version = version.strip("/")
        self.tokens = dict(tokens)
        self.timeout_s = timeout_s
        self.opener = opener

    def has_token(self, account: str) -> bool:
        return bool(self.tokens.get(account))

    def fetch(self, sender: Sender) -> Fetched:
        """The sender's profile; raises GraphFailure."""
        token = self.tokens.get(sender.account)
        if not token:
            raise GraphFailure("permanent", f"no access token for account {sender.account}")
        fields = FIELDS.get(sender.channel)
        if fields is None:
            raise GraphFailure("permanent", f"no profiles on channel {sender.channel}")
        path = f"/{self.version}/{urllib.parse.quote(sender.user_id, safe='')}"
        shown = f"/{self.version}/<sender>"  # what errors say of the path
        query = urllib.parse.urlencode({"fields": fields, "access_token": token})
        request = urllib.request.Request(self.base + path + "?" + query, method="GET")  # noqa: S310
        try:
            with self.opener(request, self.timeout_s) as response:
                body = response.read(MAX_BODY + 1)
                headers = response.headers
        except urllib.error.HTTPError as exc:
            raise _failure(exc.code, exc.read(MAX_BODY), exc.headers, shown) from None
        except TimeoutError as exc:
            raise GraphFailure("transient", f"GET {shown} timed out") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise GraphFailure("transient", f"GET {shown} failed: {type(exc).__name__}") from exc
        data = _json(body)
        if not isinstance(data, dict) or "error" in data:
            raise _failure(200, body, headers, shown)
        return Fetched(_profile(sender.channel, data), pause_s=usage_pause_s(headers))


def _profile(channel: str, data: dict[str, Any]) -> Profile:
    def text(name: str) -> str | None:
        value = data.get(name)
        return value.strip() or None if isinstance(value, str) else None

    if channel == "instagram":
        return Profile(handle=text("username"), name=text("name"))
    parts = [p for p in (text("first_name"), text("last_name")) if p]
    return Profile(handle=None, name=" ".join(parts) or text("name"))


def _json(body: bytes) -> Any:
    if len(body) > MAX_BODY:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _failure(status: int, body: bytes, headers: Message | None, path: str) -> GraphFailure:
    data = _json(body)
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    what = f"GET {path}: HTTP {status}" + (f", Graph error {code}" if code is not None else "")
    if status == 429 or code in THROTTLING_CODES:
        wait = max(usage_pause_s(headers), DEFAULT_THROTTLE_S)
        return GraphFailure("throttled", what + " (rate limited)", wait)
    if code in PERMANENT_CODES or status in (400, 401, 403, 404):
        return GraphFailure("permanent", what)
    return GraphFailure("transient", what)


def usage_pause_s(headers: Message | Mapping[str, str] | None) -> float:
    """How long Meta's usage headers ask us to hold calls: the estimated time to regain access
    when one is given, a minute when any budget is at 90% or more, else nothing."""
    if headers is None:
        return 0.0
    pause = 0.0
    for name in ("X-App-Usage", "X-Business-Use-Case-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        data = _json(raw.encode() if isinstance(raw, str) else raw)
        for usage in _usages(data):
            minutes = usage.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and minutes > 0:
                pause = max(pause, float(minutes) * 60)
            percents = [usage.get(k) for k in ("call_count", "total_cputime", "total_time")]
            if any(isinstance(p, int | float) and p >= BUSY_PERCENT for p in percents):
                pause = max(pause, DEFAULT_THROTTLE_S)
    return pause


def _usages(data: Any) -> list[dict[str, Any]]:
    """X-App-Usage is one object; X-Business-Use-Case-Usage maps a business id to a list."""
    if not isinstance(data, dict):
        return []
    if any(k in data for k in ("call_count", "total_cputime", "total_time")):
        return [data]
    found: list[dict[str, Any]] = []
    for value in data.values():
        if isinstance(value, list):
            found.extend(v for v in value if isinstance(v, dict))
    return found
