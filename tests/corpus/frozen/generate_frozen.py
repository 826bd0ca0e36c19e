#!/usr/bin/env python3
"""Generate the frozen phone-extraction test corpus ``frozen_chat.jsonl`` (see README.md here).

Written once, from scratch, without reading the extractor or the project's other corpora.
Deterministic: a fixed seed, the standard library and ``phonenumbers`` (9.0.43, the version the
project pins) only. Run it from anywhere::

    python3 tests/corpus/frozen/generate_frozen.py          # (re)write frozen_chat.jsonl
    python3 tests/corpus/frozen/generate_frozen.py --check  # exit 1 unless the file is reproduced

It writes ``frozen_chat.jsonl`` next to this file and prints a summary of what it wrote.

Frozen: written once; never edit labels after seeing extractor output; not for tuning. Changing this
generator so that it writes a different file is editing the labels.

How a message is made: a template (language, family, text with ``{slots}``) is filled with a
phone number of the message's region (or another one), a business number, decoy digit strings
(order codes, dates, tax ids ...) and plain words. Every filled slot is remembered as a span of
the text, so the labels come from the construction, and ``check_message`` then verifies them
mechanically; a message that fails a check is dropped and counted, never patched.
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import phonenumbers as pn
from phonenumbers import Leniency, PhoneNumber, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

SEED = 20261122
TARGET_MESSAGES = 3000
POSITIVE_SHARE = 0.40
OUT_PATH = Path(__file__).with_name("frozen_chat.jsonl")

LANG_WEIGHTS: dict[str, float] = {
    "en": 0.55,
    "es": 0.13,
    "pt": 0.10,
    "fr": 0.08,
    "de": 0.09,
    "it": 0.025,
    "nl": 0.025,
}
LANG_REGIONS: dict[str, dict[str, int]] = {
    "en": {"US": 36, "GB": 18, "CA": 10, "AU": 12, "IN": 12, "IE": 5, "NZ": 3, "ZA": 4},
    "es": {"MX": 30, "ES": 28, "AR": 17, "CO": 17, "US": 8},
    "pt": {"BR": 65, "PT": 35},
    "fr": {"FR": 60, "BE": 15, "CH": 10, "CA": 15},
    "de": {"DE": 65, "AT": 18, "CH": 17},
    "it": {"IT": 80, "CH": 20},
    "nl": {"NL": 75, "BE": 25},
}
# Probability that a customer's own number is a mobile (else a landline).
CUSTOMER_MOBILE_SHARE = 0.85
# Chance that a template without decoys gets one decoy sentence appended (direction "in" only).
ADDON_SHARE_POSITIVE = 0.30
ADDON_SHARE_NEGATIVE = 0.30

# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------

US_AREAS = [
    "212",
    "718",
    "646",
    "917",
    "312",
    "773",
    "415",
    "510",
    "213",
    "310",
    "617",
    "206",
    "512",
    "305",
    "404",
    "702",
    "303",
    "602",
    "215",
    "503",
    "612",
    "919",
    "713",
    "720",
]
CA_AREAS = [
    "416",
    "647",
    "604",
    "778",
    "514",
    "438",
    "403",
    "587",
    "613",
    "902",
    "204",
    "306",
    "905",
    "519",
    "418",
    "819",
]


def _nanp(areas: Sequence[str]) -> list[str]:
    """NANP patterns: random exchanges plus the fictional 555-01XX block for a few area codes."""
    return [a + "NXXXXXX" for a in areas] + [a + "55501XX" for a in areas[:6]]


# National significant number patterns: X any digit, N 2-9, [..] one of the listed digits.
# Every generated number is kept only if phonenumbers says it is valid for the region and of
# the requested type, so the patterns only steer towards realistic ranges.
# fmt: off
NUMBER_PATTERNS: dict[str, dict[str, list[str]]] = {
    "US": {"mobile": _nanp(US_AREAS), "fixed": _nanp(US_AREAS)},
    "CA": {"mobile": _nanp(CA_AREAS), "fixed": _nanp(CA_AREAS)},
    "GB": {"mobile": ["7[1234579]XXXXXXXX"],
           "fixed": ["20[378]XXXXXXX", "161NXXXXXX", "121NXXXXXX", "131NXXXXXX", "113NXXXXXX", "117NXXXXXX",
                     "1865NXXXXX", "1223NXXXXX"]},
    "AU": {"mobile": ["4XXXXXXXX"],
           "fixed": ["2[89]XXXXXXX", "3[89]XXXXXXX", "73XXXXXXX", "8[89]XXXXXXX"]},
    "IN": {"mobile": ["9XXXXXXXXX", "8XXXXXXXXX", "7XXXXXXXXX", "6XXXXXXXXX"],
           "fixed": ["22[23456]XXXXXXX", "11[234]XXXXXXX", "80[234]XXXXXXX", "44[234]XXXXXXX",
                     "33[234]XXXXXXX"]},
    "IE": {"mobile": ["8[35679]XXXXXXX"],
           "fixed": ["1NXXXXXX", "21NXXXXXX", "91NXXXXX"]},
    "NZ": {"mobile": ["21XXXXXX", "21XXXXXXX", "22XXXXXXX", "27XXXXXXX"],
           "fixed": ["9NXXXXXX", "4NXXXXXX", "3NXXXXXX"]},
    "ZA": {"mobile": ["82XXXXXXX", "83XXXXXXX", "84XXXXXXX", "72XXXXXXX", "76XXXXXXX"],
           "fixed": ["11NXXXXXX", "21NXXXXXX", "31NXXXXXX"]},
    "MX": {"mobile": ["55XXXXXXXX", "33XXXXXXXX", "81XXXXXXXX", "222XXXXXXX", "998XXXXXXX", "442XXXXXXX"],
           "fixed": ["55XXXXXXXX", "33XXXXXXXX", "81XXXXXXXX", "222XXXXXXX", "998XXXXXXX"]},
    "ES": {"mobile": ["6XXXXXXXX", "7[1234]XXXXXXX"],
           "fixed": ["91XXXXXXX", "93XXXXXXX", "954XXXXXX", "963XXXXXX", "944XXXXXX", "985XXXXXX"]},
    "AR": {"mobile": ["911NXXXXXXX", "9351NXXXXXX", "9341NXXXXXX"],
           "fixed": ["11[456]XXXXXXX", "3514XXXXXX"]},
    "CO": {"mobile": ["3[012]XXXXXXXX"],
           "fixed": ["601[234567]XXXXXX", "604[23456]XXXXXX", "602[345678]XXXXXX"]},
    "BR": {"mobile": ["119XXXXXXXX", "219XXXXXXXX", "319XXXXXXXX", "419XXXXXXXX", "519XXXXXXXX",
                      "619XXXXXXXX", "719XXXXXXXX", "819XXXXXXXX", "859XXXXXXXX", "199XXXXXXXX",
                      "489XXXXXXXX"],
           "fixed": ["11[2345]XXXXXXX", "21[23]XXXXXXX", "31[23]XXXXXXX", "41[23]XXXXXXX", "51[23]XXXXXXX"]},
    "PT": {"mobile": ["9[1236]XXXXXXX"],
           "fixed": ["21XXXXXXX", "22XXXXXXX", "239XXXXXX", "289XXXXXX"]},
    "FR": {"mobile": ["6XXXXXXXX", "7[3456789]XXXXXXX"],
           "fixed": ["1XXXXXXXX", "2XXXXXXXX", "3XXXXXXXX", "4XXXXXXXX", "5XXXXXXXX"]},
    "BE": {"mobile": ["4[56789]XXXXXXX"],
           "fixed": ["2NXXXXXX", "3NXXXXXX", "9NXXXXXX", "4NXXXXXX"]},
    "DE": {"mobile": ["151NXXXXXXX", "152NXXXXXXX", "157NXXXXXXX", "160NXXXXXX", "170NXXXXXX", "171NXXXXXX",
                      "172NXXXXXX", "175NXXXXXX", "176NXXXXXXX", "177NXXXXXX", "179NXXXXXX"],
           "fixed": ["30NXXXXXX", "30NXXXXXXX", "89NXXXXXX", "40NXXXXXX", "221NXXXXX", "69NXXXXXX",
                     "711NXXXXX", "211NXXXXX", "351NXXXXX"]},
    "AT": {"mobile": ["664XXXXXXX", "650XXXXXXX", "676XXXXXXX", "699XXXXXXXX", "660XXXXXXX"],
           "fixed": ["1NXXXXXX", "316NXXXXX", "662NXXXXX", "512NXXXXX", "732NXXXXX"]},
    "CH": {"mobile": ["7[56789]XXXXXXX"],
           "fixed": ["44NXXXXXX", "22NXXXXXX", "31NXXXXXX", "61NXXXXXX", "91NXXXXXX", "21NXXXXXX"]},
    "IT": {"mobile": ["3[234789]XXXXXXXX"],
           "fixed": ["06XXXXXXXX", "02XXXXXXXX", "055XXXXXXX", "081XXXXXXX"]},
    "NL": {"mobile": ["6XXXXXXXX"],
           "fixed": ["20NXXXXXX", "10NXXXXXX", "30NXXXXXX", "70NXXXXXX"]},
}
# fmt: on

# How people in each region write numbers: style name -> weight. See STYLE_FUNCS / STYLE_CLASS.
# fmt: off
REGION_STYLES: dict[str, dict[str, int]] = {
    "US": {"nat": 30, "nat_dash": 25, "nat_dot": 8, "nat_space": 8, "bare": 14, "intl_space": 4,
           "nanp_paren_intl": 4, "e164": 3, "nanp_one": 4},
    "CA": {"nat": 30, "nat_dash": 25, "nat_dot": 6, "nat_space": 10, "bare": 12, "intl_space": 6,
           "nanp_paren_intl": 4, "e164": 3, "nanp_one": 4},
    "GB": {"nat": 40, "bare": 12, "gb_533": 6, "intl": 15, "e164": 8, "intl_trunk": 8, "dd": 4,
           "gb_paren": 7},
    "AU": {"nat": 40, "bare": 15, "intl": 18, "e164": 7, "intl_trunk": 5, "nat_space": 10},
    "IN": {"nat_notrunk": 30, "bare_notrunk": 20, "intl": 18, "in_dash": 8, "e164": 8, "nat": 6,
           "dd_split": 5, "dd": 5},
    "IE": {"nat": 45, "bare": 15, "intl": 20, "e164": 10, "dd": 5, "intl_trunk": 5},
    "NZ": {"nat": 50, "bare": 15, "intl": 25, "e164": 10},
    "ZA": {"nat": 45, "bare": 15, "intl": 25, "e164": 10, "intl_trunk": 5},
    "MX": {"nat": 35, "nat_dash": 10, "nat_paren": 10, "bare": 20, "intl": 15, "e164": 10},
    "ES": {"nat": 20, "es_333": 30, "bare": 15, "intl": 15, "e164": 10, "dd": 10},
    "AR": {"nat": 30, "ar_paren": 8, "nat_dash": 5, "intl": 30, "e164": 12, "intl_space": 10, "dd": 5},
    "CO": {"nat": 25, "co_334": 25, "bare": 15, "intl": 20, "e164": 15},
    "BR": {"nat": 35, "br_space": 15, "br_9": 8, "bare": 12, "intl": 20, "br_intl_paren": 5, "e164": 5},
    "PT": {"nat": 40, "bare": 20, "intl": 25, "e164": 5, "dd": 10},
    "FR": {"nat": 40, "nat_dot": 12, "bare": 12, "nat_dash": 4, "intl": 15, "intl_trunk": 6, "e164": 6,
           "dd": 5},
    "BE": {"nat": 45, "be_slash": 8, "bare": 10, "nat_dot": 5, "intl": 20, "e164": 7, "dd": 5},
    "DE": {"nat": 25, "nat_slash": 20, "nat_dash": 8, "bare": 10, "nat_paren": 5, "intl": 15, "intl_trunk": 7,
           "e164": 5, "dd": 5},
    "AT": {"nat": 35, "nat_slash": 15, "bare": 10, "intl": 25, "intl_trunk": 5, "e164": 5, "dd": 5},
    "CH": {"nat": 45, "bare": 10, "intl": 25, "e164": 7, "dd": 8, "intl_trunk": 5},
    "IT": {"nat": 45, "bare": 20, "intl": 25, "e164": 10},
    "NL": {"nat": 45, "nat_dash": 10, "bare": 10, "intl": 25, "e164": 10},
}
# fmt: on

STYLE_CLASS: dict[str, str] = {
    "nat": "nat",
    "nat_space": "nat",
    "nat_dash": "nat",
    "nat_dot": "nat",
    "nat_slash": "slash",
    "nat_paren": "nat",
    "gb_paren": "nat",
    "nat_notrunk": "nat",
    "gb_533": "nat",
    "es_333": "nat",
    "co_334": "nat",
    "br_space": "nat",
    "br_9": "nat",
    "ar_paren": "nat",
    "be_slash": "slash",
    "nanp_one": "nat",
    "bare": "bare",
    "bare_notrunk": "bare",
    "intl": "intl",
    "intl_space": "intl",
    "intl_trunk": "intl",
    "in_dash": "intl",
    "nanp_paren_intl": "intl",
    "br_intl_paren": "intl",
    "e164": "e164",
    "dd": "dd",
    "dd_split": "dd",
}
# Styles with a space between every group (for templates that glue a word to the last group).
SPACED_STYLES = {"nat_space", "intl_space", "es_333", "co_334", "gb_533"}

EXTENSIONS: dict[str, list[str]] = {
    "en": [" ext {d}", " ext. {d}", " x{d}", " x {d}", " ext.{d}", " extension {d}"],
    "es": [" ext. {d}", " ext {d}", " extensión {d}"],
}


@dataclass(frozen=True)
class Phone:
    region: str
    kind: str  # "mobile" or "fixed"
    number: PhoneNumber

    @property
    def e164(self) -> str:
        return pn.format_number(self.number, PhoneNumberFormat.E164)

    @property
    def nsn(self) -> str:
        return pn.national_significant_number(self.number)


def fill_pattern(rng: random.Random, pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            end = pattern.index("]", i)
            out.append(rng.choice(pattern[i + 1 : end]))
            i = end + 1
            continue
        if ch == "X":
            out.append(rng.choice(string.digits))
        elif ch == "N":
            out.append(rng.choice("23456789"))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _type_ok(number: PhoneNumber, kind: str) -> bool:
    ntype = pn.number_type(number)
    if ntype == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        return True
    return ntype == (PhoneNumberType.MOBILE if kind == "mobile" else PhoneNumberType.FIXED_LINE)


class NumberFactory:
    """Valid, corpus-unique numbers of a region and type."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, region: str, kind: str) -> Phone:
        cc = pn.country_code_for_region(region)
        for _ in range(500):
            nsn = fill_pattern(self.rng, self.rng.choice(NUMBER_PATTERNS[region][kind]))
            number = pn.parse(f"+{cc}{nsn}", None)
            if not pn.is_valid_number_for_region(number, region) or not _type_ok(number, kind):
                continue
            e164 = pn.format_number(number, PhoneNumberFormat.E164)
            if e164 in self.used:
                continue
            self.used.add(e164)
            return Phone(region, kind, number)
        raise RuntimeError(f"no valid {kind} number for {region}")


