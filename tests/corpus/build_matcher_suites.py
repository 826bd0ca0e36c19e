"""Build tests/corpus/matcher_suites.jsonl from the published phone-matcher test suites of public projects.

Run ``python tests/corpus/build_matcher_suites.py`` and commit the output next to this script.

Sources (test inputs are facts taken from these files; no code was copied):

* daviddrysdale/python-phonenumbers ``python/tests/phonenumbermatchertest.py`` (Apache-2.0), itself
  a port of libphonenumber's ``PhoneNumberMatcherTest.java`` (Apache-2.0, The Libphonenumber Authors);
* catamphetamine/libphonenumber-js ``source/findNumbers.test.js``, ``source/PhoneNumberMatcher.test.js``
  and ``source/findPhoneNumbersInText.test.js`` (MIT);
* microsoft/presidio ``presidio-analyzer/tests/test_phone_recognizer.py`` and
  ``presidio-analyzer/tests/test_us_phone_recognizer.py`` (MIT).

How a case was adapted, so that the expected answer is what a human reader would say:

* The suites run against their own *test* metadata. A number that is not in use under the real
  metadata shipped with phonenumbers (neither as written nor in its current form, see
  ``canonical``) is left out: nobody can dial it, and no metadata-based extractor can find it.
* A number the python suite inserts into its context sentences ("Hi there, call {} to reach me!")
  becomes one case per sentence. Its three contexts that glue Latin letters onto the digits
  ("Hi call4156667777forme"), and the suites' other glued-letter cases, are left out: a reader can't
  tell a typo'd phone from a code.
* Cases a suite asserts at a lax leniency but a reader would not call a phone (dates with an hour,
  decimals, fractions, year ranges) are recorded with no phone, and ``note`` says so. A few cases
  are recorded as phones although the suite does not find them at ``Leniency.VALID`` (a London
  number with its 0 dropped, a number run into "--"); ``note`` says so too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workers.domain.phone_normalize import canonical  # noqa: E402

OUT = Path(__file__).with_name("matcher_suites.jsonl")

PY = {
    "source": "python-phonenumbers",
    "origin": "daviddrysdale/python-phonenumbers python/tests/phonenumbermatchertest.py "
    "(port of google/libphonenumber PhoneNumberMatcherTest.java)",
    "license": "Apache-2.0",
}
JS_FIND = {
    "source": "libphonenumber-js",
    "origin": "catamphetamine/libphonenumber-js source/findNumbers.test.js, "
    "source/findPhoneNumbersInText.test.js",
    "license": "MIT",
}
JS_MATCHER = {
    "source": "libphonenumber-js",
    "origin": "catamphetamine/libphonenumber-js source/PhoneNumberMatcher.test.js",
    "license": "MIT",
}
PRESIDIO = {
    "source": "presidio",
    "origin": "microsoft/presidio presidio-analyzer/tests/test_phone_recognizer.py",
    "license": "MIT",
}
PRESIDIO_US = {
    "source": "presidio",
    "origin": "microsoft/presidio presidio-analyzer/tests/test_us_phone_recognizer.py",
    "license": "MIT",
}


def in_use(raw: str, region: str | None) -> str | None:
    """E.164 of ``raw`` if the number is in use under the real metadata (as written or as it is now)."""
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    e164 = str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    if phonenumbers.is_valid_number(number):
        return e164
    key = canonical(e164)
    if key != e164 and phonenumbers.is_valid_number(phonenumbers.parse(key, None)):
        return key
    return None


records: list[dict[str, object]] = []
excluded: list[str] = []


def case(
    meta: dict[str, str],
    text: str,
    region: str | None,
    phones: list[tuple[str, str | None]] | None = None,
    note: str = "",
) -> None:
    """Record one case; ``phones`` are (raw, region) pairs a reader sees as phone numbers in ``text``."""
    expected: list[str] = []
    for raw, parse_region in phones or []:
        value = in_use(raw, parse_region)
        if value is None:
            excluded.append(f"{meta['source']}: {raw!r} ({parse_region}) not in use under the real metadata")
            return
        expected.append(value)
    record: dict[str, object] = {
        "id": f"{meta['source']}-{len(records):04d}",
        "source": f"suite:{meta['source']}",
        "text": text,
        "region": region,
        "phones": expected,
        "origin": meta["origin"],
        "license": meta["license"],
    }
    if note:
        record["note"] = note
    records.append(record)


# --- python-phonenumbers: number lists ------------------------------------------------------------------

IMPOSSIBLE = [
    ("12345", "US"),
    ("23456789", "US"),
    ("234567890112", "US"),
    ("650+253+1234", "US"),
    ("3/10/1984", "CA"),
    ("03/27/2011", "US"),
    ("31/8/2011", "US"),
    ("1/12/2011", "US"),
    ("10/12/82", "DE"),
    ("650x2531234", "US"),
    ("2012-01-02 08:00", "US"),
    ("2012/01/02 08:00", "US"),
    ("20120102 08:00", "US"),
    ("2014-04-12 04:04 PM", "US"),
    ("2014-04-12 &nbsp;04:04 PM", "US"),
    ("2014-04-12  04:04 PM", "US"),
]
NOT_PHONES_FOUND_AT_VALID = [
    ("9002309. 158", "US", "a 7-digit figure ending a sentence, then 158"),
    ("12 7/8 - 14 12/34 - 5", "US", "fractions"),
    ("12.1 - 23.71 - 23.45", "US", "a list of decimals"),
    ("1979-2011 100", "US", "a year range and a count"),
    ("2012-0102 08", "US", "a date and an hour"),
    ("2012-01-02 08", "US", "a date and an hour"),
]
POSSIBLE_ONLY_NOT_PHONES = [
    ("7121115678", "US", "712-111: an N11 exchange is never assigned"),
    ("1650 x 253 - 1234", "US", "'x' between groups is no phone layout"),
    ("650 x 253 - 1234", "US", "'x' between groups is no phone layout"),
    ("6502531x234", "US", "seven digits and an extension"),
]
PHONES = [
    # VALID_CASES a reader takes for phone numbers, in odd layouts.
    ("65 02 53 00 00", "US"),
    ("6502 538365", "US"),
    ("650//253-1234", "US"),
    ("650/253/1234", "US"),
    ("800 234 1 111x1111", "US"),
    ("+494949-4-94", "DE"),
    ("\uff14\uff11\uff15\uff16\uff16\uff16\uff16-\uff17\uff17\uff17", "US"),
    ("1800-1-0-10 22", "AU"),
    ("030-3-2 23 12 34", "DE"),
    ("03 0 -3 2 23 12 34", "DE"),
    ("(0)3 0 -3 2 23 12 34", "DE"),
    ("0 3 0 -3 2 23 12 34", "DE"),
    # STRICT_GROUPING_CASES
    ("(415) 6667777", "US"),
    ("415-6667777", "US"),
    ("0800-2491234", "DE"),
    ("0900-1 123123", "DE"),
    ("(0)900-1 123123", "DE"),
    ("0 900-1 123123", "DE"),
    ("+33 3 34 2312", "FR"),
    # EXACT_GROUPING_CASES
    ("\uff14\uff11\uff15\uff16\uff16\uff16\uff17\uff17\uff17\uff17", "US"),
    ("\uff14\uff11\uff15-\uff16\uff16\uff16-\uff17\uff17\uff17\uff17", "US"),
    ("4156667777", "US"),
    ("4156667777 x 123", "US"),
    ("415-666-7777", "US"),
    ("415/666-7777", "US"),
    ("415-666-7777 ext. 503", "US"),
    ("1 415 666 7777 x 123", "US"),
    ("+1 415-666-7777", "US"),
    ("+494949 49", "DE"),
    ("+49-49-34", "DE"),
    ("+49-4931-49", "DE"),
    ("04931-49", "DE"),
    ("+49-494949", "DE"),
    ("+49-494949 ext. 49", "DE"),
    ("+49494949 ext. 49", "DE"),
    ("0494949", "DE"),
    ("0494949 ext. 49", "DE"),
    ("01 (33) 3461 2234", "MX"),
    ("(33) 3461 2234", "MX"),
    ("1800-10-10 22", "AU"),
    ("0900-1 123 123", "DE"),
    ("(0)900-1 123 123", "DE"),
    ("0 900-1 123 123", "DE"),
    ("+33 3 34 23 12", "FR"),
]

for text, region in IMPOSSIBLE:
    case(PY, text, region, note="IMPOSSIBLE_CASES: dates, times and digit strings that are no phone")
for text, region, why in NOT_PHONES_FOUND_AT_VALID:
    case(PY, text, region, note=f"VALID_CASES, but a reader sees {why}, not a phone")
for text, region, why in POSSIBLE_ONLY_NOT_PHONES:
    case(PY, text, region, note=f"POSSIBLE_ONLY_CASES: {why}")
case(
    PY,
    "(20) 3346 1234",
    "GB",
    [("(20) 3346 1234", "GB")],
    note="POSSIBLE_ONLY_CASES; a reader sees a London number with its 0 dropped",
)
for text, region in PHONES:
    case(PY, text, region, [(text, region)])

# --- python-phonenumbers: numbers found in context sentences --------------------------------------------

IN_CONTEXT = [
    ("033316005", "NZ"),
    ("03-331 6005", "NZ"),
    ("03 331 6005", "NZ"),
    ("0064 3 331 6005", "NZ"),
    ("01164 3 331 6005", "US"),
    ("+64 3 331 6005", "US"),
    ("64(0)64123456", "NZ"),
    ("0123/456789", "PL"),
    ("123-456-7890", "US"),
    ("+1 (650) 333-6000", "NZ"),
    ("1-650-333-6000", "US"),
    ("0011-650-333-6000", "SG"),
    ("0081-650-333-6000", "SG"),
    ("0191-650-333-6000", "SG"),
    ("0~01-650-333-6000", "PL"),
    ("++1 (650) 333-6000", "PL"),
    ("\uff0b1 (650) 333-6000", "SG"),
    (
        "\uff0b\uff11\u3000\uff08\uff16\uff15\uff10\uff09\u3000\uff13\uff13\uff13\uff0d\uff16\uff10\uff10\uff10",
        "SG",
    ),
    ("+39 02-36618 300", "NZ"),
    ("02-36618 300", "IT"),
    ("312 345 678", "IT"),
    ("+54 9 343 555 1212", "AR"),
    ("0343 15 555 1212", "AR"),
    ("+54 9 3715 65 4320", "AR"),
    ("03715 15 65 4320", "AR"),
    ("+54 11 3797 0000", "AR"),
    ("011 3797 0000", "AR"),
    ("+54 3715 65 4321", "AR"),
    ("03715 65 4321", "AR"),
    ("+54 23 1234 0000", "AR"),
    ("023 1234 0000", "AR"),
    ("(0xx) 123456789", "AR"),
    ("(0xx) 123456789 x 1234", "AR"),
    ("011xx5481429712", "US"),
    ("+52 (449)978-0001", "MX"),
    ("01 (449)978-0001", "MX"),
    ("(449)978-0001", "MX"),
    ("+52 1 33 1234-5678", "MX"),
    ("044 (33) 1234-5678", "MX"),
    ("045 33 1234-5678", "MX"),
    ("+64 3 331 6005", None),
    ("03 331 6005 ext 3456", "NZ"),
    ("03-3316005x3456", "NZ"),
    ("03-3316005 int.3456", "NZ"),
    ("03 3316005 #3456", "NZ"),
    ("0~0 1800 7493 524", "PL"),
    ("(1800) 7493.524", "US"),
    ("0~0 1800 7493 524 ~1234", "PL"),
    ("+44 2034567890x456", "NZ"),
    ("+44 2034567890x456", "GB"),
    ("+44 2034567890 x456", "GB"),
    ("+44 2034567890 X456", "GB"),
    ("+44 2034567890 X 456", "GB"),
    ("+44 2034567890 X    456", "GB"),
    ("+44 2034567890    X 456", "GB"),
    ("(800) 901-3355 x 7246433", "US"),
    ("(800) 901-3355 , ext 7246433", "US"),
    ("(800) 901-3355 ,extension 7246433", "US"),
    ("(800) 901-3355 ,x 7246433", "US"),
    ("(800) 901-3355 ext: 7246433", "US"),
    ("0 3   3 3 1   6 0 0 5", "NZ"),
]
POSSIBLE_CONTEXTS = [
    ("", ""),
    ("     ", "\t"),
    ("Hello ", ""),
    ("", " to call me!"),
    ("Hi there, call ", " to reach me!"),
    ("Hi there, call ", ", or don't"),
    ("It's cheap! Call ", " before 6:30"),
    ("Call ", " or +1800-123-4567!"),
    ("Call me on June 2 at", ""),
    ("As quoted by Alfonso 12-15 (2009), you may call me at ", ""),
    ("As quoted by Alfonso et al. 12-15 (2009), you may call me at ", ""),
    ("As I said on 03/10/2011, you may call me at ", ""),
    ("", ", 45 days a year"),
    ("Call ", "/x12 more"),
]
VALID_CONTEXTS = [
    ("It's only 9.99! Call ", " to buy"),
    ("Call me on 21.6.1984 at ", ""),
    ("Call me on 06/21 at ", ""),
    ("Call me on 21.6. at ", ""),
    ("Call me on 06/21/84 at ", ""),
]
for number, region in IN_CONTEXT:
    if in_use(number, region) is None:
        excluded.append(f"python-phonenumbers: {number!r} ({region}) not in use under the real metadata")
        continue
    for lead, trail in POSSIBLE_CONTEXTS + VALID_CONTEXTS:
        extra = [("+1800-123-4567", "US")] if "+1800" in trail and in_use("+1800-123-4567", "US") else []
        case(PY, lead + number + trail, region, [(number, region), *extra])

# --- python-phonenumbers: named tests -------------------------------------------------------------------

case(PY, "Call 033316005  or 032316005!", "NZ", [("033316005", "NZ"), ("032316005", "NZ")])
case(
    PY,
    "415-666-7777 - 800-443-1223 - 212-443-1223 - 650-443-1223",
    "US",
    [(n, "US") for n in ("415-666-7777", "800-443-1223", "212-443-1223", "650-443-1223")],
)
case(PY, "(415) 666-7777 (800) 443-1223", "US", [("(415) 666-7777", "US"), ("(800) 443-1223", "US")])
case(PY, "My address is CA 34215 - 415-666-7777 is my number.", "US", [("415-666-7777", "US")])
case(PY, "My number is (415) 666 7777. 34215 is my zip-code.", "US", [("(415) 666 7777", "US")])
for lead, trail in [("$", ""), ("", "$"), ("\u00a3", ""), ("\u00a5", "")]:
    case(PY, lead + "415-666-7777" + trail, "US", note="a currency sign glued to the digits: money")
case(PY, "415-666-7777%", "US", note="a percentage")
for lead, trail in [("$20 ", ""), ("", " 100$")]:
    case(PY, lead + "415-666-7777" + trail, "US", [("415-666-7777", "US")])
for number in ("+14156667777", "(415)6667777"):
    for lead, trail in [("abc", ""), ("\u00c9", ""), ("\u00c9", "."), ("\u00c9", " def")]:
        case(PY, lead + number + trail, "US", [(number, "US")])
for lead, trail in [
    ("\u6211\u7684\u7535\u8bdd\u53f7\u7801\u662f", ""),
    ("", "\u662f\u6211\u7684\u7535\u8bdd\u53f7\u7801"),
    ("\u8bf7\u62e8\u6253", "\u6211\u5728\u660e\u5929"),
    ("My number-", ""),
    ("", ".Nice day."),
    ("Tel:", "."),
    ("Tel: ", " on Saturdays."),
]:
    case(PY, lead + "415-666-7777" + trail, "US", [("415-666-7777", "US")])
case(
    PY, "Call 650-253-4561 -- 455-234-3451", "US", [("650-253-4561", "US")], note="455 is no area code in use"
)
case(
    PY,
    "Call 650-253-4561--455-234-3451",
    "US",
    [("650-253-4561", "US")],
    note="the suite finds nothing here; a reader sees 650-253-4561 (455 is no area code in use)",
)
for text in ("80.585 [79.964, 81.191]", "80.585 [79.964]", "80.585 ((79.964)", "(80).(585) (79).(9)64"):
    case(PY, text, "US", note="decimals in brackets")
case(PY, "Random text body - number is 0331 6005, see you there", None, note="no region, no '+'")
case(PY, "", "US")
case(PY, "  ", "US")
case(PY, "Random text body - number is foobar, see you there", "US")
case(PY, "My info: 415-666-7777," * 100, "US", [("415-666-7777", "US")] * 100)
case(
    PY,
    "My address 949-8945-0" * 10 + "My info: 415-666-7777," * 100,
    "US",
    [("415-666-7777", "US")] * 100,
    note="the suite checks max_tries=10 stops the matcher; a reader sees 100 phones",
)
case(PY, "My info: 415-666-7777 123 fake street" * 100, "US", [("415-666-7777", "US")] * 100)
case(PY, "1 456 764 156", "ZZ", note="unknown region, no '+'")
case(PY, "+14156667777", "ZZ", [("+14156667777", None)])
case(PY, "+14156667777 foobar +14156667777 ", "ZZ", [("+14156667777", None)] * 2)

# --- libphonenumber-js ----------------------------------------------------------------------------------

case(JS_FIND, "2133734253", "US", [("2133734253", "US")])
case(JS_FIND, "(213) 373-4253", "US", [("(213) 373-4253", "US")])
RU_US = [("+7 (800) 555-35-35", None), ("(213) 373-4253", "US")]
case(
    JS_FIND,
    "The number is +7 (800) 555-35-35 and not (213) 373-4253 as written in the document.",
    "US",
    RU_US,
)
case(
    JS_FIND,
    "The number is +7 (800) 555-35-35 and not (213) 373-4253 (that's not even in the same country!) as "
    "written in the document.",
    "US",
    RU_US,
)
case(JS_FIND, "The number is +7 (800) 555-35-35 as written in the document.", None, RU_US[:1])
case(JS_FIND, "The number is +7 (800) 555-35-35 as written in the document.", "US", RU_US[:1])
case(JS_FIND, "Digits 12 are not a number, but +7 (800) 555-35-35 is.", None, RU_US[:1])
case(JS_FIND, "Date 02/17/2018 is not a number, but +7 (800) 555-35-35 ext. 123 is.", None, RU_US[:1])
case(
    JS_FIND,
    "The number is +7 (800) 555-35-35 ext. 1234 and not (213) 373-4253 as written in the document.",
    "US",
    RU_US,
)
case(JS_FIND, "1111111111", "US")
case(
    JS_FIND,
    "\u0627\u0644\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u064e\u0651\u0629 "
    "+\u0664\u0664\u0663\u0663\u0663\u0663\u0663\u0663\u0663\u0663\u0663\u0663"
    "\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u0651",
    None,
    [("+443333333333", None)],
)
case(JS_FIND, "", None)
case(JS_FIND, "2012-01-02 08:00", "US")
case(JS_FIND, "2012-01-02 08", "US", note="the suite finds a number; a reader sees a date and an hour")
case(JS_FIND, "The phone number is 231354125.", "FR", [("231354125", "FR")])
case(JS_FIND, "The UUID is CA801c26f98cd16e231354125ad046e40b.", "FR", note="digits inside a UUID")
case(
    JS_FIND,
    "Phone: +7 (800) 555 35 35. National: 8 (800) 555-55-55",
    "XX",
    [("+7 (800) 555 35 35", None)],
    note="unknown default region: only the '+' number",
)
for text in ("+52 (449)978-0001", "01 (449)978-0001", "(449)978-0001"):
    case(JS_MATCHER, text, "MX", [(text, "MX")])
for text in (
    "+54 9 343 555 1212",
    "0343 15-555-1212",
    "+54 9 3715 65 4320",
    "03715 15 65 4320",
    "+54 11 3797 0000",
    "011 3797 0000",
    "+54 3715 65 4321",
    "03715 65 4321",
    "+54 23 1234 0000",
    "023 1234 0000",
):
    case(JS_MATCHER, text, "AR", [(text, "AR")])
case(JS_MATCHER, "651-234-2345/332-445-1234", "US", [("651-234-2345", "US"), ("332-445-1234", "US")])

# --- presidio -------------------------------------------------------------------------------------------

case(
    PRESIDIO,
    "My US number is (415) 555-0132, and my international one is +1 415 555 0132",
    "US",
    [("(415) 555-0132", "US"), ("+1 415 555 0132", "US")],
)
case(PRESIDIO, "My Israeli number is 09-7625400", "IL", [("09-7625400", "IL")])
for text in ("_: (415)555-0132", "United States: (415)555-0132", "US: 415-555-0132"):
    case(PRESIDIO, text, "US", [(text.split(": ")[1], "US")])
for text in ("_: +55 11 98456 5666", "Brazil: +55 11 98456 5666", "BR: +55 11 98456 5666"):
    case(PRESIDIO, text, "US", [("+55 11 98456 5666", None)])
case(PRESIDIO_US, "(425) 882 9090", "US", [("(425) 882 9090", "US")])
case(PRESIDIO_US, "my phone number is:110bcd25-a55d-453a-8046-1297901ea002", "US", note="a GUID")
case(PRESIDIO_US, "I am available at (425) 882-9090", "US", [("(425) 882-9090", "US")])
case(PRESIDIO_US, "This is just a sentence (425) 882-9090", "US", [("(425) 882-9090", "US")])
case(PRESIDIO_US, "425 8829090", "US", [("425 8829090", "US")])
case(PRESIDIO_US, "This is just a sentence 425 8829090", "US", [("425 8829090", "US")])
case(PRESIDIO_US, "4258829090", "US", [("4258829090", "US")])


def main() -> int:
    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} cases to {OUT}; left out {len(excluded)}:", file=sys.stderr)
    for line in excluded:
        print("  " + line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
