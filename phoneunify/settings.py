"""Typed, frozen settings for every phoneunify process.

Loaded once from the environment at process start and passed down; nothing reads the
environment at import time. Every field has an environment variable and a default, listed
in the README's configuration reference (a test keeps the two in step).

Settings are checked once, when they are built: a value out of range, a malformed URL or
address, or a published development secret outside development mode raises `SettingsError`
naming every problem and its environment variable. Secrets never appear in a repr or a log.

Development mode is explicit: `PHONEUNIFY_ENV=dev` (set by `make up`, `make demo` and the tests).
Only then does a secret whose variable is not set at all take its published development value
(field metadata "dev"), and the process says so in its log. Anywhere else there is no default
secret: a process refuses to start without the secrets it cannot work without (`require`), and
a webhook provider without its secret is disabled (its endpoint answers 503).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from phoneunify.credentials import CredentialError, Credentials
from phoneunify.privacy import redact

DEFAULT_DATABASE_URL = "postgresql+psycopg2://phoneunify:phoneunify@127.0.0.1:15432/phoneunify"
DEV = "dev"
PRODUCTION = "production"
ENVIRONMENTS = (DEV, PRODUCTION)
# Kafka's legal topic characters; the prefix is part of every topic name (at most 249 characters).
_TOPIC_PREFIX = re.compile(r"[A-Za-z0-9._-]{0,100}")
_REGION = re.compile(r"[A-Z]{2}|001")
# Bytes around a record's value in a batch of its own: key, headers, record and batch headers.
RECORD_OVERHEAD = 64 * 1024


class SettingsError(ValueError):
    """Settings a process must not run with; the message lists every problem, by variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


def _env_name(name: str) -> str:
    return "PHONEUNIFY_" + name.upper()