def digit_groups(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def regroup(digits: str, sizes: Sequence[int]) -> list[str]:
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos : pos + size])
        pos += size
    if pos < len(digits):
        out.append(digits[pos:])
    return [g for g in out if g]


@dataclass(frozen=True)
class Groups:
    """Digit groups of a number: national (with trunk prefix) and international (without +CC)."""

    cc: str
    mobile: bool
    nat_text: str
    intl_text: str
    nat: list[str]
    intl: list[str]


def number_groups(phone: Phone) -> Groups:
    num = phone.number
    nat_text = pn.format_number(num, PhoneNumberFormat.NATIONAL)
    intl_text = pn.format_number(num, PhoneNumberFormat.INTERNATIONAL)
    nat = digit_groups(nat_text)
    intl = digit_groups(intl_text)[1:]
    if phone.region == "DE" and phone.kind == "mobile":
        # Germans write mobiles as 0151 23456789 (network prefix, then the rest).
        nsn = phone.nsn
        nat, intl = ["0" + nsn[:3], nsn[3:]], [nsn[:3], nsn[3:]]
        nat_text, intl_text = " ".join(nat), "+49 " + " ".join(intl)
    return Groups(str(num.country_code), phone.kind == "mobile", nat_text, intl_text, nat, intl)


def _style_nanp_one(g: Groups) -> str:
    return "1-" + "-".join(g.nat)


def _style_nanp_paren_intl(g: Groups) -> str:
    return f"+1 ({g.intl[0]}) {g.intl[1]}-{g.intl[2]}"


def _style_br_9(g: Groups) -> str:
    area, first, last = g.nat[0], g.nat[1], g.nat[2]
    if len(first) == 5:
        return f"({area}) {first[0]} {first[1:]}-{last}"
    return f"({area}) {first}-{last}"


STYLE_FUNCS: dict[str, Callable[[Groups], str]] = {
    "nat": lambda g: g.nat_text,
    "nat_space": lambda g: " ".join(g.nat),
    "nat_dash": lambda g: "-".join(g.nat),
    "nat_dot": lambda g: ".".join(g.nat),
    "nat_slash": lambda g: g.nat[0] + "/" + "".join(g.nat[1:]),
    "be_slash": lambda g: g.nat[0] + "/" + ".".join(g.nat[1:]),
    "nat_paren": lambda g: f"({g.nat[0]}) " + " ".join(g.nat[1:]),
    "nat_notrunk": lambda g: " ".join(g.nat).lstrip("0"),
    "bare": lambda g: "".join(g.nat),
    "bare_notrunk": lambda g: "".join(g.nat).lstrip("0"),
    "gb_533": lambda g: " ".join(regroup("".join(g.nat), [5, 3, 3])) if g.mobile else g.nat_text,
    "gb_paren": lambda g: g.nat_text if g.mobile else f"({g.nat[0]}) " + " ".join(g.nat[1:]),
    "es_333": lambda g: " ".join(regroup("".join(g.nat), [3, 3, 3])),
    "co_334": lambda g: " ".join(regroup("".join(g.nat), [3, 3, 4])),
    "br_space": lambda g: f"{g.nat[0]} {g.nat[1]}-{g.nat[2]}",
    "br_9": _style_br_9,
    "ar_paren": lambda g: f"({g.nat[0]}) " + " ".join(g.nat[1:-1]) + "-" + g.nat[-1],
    "nanp_one": _style_nanp_one,
    "intl": lambda g: g.intl_text,
    "intl_space": lambda g: f"+{g.cc} " + " ".join(g.intl),
    "intl_trunk": lambda g: f"+{g.cc} (0)" + " ".join(g.intl),
    "in_dash": lambda g: f"+{g.cc}-" + "".join(g.intl),
    "nanp_paren_intl": _style_nanp_paren_intl,
    "br_intl_paren": lambda g: f"+{g.cc} ({g.intl[0]}) {g.intl[1]}-{g.intl[2]}",
    "e164": lambda g: f"+{g.cc}" + "".join(g.intl),
    "dd": lambda g: f"00{g.cc} " + " ".join(g.intl),
    "dd_split": lambda g: f"00 {g.cc} " + " ".join(g.intl),
}


def pick_style(rng: random.Random, region: str, wanted: str) -> str:
    """A style of the region in class ``wanted`` ("any", "nat", "intl", ...), falling back to "nat"."""
    styles = REGION_STYLES[region]
    if wanted == "any":
        names = list(styles)
    elif wanted == "spaced":
        names = [s for s in styles if s in SPACED_STYLES]
    elif wanted == "intl":
        names = [s for s in styles if STYLE_CLASS[s] in ("intl", "e164")]
    else:
        names = [s for s in styles if STYLE_CLASS[s] == wanted]
    if not names:
        names = [s for s in styles if STYLE_CLASS[s] == "nat"] or list(styles)
    return rng.choices(names, weights=[styles[n] for n in names])[0]


# ---------------------------------------------------------------------------------------------
# Vocabulary (no digits anywhere in here: every digit of a message comes from a labelled slot)
# ---------------------------------------------------------------------------------------------

# fmt: off
FILL: dict[str, dict[str, list[str]]] = {
    "en": {
        "name": ["Sarah", "Mike", "Priya", "Tom", "Jess", "Aisha", "Dan", "Olivia", "Raj", "Chloe", "Liam",
                 "Emma", "Noah", "Grace", "Arjun", "Kate", "Ben", "Zoe", "Marcus", "Hannah", "Siobhan",
                 "Thabo"],
        "surname": ["Miller", "Patel", "O'Brien", "Nguyen", "Walker", "Khan", "Campbell", "Reyes", "Singh",
                    "Thompson", "Murphy", "Clarke", "van der Merwe", "Brown"],
        "biz_name": ["Harbor Street Dental", "Luna Nail Studio", "The Copper Pot", "Northside Auto Care",
                     "Bloom & Stem", "Maple Physio", "Green Leaf Catering", "Pawfect Grooming",
                     "Blue Door Bakery", "Brightside Cleaners", "Fernwood Barbers"],
        "service": ["haircut", "colour", "full set", "teeth cleaning", "oil change", "massage", "facial",
                    "dog groom", "deep clean", "brow wax", "tyre change", "physio session"],
        "item": ["garlic bread", "side salad", "charger", "second cushion cover", "receipt", "dessert",
                 "gift bag", "spare key"],
        "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        "greet": ["Hi", "Hello", "Hey", "Hi there", "Good morning", "Hiya", "Morning", "Good afternoon"],
        "thanks": ["Thanks!", "Thank you", "thx", "Cheers", "Thanks a lot", "Much appreciated"],
        "emoji": ["🙂", "🙏", "😊", "👍", "😅", "❤️", "🎉", "😬", "🤞"],
        "note": ["window seat if possible", "one high chair please", "nut allergy at our table",
                 "celebrating an anniversary", "we might be a bit late", "wheelchair access needed"],
    },
    "es": {
        "name": ["María", "José", "Lucía", "Carlos", "Valentina", "Diego", "Camila", "Andrés", "Sofía",
                 "Javier", "Paula", "Mateo", "Daniela", "Luis", "Carmen", "Ximena"],
        "surname": ["García", "Martínez", "López", "Hernández", "Rodríguez", "Gómez", "Díaz", "Ruiz",
                    "Fernández", "Castro", "Morales"],
        "biz_name": ["Peluquería Marisol", "Taller Hermanos Ruiz", "La Parrilla de Tito",
                     "Clínica Dental Sonrisa", "Floristería Lirio", "Café El Molino", "Estética Bella"],
        "service": ["corte de pelo", "limpieza dental", "cambio de aceite", "manicura", "tinte", "masaje",
                    "depilación", "revisión"],
        "item": ["ventilador", "abrigo", "cargador", "juego de sábanas", "pastel", "espejo"],
        "day": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
        "greet": ["Hola", "Buenas", "Buenos días", "Buenas tardes", "Holaa", "Qué tal"],
        "emoji": ["🙂", "🙏", "😊", "👍", "😅", "❤️", "🤗"],
        "note": ["mesa en terraza si se puede", "somos celíacos", "traemos un carrito de bebé",
                 "es un cumpleaños", "llegamos un poco tarde"],
    },
    "pt": {
        "name": ["Ana", "João", "Beatriz", "Pedro", "Mariana", "Lucas", "Camila", "Rafael", "Inês", "Tiago",
                 "Juliana", "Gabriel", "Rita", "Bruno", "Larissa"],
        "surname": ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Ferreira", "Almeida",
                    "Rodrigues", "Lima", "Carvalho"],
        "biz_name": ["Salão Bela Vista", "Oficina do Zé", "Pizzaria Bella Massa", "Clínica Sorriso",
                     "Padaria Pão Quente", "Pet Shop Amigo Fiel", "Estúdio Flor de Lis"],
        "service": ["corte", "escova", "limpeza de pele", "revisão", "banho e tosa", "manicure", "massagem"],
        "item": ["bolo", "ventilador", "capinha", "vestido", "cadeira", "carregador"],
        "day": ["segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo", "amanhã"],
        "greet": ["Oi", "Olá", "Bom dia", "Boa tarde", "Boa noite", "Oii"],
        "emoji": ["🙂", "🙏", "😊", "👍", "😍", "❤️", "🥰"],
        "note": ["mesa perto da janela", "vamos levar um bolo", "tenho alergia a camarão", "é aniversário",
                 "precisamos de cadeirão"],
    },
    "fr": {
        "name": ["Camille", "Louis", "Chloé", "Hugo", "Léa", "Julien", "Manon", "Thomas", "Inès", "Nicolas",
                 "Sophie", "Antoine", "Élodie", "Mathieu"],
        "surname": ["Martin", "Bernard", "Dubois", "Lefebvre", "Moreau", "Laurent", "Simon", "Michel",
                    "Tremblay", "Gagnon", "Peeters"],
        "biz_name": ["Salon Élégance", "Garage du Centre", "Boulangerie Marceau", "Cabinet des Tilleuls",
                     "Le Petit Bistrot", "Fleurs de Lys", "Institut Belle Peau"],
        "service": ["coupe", "couleur", "détartrage", "vidange", "massage", "soin du visage", "brushing"],
        "item": ["gâteau", "chargeur", "manteau", "bouquet", "parapluie"],
        "day": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "demain"],
        "greet": ["Bonjour", "Bonsoir", "Salut", "Coucou", "Allo"],
        "emoji": ["🙂", "🙏", "😊", "👍", "😅", "❤️"],
        "note": ["en terrasse si possible", "une chaise haute svp", "allergie aux noix",
                 "c'est pour un anniversaire", "nous arriverons un peu en retard"],
    },
    "de": {
        "name": ["Lena", "Jonas", "Anna", "Lukas", "Marie", "Felix", "Sophie", "Paul", "Laura", "Tobias",
                 "Katrin", "Jan", "Mia", "Stefan", "Jürgen"],
        "surname": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
                    "Huber", "Gruber", "Keller", "Brunner"],
        "biz_name": ["Friseursalon Haarscharf", "Autohaus Berger", "Bäckerei Sonnenschein",
                     "Zahnarztpraxis Dr. Weber", "Gasthaus Zur Linde", "Blumen Krüger",
                     "Kosmetikstudio Anmut"],
        "service": ["Haarschnitt", "Färben", "Zahnreinigung", "Ölwechsel", "Massage", "Reifenwechsel",
                    "Maniküre"],
        "item": ["Kuchen", "Ladekabel", "Jacke", "Regenschirm", "Schlüssel"],
        "day": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        "greet": ["Hallo", "Guten Tag", "Moin", "Servus", "Hi"],
        "emoji": ["🙂", "🙏", "😊", "👍", "😅"],
        "note": ["gerne am Fenster", "ein Kinderstuhl bitte", "Nussallergie", "Geburtstag",
                 "wir kommen evtl. etwas später"],
    },
    "it": {
        "name": ["Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo", "Sara", "Alessandro"],
        "biz_name": ["Parrucchiere Stella", "Trattoria Da Gino", "Officina Rossi",
                     "Studio Dentistico Sorriso"],
        "service": ["taglio", "piega", "pulizia dei denti", "tagliando", "massaggio"],
        "day": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica", "domani"],
        "greet": ["Buongiorno", "Ciao", "Buonasera", "Salve"],
        "emoji": ["🙂", "🙏", "😊", "👍"],
    },
    "nl": {
        "name": ["Sanne", "Daan", "Lotte", "Bram", "Eva", "Thijs", "Femke", "Ruben"],
        "biz_name": ["Kapsalon Knip", "Fietsenmaker De Spaak", "Bakkerij Van Dam", "Eetcafé De Hoek"],
        "service": ["knipbeurt", "fietsreparatie", "gezichtsbehandeling", "APK-keuring", "massage"],
        "day": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
        "greet": ["Hoi", "Hallo", "Goedemorgen", "Goedemiddag", "Hey"],
        "emoji": ["🙂", "🙏", "😊", "👍"],
    },
}
# fmt: on

