"""Erasure and consent scenarios, written once and run on any identity store.

Like tests/identity_scenarios.py (whose `Script` they drive: the real extract stage, resolver
and command handler over a `Backend`), these are mixins: tests/unit runs them on the dict
store, tests/integration on PostgreSQL. They assert the rows an erasure leaves (nothing that
names the person, the decisions without personal values, the fence and the kept opt-outs), what
the resolver does with the erased person's old and new messages, and that a replay into an
empty store that restored the fence does not bring them back. The Kafka flow of the same
promises is tests/e2e/test_privacy_e2e.py.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from phoneunify.privacy import identity_key, phone_key, thread_key_hash
from schema import tables as t
from schema.commands import CommandError
from schema.envelopes import Party, RawEnvelope, parse_time, utc_iso
from schema.erasures import fence_records
from schema.linked import LinkedEvent, derived_id
from tests.identity_scenarios import (
    EVIDENCE,
    SETTINGS,
    WA_LINE,
    Backend,
    Script,
    customers,
    dump,
    ident,
    one,
    phone_owner,
    rows,
    thread,
    timeline,
    types,
)
from workers.services import erasure
from workers.services.evidence import gather

ANA = "+19165551234"
ANA_DIGITS = "5551234"  # in every spelling of her number
KEY = SETTINGS.phone_hash_key


def erase(script: Script, customer: uuid.UUID) -> LinkedEvent:
    return one(script.command("erase_customer", customer_id=str(customer)), "customer.erased")


def whatsapp_username(script: Script, user: str, text_: str | None, handle: str) -> RawEnvelope:
    """A WhatsApp user known by username only: the provider gives no number."""
    return script._envelope(
        "whatsapp", "meta", WA_LINE, f"whatsapp:{WA_LINE}:{user}", Party(id=user, handle=handle), text_
    )


def ana_everywhere(script: Script) -> dict[str, RawEnvelope]:
    """Ana on SMS, Instagram and the booking form, one customer; then she texts STOP."""
    sent = {
        "sms": script.sms(ANA, "Hi, it's Ana, table for 2 tonight?"),
        "dm": script.instagram(
            "igsid-ana", "Ana here, my number is (916) 555-1234", name="Ana Ruiz", handle="ana.r"
        ),
        "booking": script.booking("bk-ana", name="Ana Ruiz", email="ana@example.com", phone="916.555.1234"),
        "stop": script.sms(ANA, "STOP"),
    }
    for envelope in sent.values():
        script.send(envelope)
    return sent


def everything(db: Backend) -> str:
    """Every row of every identity table, as text."""
    return json.dumps(dump(db), default=str)


def later(envelope: RawEnvelope, minutes: int) -> RawEnvelope:
    """The same message as if it began `minutes` later (negative: earlier)."""
    stamp = utc_iso(parse_time(envelope.occurred_at) + timedelta(minutes=minutes))
    return replace(envelope, occurred_at=stamp, received_at=stamp)


class Erasure:
    def test_erasure_leaves_no_personal_data_and_keeps_the_decisions(
        self, db: Backend, script: Script
    ) -> None:
        ana_everywhere(script)
        (customer,) = customers(db)
        ana = customer["id"]
        assert ANA_DIGITS in everything(db) and "Ana Ruiz" in everything(db)
        decided = [
            (e["action"], e["actor"], e["rule"], e["customer_id"]) for e in rows(db, t.identity_ledger)
        ]

        event = erase(script, ana)

        text = everything(db)
        for personal in (ANA_DIGITS, "Ana", "ana@example.com", "ana.r", "igsid-ana", "table for 2"):
            assert personal not in text, personal
        (row,) = customers(db)
        assert (row["id"], row["name"], row["email"], row["erased_at"]) == (
            ana,
            None,
            None,
            parse_time(event.occurred_at),
        )
        assert row["email_source"] is None  # nor where the email came from
        assert rows(db, t.phones) == [] and rows(db, t.phone_addresses) == []
        # Identities and threads keep their ids, links and times; their keys become subjects.
        assert {r["customer_id"] for r in rows(db, t.identities)} == {ana}
        assert all(
            r["provider_user_id"].startswith("id_") and r["handle"] is None for r in rows(db, t.identities)
        )
        assert all(r["thread_key"].startswith("th_") for r in rows(db, t.threads))
        assert {r["customer_id"] for r in rows(db, t.threads)} == {ana}
        # The ledger keeps every decision (who, when, which rule) and adds the erasure.
        ledger = rows(db, t.identity_ledger)
        assert [(e["action"], e["actor"], e["rule"], e["customer_id"]) for e in ledger[:-1]] == decided
        assert (ledger[-1]["action"], ledger[-1]["actor"]) == ("customer.erased", "admin:ops")
        assert all(e["e164"] is None for e in ledger)
        assert all(e["evidence"].get("erased") and "span" not in e["evidence"] for e in ledger[:-1])
        assert rows(db, t.resolved_messages, thread_id=thread(script.sent[0].request.envelope)) == []
        # The opt-out stays, keyed by the phone's hash only.
        (kept,) = rows(db, t.consent_ledger)
        assert (kept["subject"], kept["e164"], kept["channel"], kept["status"], kept["keyword"]) == (
            phone_key(ANA, KEY),
            None,
            "sms",
            "opted_out",
            "STOP",
        )
        fence = {r["subject"]: r["kind"] for r in rows(db, t.privacy_fence)}
        assert fence == {
            phone_key(ANA, KEY): "phone",
            **{thread_key_hash(s.request.envelope.thread_key, KEY): "thread" for s in script.sent},
            **{
                identity_key(e.channel, e.business_account, e.customer.id, KEY): "identity"
                for e in (s.request.envelope for s in script.sent)
            },
        }
        # The event tells downstream consumers (and the writer) what to erase, naming nobody.
        assert event.customer_id == str(ana) and event.data["erased_ids"] == [str(ana)]
        assert set(event.data["thread_ids"]) == {str(r["id"]) for r in rows(db, t.threads)}
        records = fence_records(event)
        assert {r.subject for r in records} == set(fence)
        (suppressed,) = [r for r in records if r.opt_outs]
        assert suppressed.subject == phone_key(ANA, KEY)
        assert [(o["channel"], o["status"]) for o in suppressed.opt_outs] == [("sms", "opted_out")]
        assert ANA_DIGITS not in json.dumps(event.to_dict())

    def test_the_whole_cluster_is_erased_whichever_customer_is_named(
        self, db: Backend, script: Script
    ) -> None:
        a = script.sms("+19165551111", "Hi, table for two tonight?")
        b = script.instagram("igsid-alex", "my number is 916-555-2222", name="Alex Rivera")
        script.send(a, b)
        first, second = phone_owner(db, "+19165551111"), phone_owner(db, "+19165552222")
        assert first is not None and second is not None
        script.command("merge", survivor_id=str(first), merged_id=str(second))

        event = erase(script, second)  # the merged one: the person is the cluster

        assert event.customer_id == str(first)
        assert sorted(event.data["erased_ids"]) == sorted([str(first), str(second)])
        assert all(c["erased_at"] is not None and c["name"] is None for c in customers(db))
        assert rows(db, t.phones) == []
        assert "Alex" not in everything(db) and "igsid-alex" not in everything(db)

    def test_nothing_more_is_decided_about_an_erased_customer(self, db: Backend, script: Script) -> None:
        hers = script.sms(ANA, "hi")
        script.send(hers, script.sms("+19165552222", "hello"))
        ana, other = phone_owner(db, ANA), phone_owner(db, "+19165552222")
        event = erase(script, ana)
        # The same command again (redelivered) gives the same events and changes nothing.
        before = dump(db)
        again = script.command(
            "erase_customer", command_id=script.commands[-1][0].command_id, customer_id=str(ana)
        )
        assert [e.to_dict() for e in again] == [e.to_dict() for e in script.commands[-2][1]]
        assert dump(db) == before and event in again
        refused = (
            ("erase_customer", {"customer_id": str(ana)}),
            ("merge", {"survivor_id": str(other), "merged_id": str(ana)}),
            ("split", {"customer_id": str(ana)}),
            ("verify_identity", {"identity_id": str(ident(hers))}),  # her identity, her thread
            ("link_thread", {"thread_id": str(thread(hers)), "customer_id": str(other)}),
        )
        for n, (action, params) in enumerate(refused):
            with pytest.raises(CommandError, match="erased"):
                script.command(action, command_id=f"refused-{n}", **params)
        # Nothing changed but the record of the refusals (the command status route reads them).
        after = dump(db)
        assert {k: v for k, v in after.items() if k != "resolved_messages"} == {
            k: v for k, v in before.items() if k != "resolved_messages"
        }
        assert [
            r["refused"]
            for r in after["resolved_messages"]
            if r["idempotency_key"].startswith("command:refused")
        ] == [f"customer {ana} was erased"] * 3 + [
            f"identity {ident(hers)} belongs to a customer who was erased",
            f"thread {thread(hers)} belongs to a customer who was erased",
        ]

    def test_messages_that_began_before_the_erasure_are_dropped(self, db: Backend, script: Script) -> None:
        sent = ana_everywhere(script)
        erase(script, phone_owner(db, ANA))
        before = dump(db)

        # A redelivery of an old message, and messages in flight when the erasure was applied
        # (they began before it): on her thread, from her identity, from her number.
        in_flight = [
            sent["sms"],
            later(script.sms(ANA, "are you there?"), -5),
            later(script.instagram("igsid-ana", "hello again", name="Ana Ruiz"), -5),
            later(
                script.booking("bk-ana-2", name="Ana Ruiz", email="ana2@example.com", phone="916 555 1234"),
                -5,
            ),
        ]
        result = script.resolver.resolve_batch([gather(e, EVIDENCE)[0] for e in in_flight])
        assert result.events == [] and result.outcomes == {"erased": len(in_flight)}
        assert dump(db) == before

    def test_someone_else_mentioning_an_erased_number_keeps_their_message(
        self, db: Backend, script: Script
    ) -> None:
        script.send(script.sms(ANA, "hi"))
        erase(script, phone_owner(db, ANA))
        # Sent before the erasure by someone else, resolved after: the number is not followed.
        friend = later(script.messenger("psid-bo", "hi it's Bo, my number is 916-555-1234", name="Bo"), -5)
        events = script.send(friend)
        assert types(events) == ["timeline.event"]
        assert timeline(events).customer_id is None and timeline(events).data["content"] == friend.text
        assert timeline(events).data["evidence"] == []
        assert rows(db, t.phones) == []

    def test_a_profile_fetched_after_the_erasure_does_not_bring_the_name_back(
        self, db: Backend, script: Script
    ) -> None:
        first = script.messenger("psid-ana", "hi, my number is 916-555-1234", name=None)
        script.send(first)
        erase(script, phone_owner(db, ANA))
        identities = rows(db, t.identities)
        # The fetcher had her due, or read an old message of hers: a profile after the fence.
        late = script.profile(first, name="Ana Ruiz")
        result = script.resolver.resolve_batch([gather(late, EVIDENCE)[0]])
        assert result.events == [] and result.outcomes == {"erased": 1}
        assert rows(db, t.identities) == identities and "Ana" not in everything(db)
        # She writes again: a new person, whose profile is theirs to have.
        script.send(script.messenger("psid-ana", "hello again"))
        again = script.resolver.resolve_batch([gather(script.profile(first, name="Ana Ruiz"), EVIDENCE)[0]])
        assert again.outcomes == {"profile": 1}
        assert one(again.events, "identity.updated").data["name"] == "Ana Ruiz"

    def test_a_new_message_from_an_erased_number_starts_a_new_person(
        self, db: Backend, script: Script
    ) -> None:
        ana_everywhere(script)
        erased = phone_owner(db, ANA)
        event = erase(script, erased)
        fence = event.occurred_at

        back = script.sms(ANA, "Hi, I'd like to book again")
        events = script.send(back)
        assert types(events) == ["customer.created", "identity.linked", "timeline.event"]
        fresh = phone_owner(db, ANA)
        # Ids of a new generation: the same in a replay that knows the fence, never the old ones.
        assert fresh == derived_id("customer", ANA, "after", fence) != erased
        assert one(events, "identity.linked").data["identity_id"] == str(
            derived_id("identity", "sms", back.business_account, ANA, "after", fence)
        )
        assert timeline(events).data["thread_id"] == str(
            derived_id("thread", back.thread_key, "after", fence)
        )
        assert {r["id"]: r["erased_at"] is not None for r in customers(db)} == {erased: True, fresh: False}
        # Her opt-out was kept: the new customer's number is still opted out on SMS.
        (kept,) = rows(db, t.consent_ledger)
        assert (kept["subject"], kept["status"]) == (phone_key(ANA, KEY), "opted_out")
        # And the new person is a person like any other: erasable in turn.
        erase(script, fresh)
        assert rows(db, t.phones) == [] and ANA_DIGITS not in everything(db)

    def test_a_replay_into_an_empty_store_that_restored_the_fence_does_not_bring_her_back(
        self, db: Backend, second_db: Backend, script: Script
    ) -> None:
        ana_everywhere(script)
        script.send(script.sms("+19165550101", "Hi, it's Bo"))  # someone else, who stays
        event = erase(script, phone_owner(db, ANA))
        script.send(script.sms(ANA, "Hi, it's me again"), script.sms("+19165550101", "see you at 8"))

        replay = Script(db=second_db, prefix="r")
        assert erasure.restore(second_db.units, fence_records(event)) == len(event.data["fence"])
        requests = [s.request for s in script.sent]  # every message, as the raw topics hold them
        for start in range(0, len(requests), 3):
            result = replay.resolver.resolve_batch(requests[start : start + 3])
            replay.record(requests[start : start + 3], result.events)

        assert [s.request.envelope.idempotency_key for s in replay.sent if not s.events] == [
            s.request.envelope.idempotency_key for s in script.sent[:4]
        ]  # her four messages from before the erasure: dropped
        live = {r["id"]: r for r in customers(db) if r["erased_at"] is None}
        again = {r["id"]: r for r in customers(second_db)}
        assert again == live  # Bo, and Ana's new life with the same ids; nothing of the old one
        assert "Ana Ruiz" not in everything(second_db) and "ana@example.com" not in everything(second_db)
        assert rows(second_db, t.phones) == rows(db, t.phones)
        assert rows(second_db, t.consent_ledger)[0]["subject"] == phone_key(ANA, KEY)


class Consent:
    def test_a_stop_from_someone_known_by_no_number_is_recorded_against_their_identity(
        self, db: Backend, script: Script
    ) -> None:
        stop = whatsapp_username(script, "wa-user-ana", "STOP", handle="ana")
        events = script.send(stop)
        (row,) = rows(db, t.consent_ledger)
        assert (row["e164"], row["subject"], row["identity_id"], row["status"], row["keyword"]) == (
            None,
            identity_key("whatsapp", WA_LINE, "wa-user-ana", KEY),
            ident(stop),
            "opted_out",
            "STOP",
        )
        changed = one(events, "consent.changed").data
        assert (changed["phone"], changed["identity_id"], changed["status"]) == (
            None,
            str(ident(stop)),
            "opted_out",
        )

    def test_the_booking_forms_opt_in_is_recorded_with_the_text_and_time_agreed(
        self, db: Backend, script: Script
    ) -> None:
        form = script.booking("bk-opt", name="Ana Ruiz", email="ana@example.com", phone="(916) 555-1234")
        agreed = "I agree to receive texts about my booking from Cafe Rosa. Reply STOP to opt out."
        assert form.booking is not None
        opted_in = replace(
            form.booking,
            consent_text=agreed,
            consent_at="2026-03-06T16:59:00.000Z",
            consent_channels=("sms", "whatsapp"),
        )
        form = replace(form, booking=opted_in)
        events = script.send(form)
        consent = sorted(rows(db, t.consent_ledger), key=lambda r: r["channel"])
        assert [(r["e164"], r["channel"], r["status"], r["source"]) for r in consent] == [
            (ANA, "sms", "opted_in", "booking_form"),
            (ANA, "whatsapp", "opted_in", "booking_form"),
        ]
        assert {r["evidence"]["text"] for r in consent} == {agreed}
        assert {r["at"] for r in consent} == {parse_time("2026-03-06T16:59:00.000Z")}
        assert [e.data["channel"] for e in events if e.type == "consent.changed"] == ["sms", "whatsapp"]
        assert len({e.event_id for e in events}) == len(events)

    def test_an_admin_records_consent_with_a_reason(self, db: Backend, script: Script) -> None:
        script.send(script.sms(ANA, "hi"))
        events = script.command(
            "set_consent",
            phone="(916) 555-1234",
            channel="sms",
            status="opted_out",
            reason="asked on the phone",
        )
        (row,) = rows(db, t.consent_ledger)
        assert (row["e164"], row["subject"], row["source"], row["status"]) == (
            ANA,
            phone_key(ANA, KEY),
            "admin",
            "opted_out",
        )
        assert row["evidence"] == {
            "command_id": script.commands[-1][0].command_id,
            "by": "admin:ops",
            "reason": "asked on the phone",
        }
        assert one(events, "consent.changed").customer_id == str(phone_owner(db, ANA))
