"""Every Kafka topic of phoneunify, its key and its role, in one place.

A prefix (settings.topic_prefix) isolates tests and tenants sharing one broker.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS: tuple[str, ...] = ("sms", "whatsapp", "messenger", "instagram", "booking")
# The channels a business sends messages on, so the ones consent is about (not the booking form).
CONSENT_CHANNELS: tuple[str, ...] = tuple(c for c in CHANNELS if c != "booking")


@dataclass(frozen=True)
class Topics:
    """Topic names under one prefix."""

    prefix: str = ""

    def raw(self, channel: str) -> str:
        """Raw envelopes from the ingest edge; key: keyed hash of the thread key."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        return f"{self.prefix}raw.{channel}"

    @property
    def raw_all(self) -> tuple[str, ...]:
        return tuple(self.raw(c) for c in CHANNELS)

    @property
    def resolve(self) -> str:
        """Internal: messages re-keyed by canonical phone key (or thread key when phone-less),
        so one resolver owns each phone. A record is a pack of requests with the same key, one
        JSON object per line (`workers.streams.sender`); a single request is a pack of one."""
        return f"{self.prefix}identity.resolve"

    @property
    def commands(self) -> str:
        """Admin identity commands; key: the phone key or customer id they touch."""
        return f"{self.prefix}identity.commands"

    @property
    def linked(self) -> str:
        """Public contract: linked-customer events; key: customer id (thread key while unlinked)."""
        return f"{self.prefix}customer.linked"

    @property
    def erasures(self) -> str:
        """The erasure fence (compacted, never deleted); key: the erased subject's keyed hash.
        See schema/erasures.py."""
        return f"{self.prefix}privacy.erasures"

    def dlq(self, stage: str) -> str:
        """Dead letters of one stage, each with the reason."""
        return f"{self.prefix}dlq.{stage}"

    @property
    def all(self) -> tuple[str, ...]:
        return (
            *self.raw_all,
            self.resolve,
            self.commands,
            self.linked,
            self.erasures,
            self.dlq("extract"),
            self.dlq("resolve"),
            self.dlq("timeline"),
        )
