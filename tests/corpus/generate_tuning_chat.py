"""Generate tests/corpus/tuning_chat.jsonl: the TUNING corpus of issue 11 (phones beside decoys).

Deterministic (fixed seed): run ``python tests/corpus/generate_tuning_chat.py`` and commit the output
next to this script. ``bench/eval_extract.py`` reports it as TUNING: the extraction rules may be
tuned against it (its errors are listed by ``--verbose``). The frozen test corpus
(``tests/corpus/frozen/``) is written by someone else and is never tuned against.

What it holds, on purpose (the four failure classes of issue 11), in English, Spanish, Portuguese,
French, German and a little Italian, with customers sometimes writing in another language than
their business's:

1. a phone with its own cue and a decoy elsewhere in the same message (ZIP and post codes, flight
   and ticket numbers, IP addresses, member ids, dates of birth, prices, times), in either order; an
   identifier named without its value before the phone ("about my order, 415..."), or a value with
   nothing but a space between it and the phone ("order 12345 415-555-0134");
2. identifiers that look like phones: codes of letters and digit groups (``ORD-2025-449810``),
   labelled numbers (tax ids of several countries, NPI, serial numbers, card, member, group, policy
   and account numbers, IBANs, app versions, parcel numbers, dotted date ranges), and misleading
   cues ("call me about order ...");
3. phones glued to words, lists with one phone per line, ``00``/``011`` international prefixes,
   Brazil's ``0xx`` carrier placeholder, and groupings of two digits;
4. cue and anti-cue words in every language above.

Each record says what a reader would: ``phones`` is every phone number in the text (E.164, whoever
owns it), ``sender_phones`` the sender's own, ``decoys`` the kinds of non-phone numbers in it.
Phone numbers are random numbers libphonenumber's metadata calls valid; decoys are often made of
digits that would be a valid phone too, so only their label or shape tells them apart.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

SEED = 11_2026
TARGET_MESSAGES = 4000
OUT = Path(__file__).with_name("tuning_chat.jsonl")

REGIONS: dict[str, list[tuple[str, int]]] = {
    "en": [("US", 12), ("GB", 4), ("CA", 2), ("AU", 2), ("IN", 2), ("IE", 1)],
    "es": [("ES", 4), ("MX", 4), ("AR", 2), ("CO", 2)],
    "pt": [("BR", 6), ("PT", 3)],
    "fr": [("FR", 6), ("BE", 2), ("CH", 1)],
    "de": [("DE", 6), ("AT", 2), ("CH", 1)],
    "it": [("IT", 1)],
}
LANGUAGE_WEIGHTS = {"en": 40, "es": 15, "pt": 13, "fr": 13, "de": 14, "it": 5}
CHANNELS = ("sms", "whatsapp", "instagram", "messenger", "booking")

# --- phone numbers --------------------------------------------------------------------------------------


def valid_number(rng: random.Random, region: str, kind: PhoneNumberType) -> phonenumbers.PhoneNumber:
    """A random number in use in ``region``: an example number with its digits after the first few
    redrawn until libphonenumber calls it valid."""
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    assert example is not None
    national = phonenumbers.national_significant_number(example)
    keep = 3 if len(national) > 8 else 2
    for _ in range(500):
        digits = national[:keep] + "".join(rng.choice("0123456789") for _ in national[keep:])
        candidate = phonenumbers.parse("+" + str(example.country_code) + digits, None)
        if (
            phonenumbers.is_valid_number(candidate)
            and phonenumbers.region_code_for_number(candidate) == region
        ):
            return candidate
    return example


def e164(number: phonenumbers.PhoneNumber) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _groups(digits: str, sizes: tuple[int, ...]) -> list[str]:
    out, at = [], 0
    for size in sizes:
        out.append(digits[at : at + size])
        at += size
    if at < len(digits):
        out[-1] += digits[at:]
    return [g for g in out if g]


def written(rng: random.Random, number: phonenumbers.PhoneNumber, region: str, style: str = "") -> str:
    """The number as a person in ``region`` might type it."""
    national = str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    international = str(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
    nsn = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    own = phonenumbers.region_code_for_number(number) == region
    styles = ["national", "international", "plain", "e164"] if own else ["international", "e164", "idd"]
    if own and region in ("FR", "BE", "CH"):
        styles += ["pairs", "pairs_dots", "pairs_dashes"]
    if own and region in ("DE", "AT"):
        styles += ["slash", "slash"]
    if own and region == "US":
        styles += ["dots", "dashes", "one_dashes"]
    if own and region == "BR":
        styles += ["zap", "zero_xx"]
    style = style or rng.choice(styles)
    trunk = national.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    trunk_digits = "".join(ch for ch in trunk if ch.isdigit())
    if style == "national":
        return national
    if style == "international":
        return international
    if style == "e164":
        return "+" + code + nsn
    if style == "plain":
        return trunk_digits
    if style == "idd":
        prefixes = ["011 ", "011"] if region in ("US", "CA") else ["00 ", "00", "00 "]
        return rng.choice(prefixes) + code + " " + " ".join(international.split(" ")[1:])
    if style == "pairs":
        return " ".join(_groups("0" + nsn, (2, 2, 2, 2, 2)))
    if style == "pairs_dots":
        return ".".join(_groups("0" + nsn, (2, 2, 2, 2, 2)))
    if style == "pairs_dashes":
        return "-".join(_groups("0" + nsn, (2, 2, 2, 2, 2)))
    if style == "slash":
        cut = 4 if nsn.startswith("1") else 3
        return "0" + nsn[: cut - 1] + "/" + nsn[cut - 1 :]
    if style == "dots":
        return ".".join(_groups(nsn, (3, 3, 4)))
    if style == "dashes":
        return "-".join(_groups(nsn, (3, 3, 4)))
    if style == "one_dashes":
        return "1-" + "-".join(_groups(nsn, (3, 3, 4)))
    if style == "zap":
        return f"({nsn[:2]}) {nsn[2:-4]}-{nsn[-4:]}"
    if style == "zero_xx":
        area = rng.choice(["0xx{}", "0XX{}", "(0xx{})", "0xx {}"]).format(nsn[:2])
        return f"{area} {nsn[2:-4]}-{nsn[-4:]}"
    if style == "pairs_plus":
        return "+" + code + " " + nsn[0] + " " + " ".join(_groups(nsn[1:], (2, 2, 2, 2)))
    raise ValueError(style)


# --- the words of each language -------------------------------------------------------------------------
# "{p}" is where a phone number goes, "{d}" where a decoy value goes.

SELF = {
    "en": [
        "my number is {p}",
        "my cell is {p}",
        "my mobile: {p}",
        "you can reach me at {p}",
        "call me at {p}",
        "text me on {p}",
        "best number for me is {p}",
        "pls call me back on {p}",
        "{p} is my cell",
        "{p} is my number",
        "whatsapp me at {p}",
        "my new number {p}",
        "I'm on {p}",
        "ring me on {p}",
        "contact number: {p}",
        "my phone {p}",
        "callback number {p}",
        "it's me, {p} is my whatsapp",
    ],
    "es": [
        "mi número es {p}",
        "mi cel es {p}",
        "mi celular: {p}",
        "llámame al {p}",
        "me puedes escribir al {p}",
        "mi whatsapp es {p}",
        "puedes contactarme al {p}",
        "{p} es mi número",
        "mi teléfono {p}",
        "márcame al {p}",
        "mi móvil es el {p}",
    ],
    "pt": [
        "meu número é {p}",
        "meu celular: {p}",
        "meu zap é {p}",
        "me liga no {p}",
        "pode me chamar no whats {p}",
        "{p} é meu número",
        "meu telefone {p}",
        "me manda mensagem no {p}",
        "meu telemóvel é {p}",
        "liga-me para o {p}",
    ],
    "fr": [
        "mon numéro est le {p}",
        "mon portable : {p}",
        "mon tél {p}",
        "appelez-moi au {p}",
        "vous pouvez me joindre au {p}",
        "rappelez-moi au {p}",
        "{p} c'est mon numéro",
        "mon numéro de téléphone: {p}",
        "joignable au {p}",
        "écrivez-moi sur whatsapp au {p}",
    ],
    "de": [
        "meine Nummer ist {p}",
        "meine Handynummer: {p}",
        "Sie erreichen mich unter {p}",
        "rufen Sie mich an unter {p}",
        "ruf mich an: {p}",
        "mein Handy {p}",
        "erreichbar unter {p}",
        "{p} ist meine Nummer",
        "meine Telefonnummer lautet {p}",
        "Rückruf bitte unter {p}",
    ],
    "it": [
        "il mio numero è {p}",
        "chiamami al {p}",
        "il mio cellulare: {p}",
        "mi trovi al {p}",
    ],
}

LABEL = {
    "en": ["Phone: {p}", "Tel {p}", "Cell - {p}", "WhatsApp: {p}", "Mobile {p}", "Ph: {p}", "Phone #: {p}"],
    "es": ["Tel: {p}", "Cel. {p}", "Teléfono: {p}", "WhatsApp {p}", "Móvil: {p}"],
    "pt": ["Tel: {p}", "Cel {p}", "Telefone: {p}", "WhatsApp: {p}", "Fone {p}"],
    "fr": ["Tél : {p}", "Portable: {p}", "Téléphone {p}", "Mobile : {p}"],
    "de": ["Tel.: {p}", "Handy: {p}", "Mobil {p}", "Telefon: {p}"],
    "it": ["Tel. {p}", "Cellulare: {p}"],
}

OTHER = {
    "en": [
        "my wife's number is {p}",
        "call my husband at {p}",
        "my son's cell {p}",
        "{p} (my daughter)",
        "my assistant's line is {p}",
        "text my mom on {p}",
        "the venue's number is {p}",
        "my sister: {p}",
        "his number is {p}",
        "her cell is {p}",
    ],
    "es": [
        "el número de mi esposa es {p}",
        "llama a mi marido al {p}",
        "el celular de mi hija: {p}",
        "su número es {p}",
        "el de mi mamá es {p}",
    ],
    "pt": [
        "o número da minha esposa é {p}",
        "liga pro meu marido no {p}",
        "celular da minha mãe: {p}",
        "o número dele é {p}",
    ],
    "fr": [
        "le numéro de ma femme est le {p}",
        "appelez mon mari au {p}",
        "le portable de ma fille : {p}",
        "son numéro est le {p}",
    ],
    "de": [
        "die Nummer meiner Frau ist {p}",
        "rufen Sie meinen Mann an: {p}",
        "Handy meiner Tochter: {p}",
        "seine Nummer ist {p}",
    ],
    "it": ["il numero di mia moglie è {p}", "chiama mio marito al {p}"],
}

BUSINESS_MENTION = {
    "en": ["I tried calling {b} but no answer", "is {b} still your number?", "got a missed call from {b}"],
    "es": ["llamé al {b} y nadie contestó", "¿sigue siendo {b} su número?"],
    "pt": ["liguei no {b} e ninguém atendeu", "o {b} ainda é de vocês?"],
    "fr": ["j'ai appelé le {b} sans réponse", "le {b} est toujours votre numéro ?"],
    "de": ["ich habe {b} angerufen, keiner ging ran", "ist {b} noch Ihre Nummer?"],
    "it": ["ho chiamato il {b} ma nessuno risponde"],
}

OUTBOUND = {
    "en": [
        "Thanks for booking! Questions? Call us at {b}",
        "Your table is confirmed. Our host line is {b}",
        "We'll call you at {p} 15 min before",
        "Got it, we have {p} on file for you",
    ],
    "es": ["¡Gracias! Cualquier duda llámanos al {b}", "Te llamamos al {p} mañana"],
    "pt": ["Obrigado! Qualquer dúvida liga pra gente no {b}", "Vamos te ligar no {p}"],
    "fr": ["Merci ! Pour toute question : {b}", "Nous vous rappelons au {p}"],
    "de": ["Danke! Bei Fragen: {b}", "Wir rufen Sie unter {p} zurück"],
    "it": ["Grazie! Per info chiamateci al {b}"],
}

CHITCHAT = {
    "en": [
        "hi! do you have a table for tonight?",
        "thanks so much, see you then",
        "is the parking free?",
        "can I bring my dog?",
        "running a bit late sorry",
        "what time do you close on sundays",
        "ok perfect",
        "do you do gluten free?",
        "Can I change my appointment to next week?",
        "love the new menu!!",
    ],
    "es": [
        "hola, ¿tienen mesa para hoy?",
        "gracias, nos vemos",
        "¿a qué hora cierran?",
        "perfecto, muchas gracias",
    ],
    "pt": ["oi, vocês abrem amanhã?", "obrigada, até logo", "tem estacionamento?", "perfeito, valeu"],
    "fr": [
        "bonjour, vous avez de la place ce soir ?",
        "merci beaucoup, à bientôt",
        "c'est ouvert dimanche ?",
    ],
    "de": [
        "Hallo, haben Sie heute Abend einen Tisch frei?",
        "Danke, bis dann",
        "Hat der Laden sonntags auf?",
    ],
    "it": ["ciao, avete un tavolo per stasera?", "grazie mille, a presto"],
}

GREETING = {
    "en": ["Hi", "Hello", "Hey there", "Good morning", ""],
    "es": ["Hola", "Buenas tardes", "Buenos días", ""],
    "pt": ["Oi", "Olá", "Bom dia", ""],
    "fr": ["Bonjour", "Salut", "Bonsoir", ""],
    "de": ["Hallo", "Guten Tag", "Moin", ""],
    "it": ["Ciao", "Buongiorno", ""],
}
CLOSING = {
    "en": ["thanks!", "thx", "cheers", "see you soon", ""],
    "es": ["gracias!", "saludos", "un abrazo", ""],
    "pt": ["obrigado!", "valeu", "abraços", ""],
    "fr": ["merci !", "bonne journée", "cordialement", ""],
    "de": ["danke!", "viele Grüße", "LG", ""],
    "it": ["grazie!", "a presto", ""],
}
AND = {"en": " and ", "es": " y ", "pt": " e ", "fr": " et ", "de": " und ", "it": " e "}
OR = {"en": " or ", "es": " o ", "pt": " ou ", "fr": " ou ", "de": " oder ", "it": " o "}

# Misleading cues: a call or text verb, then an identifier that is not a phone.
MISLEADING = {
    "en": [
        "call me about order {d}",
        "can you text me the status of invoice {d}?",
        "I called about ticket {d} yesterday",
        "please ring me re claim {d}",
        "reach me regarding case {d}",
        "my number? it's on booking {d}",
    ],
    "es": ["llámame por el pedido {d}", "escríbeme sobre la factura {d}", "te llamé por el ticket {d}"],
    "pt": ["me liga sobre o pedido {d}", "me manda o status da nota {d}", "liguei sobre o protocolo {d}"],
    "fr": ["appelez-moi pour la commande {d}", "rappelez-moi au sujet du dossier {d}"],
    "de": ["rufen Sie mich wegen Bestellung {d} an", "ich rief wegen Auftrag {d} an"],
    "it": ["chiamami per l'ordine {d}"],
}

# --- decoys ---------------------------------------------------------------------------------------------


@dataclass
class Decoy:
    text: str
    kind: str


def digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def phone_shaped(rng: random.Random, region: str) -> str:
    """National digits of a valid number of ``region``: a decoy that only its label tells apart."""
    number = valid_number(rng, region, rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


def phone_digits(rng: random.Random, region: str) -> str:
    return "".join(ch for ch in phone_shaped(rng, region) if ch.isdigit())


def _pick(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


DecoyMaker = Callable[[random.Random, str, str], Decoy]


def order_number(rng: random.Random, lang: str, region: str) -> Decoy:
    label = _pick(
        rng,
        {
            "en": ["order #", "Order ", "order no. ", "my order number is ", "Order ID: "],
            "es": ["pedido #", "Pedido ", "número de pedido ", "orden "],
            "pt": ["pedido nº ", "Pedido ", "número do pedido "],
            "fr": ["commande n° ", "Commande ", "ma commande "],
            "de": ["Bestellung ", "Bestellnr. ", "Bestellnummer: ", "Auftrag "],
            "it": ["ordine n. ", "Ordine "],
        }[lang],
    )
    value = _pick(
        rng,
        [
            phone_digits(rng, region),
            phone_shaped(rng, region),
            f"{digits(rng, 3)}-{digits(rng, 7)}-{digits(rng, 7)}",
            digits(rng, 8),
            f"{rng.randint(2023, 2026)}-{digits(rng, 3)}-{digits(rng, 4)}",
        ],
    )
    return Decoy(label + value, "order")


def lettered_code(rng: random.Random, lang: str, region: str) -> Decoy:
    prefix = _pick(
        rng, ["ORD", "REF", "INV", "PO", "BK", "RES", "CNF", "TKT", "SO", "AB", "FAC", "PED", "CMD"]
    )
    year = str(rng.randint(2019, 2026))
    nsn = phone_digits(rng, "US")
    value = _pick(
        rng,
        [
            f"{prefix}-{year}-{digits(rng, 6)}",
            f"{prefix}-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}",
            f"{prefix} {year} {digits(rng, 7)}",
            f"{prefix}{digits(rng, 10)}",
            f"{prefix}-{digits(rng, 10)}",
            f"{prefix}/{year}/{digits(rng, 7)}",
            f"{prefix}#{digits(rng, 9)}",
            f"{digits(rng, 3)}-{digits(rng, 3)}-{digits(rng, 4)}-{prefix}",
            f"{prefix}.{year}.{digits(rng, 7)}",
        ],
    )
    lead = _pick(
        rng,
        {
            "en": ["ref ", "code ", "it's ", "", "reference: ", "see "],
            "es": ["referencia ", "código ", "es el ", ""],
            "pt": ["referência ", "código ", "é o ", ""],
            "fr": ["référence ", "code ", "c'est ", ""],
            "de": ["Referenz ", "Vorgang ", "Code ", ""],
            "it": ["riferimento ", "codice ", ""],
        }[lang],
    )
    return Decoy(lead + value, "lettered_code")


def tax_id(rng: random.Random, lang: str, region: str) -> Decoy:
    options = [
        f"USt-IdNr. DE{digits(rng, 9)}",
        f"USt-IdNr: DE {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3, '0123456789')}",
        f"Steuernummer {digits(rng, 2)}/{digits(rng, 3)}/{digits(rng, 5)}",
        f"Steuer-Nr. {digits(rng, 3)}/{digits(rng, 3)}/{digits(rng, 5)}",
        f"NIF {digits(rng, 8)}{rng.choice('TRWAGMYFPDXBNJZSQVHLCKE')}",
        f"NIF: {digits(rng, 9)}",
        f"NIE X{digits(rng, 7)}{rng.choice('TRWAGMY')}",
        f"CIF B{digits(rng, 8)}",
        f"CPF {digits(rng, 3)}.{digits(rng, 3)}.{digits(rng, 3)}-{digits(rng, 2)}",
        f"CPF: {digits(rng, 11)}",
        f"CNPJ {digits(rng, 2)}.{digits(rng, 3)}.{digits(rng, 3)}/0001-{digits(rng, 2)}",
        f"CNPJ {digits(rng, 14)}",
        f"SIRET {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 5)}",
        f"SIREN {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3)}",
        f"n° TVA FR{digits(rng, 2)}{digits(rng, 9)}",
        f"EIN {digits(rng, 2)}-{digits(rng, 7)}",
        f"SSN {digits(rng, 3)}-{digits(rng, 2)}-{digits(rng, 4)}",
        f"VAT GB{digits(rng, 9)}",
        f"RFC {''.join(rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ') for _ in range(4))}{digits(rng, 6)}",
        f"CUIT {digits(rng, 2)}-{digits(rng, 8)}-{digits(rng, 1)}",
        f"DNI {digits(rng, 8)}",
        f"P.IVA {digits(rng, 11)}",
        f"NHS number {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 4)}",
        f"UID-Nr. ATU{digits(rng, 8)}",
    ]
    return Decoy(_pick(rng, options), "tax_id")


def labelled_number(rng: random.Random, lang: str, region: str) -> Decoy:
    """A phone-shaped number under a label that says what it is."""
    value = _pick(rng, [phone_digits(rng, region), phone_shaped(rng, region), digits(rng, 11)])
    labels = {
        "en": [
            ("NPI ", "npi"),
            ("NPI: ", "npi"),
            ("S/N ", "serial"),
            ("serial number ", "serial"),
            ("SN: ", "serial"),
            ("loyalty card ", "card"),
            ("customer card no. ", "card"),
            ("rewards # ", "card"),
            ("member ID ", "member"),
            ("membership no ", "member"),
            ("group # ", "group"),
            ("group number ", "group"),
            ("policy ", "policy"),
            ("policy number: ", "policy"),
            ("account ", "account"),
            ("acct # ", "account"),
            ("account number is ", "account"),
            ("parcel ", "parcel"),
            ("tracking ", "parcel"),
            ("claim # ", "claim"),
            ("patient ID ", "member"),
            ("ticket ", "ticket"),
            ("case number ", "ticket"),
            ("gift card ", "card"),
            ("IMEI ", "serial"),
            ("PIN ", "pin"),
            ("Medicare ", "member"),
        ],
        "es": [
            ("tarjeta de cliente ", "card"),
            ("número de socio ", "member"),
            ("póliza ", "policy"),
            ("número de cuenta ", "account"),
            ("cuenta ", "account"),
            ("paquete ", "parcel"),
            ("seguimiento ", "parcel"),
            ("número de serie ", "serial"),
            ("expediente ", "ticket"),
            ("tarjeta de fidelidad ", "card"),
            ("nº de afiliado ", "member"),
        ],
        "pt": [
            ("cartão fidelidade ", "card"),
            ("número de sócio ", "member"),
            ("apólice ", "policy"),
            ("conta ", "account"),
            ("número da conta ", "account"),
            ("encomenda ", "parcel"),
            ("rastreio ", "parcel"),
            ("número de série ", "serial"),
            ("protocolo ", "ticket"),
            ("matrícula ", "member"),
        ],
        "fr": [
            ("carte de fidélité ", "card"),
            ("n° adhérent ", "member"),
            ("contrat ", "policy"),
            ("numéro de compte ", "account"),
            ("colis ", "parcel"),
            ("numéro de suivi ", "parcel"),
            ("numéro de série ", "serial"),
            ("dossier ", "ticket"),
            ("n° client ", "card"),
            ("police d'assurance ", "policy"),
        ],
        "de": [
            ("Kundennummer ", "card"),
            ("Kundenkarte ", "card"),
            ("Mitgliedsnummer ", "member"),
            ("Versicherungsnummer ", "policy"),
            ("Police ", "policy"),
            ("Kontonummer ", "account"),
            ("Konto ", "account"),
            ("Paket ", "parcel"),
            ("Sendungsnummer ", "parcel"),
            ("Seriennummer ", "serial"),
            ("Vorgangsnummer ", "ticket"),
            ("Versichertennummer ", "member"),
        ],
        "it": [
            ("tessera fedeltà ", "card"),
            ("numero cliente ", "card"),
            ("polizza ", "policy"),
            ("pacco ", "parcel"),
        ],
    }[lang]
    label, kind = rng.choice(labels)
    if rng.random() < 0.15:  # the label after the digits
        tail = {
            "en": " is my member ID",
            "es": " es mi número de socio",
            "pt": " é o número do pedido",
            "fr": " c'est le numéro de commande",
            "de": " ist meine Kundennummer",
            "it": " è il numero d'ordine",
        }[lang]
        return Decoy(value + tail, kind)
    return Decoy(label + value, kind)


def iban(rng: random.Random, lang: str, region: str) -> Decoy:
    country = rng.choice(["DE", "ES", "FR", "PT", "IT", "GB", "BE", "AT"])
    body = digits(rng, 20, "0123456789")
    if country == "GB":
        body = "NWBK" + digits(rng, 14, "0123456789")
    spaced = " ".join(_groups(f"{country}{digits(rng, 2, '0123456789')}{body}", (4, 4, 4, 4, 4, 4)))
    compact = spaced.replace(" ", "")
    return Decoy(rng.choice(["IBAN ", "IBAN: ", "iban ", ""]) + rng.choice([spaced, compact]), "iban")


def app_version(rng: random.Random, lang: str, region: str) -> Decoy:
    version = rng.choice(
        [
            f"{rng.randint(1, 9)}.{rng.randint(10, 40)}.{digits(rng, 3)}.{digits(rng, 4)}",
            f"{rng.randint(2019, 2026)}.{rng.randint(1, 12)}.{digits(rng, 7)}",
            f"{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 30)} ({digits(rng, 8)})",
        ]
    )
    label = _pick(
        rng,
        {
            "en": ["app version ", "version ", "v", "build ", "running "],
            "es": ["versión ", "la app está en la versión ", "v"],
            "pt": ["versão ", "app versão ", "v"],
            "fr": ["version ", "appli version ", "v"],
            "de": ["Version ", "App-Version ", "v"],
            "it": ["versione ", "v"],
        }[lang],
    )
    return Decoy(label + version, "app_version")


def date_range(rng: random.Random, lang: str, region: str) -> Decoy:
    d1, m1, y = rng.randint(1, 27), rng.randint(1, 12), rng.randint(2024, 2026)
    d2 = d1 + rng.randint(1, 3)
    form = rng.choice(
        [
            f"{d1:02d}.{m1:02d}.{y}-{d2:02d}.{m1:02d}.{y}",
            f"{d1:02d}.{m1:02d}.-{d2:02d}.{m1:02d}.{y}",
            f"{d1}.{m1}.{y} - {d2}.{m1}.{y}",
            f"{d1:02d}/{m1:02d}/{y}-{d2:02d}/{m1:02d}/{y}",
            f"{d1:02d}.{m1:02d}.{y} bis {d2:02d}.{m1:02d}.{y}",
            f"{y}-{m1:02d}-{d1:02d} to {y}-{m1:02d}-{d2:02d}",
        ]
    )
    lead = _pick(
        rng,
        {
            "en": ["staying ", "dates: ", "booked for "],
            "es": ["del ", "fechas: ", "reserva "],
            "pt": ["de ", "datas: ", "reserva "],
            "fr": ["du ", "séjour ", "dates : "],
            "de": ["vom ", "Zeitraum ", "Aufenthalt "],
            "it": ["dal ", "date: "],
        }[lang],
    )
    return Decoy(lead + form, "date_range")


def postcode(rng: random.Random, lang: str, region: str) -> Decoy:
    letters = "ABCDEFGHJKLMNPRSTUWXYZ"
    forms = {
        "GB": f"{rng.choice(['SW', 'EC', 'M', 'B', 'LS', 'N'])}{rng.randint(1, 20)} {rng.randint(1, 9)}"
        f"{rng.choice(letters)}{rng.choice(letters)}",
        "US": rng.choice([digits(rng, 5), f"{digits(rng, 5)}-{digits(rng, 4)}"]),
        "CA": f"{rng.choice(letters)}{rng.randint(0, 9)}{rng.choice(letters)} {rng.randint(0, 9)}"
        f"{rng.choice(letters)}{rng.randint(0, 9)}",
        "BR": f"{digits(rng, 5)}-{digits(rng, 3)}",
        "PT": f"{digits(rng, 4)}-{digits(rng, 3)}",
        "NL": f"{digits(rng, 4)} {rng.choice(letters)}{rng.choice(letters)}",
        "AT": digits(rng, 4),
        "BE": digits(rng, 4),
        "CH": f"CH-{digits(rng, 4)}",
        "DE": f"D-{digits(rng, 5, '0123456789')}",
        "FR": f"F-{digits(rng, 5, '0123456789')}",
    }
    # Five-digit codes (DE, FR, ES, IT, MX, ...) are too short to be a phone; the others are not.
    key = region if region in forms else rng.choice(["US", "GB", "BR", "PT", "CA", "NL"])
    lead = _pick(
        rng,
        {
            "en": ["my zip is ", "zip ", "postcode ", "post code: ", "ZIP code "],
            "es": ["código postal ", "CP "],
            "pt": ["CEP ", "código postal "],
            "fr": ["code postal ", "CP "],
            "de": ["PLZ ", "Postleitzahl "],
            "it": ["CAP "],
        }[lang],
    )
    if key in ("US",) or rng.random() < 0.5:
        return Decoy(lead + forms[key], "postcode")
    return Decoy(forms[key], "postcode")


def flight(rng: random.Random, lang: str, region: str) -> Decoy:
    code = rng.choice(["DL", "LH", "AA", "BA", "IB", "AF", "TP", "LA", "UA", "FR", "U2"])
    number = str(rng.randint(10, 9999))
    lead = _pick(
        rng,
        {
            "en": ["flight ", "on ", "landing on "],
            "es": ["vuelo ", "en el vuelo "],
            "pt": ["voo ", "no voo "],
            "fr": ["vol ", "sur le vol "],
            "de": ["Flug ", "mit Flug "],
            "it": ["volo "],
        }[lang],
    )
    tail = _pick(rng, [" 18:00", " (14:35)", "", " gate B12", "!"])
    return Decoy(f"{lead}{code}{rng.choice(['', ' '])}{number}{tail}", "flight")


def ip_address(rng: random.Random, lang: str, region: str) -> Decoy:
    ip = rng.choice(
        [
            f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        ]
    )
    lead = _pick(rng, ["IP ", "ip: ", "router ", "server ", "IP-Adresse ", "adresse IP "])
    return Decoy(lead + ip, "ip_address")


def ticket(rng: random.Random, lang: str, region: str) -> Decoy:
    lead = _pick(
        rng,
        {
            "en": ["ticket #", "ticket ", "support ticket ", "case #", "incident "],
            "es": ["ticket ", "incidencia ", "caso #"],
            "pt": ["chamado ", "ticket ", "protocolo "],
            "fr": ["ticket ", "dossier n° ", "réclamation "],
            "de": ["Ticket ", "Ticketnummer ", "Fall "],
            "it": ["ticket ", "pratica "],
        }[lang],
    )
    return Decoy(
        lead + rng.choice([digits(rng, 7), digits(rng, 10), f"{digits(rng, 4)}-{digits(rng, 6)}"]), "ticket"
    )


def birth_date(rng: random.Random, lang: str, region: str) -> Decoy:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2005)
    lead = _pick(
        rng,
        {
            "en": ["DOB ", "born ", "date of birth "],
            "es": ["fecha de nacimiento ", "nacido el "],
            "pt": ["nascimento ", "data de nasc. "],
            "fr": ["né le ", "date de naissance "],
            "de": ["geb. ", "Geburtsdatum "],
            "it": ["nato il "],
        }[lang],
    )
    form = rng.choice(
        [f"{m}/{d}", f"{m}/{d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}"]
    )
    return Decoy(lead + form, "date")


def price(rng: random.Random, lang: str, region: str) -> Decoy:
    amount = rng.randint(10, 99999)
    form = rng.choice(
        [
            f"${amount:,}.{rng.randint(0, 99):02d}",
            f"R$ {amount:,}".replace(",", ".") + f",{rng.randint(0, 99):02d}",
            f"{amount:,}".replace(",", ".") + f",{rng.randint(0, 99):02d} €",
            f"€{amount}",
            f"{amount} EUR",
            f"£{amount:,}",
            f"{amount:,} MXN",
        ]
    )
    lead = _pick(
        rng,
        {
            "en": ["total ", "paid ", "deposit of ", "the quote was "],
            "es": ["total ", "pagué ", "el presupuesto es de "],
            "pt": ["total ", "paguei ", "o orçamento ficou em "],
            "fr": ["total ", "j'ai payé ", "devis de "],
            "de": ["Summe ", "bezahlt ", "Angebot über "],
            "it": ["totale ", "pagato "],
        }[lang],
    )
    return Decoy(lead + form, "price")


def time_span(rng: random.Random, lang: str, region: str) -> Decoy:
    h = rng.randint(7, 20)
    form = rng.choice(
        [
            f"{h}:{rng.choice(['00', '15', '30', '45'])}",
            f"{h}h{rng.choice(['00', '30'])}",
            f"{h}:00-{h + 2}:00",
            f"{h - 6 if h > 12 else h}pm",
            f"{h}.30 Uhr",
        ]
    )
    lead = _pick(
        rng,
        {
            "en": ["at ", "around ", "pick up "],
            "es": ["a las ", "sobre las "],
            "pt": ["às ", "lá pelas "],
            "fr": ["à ", "vers "],
            "de": ["um ", "gegen "],
            "it": ["alle "],
        }[lang],
    )
    return Decoy(lead + form, "time")


def card_number(rng: random.Random, lang: str, region: str) -> Decoy:
    lead = _pick(rng, ["card ", "Visa ", "tarjeta ", "cartão ", "carte ", "Karte ", "card ending "])
    if lead == "card ending ":
        return Decoy(lead + digits(rng, 4), "card")
    return Decoy(lead + " ".join(digits(rng, 4) for _ in range(4)), "card")


def tracking(rng: random.Random, lang: str, region: str) -> Decoy:
    form = rng.choice(
        [
            f"1Z{digits(rng, 3)}{rng.choice(['AA', 'E0', 'X4'])}{digits(rng, 11, '0123456789')}",
            f"{rng.choice(['LX', 'RR', 'CP', 'AA'])}{digits(rng, 9)}{rng.choice(['DE', 'BR', 'FR', 'ES'])}",
            " ".join(_groups("9400" + digits(rng, 18, "0123456789"), (4, 4, 4, 4, 4, 2))),
            f"JJD{digits(rng, 18, '0123456789')}",
            f"{digits(rng, 4)} {digits(rng, 4)} {digits(rng, 4)}",
        ]
    )
    lead = _pick(
        rng,
        {
            "en": ["tracking ", "tracking no. ", "UPS "],
            "es": ["seguimiento ", "guía "],
            "pt": ["rastreio ", "código de rastreamento "],
            "fr": ["suivi ", "colis "],
            "de": ["Sendung ", "Sendungsnummer "],
            "it": ["spedizione "],
        }[lang],
    )
    return Decoy(lead + form, "tracking")


def misc_numbers(rng: random.Random, lang: str, region: str) -> Decoy:
    form = rng.choice(
        [
            f"ISBN 978-{rng.randint(0, 9)}-{digits(rng, 2)}-{digits(rng, 6)}-{rng.randint(0, 9)}",
            f"coords {rng.randint(10, 60)}.{digits(rng, 4)}, -{rng.randint(10, 120)}.{digits(rng, 4)}",
            f"room {rng.randint(100, 999)}",
            f"table {rng.randint(1, 40)}",
            f"{rng.randint(2, 12)} people",
            f"between {rng.randint(1990, 2010)}-{rng.randint(2011, 2025)}",
            f"sort code {digits(rng, 2)}-{digits(rng, 2)}-{digits(rng, 2)} acc {digits(rng, 8)}",
            f"BIC {rng.choice(['COBADEFFXXX', 'BNPAFRPP', 'CAIXESBB'])}",
            f"MAC 00:1A:{digits(rng, 2)}:{digits(rng, 2)}:3C:{digits(rng, 2)}",
            f"plate {rng.choice(['B', 'M', 'HH'])}-{rng.choice(['AB', 'XY'])} {rng.randint(100, 9999)}",
        ]
    )
    return Decoy(form, "misc")


DECOYS: list[tuple[DecoyMaker, int]] = [
    (order_number, 10),
    (lettered_code, 10),
    (tax_id, 8),
    (labelled_number, 16),
    (iban, 4),
    (app_version, 4),
    (date_range, 4),
    (postcode, 6),
    (flight, 4),
    (ip_address, 3),
    (ticket, 5),
    (birth_date, 4),
    (price, 5),
    (time_span, 4),
    (card_number, 3),
    (tracking, 4),
    (misc_numbers, 4),
]


def any_decoy(rng: random.Random, lang: str, region: str) -> Decoy:
    makers, weights = zip(*DECOYS, strict=True)
    return rng.choices(makers, weights)[0](rng, lang, region)


# --- messages -------------------------------------------------------------------------------------------


@dataclass
class Message:
    text: str
    kind: str
    phones: list[str] = field(default_factory=list)
    sender_phones: list[str] = field(default_factory=list)
    decoys: list[str] = field(default_factory=list)
    direction: str = "in"


@dataclass
class Scene:
    rng: random.Random
    lang: str
    region: str
    business: list[phonenumbers.PhoneNumber]

    def phone(self, style: str = "", foreign: bool = False) -> tuple[str, str]:
        """(as written, E.164) of a random valid number of the business's region (or another)."""
        rng = self.rng
        region = self.region
        if foreign or rng.random() < 0.06:
            region = rng.choice(["US", "GB", "DE", "FR", "ES", "BR", "MX", "IT", "PT", "AR", "IN", "CH"])
        number = valid_number(
            rng, region, rng.choice([PhoneNumberType.MOBILE] * 3 + [PhoneNumberType.FIXED_LINE])
        )
        if region != self.region and style not in ("international", "e164", "idd"):
            style = rng.choice(["international", "e164", "idd"])
        return written(rng, number, self.region, style), e164(number)

    def words(self, table: dict[str, list[str]]) -> str:
        return self.rng.choice(table[self.lang])

    def wrap(self, body: str) -> str:
        rng = self.rng
        greeting = rng.choice(GREETING[self.lang]) if rng.random() < 0.35 else ""
        closing = rng.choice(CLOSING[self.lang]) if rng.random() < 0.35 else ""
        parts = [p for p in (greeting, body, closing) if p]
        glue = rng.choice([" ", ", ", ". ", "! ", "\n"])
        return glue.join(parts)

    def join(self, first: str, second: str) -> str:
        glue = self.rng.choice([", ", ". ", " - ", "\n", "; ", AND[self.lang], " ", " / "])
        return first + glue + second


