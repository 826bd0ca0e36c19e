"""Response shapes of the API, for the OpenAPI document and for clients generated from it.

The timeline follows the design document: customer, social_identities, conversations, stats.
A conversation item carries what its event has (a booking its guests and date, a message its
attachments), so items allow fields beyond the ones named here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConsentStatus(BaseModel):
    phone: str = Field(description="E.164 number the status is about.")
    channel: str = Field(description="sms or whatsapp: consent is per phone and per channel.")
    status: Literal["opted_in", "opted_out"]
    source: str = Field(description="keyword (the customer texted it), provider, admin or booking_form.")
    keyword: str | None = Field(description="The keyword that decided it, when there was one.")
    at: str = Field(description="When the deciding message was sent (the event's own time).")


class Customer(BaseModel):
    id: str
    phone: str | None = Field(description="The customer's first number (E.164), the key of the record.")
    phones: list[str] = Field(description="Every number the customer owns, merged customers included.")
    email: str | None
    name: str | None
    merged_ids: list[str] = Field(description="Customers merged into this one; their ids redirect here.")
    created_at: str
    consent: list[ConsentStatus] = Field(description="Current consent per phone and channel.")


class SocialIdentity(BaseModel):
    id: str
    platform: str
    handle: str | None
    name: str | None
    confidence: float = Field(ge=0, le=1)
    verified: bool
    verification: Literal["unverified", "verified", "rejected"]
    decided_by: str | None = Field(description="Set when a person decided the link.")


class Conversation(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    type: str = Field(description="sms, whatsapp, social_media, booking, identity or consent.")
    platform: str
    channel: str
    timestamp: str = Field(description="When it happened per the provider (the timeline's order).")
    kind: str
    direction: Literal["in", "out"] | None = None
    content: str | None = None
    sender: str | None = None
    event: str | None = None
    status: str | None = Field(
        default=None,
        description=(
            "On a message: the furthest delivery status the provider reported about it (sent,"
            " delivered, read, failed...); on a status or consent item, its own."
        ),
    )
    unsent: bool | None = Field(
        default=None, description="The customer unsent the message: its text is gone, content says so."
    )
    version: int | None = Field(
        default=None, description="A booking's version (1 as first sent; event booking_updated after)."
    )
    superseded_by: str | None = Field(
        default=None,
        description="Only with include_superseded=true: the item shown instead (a booking's latest version).",
    )


class Stats(BaseModel):
    total_messages: int
    platforms_used: int
    linked_identities: int
    leads_created: int


class Timeline(BaseModel):
    customer: Customer
    social_identities: list[SocialIdentity]
    conversations: list[Conversation] = Field(description="Oldest first, by the event's own time.")
    stats: Stats
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class CustomerLookup(BaseModel):
    phone: str = Field(description="The number as E.164.")
    shared: bool = Field(description="A shared number links nobody: customers is then empty.")
    customers: list[Customer]


class LedgerEntry(BaseModel):
    seq: int
    at: str
    action: str
    actor: str
    rule: str
    confidence: float | None
    identity_id: str | None
    thread_id: str | None
    evidence: dict[str, Any]
    policy_version: str


class Ledger(BaseModel):
    customer_id: str
    entries: list[LedgerEntry]


class UnlinkedThread(BaseModel):
    thread_id: str
    channel: str
    business_account: str
    first_message_at: str | None
    last_message_at: str | None
    messages: int


class ReviewThreads(BaseModel):
    threads: list[UnlinkedThread]


class Conflict(BaseModel):
    id: int
    kind: str
    thread_id: str | None
    identity_id: str | None
    customer_id: str | None
    other_customer_id: str | None
    confidence: float | None
    created_at: str


class ReviewConflicts(BaseModel):
    conflicts: list[Conflict]


class CommandAccepted(BaseModel):
    command_id: str
    action: str
    status: Literal["accepted"]


class CommandApplied(BaseModel):
    command_id: str
    status: Literal["applied"]
    events: list[str] = Field(description="Types of the linked events the command produced.")


class Error(BaseModel):
    error: str = Field(description="What was wrong, in words.")
