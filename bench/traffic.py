"""Synthetic provider traffic for the pipeline benchmark: signed webhooks of every channel.

Deterministic for a seed. A population of people, each with a phone and one or two channels,
writes threads of several messages; a few people write a lot (repeat senders), most write a
little. About a third of the inbound messages carry a phone number in their text (mostly the
sender's own, after a cue, in the layouts people type; otherwise a corpus message that names
some number). The rest are the business chat corpus' messages without numbers, so extraction
costs what it costs on real chat. Business replies (Meta echoes) and SMS status callbacks are
mixed in.

Every webhook is built exactly as its provider sends it and signed with the settings' secrets
(by cli/provider_webhooks.py, the builder the simulator uses too), so the latency run posts
them to the real ingest edge; the backfill run maps the same bodies with the ingest adapters'
own mapping functions (no HTTP), which gives the raw envelopes the edge would have published.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from cli import provider_webhooks as webhooks
from ingest.edge import records_for
from ingest.providers import booking, meta, ringcentral, twilio
from ingest.publisher import Record
from phoneunify.settings import Settings
from schema.envelopes import RawEnvelope, utc_iso
from schema.topics import Topics

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "business_chat.jsonl"

TWILIO_LINE = "+19165550000"
RINGCENTRAL_LINE = "+19165550002"
WA_LINE_ID = "106540352242922"
WA_DISPLAY = "19165550001"
PAGE_ID = "109876543210987"
IG_ACCOUNT = "17841405793187218"
BUSINESS_NUMBERS = (TWILIO_LINE, RINGCENTRAL_LINE, "+" + WA_DISPLAY)

# Channel shares of the people's first channel (SMS over Twilio leads, as for most small businesses).
CHANNELS = {"sms": 30, "whatsapp": 24, "instagram": 18, "messenger": 15, "ringcentral": 6, "booking": 7}
US_AREAS = ("916", "530", "415", "510", "213", "312", "646", "305", "512", "206", "617", "702")
# Enough names that two strangers rarely look like one person to the name rules.
_FIRST_NAMES = """
Ana Luis Maria John Priya Wei Fatima Tom Sofia Omar Emma Kenji Lucas Chloe Mateo Aisha Noah Ines
Ravi Hana Diego Olga Samir Yuki Pedro Lena Kofi Zara Ivan Mei Jonas Amara Felix Nadia Hugo Leila
"""
_LAST_NAMES = """
Lopez Smith Garcia Chen Patel Silva Brown Khan Rossi Muller Kim Nguyen Okafor Dubois Novak
Haddad Tanaka Costa Schmidt Ivanova Reyes Walsh Moreau Singh Larsen Ferreira Yilmaz Cohen Mensah Fischer
"""
FIRST = tuple(_FIRST_NAMES.split())
LAST = tuple(_LAST_NAMES.split())
# Regions of the customers who are not in the US, with their share among them.
FOREIGN = {"MX": 4, "GB": 3, "BR": 4, "DE": 2, "FR": 2, "ES": 2, "IN": 2, "CA": 2}
SELF_CUES = (
    "my number is {p}",
    "you can text me at {p}",
    "call me on {p} please",
    "Hi! It's {n}, my cell is {p}",
    "mi número es {p}",
    "reach me at {p} after 5pm",
    "{p} is my phone, thanks",
    "{p}",  # a bare number: weaker evidence than a cue
)
REPLIES = ("Thanks! See you then.", "We open at 9am tomorrow.", "Yes, we have a table for 4 at 8pm.")


@dataclass(frozen=True)
class Person:
    index: int
    e164: str
    name: str
    email: str
    psid: str
    igsid: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Webhook:
    """One provider delivery: where it is posted, its exact bytes and headers."""

    channel: str  # our channel family: sms, ringcentral, whatsapp, messenger, instagram, booking
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    at: datetime  # when it happened (provider timestamps inside the body say the same)

    @classmethod
    def of(cls, channel: str, delivery: webhooks.Delivery, at: datetime) -> Webhook:
        return cls(channel, delivery.path, delivery.body, delivery.headers, at)

    def envelopes(self, received_at: str) -> tuple[RawEnvelope, ...]:
        """The raw envelopes the ingest edge publishes for this delivery."""
        if self.channel == "sms":
            return twilio.map_params(twilio.parse_form(self.body), received_at).envelopes
        payload = json.loads(self.body)
        if self.channel == "ringcentral":
            return ringcentral.map_payload(payload, received_at).envelopes
        if self.channel == "booking":
            return booking.map_payload(payload, received_at).envelopes
        return meta.map_payload(payload, received_at, meta.PRODUCTS[self.channel]).envelopes

    def records(self, topics: Topics, hash_key: str) -> list[Record]:
        return records_for(self.envelopes(utc_iso(self.at)), topics, hash_key)


class Traffic:
    """Webhooks for a benchmark run, signed for `settings` (its secrets and public URL)."""

    def __init__(
        self,
        settings: Settings,
        seed: int = 6,
        phone_share: float = 0.4,
        own_share: float = 0.7,
        claim_share: float = 0.03,
    ) -> None:
        """`phone_share`: inbound messages with a number in the text. Of those, `own_share` give
        the sender's own number after a cue; `claim_share` are corpus messages in which the
        writer gives a number as their own (the corpus is shared by everyone, so several people
        claim one number: reviews, shared phones, merges); the rest name a number that is not the
        writer's (a friend's, a business's)."""
        self.settings = settings
        self.rng = random.Random(seed)
        self.phone_share = phone_share
        self.own_share = own_share
        self.claim_share = claim_share
        self.corpus_plain, self.corpus_claims, self.corpus_others = _corpus()
        self._sid = 0

    # --- people ------------------------------------------------------------------------------
    def people(self, count: int) -> list[Person]:
        rng = self.rng
        out: list[Person] = []
        seen: set[str] = set()
        names = list(CHANNELS)
        weights = list(CHANNELS.values())
        while len(out) < count:
            e164 = self._phone(rng)
            if e164 in seen:
                continue
            seen.add(e164)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            primary = rng.choices(names, weights)[0]
            channels: tuple[str, ...] = (primary,)
            if rng.random() < 0.3:
                second = rng.choices(names, weights)[0]
                channels = (primary, second) if second != primary else channels
            i = len(out)
            out.append(
                Person(
                    index=i,
                    e164=e164,
                    name=f"{first} {last}",
                    email=f"{first.lower()}.{last.lower()}{i}@example.com",
                    psid=str(6_900_000_000_000_000 + i * 7919),
                    igsid=str(1_914_000_000_000_000 + i * 104729),
                    channels=channels,
                )
            )
        return out

    def _phone(self, rng: random.Random) -> str:
        if rng.random() < 0.15:
            region = rng.choices(list(FOREIGN), list(FOREIGN.values()))[0]
            return _foreign_mobile(rng, region)
        while True:
            number = f"+1{rng.choice(US_AREAS)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                return number

    # --- message streams ---------------------------------------------------------------------
    def backfill(self, total: int, people: list[Person], start: datetime) -> list[Webhook]:
        """`total` deliveries spread over the 30 days after `start`, in time order, threads interleaved."""
        rng = self.rng
        weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(people))]  # a few people write a lot
        span = 30 * 86400
        out: list[Webhook] = []
        while len(out) < total:
            person = rng.choices(people, weights)[0]
            channel = rng.choice(person.channels)
            length = 1 if channel == "booking" else min(1 + int(rng.expovariate(1 / 3.5)), 12)
            at = start + timedelta(seconds=rng.uniform(0, span))
            for hook in self.thread(person, channel, length, at):
                out.append(hook)
        out.sort(key=lambda h: h.at)
        return out[:total]

    def live(self, count: int, people: list[Person], start: datetime, rate: float) -> list[Webhook]:
        """`count` deliveries at `rate` per second from `start`, one message per pick (a thread
        grows as its person writes again)."""
        rng = self.rng
        weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(people))]
        out: list[Webhook] = []
        for i in range(count):
            person = rng.choices(people, weights)[0]
            channel = rng.choice(person.channels)
            at = start + timedelta(seconds=i / rate)
            out.extend(self.thread(person, channel, 1, at, replies=False))
        return out

    def thread(
        self, person: Person, channel: str, length: int, at: datetime, replies: bool = True
    ) -> Iterator[Webhook]:
        rng = self.rng
        for _ in range(length):
            outbound = replies and channel in ("messenger", "instagram") and rng.random() < 0.2
            if outbound:
                yield self._meta_dm(channel, person, rng.choice(REPLIES), at, echo=True)
            elif replies and channel == "sms" and rng.random() < 0.08:
                yield self._twilio_status(person, at)
            else:
                yield self._inbound(person, channel, self._text(person), at)
            at += timedelta(seconds=rng.uniform(20, 900))

    def _text(self, person: Person) -> str:
        rng = self.rng
        if rng.random() >= self.phone_share:
            return rng.choice(self.corpus_plain)
        if rng.random() < self.own_share:
            number = phonenumbers.parse(person.e164)
            layout = rng.choice((PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL))
            written = phonenumbers.format_number(number, layout)
            if rng.random() < 0.3:
                written = written.replace(" ", ".").replace("(", "").replace(")", "").replace("-", ".")
            first = person.name.split()[0]
            return rng.choice(SELF_CUES).format(p=written, n=first)
        if rng.random() < self.claim_share / max(1e-9, 1 - self.own_share):
            return rng.choice(self.corpus_claims)
        return rng.choice(self.corpus_others)

    def message(
        self, person: Person, channel: str, text: str, at: datetime, with_phone: bool | None = None
    ) -> Webhook:
        """One inbound message of `person` on `channel` (sms, ringcentral, whatsapp, messenger,
        instagram, booking), as its provider delivers it; `with_phone` decides whether a booking
        form carries the phone (None: as the traffic's mix has it)."""
        if channel == "booking":
            return self._booking(person, text, at, with_phone)
        return self._inbound(person, channel, text, at)

    def _inbound(self, person: Person, channel: str, text: str, at: datetime) -> Webhook:
        if channel == "sms":
            return self._twilio_sms(person, text, at)
        if channel == "ringcentral":
            return self._ringcentral(person, text, at)
        if channel == "whatsapp":
            return self._whatsapp(person, text, at)
        if channel == "booking":
            return self._booking(person, text, at)
        return self._meta_dm(channel, person, text, at)

    def _next_id(self) -> int:
        self._sid += 1
        return self._sid

    # --- providers: bodies and signatures from the one builder the simulator uses ---------------
    def _twilio_sms(self, person: Person, text: str, at: datetime) -> Webhook:
        sid = f"SM{self._next_id():032x}"
        return Webhook.of("sms", webhooks.twilio_sms(self.settings, sid, person.e164, TWILIO_LINE, text), at)

    def _twilio_status(self, person: Person, at: datetime) -> Webhook:
        sid = f"SM{self._next_id():032x}"
        delivered = webhooks.twilio_status(self.settings, sid, TWILIO_LINE, person.e164, "delivered")
        return Webhook.of("sms", delivered, at)

    def _ringcentral(self, person: Person, text: str, at: datetime) -> Webhook:
        message_id = str(9_000_000_000 + self._next_id())
        conversation = str(7_876_416_245_344_257_449 + person.index)
        delivery = webhooks.ringcentral_sms(
            self.settings, message_id, person.e164, RINGCENTRAL_LINE, text, at, conversation_id=conversation
        )
        return Webhook.of("ringcentral", delivery, at)

    def _meta_dm(self, channel: str, person: Person, text: str, at: datetime, echo: bool = False) -> Webhook:
        account = PAGE_ID if channel == "messenger" else IG_ACCOUNT
        user = person.psid if channel == "messenger" else person.igsid
        mid = f"m_{channel[:2]}{self._next_id():024d}"
        return Webhook.of(
            channel, webhooks.meta_dm(self.settings, channel, account, user, mid, text, at, echo), at
        )

    def _whatsapp(self, person: Person, text: str, at: datetime) -> Webhook:
        wamid = f"wamid.bench{self._next_id():020d}"
        delivery = webhooks.whatsapp(
            self.settings,
            WA_LINE_ID,
            person.e164.lstrip("+"),
            wamid,
            text,
            at,
            name=person.name,
            display_number=WA_DISPLAY,
        )
        return Webhook.of("whatsapp", delivery, at)

    def _booking(self, person: Person, text: str, at: datetime, with_phone: bool | None = None) -> Webhook:
        number = phonenumbers.parse(person.e164)
        # Some forms leave the phone out: the booking's thread waits unlinked for one that has it.
        if with_phone is None:
            with_phone = self.rng.random() >= 0.3
        phone = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL) if with_phone else None
        form = {
            "id": f"web-{self._next_id()}",
            "name": person.name,
            "email": person.email,
            "phone": phone,
            "guests": 1 + person.index % 6,
            "date": (at + timedelta(days=3)).strftime("%Y-%m-%dT19:30"),
            "notes": text,
            "source": "website",
            "submitted_at": utc_iso(at),
        }
        return Webhook.of("booking", webhooks.booking(self.settings, form), at)


def _corpus() -> tuple[list[str], list[str], list[str]]:
    """Inbound business chat messages: without numbers, with the writer's own number, and with
    only numbers that are not the writer's."""
    plain: list[str] = []
    claims: list[str] = []
    others: list[str] = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("direction") != "in" or not record["text"].strip():
            continue
        if not record["phones"]:
            plain.append(record["text"])
        elif record["sender_phones"]:
            claims.append(record["text"])
        else:
            others.append(record["text"])
    return plain, claims, others


def _foreign_mobile(rng: random.Random, region: str) -> str:
    """A valid mobile number of `region`: its example number with the last six digits drawn."""
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    assert example is not None, region
    national = str(example.national_number)
    while True:
        digits = national[:-6] + f"{rng.randint(0, 999_999):06d}"
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def now() -> datetime:
    return datetime.now(UTC)
