"""How a phone's consent is read per channel: its own rows, and what its person's channel
identities said with no number (the rule the consent API and an erasure share)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from workers.domain.consent import per_channel


def said(seq: int, channel: str, status: str, minute: int) -> dict[str, Any]:
    at = datetime(2026, 1, 1, 9, minute, tzinfo=UTC)
    return {"seq": seq, "channel": channel, "status": status, "at": at}


OPT_IN_SMS = said(1, "sms", "opted_in", 0)
STOP_SMS_LATER = said(2, "sms", "opted_out", 5)
STOP_WHATSAPP = said(3, "whatsapp", "opted_out", 1)
START_WHATSAPP_LATER = said(4, "whatsapp", "opted_in", 9)
IN_SMS_SAME_MINUTE = said(5, "sms", "opted_in", 5)


@pytest.mark.parametrize(
    ("own", "by_identities", "expected"),
    [
        ([], {}, {}),
        ([OPT_IN_SMS], {}, {"sms": 1}),
        # The latest said wins, on each channel apart.
        ([OPT_IN_SMS, STOP_SMS_LATER, STOP_WHATSAPP], {}, {"sms": 2, "whatsapp": 3}),
        # What an identity said on a channel counts for the phone on that channel only...
        ([OPT_IN_SMS], {"whatsapp": [STOP_WHATSAPP]}, {"sms": 1, "whatsapp": 3}),
        # ...and is weighed with the phone's own rows there by when it was said.
        ([START_WHATSAPP_LATER], {"whatsapp": [STOP_WHATSAPP]}, {"whatsapp": 4}),
        ([STOP_WHATSAPP], {"whatsapp": [START_WHATSAPP_LATER]}, {"whatsapp": 4}),
        # At the same instant an opt-out wins, whoever said it.
        ([IN_SMS_SAME_MINUTE], {"sms": [STOP_SMS_LATER]}, {"sms": 2}),
        # A person with no row of their own still has what their identities said.
        ([], {"whatsapp": [STOP_WHATSAPP]}, {"whatsapp": 3}),
    ],
)
def test_per_channel(
    own: list[dict[str, Any]], by_identities: dict[str, list[dict[str, Any]]], expected: dict[str, int]
) -> None:
    decided = per_channel(own, by_identities)
    assert {channel: row["seq"] for channel, row in decided.items()} == expected
    assert list(decided) == sorted(decided)  # channels in order