@dataclass(frozen=True)
class Settings:
    """All configuration. Field metadata carries the environment variable and a description,
    `secret` for values never shown, and `dev` for a secret's published development value."""

    env: str = field(
        default=PRODUCTION,
        metadata={
            "doc": (
                "`dev` or `production`. Only `dev` (make up, make demo, tests) gives an unset secret"
                " its published development value; `production` refuses those values."
            )
        },
    )
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
    topic_replication_factor: int = field(
        default=1,
        metadata={"doc": "Replicas of each topic phoneunify creates (3 on a three-broker cluster)."},
    )
    topic_min_insync_replicas: int = field(
        default=1,
        metadata={
            "doc": (
                "min.insync.replicas of the topics phoneunify creates: replicas that must have a record"
                " before the broker acknowledges it (acks=all); at most the replication factor."
            )
        },
    )
    topic_retention_days: int = field(
        default=30,
        metadata={
            "doc": (
                "Days the topics that carry messages (raw.*, identity.*, customer.linked, dlq.*) keep"
                " them: how far back a replay reaches, and how long an erased person's raw messages"
                " outlive the erasure (docs/privacy.md); 0 keeps them for ever. privacy.erasures is"
                " compacted and never expires."
            )
        },
    )
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
        default="",
        metadata={
            "doc": (
                "Secret key of the HMAC that stands in for phone numbers in Kafka keys, logs and metrics"
                " (API cursors are signed with a key derived from it). Required by ingest, workers, api."
            ),
            "secret": True,
            "dev": "dev-only-phone-hash-key",
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
    max_record_bytes: int = field(
        default=0,
        metadata={
            "doc": (
                "Largest Kafka record phoneunify produces, and the max.message.bytes of its topics;"
                " 0 derives it from max_body_bytes (twice the body, plus 64 KiB), so any body the edge"
                " accepts is storable."
            )
        },
    )
    http_read_timeout_s: float = field(
        default=30.0,
        metadata={
            "doc": (
                "Seconds a client of the ingest or API server has to send a whole request, headers and"
                " body; a slower one is disconnected."
            )
        },
    )
    http_keepalive_timeout_s: int = field(
        default=5, metadata={"doc": "Seconds an idle keep-alive connection stays open on the HTTP servers."}
    )
    twilio_auth_token: str = field(
        default="",
        metadata={
            "doc": "Twilio auth token (verifies X-Twilio-Signature); empty disables the Twilio endpoint.",
            "secret": True,
            "dev": "dev-twilio-auth-token",
        },
    )
    meta_app_secret: str = field(
        default="",
        metadata={
            "doc": (
                "Meta app secret (verifies X-Hub-Signature-256 for Messenger and WhatsApp); empty"
                " disables those endpoints."
            ),
            "secret": True,
            "dev": "dev-meta-app-secret",
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
        default="",
        metadata={
            "doc": "Verify token for Meta's hub.challenge handshake.",
            "secret": True,
            "dev": "dev-meta-verify-token",
        },
    )
    ringcentral_verification_token: str = field(
        default="",
        metadata={
            "doc": "RingCentral webhook Verification-Token; empty disables the RingCentral endpoint.",
            "secret": True,
            "dev": "dev-ringcentral-token",
        },
    )
    booking_api_key: str = field(
        default="",
        metadata={
            "doc": "API key the booking form sends in X-Api-Key; empty disables the booking endpoint.",
            "secret": True,
            "dev": "dev-booking-api-key",
        },
    )
    outbound_api_key: str = field(
        default="",
        metadata={
            "doc": (
                "API key the business's sending system presents (X-Api-Key or X-Signature-256) to"
                " report the messages it sent; empty disables the outbound endpoint."
            ),
            "secret": True,
            "dev": "dev-outbound-api-key",
        },
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
    # --- profile fetcher ---------------------------------------------------------------------
    meta_page_tokens: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": (
                "Graph API access tokens for the profile fetcher, comma separated: <Page id or"
                " Instagram account id>:<Page access token>. Without any, the fetcher is disabled"
                " (senders keep their page-scoped ids); an account without one is skipped."
            ),
            "secret": True,
            "dev": "100200300400500:dev-page-token-0001,17841400000000100:dev-ig-token-0001",
        },
    )
    meta_graph_url: str = field(
        default="https://graph.facebook.com",
        metadata={"doc": "Base URL of the Graph API (make demo points it at the simulator's stand-in)."},
    )
    meta_graph_version: str = field(
        default="v25.0", metadata={"doc": "Graph API version of the user-profile calls."}
    )
    profile_group: str = field(
        default="phoneunify-profiles", metadata={"doc": "Profile fetcher consumer group."}
    )
    profile_ttl_s: float = field(
        default=7 * 24 * 3600.0,
        metadata={"doc": "Seconds before a sender's profile may be fetched again (if seen since)."},
    )
    profile_rate_per_s: float = field(
        default=2.0,
        metadata={
            "doc": "Profile calls per second per account at most (a token bucket), below Meta's limits."
        },
    )
    profile_burst: int = field(default=10, metadata={"doc": "Profile calls per account at once at most."})
    profile_timeout_s: float = field(
        default=5.0, metadata={"doc": "Seconds a Graph API profile call may take before it counts as failed."}
    )
    profile_max_attempts: int = field(
        default=5,
        metadata={"doc": "Failed profile calls for one sender (with doubling backoff) before waiting a TTL."},
    )
    profile_metrics_host: str = field(
        default="127.0.0.1",
        metadata={"doc": "Bind address of the profile fetcher's /metrics endpoint (0.0.0.0 in a container)."},
    )
    profile_metrics_port: int = field(
        default=9111, metadata={"doc": "Port of the profile fetcher's /metrics endpoint."}
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
    api_max_body_bytes: int = field(
        default=64 * 1024,
        metadata={"doc": "Largest request body the API accepts (413 beyond, chunked bodies included)."},
    )
    api_tokens: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": (
                "Named admin credentials, comma separated: name:token (16+ characters) or"
                " name:sha256:<hex digest of the token>; the name is the actor in the ledger."
                " Required by the API."
            ),
            "secret": True,
            "dev": "dev:dev-admin-token-0001",
        },
    )
    console_session_key: str = field(
        default="",
        metadata={
            "doc": (
                "Key that signs the admin console's session cookies (16+ characters); without"
                " one the console answers 503 (the JSON API still serves). Changing it logs every"
                " admin out."
            ),
            "secret": True,
            "dev": "dev-only-console-session-key",
        },
    )

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise SettingsError(problems)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every field from its environment variable, then apply explicit overrides.

        In development mode a secret whose variable is absent takes its development value; a
        variable set to the empty string stays empty (that provider is switched off)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata.get("env", _env_name(f.name))
            if name not in env:
                continue
            raw = env[name]
            try:
                values[f.name] = _coerce(raw, f.default)
            except ValueError:
                raise SettingsError([f"{name}: {raw[:40]!r} is not a {type(f.default).__name__}"]) from None
        values.update(overrides)
        if values.get("env", cls.env) == DEV:
            for f in fields(cls):
                dev_value = f.metadata.get("dev")
                if dev_value is not None and f.name not in values:
                    values[f.name] = _coerce(dev_value, f.default)
        return cls(**values)

    @property
    def record_limit(self) -> int:
        """Largest Kafka record value phoneunify produces (see max_record_bytes). Twice the body:
        an envelope holds the body's content once as the provider's raw payload, re-encoded as
        compact UTF-8 JSON (never longer than the JSON it came from, at most twice a form body
        whose bytes all need escaping), and once more at most as the mapped text; plus the
        envelope's own fields that do not come from the body (channel, times: well under 64 KiB).
        A body that grows more (thousands of numbers like 1e15, which JSON re-encodes as
        1000000000000000.0) is refused with 413 by the edge: tests/unit/test_record_sizes.py."""
        return self.max_record_bytes or 2 * self.max_body_bytes + 64 * 1024

    @property
    def message_max_bytes(self) -> int:
        """The topics' max.message.bytes and the producers' max_request_size: the record limit
        plus room for the key, headers and the record batch's own header, so any record the
        edge lets through is one the broker takes."""
        return self.record_limit + RECORD_OVERHEAD

    @property
    def page_tokens(self) -> dict[str, str]:
        """Graph API access token by business account (meta_page_tokens, checked when built)."""
        return dict(entry.split(":", 1) for entry in self.meta_page_tokens)

    def require(self, process: str, *names: str) -> None:
        """Refuse to run `process` without the secrets it cannot work without."""
        missing = [env_var(name) for name in names if not getattr(self, name)]
        if missing:
            raise SettingsError(
                [
                    f"{name} is not set: phoneunify {process} cannot run without it"
                    " (PHONEUNIFY_ENV=dev gives development values)"
                    for name in missing
                ]
            )

    @property
    def instagram_signing_secret(self) -> str:
        """The secret Instagram webhooks are signed with: its own app's, else the Meta app's."""
        return self.instagram_app_secret or self.meta_app_secret

    def development_values(self) -> list[str]:
        """The variables whose value is the published development value (for a loud log line)."""
        return [env_var(f.name) for f in fields(self) if _is_dev_value(f.metadata, getattr(self, f.name))]

    def __repr__(self) -> str:
        return f"Settings({self.redacted()})"

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a child process."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            name = f.metadata.get("env", _env_name(f.name))
            out[name] = ",".join(value) if isinstance(value, tuple) else str(value)
        return out

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets and URL passwords masked, for startup logs."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                out[f.name] = "***"
            elif isinstance(value, str):
                out[f.name] = redact(value)
            else:
                out[f.name] = value
        return out


