"""Missing secrets fail closed: a process that needs one does not start, a provider without one is
disabled, development values exist only in explicit development mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.app import SECRET_OF_PATH, disabled_endpoints
from tests.fakes import PATHS, make_harness, webhook_settings

ROOT = Path(__file__).resolve().parents[2]
# The environment of a process nobody configured: no phoneunify variable at all.
BARE = {k: v for k, v in os.environ.items() if not k.startswith("PHONEUNIFY_")}


def _run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`phoneunify <argv>` with exactly `env`."""
    return _sh(sys.executable, "-m", "cli", *argv, env=env)


def _sh(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def _stack_env(env: dict[str, str]) -> dict[str, str]:
    """The environment deploy/stack.sh gives the processes it starts, for a given one."""
    done = _sh("deploy/stack.sh", "exec", "env", env=env)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        ("ingest", "PHONEUNIFY_PHONE_HASH_KEY"),
        ("workers", "PHONEUNIFY_PHONE_HASH_KEY"),
        ("api", "PHONEUNIFY_API_TOKENS"),
    ],
)
def test_a_process_without_a_secret_it_needs_does_not_start(command: str, missing: str) -> None:
    done = _run(command, env=BARE)
    assert done.returncode == 78  # EX_CONFIG: the supervisor does not restart it
    assert f"{missing} is not set: phoneunify {command} cannot run without it" in done.stderr


def test_a_published_development_value_is_refused_outside_development_mode() -> None:
    done = _run("ingest", env={**BARE, "PHONEUNIFY_PHONE_HASH_KEY": "dev-only-phone-hash-key"})
    assert done.returncode == 78
    assert "PHONEUNIFY_PHONE_HASH_KEY holds the published development value" in done.stderr


def test_a_provider_without_its_secret_is_disabled_and_named() -> None:
    settings = webhook_settings(
        ringcentral_verification_token="", booking_api_key="", instagram_app_secret=""
    )
    assert disabled_endpoints(settings) == {
        "/webhooks/ringcentral/sms": "PHONEUNIFY_RINGCENTRAL_VERIFICATION_TOKEN",
        "/webhooks/booking": "PHONEUNIFY_BOOKING_API_KEY",
    }  # instagram falls back to the Meta app secret, which is set
    h = make_harness(ringcentral_verification_token="", booking_api_key="")
    assert h.send.ringcentral_fixture("inbound.json", token="").status_code == 503
    assert h.send.booking(b'{"name": "x"}', api_key="").status_code == 503
    assert h.publisher.records == []
    assert set(SECRET_OF_PATH) == set(PATHS.values())


def test_make_up_fills_only_unset_variables_from_dev_env(tmp_path: Path) -> None:
    """deploy/stack.sh used to replace explicitly empty variables with development values: an
    operator who emptied a provider's secret to switch it off got the development secret."""
    env = {**BARE, "PHONEUNIFY_LOCAL_DIR": str(tmp_path), "PHONEUNIFY_TWILIO_AUTH_TOKEN": ""}
    shown = _stack_env(env)
    assert shown["PHONEUNIFY_ENV"] == "dev"
    assert shown["PHONEUNIFY_TWILIO_AUTH_TOKEN"] == ""
    assert _stack_env({**env, "PHONEUNIFY_ENV": "production"})["PHONEUNIFY_ENV"] == "production"