def cued_phone(scene: Scene) -> tuple[str, str]:
    """(clause, E.164) of the sender's phone with a self cue or a label."""
    written_, number = scene.phone()
    template = scene.words(SELF) if scene.rng.random() < 0.7 else scene.words(LABEL)
    return template.format(p=written_), number


def make_self(scene: Scene) -> Message:
    clause, number = cued_phone(scene)
    return Message(scene.wrap(clause), "self", [number], [number])


def make_phone_with_decoys(scene: Scene) -> Message:
    clause, number = cued_phone(scene)
    decoys = [any_decoy(scene.rng, scene.lang, scene.region) for _ in range(scene.rng.choice([1, 1, 2]))]
    parts = [clause, *(d.text for d in decoys)]
    scene.rng.shuffle(parts)
    body = parts[0]
    for part in parts[1:]:
        body = scene.join(body, part)
    return Message(scene.wrap(body), "phone_beside_decoy", [number], [number], [d.kind for d in decoys])


def make_bare_with_decoy(scene: Scene) -> Message:
    written_, number = scene.phone()
    decoy = any_decoy(scene.rng, scene.lang, scene.region)
    parts = [written_, decoy.text]
    scene.rng.shuffle(parts)
    return Message(scene.join(*parts), "bare_beside_decoy", [number], [number], [decoy.kind])