def _is_dev_value(metadata: Mapping[str, Any], value: Any) -> bool:
    dev_value = metadata.get("dev")
    if dev_value is None or not value:
        return False
    if isinstance(value, tuple):
        return bool(set(_coerce(dev_value, ())) & set(value))
    return bool(value == dev_value)


def _problems(s: Settings) -> list[str]:
    """Everything wrong with `s`, each naming its environment variable."""
    problems: list[str] = []

    def check(ok: bool, name: str, why: str) -> None:
        if not ok:
            problems.append(f"{env_var(name)}={_shown(s, name)}: {why}")

    check(s.env in ENVIRONMENTS, "env", f"must be one of {', '.join(ENVIRONMENTS)}")
    for server in s.kafka_bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        check(bool(host) and port.isdigit() and 0 < int(port) < 65536, "kafka_bootstrap", "host:port, ...")
    check(_database_url_ok(s.database_url), "database_url", "must be a postgresql:// URL with a host")
    check(bool(_TOPIC_PREFIX.fullmatch(s.topic_prefix)), "topic_prefix", "letters, digits, . _ - only")
    check(1 <= s.topic_partitions <= 1000, "topic_partitions", "must be 1..1000")
    check(1 <= s.topic_replication_factor <= 16, "topic_replication_factor", "must be 1..16")
    check(
        1 <= s.topic_min_insync_replicas <= s.topic_replication_factor,
        "topic_min_insync_replicas",
        "must be 1..the replication factor",
    )
    check(0 <= s.topic_retention_days <= 36500, "topic_retention_days", "must be 0 (for ever)..36500 days")
    check(bool(_REGION.fullmatch(s.default_region)), "default_region", "an ISO 3166 alpha-2 code, e.g. US")
    for name in ("ingest_port", "worker_web_port", "writer_metrics_port", "api_port", "profile_metrics_port"):
        check(0 < getattr(s, name) < 65536, name, "must be a port, 1..65535")
    for name in ("ingest_host", "worker_web_host", "writer_metrics_host", "api_host", "profile_metrics_host"):
        check(bool(getattr(s, name).strip()), name, "must not be empty")
    url = urlsplit(s.public_base_url)
    check(url.scheme in ("http", "https") and bool(url.hostname), "public_base_url", "an http(s) URL")
    check(1024 <= s.max_body_bytes <= 64 * 1024 * 1024, "max_body_bytes", "must be 1 KiB..64 MiB")
    check(
        s.max_record_bytes == 0 or s.max_body_bytes < s.max_record_bytes <= 128 * 1024 * 1024,
        "max_record_bytes",
        "0 (derived) or above max_body_bytes, at most 128 MiB",
    )
    check(0 < s.publish_timeout_s <= 120, "publish_timeout_s", "must be in (0, 120] seconds")
    check(0 < s.http_read_timeout_s <= 600, "http_read_timeout_s", "must be in (0, 600] seconds")
    check(0 < s.http_keepalive_timeout_s <= 600, "http_keepalive_timeout_s", "must be 1..600 seconds")
    check(1 <= s.resolve_batch_size <= 100_000, "resolve_batch_size", "must be 1..100000")
    check(0 <= s.resolve_batch_within_s <= 10, "resolve_batch_within_s", "must be 0..10 seconds")
    check(0 < s.link_threshold <= 1, "link_threshold", "must be in (0, 1]")
    check(s.link_threshold <= s.merge_threshold <= 1, "merge_threshold", "must be link_threshold..1")
    check(2 <= s.shared_phone_min_identities <= 1000, "shared_phone_min_identities", "must be 2..1000")
    check(1 <= s.writer_batch_size <= 100_000, "writer_batch_size", "must be 1..100000")
    check(
        all(
            len(e.split(":", 1)) == 2 and all(p.strip() for p in e.split(":", 1)) for e in s.meta_page_tokens
        ),
        "meta_page_tokens",
        "account:token, comma separated",
    )
    graph = urlsplit(s.meta_graph_url)
    check(graph.scheme in ("http", "https") and bool(graph.hostname), "meta_graph_url", "an http(s) URL")
    check(bool(re.fullmatch(r"v\d+\.\d+", s.meta_graph_version)), "meta_graph_version", "like v25.0")
    check(0 < s.profile_ttl_s <= 365 * 24 * 3600, "profile_ttl_s", "must be in (0, 1 year] seconds")
    check(0 < s.profile_rate_per_s <= 1000, "profile_rate_per_s", "must be in (0, 1000]")
    check(1 <= s.profile_burst <= 10_000, "profile_burst", "must be 1..10000")
    check(0 < s.profile_timeout_s <= 120, "profile_timeout_s", "must be in (0, 120] seconds")
    check(1 <= s.profile_max_attempts <= 100, "profile_max_attempts", "must be 1..100")
    check(1024 <= s.api_max_body_bytes <= 64 * 1024 * 1024, "api_max_body_bytes", "must be 1 KiB..64 MiB")
    check(
        not s.console_session_key or len(s.console_session_key) >= 16,
        "console_session_key",
        "needs 16 or more characters (or none, which turns the console off)",
    )
    try:
        Credentials(s.api_tokens)
    except CredentialError as exc:
        problems.append(f"{env_var('api_tokens')}: {exc}")
    if s.env == PRODUCTION:
        for f in fields(s):
            if _is_dev_value(f.metadata, getattr(s, f.name)):
                problems.append(
                    f"{env_var(f.name)} holds the published development value: set a secret of your own"
                    " (or PHONEUNIFY_ENV=dev on a development machine)"
                )
    return problems


def _shown(s: Settings, name: str) -> str:
    value = s.redacted()[name]
    return repr(",".join(value) if isinstance(value, tuple) else value)[:80]


def _database_url_ok(url: str) -> bool:
    parts = urlsplit(url)
    # A unix-socket URL names its host in the query (postgresql:///db?host=/run/postgresql).
    has_host = bool(parts.hostname) or "host=" in parts.query
    return parts.scheme.split("+")[0] in ("postgresql", "postgres") and has_host


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
