"""Who a Messenger or Instagram sender is: the values the profile fetcher works with. Pure.

A sender is known to the providers only by a page-scoped id (a PSID on Messenger, an IGSID on
Instagram); the Graph API's user-profile endpoints give its name (Messenger) or its username
and name (Instagram). The fetcher turns a profile into a raw envelope of kind "profile" on the
channel's raw topic, so it reaches the identity tables through the resolver like any other
observation (and a replay of the raw topics gives it back).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

PROFILE_CHANNELS = ("messenger", "instagram")

FailureKind = Literal["throttled", "transient", "permanent"]


@dataclass(frozen=True)
class Sender:
    """A sender whose profile may be fetched: channel, the business's page or Instagram
    account, the sender's page-scoped id, and the conversation it was seen in (the profile
    envelope travels on that thread's key)."""

    channel: str
    account: str
    user_id: str
    thread_key: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.channel, self.account, self.user_id)


@dataclass(frozen=True)
class Profile:
    handle: str | None
    name: str | None

    @property
    def empty(self) -> bool:
        return not self.handle and not self.name

    def digest(self) -> str:
        """Tells two profiles apart (the envelope's id: an unchanged profile fetched again is
        the same observation, which the resolver's outbox answers once)."""
        text = f"{self.handle or ''}\x1f{self.name or ''}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class GraphFailure(Exception):
    """A profile fetch that did not succeed. `throttled`: Meta's rate limit answered (wait at
    least `retry_after_s`); `transient`: a timeout, a connection or server error (retry with
    backoff); `permanent`: this sender's profile cannot be had (no consent, blocked, no token):
    not asked again before the cache's TTL."""

    def __init__(self, kind: FailureKind, reason: str, retry_after_s: float = 0.0) -> None:
        super().__init__(reason)
        self.kind: FailureKind = kind
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Fetched:
    """A profile, and how long Meta's usage headers ask us to hold this account's calls."""

    profile: Profile
    pause_s: float = 0.0