def make_decoys(scene: Scene) -> Message:
    decoys = [any_decoy(scene.rng, scene.lang, scene.region) for _ in range(scene.rng.choice([1, 1, 2]))]
    body = decoys[0].text
    for decoy in decoys[1:]:
        body = scene.join(body, decoy.text)
    return Message(scene.wrap(body), "decoy", [], [], [d.kind for d in decoys])


def make_misleading(scene: Scene) -> Message:
    rng = scene.rng
    value = rng.choice(
        [
            f"{rng.randint(2023, 2026)}-{phone_digits(rng, 'US')[3:6]}-{digits(rng, 4)}",
            phone_digits(rng, scene.region),
            phone_shaped(rng, scene.region),
            f"#{phone_digits(rng, scene.region)}",
        ]
    )
    text = scene.words(MISLEADING).format(d=value)
    if rng.random() < 0.35:  # and the sender's real number, cued, in the same message
        clause, number = cued_phone(scene)
        return Message(
            scene.wrap(scene.join(text, clause)), "misleading_cue", [number], [number], ["misleading"]
        )
    return Message(scene.wrap(text), "misleading_cue", [], [], ["misleading"])


GLUE_BEFORE = {
    "en": ["reach me at{p}", "call me at{p}", "cell{p}", "text me on{p}", "my number is{p}", "ph{p}"],
    "es": ["mi número es{p}", "llámame al{p}", "cel{p}", "whatsapp{p}"],
    "pt": ["meu número é{p}", "me liga no{p}", "zap{p}", "cel{p}"],
    "fr": ["mon numéro{p}", "appelez-moi au{p}", "tél{p}", "portable{p}"],
    "de": ["Nummer{p}", "Handy{p}", "Tel.{p}", "meine Nummer{p}"],
    "it": ["cell{p}", "chiamami al{p}"],
}
GLUE_AFTER = {
    "en": ["call me {p}pls", "text me {p}thx", "my cell {p}thanks", "reach me on {p}asap", "call {p}plz"],
    "es": ["llámame al {p}porfa", "mi cel {p}gracias", "escríbeme al {p}pf"],
    "pt": ["me liga {p}pfv", "meu zap {p}obg", "me chama {p}valeu"],
    "fr": ["appelez-moi au {p}svp", "mon portable {p}merci", "rappelez au {p}stp"],
    "de": ["ruf mich an {p}bitte", "meine Nummer {p}danke", "Handy {p}lg"],
    "it": ["chiamami al {p}grazie"],
}


