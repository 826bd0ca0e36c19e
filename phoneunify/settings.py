"""Typed, frozen settings for every phoneunify process.

Loaded once from the environment at process start and passed down; nothing reads the
environment at import time. Every field has an environment variable and a default, listed
in the README's configuration reference (a test keeps the two in step).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_DATABASE_URL = "postgresql+psycopg2://phoneunify:phoneunify@127.0.0.1:15432/phoneunify"


def _env_name(name: str) -> str:
    return "PHONEUNIFY_" + name.upper()


@dataclass(frozen=True)
class Settings:
    """All configuration. Field metadata carries the environment variable and a description."""

    kafka_bootstrap: str = field(
        default="127.0.0.1:19092",
        metadata={"env": "KAFKA_BOOTSTRAP", "doc": "Kafka bootstrap servers, comma separated."},
    )
    database_url: str = field(
        default=DEFAULT_DATABASE_URL,
        metadata={"env": "DATABASE_URL", "doc": "SQLAlchemy URL of the PostgreSQL system of record."},
    )
    topic_prefix: str = field(
        default="",
        metadata={"doc": "Prefix for every topic name (isolates tests and tenants on one broker)."},
    )
    topic_partitions: int = field(default=4, metadata={"doc": "Partitions for topics phoneunify creates."})
    default_region: str = field(
        default="US",
        metadata={"doc": "Region (ISO 3166 alpha-2) for numbers written without a country code."},
    )
    business_numbers: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": "The business's own phone numbers, comma separated; they never identify a customer."
        },
    )
    phone_hash_key: str = field(
        default="dev-only-phone-hash-key",
        metadata={
            "doc": "Secret key of the HMAC that stands in for phone numbers in Kafka keys, logs and metrics.",
            "secret": True,
        },
    )
    # --- ingest edge -------------------------------------------------------------------------
    ingest_host: str = field(default="127.0.0.1", metadata={"doc": "Ingest HTTP bind address."})
    ingest_port: int = field(default=8080, metadata={"doc": "Ingest HTTP port."})
    public_base_url: str = field(
        default="http://127.0.0.1:8080",
        metadata={"doc": "Public URL of the ingest edge as providers call it (Twilio signs this URL)."},
    )
    max_body_bytes: int = field(
        default=3 * 1024 * 1024 + 65536,
        metadata={"doc": "Largest webhook body accepted (WhatsApp sends up to 3 MB)."},
    )
    publish_timeout_s: float = field(
        default=10.0, metadata={"doc": "Seconds to wait for the broker to acknowledge a webhook's messages."}
    )
    twilio_auth_token: str = field(
        default="", metadata={"doc": "Twilio auth token (verifies X-Twilio-Signature).", "secret": True}
    )
    meta_app_secret: str = field(
        default="",
        metadata={
            "doc": "Meta app secret (verifies X-Hub-Signature-256 for Messenger and WhatsApp).",
            "secret": True,
        },
    )
    instagram_app_secret: str = field(
        default="",
        metadata={
            "doc": "Instagram app secret; falls back to the Meta app secret when empty.",
            "secret": True,
        },
    )
    meta_verify_token: str = field(
        default="", metadata={"doc": "Verify token for Meta's hub.challenge handshake.", "secret": True}
    )
    ringcentral_verification_token: str = field(
        default="",
        metadata={"doc": "RingCentral webhook Verification-Token; required when set.", "secret": True},
    )
    booking_api_key: str = field(
        default="", metadata={"doc": "API key the booking form sends in X-Api-Key.", "secret": True}
    )
    # --- workers -----------------------------------------------------------------------------
    worker_id: str = field(
        default="phoneunify-workers", metadata={"doc": "Faust application id (consumer group)."}
    )
    worker_web_host: str = field(
        default="127.0.0.1",
        metadata={"doc": "Bind address of the workers' /metrics and /healthz (0.0.0.0 in a container)."},
    )
    worker_web_port: int = field(default=6066, metadata={"doc": "Port of the workers' /metrics endpoint."})
    worker_data_dir: str = field(
        default=".local/faust", metadata={"doc": "Folder for faust's local files (no tables are kept there)."}
    )
    worker_stages: tuple[str, ...] = field(
        default=("extract", "resolve", "commands"),
        metadata={
            "doc": (
                "Stages this workers process runs (extract, resolve, commands); a process running"
                " some of them has a consumer group of its own."
            )
        },
    )
    resolve_batch_size: int = field(
        default=1000,
        metadata={
            "doc": (
                "Messages resolved per database transaction (each holds up to 3 advisory locks until commit)."
            )
        },
    )
    resolve_batch_within_s: float = field(
        default=0.05, metadata={"doc": "Longest wait to fill a resolve batch, in seconds."}
    )
    link_threshold: float = field(
        default=0.6, metadata={"doc": "Lowest confidence that links an identity to a customer automatically."}
    )
    merge_threshold: float = field(
        default=0.9, metadata={"doc": "Lowest confidence that merges two customers automatically."}
    )
    shared_phone_min_identities: int = field(
        default=3,
        metadata={"doc": "Distinct people (by name) claiming one phone before a rule marks it shared."},
    )
    # --- timeline writer ---------------------------------------------------------------------
    writer_group: str = field(
        default="phoneunify-timeline", metadata={"doc": "Timeline writer consumer group."}
    )
    writer_batch_size: int = field(default=1000, metadata={"doc": "Linked events written per transaction."})
    writer_metrics_host: str = field(
        default="127.0.0.1",
        metadata={"doc": "Bind address of the writer's /metrics endpoint (0.0.0.0 in a container)."},
    )
    writer_metrics_port: int = field(
        default=9108, metadata={"doc": "Port of the writer's /metrics endpoint."}
    )
    # --- API ---------------------------------------------------------------------------------
    api_host: str = field(default="127.0.0.1", metadata={"doc": "API HTTP bind address."})
    api_port: int = field(default=8090, metadata={"doc": "API HTTP port."})
    api_tokens: tuple[str, ...] = field(
        default=("dev:dev-admin-token-0001",),
        metadata={
            "doc": (
                "Named admin credentials, comma separated: name:token (16+ characters) or"
                " name:sha256:<hex digest of the token>; the name is the actor in the ledger."
            ),
            "secret": True,
        },
    )
    console_session_key: str = field(
        default="",
        metadata={
            "doc": (
                "Key that signs the admin console's session cookies (16+ characters); the console"
                " refuses to serve without one. Changing it logs every admin out."
            ),
            "secret": True,
        },
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every field from its environment variable, then apply explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata.get("env", _env_name(f.name))
            if name not in env:
                continue
            raw = env[name]
            values[f.name] = _coerce(raw, f.default)
        values.update(overrides)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a child process."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            name = f.metadata.get("env", _env_name(f.name))
            out[name] = ",".join(value) if isinstance(value, tuple) else str(value)
        return out

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets masked, for startup logs."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if f.metadata.get("secret") and value else value
        return out


def env_var(field_name: str) -> str:
    """The environment variable that sets a field."""
    for f in fields(Settings):
        if f.name == field_name:
            return str(f.metadata.get("env", _env_name(f.name)))
    raise KeyError(field_name)


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