# fmt: off
COUNTRY_NAMES: dict[str, dict[str, str]] = {
    "en": {"US": "the US", "CA": "Canada", "GB": "the UK", "AU": "Australia", "IN": "India", "IE": "Ireland",
           "NZ": "New Zealand", "ZA": "South Africa", "DE": "Germany", "FR": "France", "ES": "Spain",
           "IT": "Italy", "BR": "Brazil", "MX": "Mexico", "PT": "Portugal", "CH": "Switzerland"},
    "es": {"MX": "México", "ES": "España", "AR": "Argentina", "CO": "Colombia", "US": "Estados Unidos",
           "GB": "Inglaterra", "DE": "Alemania", "FR": "Francia", "IT": "Italia", "BR": "Brasil",
           "IN": "India", "PT": "Portugal", "CH": "Suiza", "AU": "Australia"},
    "pt": {"US": "EUA", "GB": "Reino Unido", "DE": "Alemanha", "FR": "França", "ES": "Espanha",
           "IT": "Itália", "MX": "México", "IN": "Índia", "CH": "Suíça", "AU": "Austrália", "BR": "Brasil",
           "PT": "Portugal"},
    "fr": {"US": "États-Unis", "GB": "Royaume-Uni", "DE": "Allemagne", "ES": "Espagne", "IT": "Italie",
           "BR": "Brésil", "MX": "Mexique", "IN": "Inde", "PT": "Portugal", "CH": "Suisse", "AU": "Australie",
           "FR": "France"},
    "de": {"US": "USA", "GB": "England", "FR": "Frankreich", "ES": "Spanien", "IT": "Italien",
           "BR": "Brasilien", "MX": "Mexiko", "IN": "Indien", "PT": "Portugal", "AU": "Australien",
           "DE": "Deutschland", "CH": "Schweiz"},
}
# fmt: on
FOREIGN_REGIONS = ["US", "GB", "DE", "FR", "ES", "IT", "BR", "MX", "IN", "PT", "CH", "AU"]

# ---------------------------------------------------------------------------------------------
# Decoys: digit strings that are not phone numbers
# ---------------------------------------------------------------------------------------------

YEARS = ["2024", "2025", "2026"]
# fmt: off
MONTHS: dict[str, list[str]] = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
           "outubro", "novembro", "dezembro"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
}
# fmt: on
NANP = ("US", "CA")
DOT_DATE_REGIONS = ("DE", "AT", "CH")


def digits(rng: random.Random, n: int, first: str = string.digits) -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def iban(rng: random.Random, country: str) -> str:
    bban = {
        "DE": lambda: digits(rng, 18),
        "AT": lambda: digits(rng, 16),
        "CH": lambda: digits(rng, 17),
        "FR": lambda: digits(rng, 23),
        "BE": lambda: digits(rng, 12),
        "ES": lambda: digits(rng, 20),
        "PT": lambda: digits(rng, 21),
        "IT": lambda: letters(rng, 1) + digits(rng, 22),
        "NL": lambda: rng.choice(["ABNA", "INGB", "RABO", "TRIO"]) + digits(rng, 10),
        "GB": lambda: rng.choice(["NWBK", "BARC", "LOYD", "HBUK"]) + digits(rng, 14),
        "IE": lambda: rng.choice(["AIBK", "BOFI"]) + digits(rng, 14),
    }[country]()
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def cpf(rng: random.Random) -> str:
    base = [int(c) for c in digits(rng, 9)]
    for _ in range(2):
        weights = range(len(base) + 1, 1, -1)
        rem = sum(d * w for d, w in zip(base, weights, strict=True)) % 11
        base.append(0 if rem < 2 else 11 - rem)
    s = "".join(map(str, base))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def cnpj(rng: random.Random) -> str:
    base = [int(c) for c in digits(rng, 8) + "0001"]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        rem = sum(d * w for d, w in zip(base, weights, strict=True)) % 11
        base.append(0 if rem < 2 else 11 - rem)
    s = "".join(map(str, base))
    return f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


def spanish_nif(rng: random.Random) -> str:
    body = digits(rng, 8)
    return body + "TRWAGMYFPDXBNJZSQVHLCKE"[int(body) % 23]


def npi(rng: random.Random) -> str:
    body = digits(rng, 9, first="1")
    return body + luhn_digit("80840" + body)


def siret(rng: random.Random) -> str:
    body = digits(rng, 13)
    s = body + luhn_digit(body)
    return f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}"


def d_order_code(rng: random.Random, region: str, lang: str) -> str:
    y = rng.choice(YEARS)
    return rng.choice(
        [
            f"ORD-{y}-{digits(rng, 6)}",
            f"#{letters(rng, 1)}{digits(rng, 5)}",
            f"SO{y}/{digits(rng, 5)}",
            f"WEB-{digits(rng, 4)}-{digits(rng, 4)}",
            f"{letters(rng, 2)}{digits(rng, 7)}",
            f"A{digits(rng, 2)}-{digits(rng, 5)}-{digits(rng, 2)}",
            f"#{digits(rng, 5)}-{letters(rng, 1)}",
        ]
    )


def d_order_bare(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([f"#{digits(rng, rng.choice([6, 7, 8]))}", digits(rng, rng.choice([6, 7, 9]))])


def d_order_phoneshaped(rng: random.Random, region: str, lang: str) -> str:
    """An order number laid out like a phone number, always read as an order by its cue."""
    mid = rng.choice(["555", digits(rng, 3)])
    return rng.choice(
        [f"{rng.choice(YEARS)}-{mid}-{digits(rng, 4)}", f"{rng.choice(YEARS)} {mid} {digits(rng, 4)}"]
    )


def d_ref_code(rng: random.Random, region: str, lang: str) -> str:
    """Letter-prefixed references whose digit groups look like a phone number."""
    area = rng.choice([*US_AREAS, "720", "303", "555"])
    return rng.choice(
        [
            f"REF-{area}-555-{digits(rng, 4)}",
            f"RES{digits(rng, 3)}-{digits(rng, 3)}-{digits(rng, 4)}",
            f"BKG-{digits(rng, 4)}-{digits(rng, 3)}-{digits(rng, 3)}",
            f"CLM-{area}-{digits(rng, 3)}-{digits(rng, 4)}",
        ]
    )


def d_invoice(rng: random.Random, region: str, lang: str) -> str:
    y = rng.choice(YEARS)
    return rng.choice(
        [
            f"INV {y} {digits(rng, 7)}",
            f"FAC-{y}-{digits(rng, 5)}",
            f"RE-{y}-{digits(rng, 5)}",
            f"F{y}/{digits(rng, 4)}",
            f"NF {digits(rng, 3)}.{digits(rng, 3)}.{digits(rng, 3)}",
            f"INV-{digits(rng, 6)}",
        ]
    )


def d_ticket(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [f"TKT-{digits(rng, 5)}", f"CS-{digits(rng, 6)}", f"#SR-{digits(rng, 6)}", f"INC{digits(rng, 7)}"]
    )


def d_tracking(rng: random.Random, region: str, lang: str) -> str:
    s10 = f"{letters(rng, 2)}{digits(rng, 9)}{region}"
    options = {
        "US": [
            f"1Z{letters(rng, 3)}{digits(rng, 3)}{digits(rng, 10)}",
            " ".join(regroup("9400" + digits(rng, 18), [4, 4, 4, 4, 4, 2])),
        ],
        "CA": [f"{digits(rng, 16)}", s10],
        "GB": [s10, f"H{digits(rng, 2)}{letters(rng, 3)}{digits(rng, 10)}"],
        "DE": [f"00340434{digits(rng, 12)}", f"JJD{digits(rng, 18)}", s10],
        "FR": [f"6A{digits(rng, 11)}", s10],
        "ES": [f"PQ{letters(rng, 2)}{digits(rng, 19)}", s10],
        "IT": [s10, f"{digits(rng, 13)}"],
        "NL": [f"3S{letters(rng, 4)}{digits(rng, 9)}", s10],
    }.get(region, [s10, f"1Z{letters(rng, 3)}{digits(rng, 3)}{digits(rng, 10)}"])
    return rng.choice(options)


def d_zip(rng: random.Random, region: str, lang: str) -> str:
    gen: dict[str, Callable[[], str]] = {
        "US": lambda: rng.choice(
            [digits(rng, 5, "123456789"), f"{digits(rng, 5, '123456789')}-{digits(rng, 4)}"]
        ),
        "CA": lambda: (
            f"{rng.choice('MLKHVTJ')}{digits(rng, 1)}{letters(rng, 1)} "
            f"{digits(rng, 1)}{letters(rng, 1)}{digits(rng, 1)}"
        ),
        "GB": lambda: (
            f"{rng.choice(['SW', 'N', 'E', 'M', 'LS', 'BS', 'EH', 'G'])}{digits(rng, 1, '123456789')} "
            f"{digits(rng, 1)}{letters(rng, 2)}"
        ),
        "IE": lambda: f"D{digits(rng, 2)} {letters(rng, 1)}{digits(rng, 3)}",
        "AU": lambda: digits(rng, 4, "234567"),
        "NZ": lambda: digits(rng, 4, "0123456789"),
        "ZA": lambda: digits(rng, 4),
        "IN": lambda: digits(rng, 6, "123456789"),
        "MX": lambda: digits(rng, 5),
        "ES": lambda: f"{rng.choice(['08', '28', '41', '46', '29'])}{digits(rng, 3)}",
        "AR": lambda: rng.choice([f"C{digits(rng, 4)}{letters(rng, 3)}", digits(rng, 4, "12345")]),
        "CO": lambda: f"{rng.choice(['11', '05', '76'])}{digits(rng, 4)}",
        "BR": lambda: f"{digits(rng, 5)}-{digits(rng, 3)}",
        "PT": lambda: f"{digits(rng, 4, '1234')}-{digits(rng, 3)}",
        "FR": lambda: f"{rng.choice(['75', '69', '13', '33', '44'])}{digits(rng, 3)}",
        "BE": lambda: digits(rng, 4, "123456789"),
        "DE": lambda: digits(rng, 5, "0123456789"),
        "AT": lambda: digits(rng, 4, "123456789"),
        "CH": lambda: digits(rng, 4, "123456789"),
        "IT": lambda: digits(rng, 5),
        "NL": lambda: f"{digits(rng, 4, '123456789')} {letters(rng, 2)}",
    }
    return gen[region]()


def _day_month(rng: random.Random) -> tuple[int, int, str]:
    return rng.randint(1, 28), rng.randint(1, 12), rng.choice(YEARS)


def d_date(rng: random.Random, region: str, lang: str) -> str:
    d, m, y = _day_month(rng)
    month = MONTHS[lang][m - 1]
    if region in NANP and lang == "en":
        opts = [
            f"{m}/{d}",
            f"{m:02d}/{d:02d}/{y}",
            f"{month} {d}",
            f"{m}/{d}/{y[2:]}",
            f"{y}-{m:02d}-{d:02d}",
        ]
    elif lang == "en":
        opts = [f"{d:02d}/{m:02d}/{y}", f"{d}/{m}", f"{d} {month}", f"{d}/{m}/{y[2:]}"]
    elif region in DOT_DATE_REGIONS:
        opts = [f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.", f"{d}. {month}", f"{d:02d}.{m:02d}."]
    elif lang == "nl":
        opts = [f"{d:02d}-{m:02d}-{y}", f"{d} {month}"]
    else:
        prep = {"es": " de ", "pt": " de "}.get(lang, " ")
        opts = [f"{d:02d}/{m:02d}/{y}", f"{d}/{m}", f"{d}{prep}{month}", f"{d:02d}/{m:02d}"]
    return rng.choice(opts)


def d_date_range(rng: random.Random, region: str, lang: str) -> str:
    d, m, y = _day_month(rng)
    e = d + rng.randint(1, 3)
    if region in DOT_DATE_REGIONS:
        opts = [
            f"{d:02d}.{m:02d}.{y}-{e:02d}.{m:02d}.{y}",
            f"{d:02d}.{m:02d}.-{e:02d}.{m:02d}.{y}",
            f"{d:02d}.{m:02d}.{y} - {e:02d}.{m:02d}.{y}",
        ]
    elif region in NANP and lang == "en":
        opts = [f"{m}/{d}-{m}/{e}", f"{MONTHS['en'][m - 1]} {d}-{e}", f"{m:02d}/{d:02d}-{m:02d}/{e:02d}/{y}"]
    else:
        opts = [
            f"{d:02d}/{m:02d}-{e:02d}/{m:02d}",
            f"{d:02d}/{m:02d}/{y}-{e:02d}/{m:02d}/{y}",
            f"{d}-{e} {MONTHS[lang][m - 1]}",
        ]
    return rng.choice(opts)


def d_time(rng: random.Random, region: str, lang: str) -> str:
    h, mi = rng.randint(8, 21), rng.choice([0, 15, 30, 45])
    h12 = h - 12 if h > 12 else h
    ampm = "pm" if h >= 12 else "am"
    if lang == "en" and region in ("US", "CA", "IN", "AU", "NZ"):
        opts = [
            f"{h12}:{mi:02d}{ampm}",
            f"{h12}:{mi:02d} {ampm.upper()}",
            f"{h12}{ampm}" if mi == 0 else f"{h12}:{mi:02d}",
        ]
    elif lang == "en":
        opts = [f"{h:02d}:{mi:02d}", f"{h12}.{mi:02d}{ampm}", f"{h12}{ampm}"]
    elif lang in ("fr", "pt"):
        opts = [f"{h}h{mi:02d}" if mi else f"{h}h", f"{h}:{mi:02d}", f"{h} h {mi:02d}"]
    elif lang == "de":
        opts = [f"{h}:{mi:02d}", f"{h}.{mi:02d}"]
    else:
        opts = [f"{h}:{mi:02d}", f"{h:02d}:{mi:02d}"]
    return rng.choice(opts)


def d_price(rng: random.Random, region: str, lang: str) -> str:
    small, big = rng.randint(15, 240), rng.randint(1000, 4800)
    cents = rng.choice(["00", "50", "90", "99"])
    big_en, big_eu = f"{big // 1000},{big % 1000:03d}", f"{big // 1000}.{big % 1000:03d}"
    opts = {
        "US": [f"${small}", f"${small}.{cents}", f"${big_en}.00"],
        "CA": [f"${small}", f"CA${small}.{cents}"],
        "GB": [f"£{small}", f"£{small}.{cents}", f"£{big_en}"],
        "IE": [f"€{small}", f"€{small}.{cents}"],
        "AU": [f"${small}", f"AU${small}.{cents}"],
        "NZ": [f"${small}", f"NZ${small}"],
        "ZA": [f"R{small}", f"R {big // 1000} {big % 1000:03d}"],
        "IN": [f"₹{big_en}", f"Rs. {small * 10}", f"₹ {small}"],
        "MX": [f"${big_en} MXN", f"${small}"],
        "AR": [f"$ {rng.randint(12, 95)}.000", f"ARS {big_eu}"],
        "CO": [f"${rng.randint(40, 450)}.000", f"COP {rng.randint(40, 450)}.000"],
        "BR": [f"R$ {big_eu},{cents}", f"R${small}", f"R$ {small},{cents}"],
        "CH": [f"CHF {small}.–", f"Fr. {small}.{cents}", f"CHF {big // 1000}'{big % 1000:03d}.00"],
    }.get(
        region,
        [f"{small} €", f"{big_eu},{cents} €", f"{small},{cents}€", f"€ {small},{cents}", f"EUR {small}"],
    )
    return rng.choice(opts)


def d_ip(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"192.168.{rng.randint(0, 2)}.{rng.randint(2, 254)}",
            f"10.0.{rng.randint(0, 40)}.{rng.randint(2, 254)}",
            f"172.16.{rng.randint(0, 31)}.{rng.randint(2, 254)}",
            f"{rng.randint(31, 95)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}",
        ]
    )


def d_flight(rng: random.Random, region: str, lang: str) -> str:
    code = rng.choice(
        ["BA", "LH", "IB", "AA", "LA", "AF", "TP", "AV", "AM", "AI", "QF", "AC", "EI", "UA", "KL", "LX"]
    )
    return rng.choice([f"{code} {rng.randint(1, 9899)}", f"{code}{rng.randint(100, 9899)}"])


def d_member_id(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"MBR {digits(rng, 4)} {digits(rng, 4)} {digits(rng, 2)}",
            f"W{digits(rng, 9)}",
            f"{letters(rng, 3)}{digits(rng, 6)}",
            f"M-{digits(rng, 7)}",
        ]
    )