def make_glued(scene: Scene) -> Message:
    rng = scene.rng
    written_, number = scene.phone(rng.choice(["plain", "national", "international", ""]))
    if rng.random() < 0.5:
        text = scene.words(GLUE_BEFORE).format(p=written_)
    else:
        text = scene.words(GLUE_AFTER).format(p=written_)
    decoys: list[str] = []
    if rng.random() < 0.3:
        decoy = any_decoy(rng, scene.lang, scene.region)
        text = scene.join(text, decoy.text)
        decoys.append(decoy.kind)
    return Message(scene.wrap(text), "glued", [number], [number], decoys)


LIST_HEAD = {
    "en": ["numbers:", "here are our numbers", "contacts"],
    "es": ["números:", "nuestros teléfonos:"],
    "pt": ["números:", "nossos contatos:"],
    "fr": ["numéros :", "nos coordonnées :"],
    "de": ["Nummern:", "unsere Kontakte:"],
    "it": ["numeri:"],
}
LIST_SELF = {
    "en": ["me", "mine", "my cell", "home", "work"],
    "es": ["yo", "mi cel", "casa", "trabajo"],
    "pt": ["eu", "meu cel", "casa", "trabalho"],
    "fr": ["moi", "mon portable", "maison", "travail"],
    "de": ["ich", "mein Handy", "privat", "Büro"],
    "it": ["io", "casa"],
}
LIST_OTHER = {
    "en": ["my wife", "husband", "mom", "my son", "dad"],
    "es": ["mi esposa", "mi marido", "mamá", "mi hijo"],
    "pt": ["minha esposa", "meu marido", "mãe", "meu filho"],
    "fr": ["ma femme", "mon mari", "maman", "mon fils"],
    "de": ["meine Frau", "mein Mann", "Mama", "mein Sohn"],
    "it": ["mia moglie", "mio marito"],
}


