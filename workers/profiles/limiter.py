"""A token bucket per business account: profile calls at a steady rate with a small burst,
and held entirely while Meta asks us to wait (a throttled answer, or usage headers near 100%)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`rate` calls per second on average, at most `burst` at once. Times are seconds on any
    clock that only moves forward (the service passes its own)."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    stamp: float | None = None
    held_until: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        if self.tokens < 0:
            self.tokens = self.burst

    def take(self, now: float) -> float:
        """Take a call if one is available (returns 0), else the seconds until one will be."""
        if now < self.held_until:
            return self.held_until - now
        if self.stamp is not None and now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now if self.stamp is None else max(self.stamp, now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def hold(self, until: float) -> None:
        """No call before `until` (Meta asked us to wait)."""
        self.held_until = max(self.held_until, until)