def d_policy(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"POL-{rng.choice(YEARS)}-{digits(rng, 6)}",
            f"PN {digits(rng, 4)}-{digits(rng, 3)}-{digits(rng, 3)}",
        ]
    )


def d_group_id(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([f"GRP-00{digits(rng, 5)}", digits(rng, 6)])


def d_loyalty(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([" ".join(regroup(digits(rng, 16, "6"), [4, 4, 4, 4])), digits(rng, 13, "2")])


def d_account(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [digits(rng, rng.choice([8, 9, 11, 12])), f"{digits(rng, 2)}-{digits(rng, 4)}-{digits(rng, 4)}"]
    )


def d_customer_no(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([f"KD{digits(rng, 8)}", digits(rng, 8), f"C-{digits(rng, 6)}"])


def d_bank(rng: random.Random, region: str, lang: str) -> tuple[str, str]:
    if region in ("DE", "AT", "CH", "FR", "BE", "ES", "PT", "IT", "NL", "GB", "IE"):
        return "iban", iban(rng, region)
    text = {
        "US": f"routing {digits(rng, 9, '0')}, acct {digits(rng, 12)}",
        "CA": f"transit {digits(rng, 5)}, institution {digits(rng, 3, '0')}, account {digits(rng, 7)}",
        "AU": f"BSB {digits(rng, 3, '0')}-{digits(rng, 3)}, acc {digits(rng, 4)} {digits(rng, 4)}",
        "NZ": f"{digits(rng, 2)}-{digits(rng, 4)}-{digits(rng, 7)}-{digits(rng, 3)}",
        "ZA": f"FNB acc {digits(rng, 11, '6')}, branch {digits(rng, 6, '2')}",
        "IN": f"A/c {digits(rng, 14, '5')} IFSC HDFC000{digits(rng, 4)}",
        "MX": f"CLABE {digits(rng, 18, '0')}",
        "AR": f"CBU {digits(rng, 22, '0')}",
        "CO": f"Bancolombia ahorros {digits(rng, 3)}-{digits(rng, 6)}-{digits(rng, 2)}",
        "BR": f"ag. {digits(rng, 4)} c/c {digits(rng, 5)}-{digits(rng, 1)}",
    }[region]
    return "bank_account", text


def d_tax_id(rng: random.Random, region: str, lang: str) -> tuple[str, str]:
    """A region's tax id together with its label (the label tells a reader what it is)."""
    opts: dict[str, list[tuple[str, str]]] = {
        "US": [
            ("tax_id_ein", f"EIN {rng.choice(['12', '20', '27', '45', '46', '81', '94'])}-{digits(rng, 7)}")
        ],
        "CA": [("tax_id_bn", f"BN {digits(rng, 9, '1')} RT0001")],
        "GB": [
            ("tax_id_utr", f"UTR {digits(rng, 5)} {digits(rng, 5)}"),
            ("vat_id", f"VAT GB{digits(rng, 9)}"),
        ],
        "IE": [("tax_id_ppsn", f"PPSN {digits(rng, 7)}{letters(rng, 1)}")],
        "AU": [("tax_id_abn", f"ABN {digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3)}")],
        "NZ": [("tax_id_ird", f"IRD {digits(rng, 3, '1')}-{digits(rng, 3)}-{digits(rng, 3)}")],
        "ZA": [("tax_id_za_vat", f"VAT no. 4{digits(rng, 9)}")],
        "IN": [
            ("tax_id_gstin", f"GSTIN 27{letters(rng, 5)}{digits(rng, 4)}{letters(rng, 1)}1Z{digits(rng, 1)}"),
            ("tax_id_pan", f"PAN {letters(rng, 5)}{digits(rng, 4)}{letters(rng, 1)}"),
        ],
        "MX": [("tax_id_rfc", f"RFC {letters(rng, 4)}{digits(rng, 6)}{letters(rng, 2)}{digits(rng, 1)}")],
        "ES": [("tax_id_nif", f"NIF {spanish_nif(rng)}"), ("tax_id_cif", f"CIF B{digits(rng, 8)}")],
        "AR": [
            ("tax_id_cuit", f"CUIT {rng.choice(['20', '23', '27', '30'])}-{digits(rng, 8)}-{digits(rng, 1)}")
        ],
        "CO": [
            ("tax_id_nit", f"NIT {digits(rng, 3, '89')}.{digits(rng, 3)}.{digits(rng, 3)}-{digits(rng, 1)}")
        ],
        "BR": [("tax_id_cpf", f"CPF {cpf(rng)}"), ("tax_id_cnpj", f"CNPJ {cnpj(rng)}")],
        "PT": [("tax_id_nif_pt", f"NIF {digits(rng, 9, '15')}")],
        "FR": [("tax_id_siret", f"SIRET {siret(rng)}")],
        "BE": [("tax_id_bce", f"BCE {digits(rng, 4, '0')}.{digits(rng, 3)}.{digits(rng, 3)}")],
        "DE": [
            ("tax_id_steuernr", f"Steuernummer {digits(rng, 2)}/{digits(rng, 3)}/{digits(rng, 5)}"),
            ("tax_id_steuernr", f"St.-Nr. {digits(rng, 3)}/{digits(rng, 3)}/{digits(rng, 5)}"),
        ],
        "AT": [("tax_id_at_stnr", f"St.Nr. {digits(rng, 2)} {digits(rng, 3)}/{digits(rng, 4)}")],
        "CH": [("tax_id_uid", f"UID CHE-{digits(rng, 3)}.{digits(rng, 3)}.{digits(rng, 3)}")],
        "IT": [("tax_id_piva", f"P.IVA {digits(rng, 11, '0')}")],
        "NL": [("tax_id_kvk", f"KvK {digits(rng, 8)}")],
    }
    return rng.choice(opts[region])


def d_vat_id(rng: random.Random, region: str, lang: str) -> str:
    return {
        "DE": f"USt-IdNr. DE{digits(rng, 9, '123')}",
        "AT": f"UID ATU{digits(rng, 8)}",
        "CH": f"MWST CHE-{digits(rng, 3)}.{digits(rng, 3)}.{digits(rng, 3)}",
    }.get(region, f"VAT {region}{digits(rng, 9)}")


def d_serial(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"{digits(rng, 1)}{letters(rng, 1)}{digits(rng, 1)}X-{digits(rng, 5)}-{digits(rng, 4)}",
            f"SN{digits(rng, 4)}{letters(rng, 2)}{digits(rng, 5)}",
            f"{digits(rng, 1)}{letters(rng, 2)}{digits(rng, 1)}-"
            f"{digits(rng, 4)}-{digits(rng, 2)}{letters(rng, 1)}",
        ]
    )


def d_version(rng: random.Random, region: str, lang: str) -> str:
    v = f"{rng.randint(1, 18)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
    return rng.choice([v, "v" + v, f"{v} (build {rng.randint(1000, 9999)})"])


def d_apt(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 9)}{rng.choice('ABCD')}",
            str(rng.randint(1, 40)),
            f"{rng.randint(1, 24)}0{rng.randint(1, 9)}",
        ]
    )


def d_small(low: int, high: int) -> Callable[[random.Random, str, str], str]:
    return lambda rng, region, lang: str(rng.randint(low, high))


def d_minutes(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(["5", "10", "15", "20", "30", "45"])


def d_booking_ref(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"BK{digits(rng, 1)}{letters(rng, 1)}{digits(rng, 1)}{letters(rng, 1)}",
            f"HTL-{digits(rng, 6)}",
            f"RSV {rng.choice(YEARS)}-{digits(rng, 4)}",
            f"{letters(rng, 2)}{digits(rng, 1)}{letters(rng, 2)}{digits(rng, 1)}",
        ]
    )


def d_gift_card(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"GC-{digits(rng, 4)}-{digits(rng, 4)}-{digits(rng, 4)}-{digits(rng, 4)}",
            " ".join(regroup(digits(rng, 16, "6"), [4, 4, 4, 4])),
        ]
    )


