"""Which email a customer keeps: the newest of the strongest source, in any order (pure)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from workers.domain.email_choice import EmailSeen, better_email


def seen(email: str, source: str, day: int) -> EmailSeen:
    return EmailSeen(email, source, datetime(2026, 3, day, tzinfo=UTC))


@pytest.mark.parametrize(
    ("new", "current", "replaces"),
    [
        (seen("a@x", "booking_form", 2), None, True),
        (seen("b@x", "booking_form", 3), seen("a@x", "booking_form", 2), True),  # newer, same source
        (seen("b@x", "booking_form", 1), seen("a@x", "booking_form", 2), False),  # older
        (seen("b@x", "channel", 9), seen("a@x", "booking_form", 2), False),  # weaker, however new
        (seen("b@x", "booking_form", 1), seen("a@x", "channel", 9), True),  # stronger, however old
        (seen("b@x", "admin", 1), seen("a@x", "booking_form", 9), True),
        (seen("b@x", "booking_form", 2), seen("a@x", "booking_form", 2), True),  # a tie: by address
        (seen("a@x", "booking_form", 2), seen("b@x", "booking_form", 2), False),
        (seen("b@x", "unknown", 9), seen("a@x", "booking_form", 2), False),  # unknown ranks weakest
    ],
)
def test_better_email(new: EmailSeen, current: EmailSeen | None, replaces: bool) -> None:
    assert better_email(new, current) is replaces


def test_every_order_keeps_the_same_address() -> None:
    observations = [
        seen("old@x", "booking_form", 1),
        seen("new@x", "booking_form", 5),
        seen("profile@x", "channel", 9),
        seen("tie@x", "booking_form", 5),
    ]
    kept = set()
    for order in itertools.permutations(observations):
        current = None
        for observation in order:
            if better_email(observation, current):
                current = observation
        kept.add(current)
    assert kept == {seen("tie@x", "booking_form", 5)}
