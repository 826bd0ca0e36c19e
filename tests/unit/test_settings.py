"""Settings: loaded from the environment, checked once, documented in the README, secrets never printed."""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from pathlib import Path

import pytest

from phoneunify import logs
from phoneunify.settings import Settings, SettingsError, env_var

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PASSWORD_URL = "postgresql+psycopg2://phoneunify:hunter2-pw@db.example:5432/phoneunify"


def _default(name: str) -> str:
    f = next(f for f in fields(Settings) if f.name == name)
    if f.metadata.get("dev"):
        return f"(empty; dev: `{f.metadata['dev']}`)"
    if isinstance(f.default, tuple):
        return f"`{','.join(f.default)}`" if f.default else "(empty)"
    return f"`{f.default}`" if f.default != "" else "(empty)"


def test_every_setting_is_in_the_readme_table_with_its_default() -> None:
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (\w+) \|.*$", README, re.M)}
    for f in fields(Settings):
        assert f.name in rows, f"{f.name} is not in the README's configuration table"
        assert rows[f.name].startswith(f"| {f.name} | `{env_var(f.name)}` | {_default(f.name)} |"), f.name


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


def test_secrets_and_url_passwords_are_masked_in_the_startup_dump_and_repr() -> None:
    settings = Settings.from_env(
        {"PHONEUNIFY_TWILIO_AUTH_TOKEN": "s3cret-token", "DATABASE_URL": PASSWORD_URL}
    )
    dumped = settings.redacted()
    assert dumped["twilio_auth_token"] == "***"
    assert dumped["database_url"] == "postgresql+psycopg2://phoneunify:***@db.example:5432/phoneunify"
    for text in (repr(dumped), repr(settings), str(settings)):
        assert "s3cret-token" not in text and "hunter2-pw" not in text


def test_a_url_password_never_reaches_a_log_line_even_in_a_traceback(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.setup()  # here, not in a fixture: its handler writes to this phase's captured stderr
    log = logging.getLogger("test.settings")
    log.info("starting with %s", PASSWORD_URL)
    try:
        raise RuntimeError(f"could not connect to {PASSWORD_URL}")
    except RuntimeError:
        log.exception("failed")
    err = capsys.readouterr().err
    assert "phoneunify:***@db.example" in err
    assert "hunter2-pw" not in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PHONEUNIFY_ENV", "staging"),
        ("KAFKA_BOOTSTRAP", "localhost"),
        ("DATABASE_URL", "mysql://u:p@h/db"),
        ("PHONEUNIFY_TOPIC_PREFIX", "bad prefix/"),
        ("PHONEUNIFY_TOPIC_PARTITIONS", "0"),
        ("PHONEUNIFY_TOPIC_MIN_INSYNC_REPLICAS", "2"),  # above the replication factor (1)
        ("PHONEUNIFY_DEFAULT_REGION", "usa"),
        ("PHONEUNIFY_API_PORT", "70000"),
        ("PHONEUNIFY_INGEST_HOST", " "),
        ("PHONEUNIFY_PUBLIC_BASE_URL", "hooks.example.com"),
        ("PHONEUNIFY_MAX_BODY_BYTES", "10"),
        ("PHONEUNIFY_MAX_RECORD_BYTES", "100"),  # below the body limit: an accepted body might not fit
        ("PHONEUNIFY_PUBLISH_TIMEOUT_S", "0"),
        ("PHONEUNIFY_HTTP_READ_TIMEOUT_S", "-1"),
        ("PHONEUNIFY_RESOLVE_BATCH_SIZE", "0"),
        ("PHONEUNIFY_LINK_THRESHOLD", "1.5"),
        ("PHONEUNIFY_MERGE_THRESHOLD", "0.1"),  # below the link threshold
        ("PHONEUNIFY_WRITER_BATCH_SIZE", "-5"),
        ("PHONEUNIFY_API_TOKENS", "ops:short"),
        ("PHONEUNIFY_WORKER_WEB_PORT", "many"),
    ],
)
def test_a_value_out_of_range_stops_the_process_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    assert variable in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PHONEUNIFY_API_PORT": "0", "PHONEUNIFY_INGEST_PORT": "0"})
    assert len(raised.value.problems) == 2


def test_without_dev_mode_there_is_no_default_secret() -> None:
    settings = Settings.from_env({})
    assert settings.env == "production"
    assert settings.phone_hash_key == "" and settings.api_tokens == ()
    with pytest.raises(SettingsError, match="PHONEUNIFY_PHONE_HASH_KEY is not set: phoneunify ingest"):
        settings.require("ingest", "phone_hash_key")
    with pytest.raises(SettingsError, match="PHONEUNIFY_API_TOKENS is not set"):
        settings.require("api", "api_tokens", "phone_hash_key")


def test_production_refuses_the_published_development_values() -> None:
    for f in fields(Settings):
        if f.metadata.get("dev"):
            refused = f"{env_var(f.name)} holds the published development value"
            with pytest.raises(SettingsError, match=refused):
                Settings.from_env({env_var(f.name): f.metadata["dev"]})


def test_dev_mode_fills_only_unset_secrets_and_says_which() -> None:
    settings = Settings.from_env(
        {
            "PHONEUNIFY_ENV": "dev",
            "PHONEUNIFY_TWILIO_AUTH_TOKEN": "",
            "PHONEUNIFY_BOOKING_API_KEY": "mine-1234",
        }
    )
    assert settings.phone_hash_key == "dev-only-phone-hash-key"
    assert settings.api_tokens == ("dev:dev-admin-token-0001",)
    assert settings.twilio_auth_token == ""  # explicitly empty: that provider stays switched off
    assert settings.booking_api_key == "mine-1234"
    assert "PHONEUNIFY_PHONE_HASH_KEY" in settings.development_values()
    assert "PHONEUNIFY_BOOKING_API_KEY" not in settings.development_values()
    settings.require("api", "api_tokens", "phone_hash_key")