def d_otp(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([digits(rng, 6), f"G-{digits(rng, 6)}", f"{digits(rng, 3)} {digits(rng, 3)}"])


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


EMAIL_DOMAINS: dict[str, list[str]] = {
    "en": ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com", "yahoo.co.uk"],
    "es": ["gmail.com", "hotmail.com", "yahoo.es", "outlook.es", "yahoo.com.mx"],
    "pt": ["gmail.com", "uol.com.br", "hotmail.com", "sapo.pt", "bol.com.br"],
    "fr": ["gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr"],
    "de": ["gmail.com", "gmx.de", "web.de", "t-online.de", "bluewin.ch"],
    "it": ["gmail.com", "libero.it"],
    "nl": ["gmail.com", "ziggo.nl"],
}


def d_email(rng: random.Random, region: str, lang: str) -> str:
    first = ascii_fold(rng.choice(FILL[lang]["name"]))
    last = ascii_fold(rng.choice(FILL[lang].get("surname", ["silva"])))
    user = rng.choice(
        [
            f"{first}.{last}{rng.randint(1, 99)}",
            f"{first}{rng.randint(1960, 2005)}",
            f"{first[0]}{last}{rng.randint(10, 999)}",
            f"{first}_{last[:1]}{rng.randint(1, 9)}",
        ]
    )
    domain = rng.choice(EMAIL_DOMAINS[lang])
    return f"{user}@{domain}"


# fmt: off
STREETS: dict[str, list[str]] = {
    "en": ["Maple Ave", "Oak Street", "Elm Grove", "Cedar Road", "Church Lane", "Park Drive", "Station Road"],
    "en-US": ["Mission St", "Maple Ave", "Sunset Blvd", "Cedar Road", "Park Drive", "Lincoln Ave"],
    "en-GB": ["High Street", "Church Lane", "Victoria Road", "Elm Grove", "Station Road"],
    "es": ["Calle Sol", "Av. Libertad", "Calle de los Olivos"],
    "es-ES": ["Calle Mayor", "Calle de Alcalá", "Calle del Pez", "Av. de la Constitución"],
    "es-MX": ["Av. Insurgentes Sur", "Calle Durango", "Av. Reforma", "Calle Amatlán"],
    "es-AR": ["Av. Corrientes", "Av. Santa Fe", "Calle Thames", "Av. Rivadavia"],
    "pt": ["Rua das Flores", "Rua do Carmo"],
    "pt-BR": ["Rua Augusta", "Av. Paulista", "Rua das Flores", "Rua Oscar Freire"],
    "pt-PT": ["Rua do Carmo", "Av. da Liberdade", "Rua de Santa Catarina", "Travessa do Fala-Só"],
    "fr": ["rue des Lilas", "avenue Jean Jaurès", "rue de la Paix", "boulevard Voltaire",
           "chemin des Vignes"],
    "fr-CA": ["rue Saint-Denis", "boulevard Saint-Laurent", "avenue du Parc"],
    "de": ["Schönhauser Allee", "Hauptstraße", "Bahnhofstraße", "Lindenweg", "Gartenstraße"],
    "it": ["Via Roma", "Corso Garibaldi", "Via Dante"],
    "nl": ["Prinsengracht", "Dorpsstraat", "Kerkstraat"],
}
# fmt: on


def d_address(rng: random.Random, region: str, lang: str) -> str:
    street = rng.choice(
        STREETS.get(f"{lang}-{'GB' if region in ('IE', 'ZA', 'AU', 'NZ') else region}", STREETS[lang])
    )
    num = rng.randint(1, 2400 if region in NANP else 240)
    if region == "CO":
        return f"Cra {rng.randint(1, 99)} # {rng.randint(10, 150)}-{rng.randint(1, 99):02d}"
    if region == "IN":
        return f"Flat {rng.randint(1, 14)}0{rng.randint(1, 9)}, Lakeview Apartments, MG Road"
    if lang in ("en", "fr"):
        return f"{num} {street}"
    if lang == "pt":
        return f"{street}, {num}"
    return f"{street} {num}"


def d_gate_code(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([f"#{digits(rng, 4)}", digits(rng, 4), f"{digits(rng, 4)}#"])


def d_receipt(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice(
        [
            f"R-{digits(rng, 4)}-{digits(rng, 6)}",
            f"#{digits(rng, 4)}-{digits(rng, 3)}-{digits(rng, 4)}",
            f"{digits(rng, 4)} {digits(rng, 4)} {digits(rng, 4)}",
        ]
    )


def d_conf_phoneshaped(rng: random.Random, region: str, lang: str) -> str:
    """Laid out like a NANP number, but the exchange starts with 0 or 1, so it is no valid number."""
    return f"{digits(rng, 3, '23456789')}-{digits(rng, 3, '01')}-{digits(rng, 4)}"


def d_measurement(rng: random.Random, region: str, lang: str) -> str:
    if region == "US":
        return rng.choice(
            [f"{rng.randint(3, 9)}x{rng.randint(5, 12)} ft", f"{rng.randint(3, 9)}'x{rng.randint(5, 12)}'"]
        )
    return rng.choice(
        [
            f"{rng.randint(12, 24)}0 x {rng.randint(6, 20)}0 cm",
            f"{rng.randint(1, 4)}.{rng.randint(1, 9)} m",
            f"{rng.randint(2, 4)}x{rng.randint(2, 6)}m",
        ]
    )


def d_quantity(rng: random.Random, region: str, lang: str) -> str:
    return rng.choice([f"{rng.randint(2, 6)} x 500 g", f"x{rng.randint(2, 12)}", f"{rng.randint(2, 24)} pcs"])


def d_plate(rng: random.Random, region: str, lang: str) -> str:
    if region == "BR":
        return f"{letters(rng, 3)}{digits(rng, 1)}{letters(rng, 1)}{digits(rng, 2)}"
    return f"{letters(rng, 2)}-{digits(rng, 2)}-{letters(rng, 2)}"


DecoyGen = Callable[[random.Random, str, str], "str | tuple[str, str]"]

# slot name -> (decoy kind, generator)
DECOYS: dict[str, tuple[str, DecoyGen]] = {
    "order_code": ("order_code", d_order_code),
    "order_bare": ("order_number", d_order_bare),
    "order_phoneshaped": ("order_phone_shaped", d_order_phoneshaped),
    "ref_code": ("ref_phone_shaped", d_ref_code),
    "invoice": ("invoice", d_invoice),
    "ticket": ("ticket", d_ticket),
    "tracking": ("tracking", d_tracking),
    "zip": ("postal_code", d_zip),
    "date": ("date", d_date),
    "date_range": ("date_range", d_date_range),
    "time": ("time", d_time),
    "price": ("price", d_price),
    "ip": ("ip_address", d_ip),
    "flight": ("flight", d_flight),
    "member_id": ("member_id", d_member_id),
    "policy": ("policy_number", d_policy),
    "group_id": ("group_id", d_group_id),
    "loyalty": ("loyalty_card", d_loyalty),
    "account": ("account_number", d_account),
    "customer_no": ("customer_number", d_customer_no),
    "bank": ("bank_account", d_bank),
    "tax_id": ("tax_id", d_tax_id),
    "vat_id": ("vat_id", d_vat_id),
    "ein": (
        "tax_id_ein",
        lambda rng, region, lang: f"{rng.choice(['12', '20', '45', '81'])}-{digits(rng, 7)}",
    ),
    "npi": ("npi", lambda rng, region, lang: npi(rng)),
    "serial": ("serial_number", d_serial),
    "version": ("app_version", d_version),
    "apt": ("apartment", d_apt),
    "room": ("room_number", d_small(101, 1450)),
    "house_no": ("house_number", d_small(1, 240)),
    "guests": ("guest_count", d_small(2, 14)),
    "count": ("count", d_small(2, 6)),
    "minutes": ("duration", d_minutes),
    "booking_ref": ("booking_ref", d_booking_ref),
    "gift_card": ("gift_card", d_gift_card),
    "otp": ("otp_code", d_otp),
    "email": ("email_digits", d_email),
    "address": ("street_address", d_address),
    "gate_code": ("gate_code", d_gate_code),
    "receipt": ("receipt_number", d_receipt),
    "card_last4": ("card_last4", lambda rng, region, lang: digits(rng, 4)),
    "conf_phoneshaped": ("confirmation_phone_shaped", d_conf_phoneshaped),
    "measurement": ("measurement", d_measurement),
    "quantity": ("quantity", d_quantity),
    "plate": ("license_plate", d_plate),
}

# Kinds a reader never takes for a phone whatever their digits, because of their layout or the label
# written with them. If libphonenumber's matcher still finds a "phone" in one, the message is kept and
# the hit is counted. Any other decoy (bare digit runs) that the matcher reads as a valid phone of the
# region makes the message be dropped: when in doubt, drop.
SELF_EVIDENT_KINDS = {
    "date",
    "date_range",
    "time",
    "price",
    "ip_address",
    "app_version",
    "order_phone_shaped",
    "ref_phone_shaped",
    "iban",
    "bank_account",
    "vat_id",
    "npi",
    "street_address",
} | {k for k, _ in DECOYS.values() if k.startswith("tax_id")}


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    lang: str
    kind: str
    text: str
    direction: str = "in"
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    note: str = ""
    tid: str = ""

    @property
    def fields(self) -> list[str]:
        return [f for _, f, _, _ in string.Formatter().parse(self.text) if f]

    @property
    def has_phone(self) -> bool:
        return any(PHONE_SLOT.match(f) for f in self.fields)

    @property
    def has_decoy(self) -> bool:
        return any(f in DECOYS for f in self.fields)


PHONE_SLOT = re.compile(r"^(me|other|biz|cust)(\d?)$")
BOOKING = ("booking",)
DD_REGIONS = ("GB", "IN", "IE", "NZ", "ZA", "MX", "ES", "AR", "PT", "FR", "BE", "DE", "AT", "CH", "IT", "NL")
NOTE_OLD_NEW = "old and new number both belong to the sender; both are in sender_phones"
NOTE_TWICE = "the same number written twice (two layouts); listed twice"
NOTE_LIST_SELF = "one number of the list is marked as the sender's own"
NOTE_LIST_OTHERS = "a list of other people's numbers; the sender gives none of their own"
NOTE_MISLEADING = "the phone-shaped digits are an order number (cue: order/pedido); not a phone"


def _t(lang: str, kind: str, text: str, **kw: object) -> Template:
    return Template(lang, kind, text, **kw)  # type: ignore[arg-type]


EN = "en"
# fmt: off
TEMPLATES_EN: list[Template] = [
    # --- customer gives their own number -------------------------------------------------------
    _t(EN, "callback_request", "{greet}, can someone call me back at {me}? {thanks}"),
    _t(EN, "callback_request", "Please give me a call on {me} when you get a sec"),
    _t(EN, "callback_request", "{greet}! Could you ring me on {me}? It's about my {service} booking",
       regions=("GB", "AU", "IE", "NZ", "ZA", "IN")),
    _t(EN, "callback_request", "call me asap {me}"),
    _t(EN, "booking_contact", "{greet}, I'd like to book a table for {guests} on {date} at {time}. My "
       "number is {me}."),
    _t(EN, "booking_contact", "{greet} looking to book a {service} for {day}. best number to reach me is "
       "{me}"),
    _t(EN, "booking_contact", "Can I get an appointment {day} afternoon for a {service}? {name}, {me}"),
    _t(EN, "appointment_change", "Hi it's {name}, I need to move my appointment on {date}. Text me at {me} "
       "{emoji}"),
    _t(EN, "appointment_change", "{greet}, running late for my {time} appointment, about {minutes} mins. "
       "If that's a problem call me {me}"),
    _t(EN, "new_number", "{greet} this is {name}, new number! save this one: {me}"),
    _t(EN, "new_number", "Hey, it's {name}. Lost my phone so I'm messaging from my laptop. Call me on my "
       "work phone {me} instead"),
    _t(EN, "number_change", "My old number {me} doesn't work anymore, please update my file to {me2}",
       note=NOTE_OLD_NEW),
    _t(EN, "order_issue_contact", "Hi, my order {order_code} still hasn't arrived. Tracking says "
       "{tracking}. Please call me on {me}"),
    _t(EN, "order_issue_contact", "Order {order_code} was missing the {item}. I paid {price}. You can "
       "reach me at {me}."),
    _t(EN, "misleading_cue", "call me about order {order_phoneshaped}, my number is {me}",
       note=NOTE_MISLEADING),
    _t(EN, "misleading_cue", "Hi, re order {order_phoneshaped} - best to text me on {me}, not email",
       note=NOTE_MISLEADING),
    _t(EN, "self_and_third_party", "You can reach me at {me} or my husband at {other}"),
    _t(EN, "self_and_third_party", "Booking for my dad {name}, his number is {other}, mine is {me}. He's "
       "hard of hearing so call me first"),
    _t(EN, "business_number_quoted", "Your website says {biz} but it just goes to voicemail. Please call "
       "me back at {me}"),
    _t(EN, "glued_typo", "reach me at{me:bare}"),
    _t(EN, "glued_typo", "call {me:spaced}pls i'm at work till {time}"),
    _t(EN, "glued_typo", "my number is{me} thx"),
    _t(EN, "glued_typo", "Can u txt me on{me:bare} when the car is ready"),
    _t(EN, "extension", "You can reach me at the office on {me:fixed+ext} or on my cell {me2:mobile}",
       regions=("US", "CA")),
    _t(EN, "extension", "Call my work line {me:fixed+ext} between {time} and {time}"),
    _t(EN, "number_list", "Numbers for our group booking:\n{name}: {other}\n{name}: {other2}\n{name} (me): "
       "{me}", note=NOTE_LIST_SELF),
    _t(EN, "number_list", "Hi, our phone numbers for the tour on {date} (first one is mine):\n{me}\n"
       "{other}\n{other2}", note=NOTE_LIST_SELF),
    _t(EN, "foreign_number", "I'm in {fcountry} until {date} so please WhatsApp me on {me:foreign}"),
    _t(EN, "foreign_number", "Using my {fcountry} number while I travel: {me:foreign}"),
    _t(EN, "international_prefix", "From abroad I'm on {me:dd}", regions=DD_REGIONS),
    _t(EN, "international_prefix", "{greet}, my number with the country code is {me:dd}", regions=DD_REGIONS),
    _t(EN, "same_number_twice", "My number is {me:nat}, or {me:intl} if you're calling from outside "
       "{country}", note=NOTE_TWICE),
    _t(EN, "booking_form", "Name: {name} {surname}\nPhone: {me}\nEmail: {email}\nDate: {date}\nParty size: "
       "{guests}\nNotes: {note}", channels=BOOKING),
    _t(EN, "booking_form", "Full name: {name} {surname}\nMobile: {me:bare}\nPreferred date: {date}\n"
       "Preferred time: {time}\nMessage: please confirm by text", channels=BOOKING),
    _t(EN, "booking_form", "Booking request\nService: {service}\nWhen: {day} {time}\nContact number: {me}\n"
       "Postcode: {zip}", channels=BOOKING),
    _t(EN, "multi_sentence", "Hi there. We came in last {day} for my mum's birthday and left a jacket "
       "under the table. It's dark green with a hood. Could you check? I'm on {me}. Thanks so much!"),
    _t(EN, "multi_sentence", "Hello! We're planning a small engagement party for about {guests} people. Do "
       "you do private rooms? Budget is around {price}. Let me know, my number is {me} and I'm free after "
       "{time}."),
    _t(EN, "number_only", "{me}"),
    _t(EN, "number_only", "{me} {emoji}"),
    _t(EN, "signature", "Thanks, see you {day}!\n{name}\n{me}"),
    _t(EN, "signature", "{name} - {me}"),
    _t(EN, "quote_request", "Looking for a quote to fix a leaking tap at {address}, apt {apt}. Call {me} "
       "after {time}"),
    _t(EN, "quote_request", "How much to clean a {measurement} rug? Pick-up from {zip} if possible. {me}"),
    _t(EN, "price_question", "Is the {service} still {price}? If so book me in for {day}, my cell {me}"),
    _t(EN, "tech_issue", "the booking app (version {version}) keeps crashing on my phone. my number is "
       "{me} if you need to call"),
    _t(EN, "travel_delay", "Our flight {flight} lands at {time}, we'll be late for check-in. Call {me} if "
       "there's any problem"),
    _t(EN, "loyalty_account", "Forgot my loyalty card, the number is {loyalty}. The phone on my account "
       "should be {me}"),
    _t(EN, "membership", "Membership {member_id}, phone {me}. Can I freeze my membership for {count} "
       "months?"),
    _t(EN, "support_ticket", "re ticket {ticket}: still not fixed. call me {me}"),
    _t(EN, "billing_question", "I paid invoice {invoice} on {date} ({price}) but got a reminder today. "
       "Please call {me}"),
    _t(EN, "warranty_claim", "Dishwasher S/N {serial} is making the noise again, your ref was {ref_code}. "
       "I'm on {me}"),
    _t(EN, "delivery_instructions", "Delivery to {address}, {zip}. Driver can call me at {me} when "
       "outside, gate code is {gate_code}"),
    _t(EN, "delivery_instructions", "pls leave it with the neighbour at no. {house_no} if I'm out. my mob "
       "{me}", regions=("GB", "AU", "IE", "NZ", "ZA", "IN")),
    _t(EN, "group_booking", "Booking for {date_range}, {guests} guests. Contact {me}, ref {booking_ref}"),
    _t(EN, "emoji_heavy", "📱 {me} 👈 text me when it's ready 🙏"),
    _t(EN, "insurance_intake", "Hi, new patient here. Insurance member ID {member_id}, group {group_id}. "
       "Cell {me}", regions=("US",)),
    # --- somebody else's number / the business's number ------------------------------------------
    _t(EN, "third_party_number", "My wife's number is {other} if you can't reach me"),
    _t(EN, "third_party_number", "My daughter {name} will pick up the cake, her cell is {other}"),
    _t(EN, "third_party_number", "For the invoice please contact our accountant {name} on {other}, they "
       "handle all payments"),
    _t(EN, "number_list", "Emergency contacts for the kids' party:\n- {other}\n- {other2}\n- {other3}",
       note=NOTE_LIST_OTHERS),
    _t(EN, "business_number_quoted", "I called {biz} three times today and no one answered, are you open?"),
    _t(EN, "business_number_quoted", "Got a missed call from {biz}, was that you guys?"),
    # --- written by the business ------------------------------------------------------------
    _t(EN, "out_confirmation", "Hi {name}, this is {biz_name}. Your appointment is confirmed for {date} at "
       "{time}. Call us on {biz} to change it.", direction="out"),
    _t(EN, "out_ready_notice", "{biz_name}: your order {order_code} is ready for pickup. Questions? {biz}",
       direction="out"),
    _t(EN, "out_missed_call", "Hi {name}, we tried calling you at {cust} about your booking on {date} but "
       "couldn't get through. Please call us back on {biz}.", direction="out"),
    _t(EN, "out_number_check", "Just to confirm, is {cust} still the best number to reach you?",
       direction="out"),
    _t(EN, "out_number_check", "Hi {name}, the number on your booking is {cust}, is that right? The driver "
       "couldn't reach you.", direction="out"),
    _t(EN, "out_new_lines", "We have new phone lines! Bookings: {biz}, takeaway & WhatsApp: {biz2}",
       direction="out"),
    _t(EN, "out_reply_with_number", "Thanks {name}! Best to call the shop directly on {biz}, we can sort "
       "it out over the phone.", direction="out"),
    # --- no phone: plain chat -----------------------------------------------------------------
    _t(EN, "neg_chat", "{greet}, do you have any tables free tonight?"),
    _t(EN, "neg_chat", "What time do you close on {day}?"),
    _t(EN, "neg_chat", "Thanks so much {name}, see you soon! {emoji}"),
    _t(EN, "neg_chat", "Can I bring my dog to the appointment?"),
    _t(EN, "neg_chat", "is there parking near you"),
    _t(EN, "neg_chat", "Do you take walk-ins for a {service} or do I need to book?"),
    _t(EN, "neg_chat", "omg it looks amazing, thank you!!! {emoji}"),
    _t(EN, "neg_chat", "Hey, just checking you got my message from earlier?"),
    _t(EN, "neg_chat", "Sorry to cancel last minute, I'm sick. Can we reschedule to next {day}?"),
    _t(EN, "neg_call_no_number", "Please call me back, you have my number"),
    _t(EN, "neg_call_no_number", "Can someone give me a call? Same number as last time"),
    _t(EN, "neg_call_no_number", "Text me on this number when it's ready"),
    # --- no phone: decoys -------------------------------------------------------------------
    _t(EN, "neg_order_issue", "My order {order_code} arrived damaged, can I get a refund of {price}?"),
    _t(EN, "neg_order_issue", "order no {order_bare} placed {date} {time}, still says processing??"),
    _t(EN, "neg_delivery", "Tracking {tracking} says delivered but nothing here. Address is {address}, "
       "{zip}."),
    _t(EN, "neg_delivery", "I'm in apt {apt}, buzzer doesn't work, gate code {gate_code}"),
    _t(EN, "neg_booking_change", "Can you change my booking from {date} to {date}? Ref {booking_ref}"),
    _t(EN, "neg_booking_change", "Booked for {date_range}, {guests} people, arriving on flight {flight} at "
       "{time}."),
    _t(EN, "neg_booking_change", "Table for {guests} at {time} please, under {name}"),
    _t(EN, "neg_misleading_cue", "please call me about order {order_phoneshaped}, it still hasn't shipped",
       note=NOTE_MISLEADING),
    _t(EN, "neg_misleading_cue", "Can you ring me re: confirmation #{conf_phoneshaped}? The date is wrong"),
    _t(EN, "neg_tax_ids", "Please find our EIN {ein} and NPI {npi} for the insurance form.", regions=("US",)),
    _t(EN, "neg_tax_ids", "For the invoice: our company tax ID is {tax_id}, billing address {address}, "
       "{zip}."),
    _t(EN, "neg_billing", "Invoice {invoice} for {price} is overdue? I paid with the card ending "
       "{card_last4} on {date}"),
    _t(EN, "neg_billing", "Could you refund the deposit to {bank}? Amount was {price}"),
    _t(EN, "neg_billing", "Transferred {price} from account {account} yesterday, ref {ref_code}"),
    _t(EN, "neg_tech", "The wifi in room {room} isn't working, router page shows {ip}"),
    _t(EN, "neg_tech", "App version {version} on my phone, still can't log in. Customer number "
       "{customer_no}"),
    _t(EN, "neg_account", "Gift card {gift_card} - what's the balance?"),
    _t(EN, "neg_account", "Member {member_id} / policy {policy}, does my plan cover this?"),
    _t(EN, "neg_account", "Loyalty card {loyalty}, how many points do I have?"),
    _t(EN, "neg_warranty", "S/N {serial}, bought {date}, receipt {receipt}. It stopped working"),
    _t(EN, "neg_product", "Do you have the {measurement} table in oak? We need {quantity}"),
    _t(EN, "neg_code", "the code {otp} you sent doesn't work"),
    _t(EN, "neg_ticket", "Any update on {ticket}? It's been {count} weeks"),
    _t(EN, "out_shipping", "Your order {order_code} has shipped! Track it: {tracking}. Estimated delivery "
       "{date}.", direction="out"),
    _t(EN, "out_reminder", "Reminder: your appointment on {date} at {time}. Reply C to confirm. Ref "
       "{booking_ref}", direction="out"),
    _t(EN, "out_otp", "Your {biz_name} verification code is {otp}. It expires in {minutes} minutes.",
       direction="out"),
    _t(EN, "out_payment", "Payment received: {price} for invoice {invoice} on {date}. Thank you!",
       direction="out"),
    _t(EN, "out_chat", "Hi {name}, we're fully booked tonight, sorry! We have space {day} from {time}.",
       direction="out"),
    _t(EN, "out_chat", "Thanks for your message! We'll get back to you shortly.", direction="out"),
]
# fmt: on

ES = "es"
# fmt: off
TEMPLATES_ES: list[Template] = [
    _t(ES, "callback_request", "{greet}, ¿me pueden llamar al {me}? Gracias"),
    _t(ES, "booking_contact", "{greet}, quería reservar mesa para {guests} el {date} a las {time}. Mi "
       "número es {me}"),
    _t(ES, "appointment_change", "Hola soy {name}, necesito cambiar mi cita del {day}. Escríbeme al {me} "
       "{emoji}"),
    _t(ES, "order_issue_contact", "Mi pedido {order_code} no ha llegado, el seguimiento dice {tracking}. "
       "Llámenme al {me} por favor"),
    _t(ES, "glued_typo", "mi cel{me:bare} cualquier cosa"),
    _t(ES, "mixed_language", "Hola! sorry my english no es muy bueno. Quiero cita para {service} el {day}, "
       "mi número {me}"),
    _t(ES, "multi_sentence", "Buenas tardes. Ayer compré un {item} y vino roto. Tengo el ticket {receipt}. "
       "¿Me pueden llamar al {me} para ver cómo lo cambio? Gracias."),
    _t(ES, "booking_form", "Nombre: {name} {surname}\nTeléfono: {me}\nCorreo: {email}\nFecha: {date}\n"
       "Personas: {guests}\nComentarios: {note}", channels=BOOKING),
    _t(ES, "self_and_third_party", "Mi número es {me} y el de mi hija es {other}, ella va a llevar al perro"),
    _t(ES, "misleading_cue", "Llámame por el pedido {order_phoneshaped}, mi teléfono es {me}",
       note=NOTE_MISLEADING),
    _t(ES, "foreign_number", "Estoy en {fcountry} hasta el {date}, escríbeme por WhatsApp al {me:foreign}"),
    _t(ES, "international_prefix", "Desde fuera de {country} marcad el {me:dd}", regions=("ES", "MX", "AR")),
    _t(ES, "invoice_request", "Necesito factura a nombre de la empresa, {tax_id}. Teléfono de contacto {me}"),
    _t(ES, "extension", "Pueden llamarme a la oficina al {me:fixed+ext} en horario de trabajo",
       regions=("MX", "CO", "US")),
    _t(ES, "third_party_number", "Si no me contestan, el número de mi esposo es {other}"),
    _t(ES, "business_number_quoted", "Llamé al {biz} toda la mañana y nadie contesta, ¿están abiertos?"),
    _t(ES, "out_confirmation", "Hola {name}, le confirmamos su cita el {date} a las {time} en {biz_name}. "
       "Para cambios llame al {biz}.", direction="out"),
    _t(ES, "out_missed_call", "Hola {name}, intentamos llamarle al {cust} por su pedido {order_code}. Por "
       "favor contáctenos al {biz}.", direction="out"),
    _t(ES, "neg_chat", "¿A qué hora cierran el {day}?"),
    _t(ES, "neg_chat", "Muchas gracias {name}, todo perfecto {emoji}"),
    _t(ES, "neg_chat", "hola, ¿tienen disponibilidad para {service} esta semana?"),
    _t(ES, "neg_call_no_number", "Llámenme por favor, ya tienen mi número"),
    _t(ES, "neg_delivery", "El paquete {tracking} dice entregado pero no llegó nada. Vivo en {address}, CP "
       "{zip}"),
    _t(ES, "neg_billing", "Hice la transferencia de {price} a la cuenta {bank} el {date}, factura {invoice}"),
    _t(ES, "neg_booking_change", "¿Puedo cambiar la reserva {booking_ref} del {date} al {date}?"),
    _t(ES, "neg_misleading_cue", "me pueden llamar por el pedido {order_phoneshaped}? sigue sin llegar",
       note=NOTE_MISLEADING),
    _t(ES, "neg_tax_ids", "Les paso mis datos para la factura: {tax_id}, {address}"),
    _t(ES, "out_shipping", "Su pedido {order_code} ha sido enviado. Número de seguimiento: {tracking}.",
       direction="out"),
]
# fmt: on

PT = "pt"
# fmt: off
TEMPLATES_PT: list[Template] = [
    _t(PT, "callback_request", "{greet}, pode me ligar no {me}? Obrigada"),
    _t(PT, "callback_request", "me chama no zap {me}", regions=("BR",)),
    _t(PT, "booking_contact", "{greet}! Gostaria de reservar uma mesa para {guests} pessoas no dia {date} "
       "às {time}. Meu número é {me}"),
    _t(PT, "order_issue_contact", "Meu pedido {order_code} ainda não chegou, o rastreio {tracking} não "
       "atualiza. Meu telefone {me}"),
    _t(PT, "glued_typo", "meu numero e{me:bare} obg"),
    _t(PT, "invoice_request", "Preciso da nota com {tax_id}. Qualquer coisa me liga no {me}"),
    _t(PT, "multi_sentence", "Bom dia. Deixei meu carro aí para revisão na semana passada e até agora "
       "ninguém me deu retorno. A placa é {plate}. Por favor me liguem no {me}."),
    _t(PT, "booking_form", "Nome: {name} {surname}\nTelefone: {me}\nE-mail: {email}\nData: {date}\n"
       "Horário: {time}\nObservações: {note}", channels=BOOKING),
    _t(PT, "number_list", "Segue os contatos:\n{name} {other}\n{name} {other2}\neu {me}",
       note=NOTE_LIST_SELF),
    _t(PT, "mixed_language", "Oi, tudo bem? Quería reservar para {guests} personas hoje à noite, meu "
       "número {me}"),
    _t(PT, "foreign_number", "Estou viajando ({fcountry}), me chama nesse número: {me:foreign}"),
    _t(PT, "third_party_number", "Se eu não atender, liga pra minha mãe no {other}"),
    _t(PT, "business_number_quoted", "Liguei pro {biz} várias vezes e só dá ocupado"),
    _t(PT, "out_confirmation", "Olá {name}! {biz_name}: seu horário está confirmado para {date} às "
       "{time}. Dúvidas: {biz}", direction="out"),
    _t(PT, "out_number_check", "Oi {name}, o entregador não conseguiu falar no {cust}. Esse número está "
       "certo?", direction="out"),
    _t(PT, "neg_chat", "Vocês abrem {day}?"),
    _t(PT, "neg_chat", "Muito obrigada, ficou lindo! {emoji}"),
    _t(PT, "neg_chat", "{greet}, ainda tem horário pra {service} essa semana?"),
    _t(PT, "neg_delivery", "Vocês entregam no {zip}? Endereço: {address}"),
    _t(PT, "neg_billing", "Fiz o pix de {price} ontem, pedido {order_code}, comprovante {receipt}",
       regions=("BR",)),
    _t(PT, "neg_billing", "Fiz a transferência de {price} para {bank}, fatura {invoice}", regions=("PT",)),
    _t(PT, "neg_misleading_cue", "me liga sobre o pedido {order_phoneshaped}?", note=NOTE_MISLEADING),
    _t(PT, "neg_call_no_number", "Pode me ligar nesse mesmo número?"),
    _t(PT, "out_shipping", "Seu pedido {order_code} foi enviado! Código de rastreio: {tracking}",
       direction="out"),
]
# fmt: on

FR = "fr"
# fmt: off
TEMPLATES_FR: list[Template] = [
    _t(FR, "callback_request", "{greet}, pouvez-vous me rappeler au {me} ? Merci"),
    _t(FR, "booking_contact", "{greet}, je voudrais réserver une table pour {guests} le {date} à {time}. "
       "Mon numéro : {me}"),
    _t(FR, "appointment_change", "Bonjour c'est {name}, je dois décaler mon rdv de {day}. Vous pouvez "
       "m'appeler au {me}"),
    _t(FR, "order_issue_contact", "Ma commande {order_code} n'est toujours pas arrivée (suivi {tracking}). "
       "Tél : {me}"),
    _t(FR, "glued_typo", "mon num c'est{me:bare} merci"),
    _t(FR, "booking_form", "Nom : {surname}\nPrénom : {name}\nTéléphone : {me}\nE-mail : {email}\nDate : "
       "{date}\nNombre de personnes : {guests}\nMessage : {note}", channels=BOOKING),
    _t(FR, "invoice_request", "Bonjour, j'aurais besoin d'une facture au nom de ma société, {tax_id}. "
       "Merci de me rappeler au {me}."),
    _t(FR, "mixed_language", "Allo! Je voudrais booker un appointment pour {day}, mon cell c'est {me}",
       regions=("CA",)),
    _t(FR, "same_number_twice", "Mon numéro : {me:nat} (ou {me:intl} depuis l'étranger)", note=NOTE_TWICE),
    _t(FR, "foreign_number", "Je suis à l'étranger ({fcountry}) jusqu'au {date}, joignable au {me:foreign}"),
    _t(FR, "third_party_number", "Si je ne réponds pas, appelez mon mari au {other}"),
    _t(FR, "business_number_quoted", "J'ai essayé d'appeler le {biz} mais ça sonne dans le vide"),
    _t(FR, "out_confirmation", "Bonjour {name}, votre rendez-vous chez {biz_name} est confirmé le {date} à "
       "{time}. Pour annuler : {biz}", direction="out"),
    _t(FR, "out_missed_call", "Bonjour {name}, nous avons essayé de vous joindre au {cust}. Merci de nous "
       "rappeler au {biz}.", direction="out"),
    _t(FR, "neg_chat", "Vous êtes ouverts {day} midi ?"),
    _t(FR, "neg_chat", "Merci beaucoup, c'était parfait {emoji}"),
    _t(FR, "neg_booking_change", "Je voudrais déplacer ma réservation {booking_ref} ({date_range}), c'est "
       "possible ?"),
    _t(FR, "neg_billing", "J'ai fait le virement de {price} sur {bank}, facture {invoice}"),
    _t(FR, "neg_delivery", "Colis {tracking} marqué livré mais rien reçu. Adresse : {address}, {zip}"),
    _t(FR, "neg_call_no_number", "Rappelez-moi sur ce numéro svp"),
    _t(FR, "out_shipping", "Votre commande {order_code} a été expédiée. Suivi : {tracking}. Livraison "
       "prévue le {date}.", direction="out"),
]
# fmt: on

DE = "de"
# fmt: off
TEMPLATES_DE: list[Template] = [
    _t(DE, "callback_request", "{greet}, können Sie mich bitte unter {me} zurückrufen? Danke"),
    _t(DE, "booking_contact", "Guten Abend, ich möchte einen Tisch für {guests} Personen am {date} um "
       "{time} Uhr reservieren. Meine Nummer: {me}"),
    _t(DE, "appointment_change", "Hi, hier ist {name}. Ich muss meinen Termin am {day} leider verschieben. "
       "Erreichbar unter {me:slash}"),
    _t(DE, "glued_typo", "Meine Nummer{me:slash} danke"),
    _t(DE, "order_issue_contact", "Bestellung {order_code} ist immer noch nicht da, Sendungsnummer "
       "{tracking}. Bitte rufen Sie mich an: {me}"),
    _t(DE, "invoice_request", "Bitte die Rechnung auf die Firma ausstellen, {vat_id}. Rückfragen gerne an "
       "{me}"),
    _t(DE, "booking_form", "Name: {name} {surname}\nTelefon: {me}\nE-Mail: {email}\nDatum: {date}\n"
       "Personen: {guests}\nAnmerkung: {note}", channels=BOOKING),
    _t(DE, "group_booking", "Wir kommen vom {date_range} mit {guests} Personen. Bei Fragen: {me}"),
    _t(DE, "mixed_language", "Hey, kann ich noch einen Slot für {service} am {day} booken? Meine "
       "Handynummer ist {me}"),
    _t(DE, "multi_sentence", "Guten Tag, unsere Spülmaschine (S/N {serial}) ist wieder kaputt. Der "
       "Techniker war am {date} da. Bitte melden Sie sich unter {me}. Mit freundlichen Grüßen, {name}"),
    _t(DE, "foreign_number", "Bin gerade im Ausland ({fcountry}), erreichbar unter {me:foreign}"),
    _t(DE, "third_party_number", "Falls ich nicht rangehe, die Nummer meiner Frau ist {other}"),
    _t(DE, "business_number_quoted", "Ich habe schon dreimal bei {biz} angerufen, es geht keiner ran"),
    _t(DE, "out_confirmation", "Hallo {name}, Ihr Termin bei {biz_name} am {date} um {time} Uhr ist "
       "bestätigt. Absagen bitte unter {biz}.", direction="out"),
    _t(DE, "out_number_check", "Guten Tag {name}, wir haben Sie unter {cust} nicht erreicht. Ist die "
       "Nummer noch aktuell?", direction="out"),
    _t(DE, "neg_chat", "Habt ihr am {day} offen?"),
    _t(DE, "neg_chat", "Vielen Dank, alles super! {emoji}"),
    _t(DE, "neg_billing", "Überweisung über {price} ist raus, {bank}, Rechnung {invoice}"),
    _t(DE, "neg_booking_change", "Ist das Zimmer vom {date_range} noch frei? Wir sind {guests} Personen"),
    _t(DE, "neg_tax_ids", "Unsere Daten für die Rechnung: {tax_id}, {vat_id}"),
    _t(DE, "neg_call_no_number", "Rufen Sie mich bitte auf dieser Nummer zurück"),
    _t(DE, "out_shipping", "Ihre Bestellung {order_code} wurde versendet. Sendungsverfolgung: {tracking}",
       direction="out"),
]
# fmt: on

IT = "it"
NL = "nl"
# fmt: off
TEMPLATES_OTHER: list[Template] = [
    _t(IT, "callback_request", "{greet}, potete richiamarmi al {me}? Grazie"),
    _t(IT, "booking_contact", "Vorrei prenotare un tavolo per {guests} il {date} alle {time}, il mio "
       "numero è {me}"),
    _t(IT, "third_party_number", "Se non rispondo, chiamate mia moglie al {other}"),
    _t(IT, "neg_chat", "A che ora chiudete {day}?"),
    _t(IT, "neg_delivery", "Ordine {order_code}, il corriere dice consegnato ({tracking}) ma non è "
       "arrivato niente"),
    _t(IT, "out_confirmation", "Gentile {name}, confermiamo la prenotazione per il {date} alle {time}. Per "
       "modifiche: {biz}", direction="out"),
    _t(NL, "callback_request", "{greet}, kunnen jullie mij terugbellen op {me}? Alvast bedankt"),
    _t(NL, "booking_contact", "Ik wil graag een afspraak voor een {service} op {day}. Mijn nummer is {me}"),
    _t(NL, "order_issue_contact", "Mijn bestelling {order_code} is nog niet binnen, track & trace "
       "{tracking}. Bel me even op {me}"),
    _t(NL, "neg_chat", "Zijn jullie {day} open?"),
    _t(NL, "neg_billing", "Ik heb {price} overgemaakt naar {bank}, factuur {invoice}"),
    _t(NL, "out_confirmation", "Beste {name}, uw afspraak op {date} om {time} is bevestigd. Vragen? Bel "
       "{biz}", direction="out"),
]
# fmt: on

# One decoy sentence that may be appended to an "in" template that has no decoy of its own.
# fmt: off
ADDONS: dict[str, list[str]] = {
    "en": [" Order {order_code}.", " (booking ref {booking_ref})", " My zip is {zip}.", " I'm in apt {apt}.",
           " Already paid {price}.", " See you {date} at {time}.", " Ticket {ticket}.",
           " PS the invoice was {invoice}"],
    "es": [" Pedido {order_code}.", " Ya pagué {price}.", " Mi código postal es {zip}.",
           " Nos vemos el {date} a las {time}."],
    "pt": [" Pedido {order_code}.", " Já paguei {price}.", " Chego às {time}."],
    "fr": [" Commande {order_code}.", " J'ai déjà payé {price}.", " Code postal {zip}.",
           " À {date} vers {time} !"],
    "de": [" Bestellnr. {order_code}.", " Bezahlt habe ich {price}.", " PLZ {zip}.",
           " Bis {date} um {time} Uhr!"],
    "it": [" Ordine {order_code}.", " Ho già pagato {price}."],
    "nl": [" Bestelling {order_code}.", " Ik heb al {price} betaald."],
}
# fmt: on
NO_ADDON_KINDS = {"number_only", "booking_form", "number_list", "emoji_heavy"}


def all_templates() -> list[Template]:
    out: list[Template] = []
    for group in (TEMPLATES_EN, TEMPLATES_ES, TEMPLATES_PT, TEMPLATES_FR, TEMPLATES_DE, TEMPLATES_OTHER):
        counters: Counter[str] = Counter()
        for t in group:
            counters[t.lang] += 1
            out.append(
                Template(
                    t.lang,
                    t.kind,
                    t.text,
                    t.direction,
                    t.channels,
                    t.regions,
                    t.note,
                    f"{t.lang}-{counters[t.lang]:03d}",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Business:
    numbers: tuple[Phone, ...]


@dataclass
class Span:
    start: int
    end: int
    role: str  # "phone" or "decoy"
    kind: str  # phone: me/other/biz/cust; decoy: its kind
    value: str
    phone: Phone | None = None
    ext: str = ""
    style: str = ""


@dataclass
class Message:
    template: Template
    region: str
    channel: str
    business: Business
    text: str
    spans: list[Span]


@dataclass
class Renderer:
    rng: random.Random
    numbers: NumberFactory
    businesses: dict[str, list[Business]]

    def render(self, tpl: Template, region: str) -> Message:
        rng = self.rng
        fields = tpl.fields
        needs_two = "biz2" in fields
        pool = (
            [b for b in self.businesses[region] if len(b.numbers) >= 2]
            if needs_two
            else self.businesses[region]
        )
        business = rng.choice(pool)
        foreign = rng.choice(
            [
                r
                for r in FOREIGN_REGIONS
                if pn.country_code_for_region(r) != pn.country_code_for_region(region)
                and r in COUNTRY_NAMES.get(tpl.lang, {})
            ]
            or ["GB"]
        )
        text = tpl.text
        if tpl.direction == "in" and not tpl.has_decoy and tpl.kind not in NO_ADDON_KINDS:
            share = ADDON_SHARE_POSITIVE if tpl.has_phone else ADDON_SHARE_NEGATIVE
            if rng.random() < share:
                text += rng.choice(ADDONS[tpl.lang])
        noise = self._noise(tpl)
        parsed = list(string.Formatter().parse(text))
        pieces: list[str] = []
        spans: list[Span] = []
        phones: dict[str, Phone] = {}
        pos = 0
        for i, (literal, fname, spec, _conv) in enumerate(parsed):
            lit = self._literal(literal, noise, first=i == 0, last=i == len(parsed) - 1 and fname is None)
            pieces.append(lit)
            pos += len(lit)
            if fname is None:
                continue
            value, span = self._field(fname, spec or "", tpl, region, business, foreign, phones)
            if span is not None:
                span.start, span.end = pos, pos + len(value)
                spans.append(span)
            pieces.append(value)
            pos += len(value)
        if noise.get("emoji_tail"):
            pieces.append(" " + rng.choice(FILL["en"]["emoji"]))
        channel = self._channel(tpl, region)
        return Message(tpl, region, channel, business, "".join(pieces), spans)

    def _noise(self, tpl: Template) -> dict[str, bool]:
        rng = self.rng
        if tpl.direction != "in" or tpl.kind == "booking_form":
            return {}
        return {
            "lower": rng.random() < 0.12,
            "no_final_punct": rng.random() < 0.15,
            "emoji_tail": rng.random() < 0.06 and tpl.kind != "emoji_heavy",
        }

    @staticmethod
    def _literal(lit: str, noise: dict[str, bool], first: bool, last: bool) -> str:
        if noise.get("lower"):
            lit = lit.lower()
        if last and noise.get("no_final_punct"):
            lit = lit.rstrip(".!?")
        if first:
            lit = lit.lstrip()
        return lit

    def _channel(self, tpl: Template, region: str) -> str:
        if tpl.channels:
            return self.rng.choice(tpl.channels)
        if region in NANP:
            names, weights = ["sms", "instagram", "messenger", "whatsapp"], [45, 20, 20, 15]
        else:
            names, weights = ["whatsapp", "instagram", "messenger", "sms"], [50, 20, 15, 15]
        return self.rng.choices(names, weights=weights)[0]

    def _field(
        self,
        fname: str,
        spec: str,
        tpl: Template,
        region: str,
        business: Business,
        foreign: str,
        phones: dict[str, Phone],
    ) -> tuple[str, Span | None]:
        rng = self.rng
        m = PHONE_SLOT.match(fname)
        if m:
            return self._phone_field(fname, m.group(1), spec, tpl, region, business, foreign, phones)
        if fname in DECOYS:
            kind, gen = DECOYS[fname]
            made = gen(rng, region, tpl.lang)
            if isinstance(made, tuple):
                kind, made = made
            return made, Span(0, 0, "decoy", kind, made)
        if fname == "country":
            return COUNTRY_NAMES[tpl.lang][region], None
        if fname == "fcountry":
            return COUNTRY_NAMES[tpl.lang][foreign], None
        if fname == "biz_name":
            return rng.choice(FILL[tpl.lang]["biz_name"]), None
        return rng.choice(FILL[tpl.lang][fname]), None

    def _phone_field(
        self,
        fname: str,
        role: str,
        spec: str,
        tpl: Template,
        region: str,
        business: Business,
        foreign: str,
        phones: dict[str, Phone],
    ) -> tuple[str, Span]:
        rng = self.rng
        tokens = spec.split("+") if spec else []
        if fname not in phones:
            if role == "biz":
                phones[fname] = business.numbers[0 if fname == "biz" else 1]
            else:
                where = foreign if "foreign" in tokens else region
                if "fixed" in tokens or "ext" in tokens:
                    kind = "fixed"
                elif "mobile" in tokens:
                    kind = "mobile"
                else:
                    kind = "mobile" if rng.random() < CUSTOMER_MOBILE_SHARE else "fixed"
                phones[fname] = self.numbers.new(where, kind)
        phone = phones[fname]
        wanted = next(
            (t for t in tokens if t in ("nat", "intl", "bare", "dd", "slash", "spaced", "e164")), "any"
        )
        if phone.region != region:
            wanted = "intl"
        style = pick_style(rng, phone.region, wanted)
        surface = STYLE_FUNCS[style](number_groups(phone))
        ext = ""
        if "ext" in tokens:
            ext = str(rng.choice([rng.randint(2, 99), rng.randint(100, 999), rng.randint(1000, 4999)]))
            surface += rng.choice(EXTENSIONS.get(tpl.lang, EXTENSIONS["en"])).format(d=ext)
        return surface, Span(0, 0, "phone", role, surface, phone, ext, style)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def is_self_evident(span: Span) -> bool:
    return span.kind in SELF_EVIDENT_KINDS or any(c.isascii() and c.isalpha() for c in span.value)


def check_message(msg: Message, notes: list[str]) -> str | None:
    """Return why the message must be dropped, or None if every label checks out."""
    text, region = msg.text, msg.region
    phone_spans = [s for s in msg.spans if s.role == "phone"]
    decoy_spans = [s for s in msg.spans if s.role == "decoy"]
    # 1. Every digit of the text belongs to a labelled phone or decoy.
    covered = [False] * len(text)
    for s in msg.spans:
        if text[s.start : s.end] != s.value:
            return "span_mismatch"
        for i in range(s.start, s.end):
            covered[i] = True
    if any(ch.isdigit() and not covered[i] for i, ch in enumerate(text)):
        return "stray_digit"
    # 2. Each phone is valid for its region and its text parses back to its label.
    for s in phone_spans:
        assert s.phone is not None
        parsed = pn.parse(s.value, region)
        if pn.format_number(parsed, PhoneNumberFormat.E164) != s.phone.e164:
            return "phone_does_not_parse_back"
        if not pn.is_valid_number_for_region(s.phone.number, s.phone.region):
            return "phone_invalid"
        if (parsed.extension or "") != s.ext:
            return "extension_mismatch"
        if (s.start > 0 and text[s.start - 1].isdigit()) or (s.end < len(text) and text[s.end].isdigit()):
            return "phone_touches_digits"
    labelled = {s.phone.e164 for s in phone_spans if s.phone}
    nsns = [s.phone.nsn for s in phone_spans if s.phone]
    # 3. No decoy holds the digits of a labelled phone or parses to one.
    for s in decoy_spans:
        dd = "".join(c for c in s.value if c.isdigit())
        if any(n in dd for n in nsns):
            return "decoy_contains_phone_digits"
        try:
            if dd and pn.format_number(pn.parse(dd, region), PhoneNumberFormat.E164) in labelled:
                return "decoy_parses_to_labelled_phone"
        except pn.NumberParseException:
            pass
    # 4. What libphonenumber's own matcher finds must be a labelled phone or a self-evident decoy.
    for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
        hit = [s for s in msg.spans if s.start < m.end and m.start < s.end]
        if len(hit) != 1:
            return "match_spans_several_slots" if hit else "match_outside_slots"
        s = hit[0]
        if s.role == "phone":
            if pn.format_number(m.number, PhoneNumberFormat.E164) != s.phone.e164:  # type: ignore[union-attr]
                notes.append("matcher_reads_phone_differently")
            continue
        if not is_self_evident(s):
            return f"decoy_reads_as_phone:{s.kind}"
        notes.append(f"decoy_kept_though_libphonenumber_matches_it:{s.kind}")
    return None


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


def make_businesses(rng: random.Random, numbers: NumberFactory) -> dict[str, list[Business]]:
    regions: list[str] = []
    for lang_regions in LANG_REGIONS.values():
        regions += [r for r in lang_regions if r not in regions]
    out: dict[str, list[Business]] = {}
    for region in regions:
        pool: list[Business] = []
        for _ in range(8):
            first = numbers.new(region, "fixed" if rng.random() < 0.65 else "mobile")
            if rng.random() < 0.4:
                pool.append(Business((first, numbers.new(region, "mobile"))))
            else:
                pool.append(Business((first,)))
        if not any(len(b.numbers) > 1 for b in pool):
            pool.append(Business((numbers.new(region, "fixed"), numbers.new(region, "mobile"))))
        out[region] = pool
    return out


def to_record(n: int, msg: Message) -> dict[str, object]:
    tpl = msg.template
    phones = [s for s in msg.spans if s.role == "phone" and s.phone]
    record: dict[str, object] = {
        "id": f"frz-{n:05d}",
        "text": msg.text,
        "region": msg.region,
        "language": tpl.lang,
        "direction": tpl.direction,
        "channel": msg.channel,
        "business_numbers": [p.e164 for p in msg.business.numbers],
        "phones": [s.phone.e164 for s in phones],  # type: ignore[union-attr]
        "sender_phones": [s.phone.e164 for s in phones if s.kind == "me" and tpl.direction == "in"],  # type: ignore[union-attr]
        "kind": tpl.kind,
        "decoys": [s.kind for s in msg.spans if s.role == "decoy"],
        "template": tpl.tid,
    }
    if tpl.note:
        record["note"] = tpl.note
    return record


def pick_region(rng: random.Random, tpl: Template) -> str:
    weights = LANG_REGIONS[tpl.lang]
    names = [r for r in weights if not tpl.regions or r in tpl.regions]
    return rng.choices(names, weights=[weights[r] for r in names])[0]


def build(rng: random.Random) -> tuple[list[dict[str, object]], Counter[str], Counter[str]]:
    numbers = NumberFactory(rng)
    renderer = Renderer(rng, numbers, make_businesses(rng, numbers))
    templates = all_templates()
    by_key: dict[tuple[str, bool], list[Template]] = {}
    for t in templates:
        by_key.setdefault((t.lang, t.has_phone), []).append(t)
    langs = list(LANG_WEIGHTS)
    records: list[dict[str, object]] = []
    drops: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    seen: set[str] = set()
    while len(records) < TARGET_MESSAGES:
        # Language and phone/no-phone are drawn once per message; a dropped draft is replaced by
        # another draft of the same language and polarity, so drops do not skew the mix.
        lang = rng.choices(langs, weights=[LANG_WEIGHTS[x] for x in langs])[0]
        candidates = by_key[(lang, rng.random() < POSITIVE_SHARE)]
        for _attempt in range(100):
            tpl = rng.choice(candidates)
            msg = renderer.render(tpl, pick_region(rng, tpl))
            notes: list[str] = []
            reason = check_message(msg, notes)
            if reason is None and msg.text in seen:
                reason = "duplicate_text"
            if reason is None:
                break
            drops[reason] += 1
        else:
            raise RuntimeError(f"no acceptable message for {lang}")
        seen.add(msg.text)
        stats.update(notes)
        stats.update(f"phone_role:{s.kind}" for s in msg.spans if s.role == "phone")
        stats.update(f"phone_style:{s.style}" for s in msg.spans if s.role == "phone")
        records.append(to_record(len(records) + 1, msg))
    return records, drops, stats


Record = dict[str, object]


def strs(record: Record, key: str) -> list[str]:
    value = record[key]
    assert isinstance(value, list)
    return [str(x) for x in value]


def is_foreign(e164: str, region: str) -> bool:
    return pn.parse(e164).country_code != pn.country_code_for_region(region)


def share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.1%})" if whole else str(part)


def summarize(records: list[Record], drops: Counter[str], stats: Counter[str]) -> str:
    def count(key: str, rows: list[Record] | None = None) -> str:
        return str(dict(Counter(str(r[key]) for r in (records if rows is None else rows)).most_common()))

    with_phone = [r for r in records if strs(r, "phones")]
    with_both = [r for r in with_phone if strs(r, "decoys")]
    neg = [r for r in records if not strs(r, "phones")]
    neg_decoy = [r for r in neg if strs(r, "decoys")]
    phones_total = sum(len(strs(r, "phones")) for r in records)
    sender_total = sum(len(strs(r, "sender_phones")) for r in records)
    foreign = sum(1 for r in records for p in strs(r, "phones") if is_foreign(p, str(r["region"])))
    decoys_all = Counter(k for r in records for k in strs(r, "decoys"))
    decoys_pos = Counter(k for r in with_phone for k in strs(r, "decoys"))
    templates = all_templates()
    used = Counter(str(r["template"]) for r in records)
    lines = [
        f"messages: {len(records)}",
        f"with phone: {share(len(with_phone), len(records))}",
        f"with phone and decoy: {share(len(with_both), len(with_phone))} of those with a phone",
        f"without phone: {share(len(neg), len(records))}; with decoys only: {len(neg_decoy)}",
        f"phones: {phones_total}; sender phones: {sender_total}; phones of another country: {foreign}",
        f"templates: {len(templates)} {dict(Counter(t.lang for t in templates))}; used: {len(used)}; "
        f"families (kind): {len({t.kind for t in templates})}; messages per template: "
        f"min {min(used.values())} max {max(used.values())}",
        f"templates with phone: {sum(t.has_phone for t in templates)}",
        "language: " + count("language"),
        "language with phone: " + count("language", with_phone),
        "region: " + count("region"),
        "region with phone: " + count("region", with_phone),
        "direction: " + count("direction"),
        "direction with phone: " + count("direction", with_phone),
        "channel: " + count("channel"),
        "kind: " + count("kind"),
        "phones per message: " + str(dict(Counter(len(strs(r, "phones")) for r in records).most_common())),
        "decoy kinds (all messages): " + str(dict(decoys_all.most_common())),
        "decoy kinds (messages with a phone): " + str(dict(decoys_pos.most_common())),
        f"drops: {sum(drops.values())} " + str(dict(drops.most_common())),
        "stats: " + str(dict(sorted(stats.items()))),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    rng = random.Random(SEED)
    records, drops, stats = build(rng)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if "--check" in argv:
        same = OUT_PATH.exists() and OUT_PATH.read_text(encoding="utf-8") == text
        print(
            f"{OUT_PATH.name}: {'reproduced byte for byte' if same else 'DIFFERS from the generator output'}"
        )
        return 0 if same else 1
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    print(summarize(records, drops, stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
