"""`replay`: stored provider payloads and raw envelopes back onto the raw topics."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from ingest.publisher import PublishError
from ingest.replay import ReplayStats, main, replay
from tests.fakes import (
    RECEIVED_AT,
    FakePublisher,
    fixture_bytes,
    fixture_json,
    make_harness,
    webhook_settings,
)


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def stored(provider, payload, **extra):
    return json.dumps({"provider": provider, "payload": payload, **extra}, ensure_ascii=False)


def test_stored_payloads_map_exactly_like_the_webhooks(tmp_path):
    h = make_harness()
    h.send.meta_fixture("whatsapp", "batch.json")
    h.send.twilio_fixture("sms_unicode.txt")
    h.send.ringcentral_fixture("inbound.json")
    h.send.booking(fixture_bytes("booking", "booking.json"))
    lines = [
        stored("whatsapp", fixture_json("whatsapp", "batch.json"), received_at=RECEIVED_AT),
        stored("twilio", fixture_bytes("twilio", "sms_unicode.txt").decode(), received_at=RECEIVED_AT),
        stored("ringcentral", fixture_json("ringcentral", "inbound.json"), received_at=RECEIVED_AT),
        stored("booking", fixture_json("booking", "booking.json"), received_at=RECEIVED_AT),
    ]
    publisher = FakePublisher()
    stats = replay([write_lines(tmp_path / "in.jsonl", lines)], h.settings, publisher, progress=False)
    assert stats == ReplayStats(lines=4, published=6, ignored=1, errors=[])
    assert publisher.records == h.publisher.records  # same topics, keys and bytes


def test_twilio_parameter_object_and_meta_routing_by_object(tmp_path):
    params = dict(parse_qsl(fixture_bytes("twilio", "sms.txt").decode(), keep_blank_values=True))
    lines = [stored("twilio", params), stored("meta", fixture_json("instagram", "text.json"))]
    publisher = FakePublisher()
    stats = replay([write_lines(tmp_path / "in.jsonl", lines)], webhook_settings(), publisher, progress=False)
    assert stats.published == 2
    assert [e.channel for e in publisher.envelopes()] == ["sms", "instagram"]


def test_envelope_lines_are_republished_as_they_are(tmp_path):
    h = make_harness()
    h.send.meta_fixture("messenger", "batch.json")
    lines = [record.value.decode() for record in h.publisher.records]
    publisher = FakePublisher()
    stats = replay([write_lines(tmp_path / "raw.jsonl", lines)], h.settings, publisher, progress=False)
    assert stats.published == 3
    assert publisher.records == h.publisher.records


def published_envelope() -> bytes:
    h = make_harness()
    h.send.meta_fixture("messenger", "text.json")
    return h.publisher.records[0].value


def test_malformed_lines_are_reported_with_line_numbers_and_never_stop_the_replay(tmp_path):
    good = stored("messenger", fixture_json("messenger", "text.json"))
    envelope = json.loads(published_envelope())
    lines = [
        good,
        "",
        "{not json",
        "[1, 2]",
        stored("carrier-pigeon", {}),
        json.dumps({"provider": "twilio"}),
        stored("messenger", {"object": "page", "entry": [{"id": "1", "messaging": [{}]}]}),
        json.dumps({**envelope, "kind": "gossip"}),
        json.dumps({**envelope, "schema_version": 99}),
        stored("whatsapp", fixture_json("messenger", "text.json")),
        "[" * 5000 + "]" * 5000,
        good,
    ]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    publisher = FakePublisher()
    stats = replay([path, tmp_path / "missing.jsonl"], webhook_settings(), publisher, progress=False)
    assert stats.lines == 11
    assert stats.published == 2
    by_line = {(e.path, e.line): e.reason for e in stats.errors}
    assert set(by_line) == {
        (str(path), 3),
        (str(path), 4),
        (str(path), 5),
        (str(path), 6),
        (str(path), 7),
        (str(path), 8),
        (str(path), 9),
        (str(path), 10),
        (str(path), 11),
        (str(tmp_path / "missing.jsonl"), 0),
    }
    assert by_line[(str(path), 3)] == "not valid JSON"
    assert by_line[(str(path), 6)] == "payload: missing"
    assert by_line[(str(path), 7)] == "entry[0].messaging[0].sender: missing"
    assert by_line[(str(path), 8)] == "kind: enum check failed"
    assert str(stats.errors[0]).startswith(f"{path}:3: ")


def test_broker_failure_stops_the_replay(tmp_path):
    publisher = FakePublisher()
    publisher.down = True
    path = write_lines(tmp_path / "in.jsonl", [stored("messenger", fixture_json("messenger", "text.json"))])
    with pytest.raises(PublishError):
        replay([path], webhook_settings(), publisher, progress=False)


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    path = write_lines(tmp_path / "in.jsonl", [stored("messenger", fixture_json("messenger", "text.json"))])
    replay([path], webhook_settings(), FakePublisher(), progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "100%" in captured.err


def test_large_files_are_published_in_bounded_batches(tmp_path):
    payload = fixture_json("messenger", "text.json")
    lines = []
    for index in range(1203):
        payload["entry"][0]["messaging"][0]["message"]["mid"] = f"m_{index}"
        lines.append(stored("messenger", payload))
    publisher = FakePublisher()
    stats = replay(
        [write_lines(tmp_path / "big.jsonl", lines)], webhook_settings(), publisher, progress=False
    )
    assert stats.published == 1203
    assert [len(batch) for batch in publisher.batches] == [500, 500, 203]


def test_main_exits_1_on_malformed_lines(tmp_path, monkeypatch, capsys):
    path = write_lines(tmp_path / "bad.jsonl", ["{nope"])
    published = FakePublisher()
    monkeypatch.setattr("ingest.replay.KafkaPublisher", lambda *args, **kwargs: published)
    monkeypatch.setenv("PHONEUNIFY_ENV", "dev")
    assert main([str(path), "--no-progress"]) == 1
    assert f"{path}:1: not valid JSON" in capsys.readouterr().err
    assert published.closed