def make_list(scene: Scene) -> Message:
    rng = scene.rng
    count = rng.choice([2, 2, 3])
    lines: list[str] = []
    phones: list[str] = []
    senders: list[str] = []
    bullet = rng.choice(["", "- ", "* ", "{i}) ", "{i}. "])
    named = rng.random() < 0.7
    for i in range(count):
        written_, number = scene.phone()
        phones.append(number)
        head = bullet.format(i=i + 1)
        if named:
            mine = i == 0 and rng.random() < 0.7
            name = scene.words(LIST_SELF) if mine else scene.words(LIST_OTHER)
            sep = rng.choice([": ", " ", " - "])
            lines.append(f"{head}{name}{sep}{written_}")
            if mine:
                senders.append(number)
        else:
            lines.append(f"{head}{written_}")
    if rng.random() < 0.25:
        decoy = any_decoy(rng, scene.lang, scene.region)
        lines.append(decoy.text)
        decoys = [decoy.kind]
    else:
        decoys = []
    text = scene.words(LIST_HEAD) + "\n" + "\n".join(lines)
    return Message(text, "list", phones, senders, decoys)


def make_other(scene: Scene) -> Message:
    written_, number = scene.phone()
    text = scene.words(OTHER).format(p=written_)
    phones, senders = [number], []
    if scene.rng.random() < 0.4:
        clause, own = cued_phone(scene)
        text = scene.join(clause, text) if scene.rng.random() < 0.5 else scene.join(text, clause)
        phones, senders = [number, own], [own]
    return Message(scene.wrap(text), "other_person", phones, senders)


