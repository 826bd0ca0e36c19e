"""Response shapes of the API, for the OpenAPI document and for clients generated from it.

The timeline follows the design document: customer, social_identities, conversations, stats.
A conversation item carries what its event has (a booking its guests and date, a message its
attachments), so items allow fields beyond the ones named here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConsentStatus(BaseModel):
    phone: str | None = Field(
        description=(
            "E.164 number the status is about (null: said by a channel identity of a customer"
            " known by no number yet)."
        )
    )
    channel: str = Field(
        description="sms, whatsapp, messenger or instagram: consent is per phone and channel."
    )
    status: Literal["opted_in", "opted_out"]
    source: str = Field(description="keyword (the customer texted it), provider, admin or booking_form.")
    keyword: str | None = Field(description="The keyword that decided it, when there was one.")
    at: str = Field(description="When the deciding message was sent (the event's own time).")


class ConsentAnswer(BaseModel):
    phone: str = Field(description="The number as E.164.")
    channel: str
    purpose: Literal["marketing", "transactional"]
    status: Literal["opted_in", "opted_out", "unknown"]
    may_send: bool = Field(description="Whether the business may text this number on this channel now.")
    since: str | None = Field(description="When the deciding consent was said (null when unknown).")
    evidence: dict[str, Any] = Field(
        description="What decided: source, keyword, who said it (phone or identity) and its own evidence."
    )
    rule: str = Field(description="The rule that decided may_send (docs/api.md, Consent).")


class Customer(BaseModel):
    id: str
    phone: str | None = Field(description="The customer's first number (E.164), the key of the record.")
    phones: list[str] = Field(description="Every number the customer owns, merged customers included.")
    email: str | None
    name: str | None
    merged_ids: list[str] = Field(description="Customers merged into this one; their ids redirect here.")
    created_at: str
    consent: list[ConsentStatus] = Field(description="Current consent per phone and channel.")
    last_active_at: str | None = Field(
        default=None,
        description="In search results: the latest message on any of the customer's threads.",
    )


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
    intent_tags: list[str] | None = Field(
        default=None,
        description=(
            "Inbound messages only: booking_inquiry, reschedule, cancellation, pricing, complaint,"
            " opt_out, opt_in (rule-based, in English, Spanish, Portuguese, French and German)."
        ),
    )
    sentiment: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="Inbound messages only: -1 (negative) to 1 (positive); null when not English.",
    )
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
    phone: str | None = Field(default=None, description="With `phone=`: the number as E.164.")
    shared: bool | None = Field(
        default=None, description="With `phone=`: a shared number links nobody, so customers is empty."
    )
    customers: list[Customer]
    next_cursor: str | None = Field(
        default=None, description="With `q=` or no query: pass as `cursor` for the next page."
    )


class LedgerEntry(BaseModel):
    seq: int
    at: str
    action: str
    actor: str
    rule: str
    confidence: float | None
    identity_id: str | None
    thread_id: str | None
    phone: str | None = Field(description="The number (E.164) the decision is about, if any.")
    evidence: dict[str, Any] = Field(
        description="What the decision rests on: the message's idempotency_key and the span of its"
        " text, or the admin command's id and note."
    )
    message: Conversation | None = Field(
        description="The timeline item the evidence points at (its text holds the span)."
    )
    policy_version: str


class Ledger(BaseModel):
    customer_id: str
    entries: list[LedgerEntry]


class ThreadFacts(BaseModel):
    thread_id: str
    channel: str
    business_account: str
    first_message_at: str | None
    last_message_at: str | None
    messages: int


class UnlinkedThread(ThreadFacts):
    sender: SocialIdentity | None = Field(description="Who writes on the thread, as far as known.")
    last_messages: list[Conversation] = Field(description="The thread's last few messages, oldest first.")


class ReviewThreads(BaseModel):
    threads: list[UnlinkedThread]


class ConflictEvidence(BaseModel):
    model_config = ConfigDict(extra="allow")

    source: str | None = Field(default=None, description="attested, form or text.")
    rule: str | None = None
    span: list[int] | None = Field(default=None, description="[start, end) of the number in the text.")
    owner: str | None = Field(default=None, description="Whose number the words around it say it is.")
    confidence: float | None = None
    message: Conversation | None = Field(
        default=None, description="The message the number was read from, when it is on the timeline."
    )


class Conflict(BaseModel):
    id: int
    kind: str
    thread_id: str | None
    identity_id: str | None
    customer_id: str | None
    other_customer_id: str | None
    confidence: float | None
    created_at: str
    phone: str | None = Field(description="The number (E.164) the question is about.")
    evidence: ConflictEvidence


class ReviewConflicts(BaseModel):
    conflicts: list[Conflict]


class Thread(ThreadFacts):
    customer_id: str | None = Field(description="The customer owning the thread (after merges), if any.")
    decided_by: str | None = Field(description="Set when a person linked or unlinked the thread.")
    sender: SocialIdentity | None


class ThreadMessages(BaseModel):
    thread: Thread
    messages: list[Conversation] = Field(description="Messages and bookings, oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class CommandAccepted(BaseModel):
    command_id: str
    action: str
    status: Literal["accepted"]
    customer_id: str | None = Field(
        default=None, description="create_customer: the id of the customer it creates."
    )


class CommandApplied(BaseModel):
    command_id: str
    status: Literal["applied", "rejected"] = Field(
        description="applied, or rejected: the resolver refused it (nothing of it was applied)."
    )
    events: list[str] = Field(description="Types of the linked events the command produced.")
    reason: str | None = Field(default=None, description="Why the resolver refused it (rejected only).")


class Error(BaseModel):
    error: str = Field(description="What was wrong, in words.")
