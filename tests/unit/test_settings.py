"""Settings: loaded from the environment, documented in the README, secrets never printed."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from phoneunify.settings import Settings, env_var

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme() -> None:
    missing = [f.name for f in fields(Settings) if f"`{env_var(f.name)}`" not in README]
    assert missing == []


def test_environment_values_are_typed_and_round_trip() -> None:
    settings = Settings.from_env(
        {
            "KAFKA_BOOTSTRAP": "a:1,b:2",
            "PHONEUNIFY_RESOLVE_BATCH_SIZE": "7",
            "PHONEUNIFY_LINK_THRESHOLD": "0.7",
            "PHONEUNIFY_BUSINESS_NUMBERS": "+19165550000, +19165550001",
        }
    )
    assert settings.resolve_batch_size == 7 and settings.link_threshold == 0.7
    assert settings.business_numbers == ("+19165550000", "+19165550001")
    assert Settings.from_env(settings.to_env()) == settings


def test_secrets_are_masked_in_the_startup_dump() -> None:
    dumped = Settings.from_env({"PHONEUNIFY_TWILIO_AUTH_TOKEN": "s3cret"}).redacted()
    assert dumped["twilio_auth_token"] == "***"
    assert "s3cret" not in repr(dumped)