def make_business(scene: Scene) -> Message:
    business = scene.business[0]
    written_ = written(scene.rng, business, scene.region, "national")
    text = scene.words(BUSINESS_MENTION).format(b=written_)
    return Message(scene.wrap(text), "business_number", [e164(business)], [])


def make_outbound(scene: Scene) -> Message:
    rng = scene.rng
    template = scene.words(OUTBOUND)
    business = written(rng, scene.business[0], scene.region, "national")
    written_, number = scene.phone()
    text = template.format(b=business, p=written_)
    phones = [e164(scene.business[0])] if "{b}" in template else [number]
    decoys: list[str] = []
    if rng.random() < 0.4:
        decoy = any_decoy(rng, scene.lang, scene.region)
        text = scene.join(text, decoy.text)
        decoys.append(decoy.kind)
    return Message(text, "outbound", phones, [], decoys, direction="out")


def make_bare(scene: Scene) -> Message:
    written_, number = scene.phone()
    return Message(scene.wrap(written_), "bare", [number], [number])


def make_chitchat(scene: Scene) -> Message:
    return Message(scene.words(CHITCHAT), "chitchat")


def make_idd(scene: Scene) -> Message:
    """An international prefix typed where it is not the region's ("00 91 ...", "011 44 ...")."""
    written_, number = scene.phone("idd", foreign=True)
    template = scene.words(SELF) if scene.rng.random() < 0.7 else "{p}"
    return Message(scene.wrap(template.format(p=written_)), "idd_prefix", [number], [number])


