"""`phoneunify timeline --phone ...`: the real command, as a subprocess, against a database
seeded by the real pipeline, printing the design document's admin box."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from phoneunify.settings import Settings
from schema.envelopes import Booking
from tests.harness import ROOT
from tests.identity_scenarios import phone_owner
from tests.integration.builders import Pipeline, retimed

pytestmark = pytest.mark.infra

TEL = "+19165551234"


def phoneunify(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env()}
    return subprocess.run(
        [sys.executable, "-m", "cli", "--log-level", "WARNING", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=UTC)


def seed_design_journey(pipe: Pipeline) -> None:
    """The design document's example 2, at the times of its admin box."""
    pipe.run(retimed(pipe.sms(TEL, "Do you do birthdays?", provider="ringcentral"), nov(19, 15)))
    reply = pipe.sms(
        TEL, "Yes! We do birthday parties. How many guests?", provider="ringcentral", direction="out"
    )
    pipe.run(retimed(reply, nov(19, 15, 5)))
    fb = pipe.messenger("psid-john", "I asked about birthdays. My number is 916-555-1234", name="John Doe")
    pipe.run(retimed(fb, nov(20, 10)))
    form = pipe.booking("bk-john", name="John Doe", email="john@example.com", phone="(916) 555-1234")
    booking = Booking(
        name="John Doe",
        email="john@example.com",
        phone="(916) 555-1234",
        guests=8,
        date="2025-11-25",
        total="$600",
    )
    pipe.run(retimed(dataclasses.replace(form, booking=booking), nov(21, 14)))


DESIGN_BOX = """\
┌──────────────────────────────────────────────────────────────────────┐
│ Customer: John Doe (+19165551234)                                    │
├──────────────────────────────────────────────────────────────────────┤
│ Channels: SMS, Facebook Messenger                                    │
│                                                                      │
│ Timeline:                                                            │
│ ┌──────────────────────────────────────────────────────────────────┐ │
│ │ [Nov 19, 3:00 PM] SMS IN                                         │ │
│ │ "Do you do birthdays?"                                           │ │
│ ├──────────────────────────────────────────────────────────────────┤ │
│ │ [Nov 19, 3:05 PM] SMS OUT                                        │ │
│ │ "Yes! We do birthday parties. How many guests?"                  │ │
│ ├──────────────────────────────────────────────────────────────────┤ │
│ │ [Nov 20, 10:00 AM] Facebook IN                                   │ │
│ │ "I asked about birthdays. My number is 916-555-1234"             │ │
│ ├──────────────────────────────────────────────────────────────────┤ │
│ │ [Nov 21, 2:00 PM] BOOKING CREATED                                │ │
│ │ Date: Nov 25, Guests: 8, Total: $600                             │ │
│ └──────────────────────────────────────────────────────────────────┘ │
└──────────────────────────────────────────────────────────────────────┘
"""


def test_timeline_prints_the_design_documents_admin_box(engine: Engine, settings: Settings) -> None:
    seed_design_journey(Pipeline(engine=engine))
    result = phoneunify(settings, "timeline", "--phone", "(916) 555-1234")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == DESIGN_BOX
    # Any spelling of the number, or the customer id, gives the same box.
    assert phoneunify(settings, "timeline", "--phone", "+1 916 555 1234").stdout == DESIGN_BOX


def test_times_in_the_business_time_zone(engine: Engine, settings: Settings) -> None:
    seed_design_journey(Pipeline(engine=engine))
    result = phoneunify(settings, "timeline", "--phone", "9165551234", "--tz", "America/Los_Angeles")
    assert result.returncode == 0, result.stderr
    stamps = [line.split("]")[0].split("[")[1] for line in result.stdout.splitlines() if "│ │ [" in line]
    assert stamps == ["Nov 19, 7:00 AM", "Nov 19, 7:05 AM", "Nov 20, 2:00 AM", "Nov 21, 6:00 AM"]
    bad = phoneunify(settings, "timeline", "--phone", "9165551234", "--tz", "Mars/Olympus")
    assert (bad.returncode, bad.stdout) == (2, "") and "unknown time zone" in bad.stderr


def test_a_merged_customer_shows_the_survivors_box_with_its_opt_out(
    engine: Engine, settings: Settings
) -> None:
    pipe = Pipeline(engine=engine)
    pipe.run(retimed(pipe.sms(TEL, "Table for two?"), nov(19, 9)))
    pipe.run(retimed(pipe.sms("+19165557777", "hi, it's me from my other phone"), nov(19, 10)))
    pipe.run(retimed(pipe.sms("+19165557777", "STOP"), nov(19, 11)))
    survivor, merged = (str(phone_owner(pipe.db, p)) for p in (TEL, "+19165557777"))
    assert survivor != merged
    pipe.admin("merge", survivor_id=survivor, merged_id=merged)

    result = phoneunify(settings, "timeline", "--customer", merged)
    assert result.returncode == 0, result.stderr
    lines = [line.strip("│ ").rstrip() for line in result.stdout.splitlines()]
    assert "Customer: (no name) (+19165551234, +19165557777)" in lines
    assert "Channels: SMS" in lines
    assert "Opted out: SMS +19165557777 (STOP)" in lines
    entries = [line.strip("│ ") for line in result.stdout.splitlines() if "│ │ " in line]
    assert entries == [
        "[Nov 19, 9:00 AM] SMS IN",
        '"Table for two?"',
        "[Nov 19, 10:00 AM] SMS IN",
        '"hi, it\'s me from my other phone"',
        "[Nov 19, 11:00 AM] SMS IN",
        '"STOP"',
        "[Nov 19, 11:00 AM] SMS CONSENT",
        "Opted out (STOP)",
    ]


def test_limit_says_when_there_is_more(engine: Engine, settings: Settings) -> None:
    pipe = Pipeline(engine=engine)
    for i in range(5):
        pipe.run(retimed(pipe.sms(TEL, f"message {i}"), nov(19, 9 + i)))
    result = phoneunify(settings, "timeline", "--phone", TEL, "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert [m for m in ("message 0", "message 1", "message 2", "message 3") if m in result.stdout] == [
        "message 0",
        "message 1",
        "message 2",
    ]
    assert result.stdout.endswith("(the first 3 events; --limit shows more)\n")


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--phone", "(916) 555-9999"], 1, "no customer has this phone"),
        (["--phone", "not a number"], 2, "not a phone number: not_a_number"),
        (["--customer", "00000000-0000-0000-0000-000000000000"], 1, "no such customer"),
        (["--customer", "bob"], 2, "not a customer id"),
    ],
)
def test_failures_say_why_on_stderr(
    engine: Engine, settings: Settings, args: list[str], code: int, error: str
) -> None:
    pipe = Pipeline(engine=engine)
    pipe.run(pipe.sms(TEL, "hi"))
    result = phoneunify(settings, "timeline", *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert error in result.stderr
