"""The `phoneunify extract` contract: one JSON answer line per input line, in order, streamed."""

from __future__ import annotations

import io
import json

from workers.extract_cli import run


class RecordingOut(io.StringIO):
    """Counts flushes, to check that every line is pushed out as soon as it is written."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def run_lines(lines: list[str], region: str = "US") -> tuple[list[dict[str, object]], RecordingOut, int]:
    out = RecordingOut()
    status = run(io.StringIO("".join(line + "\n" for line in lines)), out, region)
    return [json.loads(line) for line in out.getvalue().splitlines()], out, status


def test_one_answer_per_line_in_order() -> None:
    answers, out, status = run_lines(
        [
            json.dumps({"text": "Call me at (916) 555-1234 thanks", "region": "US"}),
            json.dumps({"text": "Order #4155550123 hasn't shipped"}),
            json.dumps({"text": "mi número es 55 1234 5678", "region": "MX"}),
        ]
    )
    assert status == 0
    assert [a["phones"] for a in answers] == [["+19165551234"], [], ["+525512345678"]]
    first = answers[0]["candidates"][0]  # type: ignore[index]
    assert first["e164"] == "+19165551234"
    assert (first["start"], first["end"]) == (11, 25)
    assert first["confidence"] >= 0.9
    assert "cue:self:call me" in first["evidence"]
    assert out.flushes >= 3


def test_region_defaults_to_the_flag() -> None:
    answers, _, _ = run_lines([json.dumps({"text": "020 7123 4567"})], region="GB")
    assert answers[0]["phones"] == ["+442071234567"]


def test_phones_lists_every_number_whoever_owns_it() -> None:
    line = {
        "text": "my wife's number is 415-555-0123; I called (916) 555-0100",
        "region": "US",
        "business_numbers": ["+19165550100"],
    }
    answers, _, _ = run_lines([json.dumps(line)])
    assert answers[0]["phones"] == ["+14155550123", "+19165550100"]
    owners = [c["owner"] for c in answers[0]["candidates"]]  # type: ignore[union-attr]
    assert owners == ["other_person", "business"]


def test_malformed_lines_get_an_error_and_the_stream_goes_on() -> None:
    answers, _, status = run_lines(
        [
            "not json",
            "",
            json.dumps(["a list"]),
            json.dumps({"text": 5}),
            json.dumps({"text": "x", "region": 7}),
            json.dumps({"text": "x", "direction": "sideways"}),
            json.dumps({"text": "text me 415-555-0123"}),
        ]
    )
    assert status == 0
    assert len(answers) == 7
    assert all("error" in a for a in answers[:6])
    assert answers[6]["phones"] == ["+14155550123"]