MAKERS: list[tuple[Callable[[Scene], Message], int]] = [
    (make_chitchat, 24),
    (make_decoys, 36),
    (make_misleading, 6),
    (make_self, 9),
    (make_phone_with_decoys, 20),
    (make_bare_with_decoy, 2),
    (make_glued, 5),
    (make_list, 4),
    (make_other, 4),
    (make_business, 2),
    (make_outbound, 4),
    (make_bare, 2),
    (make_idd, 2),
]


# --- a second batch: more layouts and contexts ------------------------------------------------------------

SEED_MORE = 11_2027
MORE_MESSAGES = 1500


def layout(rng: random.Random, number: phonenumbers.PhoneNumber, region: str) -> str:
    """The number in one of many layouts people use (beyond :func:`written`'s)."""
    nsn = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    national = str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    international = str(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
    # "(0)" for the trunk prefix is written in countries that dial one ("+44 (0)20 ...", "+49 (0)151 ...").
    trunk = (
        "0"
        if phonenumbers.region_code_for_number(number) in ("GB", "DE", "AT", "CH", "FR", "BE", "NL")
        else ""
    )
    rest = " ".join(international.split(" ")[1:])
    options = [
        national,
        international,
        "+" + code + nsn,
        f"+{code} ({trunk}){rest}" if trunk else f"+{code} {rest}",
        f"00{code} {rest}",
        f"(+{code}) {rest}",
        international.replace(" ", "-"),
        international.replace(" ", "."),
        national.replace(" ", "\u00a0"),
        national.replace("-", "\u2013"),
        f"+{code}-{nsn}",
        f"{national} ext. {rng.randint(2, 999)}" if region in ("US", "CA") else national,
        f"{national} x{rng.randint(2, 99)}" if region in ("US", "CA") else international,
    ]
    if phonenumbers.region_code_for_number(number) != region:
        options = [o for o in options if o.startswith(("+", "00", "(+"))]
    return rng.choice(options)


def wrapped(rng: random.Random, written_: str) -> str:
    """The number with what sometimes sits around it: brackets, quotes, stars, an emoji, a full stop."""
    return rng.choice(
        [
            "{}",
            "({})",
            "[{}]",
            "*{}*",
            '"{}"',
            "\U0001f4de {}",
            "\u260e\ufe0f {}",
            "{}.",
            "{}!",
            "{}?",
            "{} :)",
            "{},",
        ]
    ).format(written_)


MORE_SELF = {
    "en": [
        "my backup number is {p}",
        "alternative number: {p}",
        "my second phone {p}",
        "you can also try me on {p}",
        "best to text me at {p}",
        "call or text {p}",
        "here's my number {p}",
        "my work line is {p}",
        "reach me anytime at {p}",
        "I'm reachable on {p}",
        "number's {p}",
    ],
    "es": ["mi otro número es {p}", "contacto: {p}", "me encuentras en el {p}", "llámame o escríbeme al {p}"],
    "pt": ["meu outro número é {p}", "contato: {p}", "me acha no zap {p}", "pode ligar no {p}"],
    "fr": ["mon autre numéro : {p}", "joignable au {p}", "mon perso {p}", "n'hésitez pas à m'appeler au {p}"],
    "de": ["meine zweite Nummer: {p}", "Mobil erreichbar unter {p}", "Sie können mich unter {p} anrufen"],
    "it": ["il mio altro numero è {p}", "contattami al {p}"],
}
LINKS = [
    "wa.me/{d}",
    "https://wa.me/{d}",
    "tel:+{d}",
    "tel:{p}",
    "whatsapp: +{d}",
    "api.whatsapp.com/send?phone={d}",
]
SIGN_OFF = {
    "en": ["Best,", "Thanks,", "Regards,"],
    "es": ["Saludos,", "Gracias,"],
    "pt": ["Abraços,", "Obrigado,"],
    "fr": ["Cordialement,", "Merci,"],
    "de": ["Viele Grüße,", "Mit freundlichen Grüßen,"],
    "it": ["Saluti,"],
}
NAMES = ["Ana Lima", "John Carter", "Marie Dubois", "Jonas Weber", "Lucía Gómez", "Priya Shah", "Paolo Rossi"]
CONTEXT_BEFORE = {
    "en": [
        "we'll be {n} people at 7:30pm",
        "paid $45.00 yesterday",
        "table for {n} on 12/05",
        "arriving around 6",
    ],
    "es": ["seremos {n} personas a las 20:30", "pagué 45,00 € ayer", "mesa para {n} el 12/05"],
    "pt": ["seremos {n} pessoas às 20h", "paguei R$ 45,00 ontem", "mesa para {n} dia 12/05"],
    "fr": ["nous serons {n} à 20h30", "j'ai payé 45,00 € hier", "table pour {n} le 12/05"],
    "de": ["wir sind {n} Personen um 19:30", "habe gestern 45,00 € bezahlt", "Tisch für {n} am 12.05."],
    "it": ["saremo in {n} alle 20:30"],
}


def make_layouts(scene: Scene) -> Message:
    rng = scene.rng
    foreign = rng.random() < 0.25
    region = (
        rng.choice(["US", "GB", "DE", "FR", "ES", "BR", "MX", "PT", "IN", "IT"]) if foreign else scene.region
    )
    number = valid_number(rng, region, rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    text = wrapped(rng, layout(rng, number, scene.region))
    cue = rng.random()
    if cue < 0.5:
        text = scene.words(MORE_SELF).format(p=text)
    elif cue < 0.75:
        text = scene.words(SELF).format(p=text)
    decoys: list[str] = []
    if rng.random() < 0.5:
        decoy = any_decoy(rng, scene.lang, scene.region)
        text = scene.join(text, decoy.text) if rng.random() < 0.5 else scene.join(decoy.text, text)
        decoys.append(decoy.kind)
    return Message(scene.wrap(text), "layout", [e164(number)], [e164(number)], decoys)


def make_link(scene: Scene) -> Message:
    rng = scene.rng
    _, number = scene.phone("e164")
    template = rng.choice(LINKS)
    link = template.format(d=number[1:], p=number)
    lead = rng.choice(["", "whatsapp me: ", "my link ", "chat with me: ", "clique aqui ", "schreib mir: "])
    return Message(scene.wrap(lead + link), "link", [number], [number])


def make_signature(scene: Scene) -> Message:
    rng = scene.rng
    written_, number = scene.phone()
    lines = [scene.words(CHITCHAT), rng.choice(SIGN_OFF[scene.lang]), rng.choice(NAMES)]
    lines.append(scene.words(LABEL).format(p=written_))
    if rng.random() < 0.6:
        lines.append(rng.choice(NAMES).split()[0].lower() + "@example.com")
    decoys: list[str] = []
    if rng.random() < 0.5:
        decoy = rng.choice([postcode, tax_id, iban, labelled_number])(rng, scene.lang, scene.region)
        lines.append(decoy.text)
        decoys.append(decoy.kind)
    return Message("\n".join(lines), "signature", [number], [number], decoys)


def make_changed(scene: Scene) -> Message:
    rng = scene.rng
    old, old_number = scene.phone()
    new, new_number = scene.phone()
    text = rng.choice(
        {
            "en": [
                "my number changed from {a} to {b}",
                "new number {b} (old one was {a})",
                "please use {b} not {a}",
            ],
            "es": ["cambié de número: antes {a}, ahora {b}", "mi nuevo número es {b}, ya no uso {a}"],
            "pt": ["troquei de número: era {a}, agora é {b}", "meu número novo é {b}, não uso mais o {a}"],
            "fr": ["j'ai changé de numéro : {b} au lieu de {a}", "nouveau numéro {b} (ancien {a})"],
            "de": ["neue Nummer: {b} (alte war {a})", "bitte {b} statt {a} verwenden"],
            "it": ["nuovo numero {b} (vecchio {a})"],
        }[scene.lang]
    ).format(a=old, b=new)
    # Both are the sender's own numbers, the old and the new one.
    return Message(scene.wrap(text), "changed", [old_number, new_number], [old_number, new_number])


def make_context(scene: Scene) -> Message:
    rng = scene.rng
    written_, number = scene.phone()
    before = scene.words(CONTEXT_BEFORE).format(n=rng.randint(2, 12))
    cue = scene.words(SELF).format(p=written_) if rng.random() < 0.7 else written_
    senders = [number]
    return Message(scene.wrap(scene.join(before, cue)), "context", [number], senders)


MORE_MAKERS: list[tuple[Callable[[Scene], Message], int]] = [
    (make_chitchat, 20),
    (make_decoys, 25),
    (make_layouts, 25),
    (make_link, 4),
    (make_signature, 8),
    (make_changed, 4),
    (make_context, 10),
    (make_misleading, 4),
]


# --- a third batch: identifiers named without their value, values right before a phone -----------------

SEED_THIRD = 11_2028
THIRD_MESSAGES = 1200

# What the message is about, naming an identifier but not giving it; the phone follows after a comma.
TOPIC = {
    "en": [
        "question about my order",
        "about the invoice",
        "re my booking",
        "regarding my reservation",
        "my parcel hasn't arrived yet",
        "quick question on my account",
        "I lost my loyalty card",
    ],
    "es": ["una pregunta sobre mi pedido", "sobre la factura", "por mi reserva", "mi paquete no ha llegado"],
    "pt": ["dúvida sobre o meu pedido", "sobre a fatura", "sobre a minha reserva", "a encomenda não chegou"],
    "fr": ["question sur ma commande", "au sujet de la facture", "pour ma réservation", "mon colis"],
    "de": ["Frage zu meiner Bestellung", "wegen der Rechnung", "zu meiner Reservierung", "mein Paket"],
    "it": ["domanda sul mio ordine", "per la fattura"],
}
VALUE_LABEL = {
    "en": ["order ", "Order #", "invoice ", "ticket ", "room ", "booking ref ", "ZIP "],
    "es": ["pedido ", "factura ", "reserva nº ", "CP "],
    "pt": ["pedido ", "fatura ", "reserva nº ", "CEP "],
    "fr": ["commande ", "facture ", "réservation n° ", "CP "],
    "de": ["Bestellung ", "Rechnung ", "Reservierung ", "PLZ "],
    "it": ["ordine ", "fattura "],
}
# Phone labels as people shorten them in signatures and forms.
SHORT_LABELS = {
    "en": ["Tel: ", "T: ", "M: ", "Mob: ", "Cell: ", "Ph. "],
    "es": ["Tlf: ", "Tel.: ", "Móvil: ", "Cel. "],
    "pt": ["Tlm: ", "Tel.: ", "Cel: ", "Telem.: "],
    "fr": ["Tél : ", "Port : ", "Mob. : ", "Fixe : "],
    "de": ["Tel.: ", "Mobil: ", "Handy: ", "Fon: "],
    "it": ["Tel. ", "Cell. "],
}


def make_topic(scene: Scene) -> Message:
    """An identifier named without its value, then the sender's number after a comma."""
    rng = scene.rng
    written_, number = scene.phone()
    text = f"{scene.words(TOPIC)}, {wrapped(rng, written_)}"
    return Message(scene.wrap(text), "topic_then_phone", [number], [number])


def make_value_then_phone(scene: Scene) -> Message:
    """An identifier's value, a space, and the sender's number: nothing but the space between them."""
    rng = scene.rng
    value = rng.choice(
        [
            digits(rng, rng.randint(4, 8)),
            f"{rng.randint(2019, 2026)}-{digits(rng, rng.randint(3, 6))}",
            f"{rng.choice(['ORD', 'REF', 'INV', 'BK'])}-{digits(rng, 6)}",
        ]
    )
    label = scene.words(VALUE_LABEL) if rng.random() < 0.8 else ""
    written_, number = scene.phone(rng.choice(["", "national", "international", "plain"]))
    text = scene.wrap(f"{label}{value} {written_}")
    return Message(text, "value_then_phone", [number], [number], ["value"])


def make_short_labels(scene: Scene) -> Message:
    """A signature block of phones under shortened labels, on one line or on several."""
    rng = scene.rng
    first, first_number = scene.phone()
    second, second_number = scene.phone()
    labels = rng.sample(SHORT_LABELS[scene.lang], 2)
    glue = rng.choice([" / ", " | ", "\n", ", "])
    text = f"{labels[0]}{first}{glue}{labels[1]}{second}"
    numbers = [first_number, second_number]
    return Message(f"{rng.choice(NAMES)}\n{text}", "short_labels", numbers, numbers)


def make_no_plus(scene: Scene) -> Message:
    """A number from abroad written with its country code but without the '+' ("44 7911 123456")."""
    rng = scene.rng
    country = rng.choice(
        [r for r in ("US", "GB", "DE", "FR", "ES", "BR", "MX", "IT", "PT", "IN") if r != scene.region]
    )
    number = valid_number(rng, country, PhoneNumberType.MOBILE)
    international = str(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
    written_ = international.lstrip("+")
    if rng.random() < 0.8:
        written_ = scene.words(SELF).format(p=written_)
    return Message(scene.wrap(written_), "no_plus", [e164(number)], [e164(number)])


THIRD_MAKERS: list[tuple[Callable[[Scene], Message], int]] = [
    (make_topic, 30),
    (make_value_then_phone, 30),
    (make_short_labels, 20),
    (make_decoys, 20),
    (make_no_plus, 8),
]


def generate(
    seed: int = SEED,
    count: int = TARGET_MESSAGES,
    makers_table: list[tuple[Callable[[Scene], Message], int]] = MAKERS,
    prefix: str = "tune",
) -> list[dict[str, object]]:
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    languages, weights = zip(*LANGUAGE_WEIGHTS.items(), strict=True)
    makers, maker_weights = zip(*makers_table, strict=True)
    for index in range(count):
        lang = rng.choices(languages, weights)[0]
        regions, region_weights = zip(*REGIONS[lang], strict=True)
        region = rng.choices(regions, region_weights)[0]
        if rng.random() < 0.12:  # a customer writing in another language than the business's
            lang = rng.choice([other for other in LANGUAGE_WEIGHTS if other != lang])
        business = [valid_number(rng, region, PhoneNumberType.FIXED_LINE)]
        scene = Scene(rng, lang, region, business)
        maker = rng.choices(makers, maker_weights)[0]
        message = maker(scene)
        records.append(
            {
                "id": f"{prefix}-{index:05d}",
                "text": message.text,
                "region": region,
                "language": lang,
                "direction": message.direction,
                "channel": rng.choice(CHANNELS),
                "business_numbers": [e164(n) for n in business],
                "phones": message.phones,
                "sender_phones": message.sender_phones if message.direction == "in" else [],
                "kind": message.kind,
                "decoys": message.decoys,
            }
        )
    return records


def main() -> None:
    # Each batch stays as it was when rules were tuned on it: the first; the second adds layouts and
    # contexts; the third identifiers named without a value and values right before a phone.
    records = (
        generate()
        + generate(SEED_MORE, MORE_MESSAGES, MORE_MAKERS, "tune2")
        + generate(SEED_THIRD, THIRD_MESSAGES, THIRD_MAKERS, "tune3")
    )
    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with_phone = sum(1 for r in records if r["phones"])
    print(f"wrote {len(records)} messages ({with_phone} with a phone) to {OUT}")


if __name__ == "__main__":
    main()
