"""Generate tests/corpus/business_chat.jsonl: realistic business chat, mostly without phone numbers.

Deterministic (fixed seed): run ``python tests/corpus/generate_business_chat.py`` and commit the
output next to this script. The messages imitate what customers and staff of small businesses
(restaurants and caterers, salons, clinics, hotels, shops, garages) write over SMS, WhatsApp,
Instagram, Messenger and booking forms, in English, Spanish, Portuguese, French, German and Italian.

Each record says what a human reader would: ``phones`` is every phone number in the text (E.164,
whoever it belongs to), ``sender_phones`` the ones that are the sender's own. Decoys (order, booking,
confirmation and tracking numbers, ZIP+4, prices, dates and times, IP addresses, card numbers, tax
ids, guest counts) are written as people write them, and are not phones. Phone numbers are random
numbers that libphonenumber's metadata says are in use, written in the layouts of their country.

The generator knows nothing of the extractor under test; it only uses ``phonenumbers`` to pick
numbers that exist and to write them in national and international layouts.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

SEED = 20261121
TARGET_MESSAGES = 4500
OUT = Path(__file__).with_name("business_chat.jsonl")

# --- phone numbers --------------------------------------------------------------------------------------

REGION_LANG = {
    "US": "en",
    "CA": "en",
    "GB": "en",
    "AU": "en",
    "IN": "en",
    "IE": "en",
    "MX": "es",
    "ES": "es",
    "AR": "es",
    "CO": "es",
    "BR": "pt",
    "PT": "pt",
    "FR": "fr",
    "DE": "de",
    "IT": "it",
    "AE": "en",
    "SA": "en",
    "EG": "en",
    "JP": "en",
}
# Weighted: most of our customers are in the US.
REGION_WEIGHTS = {
    "US": 40,
    "CA": 4,
    "GB": 6,
    "AU": 3,
    "IN": 3,
    "IE": 1,
    "MX": 6,
    "ES": 4,
    "AR": 3,
    "CO": 2,
    "BR": 7,
    "PT": 2,
    "FR": 4,
    "DE": 5,
    "IT": 3,
    "AE": 2,
    "SA": 1,
    "EG": 1,
    "JP": 2,
}

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FULLWIDTH = str.maketrans(
    "0123456789+-()", "".join(chr(0xFF10 + i) for i in range(10)) + "\uff0b\uff0d\uff08\uff09"
)


def random_number(rng: random.Random, region: str, kind: PhoneNumberType) -> phonenumbers.PhoneNumber:
    """A random number that libphonenumber says is valid, near the region's example number."""
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
    nsn = str(example.national_number)
    for _ in range(500):
        keep = max(2, len(nsn) - rng.randint(4, 7))
        digits = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
        candidate = phonenumbers.parse("+" + str(example.country_code) + digits, None)
        if (
            phonenumbers.is_valid_number(candidate)
            and phonenumbers.region_code_for_number(candidate) == region
        ):
            if region in {"US", "CA"} and rng.random() < 0.85:
                area = str(candidate.national_number)[:3]
                candidate = _nanp(rng, region, area)
            return candidate
    return example


_US_AREAS = ["212", "213", "305", "312", "415", "512", "617", "646", "702", "713", "720", "916", "408", "503"]
_CA_AREAS = ["416", "604", "514", "403", "613", "647"]


def _nanp(rng: random.Random, region: str, area: str) -> phonenumbers.PhoneNumber:
    areas = _US_AREAS if region == "US" else _CA_AREAS
    for _ in range(200):
        a = rng.choice(areas)
        exchange = str(rng.randint(201, 989))
        line = f"{rng.randint(0, 9999):04d}"
        number = phonenumbers.parse(f"+1{a}{exchange}{line}", None)
        if phonenumbers.is_valid_number(number) and exchange[1:] != "11":
            return number
    return phonenumbers.parse(f"+1{area}5550123", None)


def e164(number: phonenumbers.PhoneNumber) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def write_number(rng: random.Random, number: phonenumbers.PhoneNumber, home: str) -> str:
    """The number as a person in ``home`` would type it."""
    region = phonenumbers.region_code_for_number(number)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    plain = e164(number)
    nsn = str(number.national_number)
    cc = str(number.country_code)
    if region != home:
        # A foreign number: written with its country code, in one of the ways people do.
        styles = [intl, plain, intl.replace(" ", "-", 1), "00" + plain[1:], intl.replace("-", " ")]
        if home in {"US", "CA"}:
            styles.append("011 " + intl[1:])
        return rng.choice(styles)
    if region in {"US", "CA"}:
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        styles = [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"{a}{b}{c}",
            f"{a} {b} {c}",
            f"+1 {a} {b} {c}",
            f"+1 ({a}) {b}-{c}",
            f"1-{a}-{b}-{c}",
            f"+1{a}{b}{c}",
            f"({a}){b}-{c}",
            f"{a}/{b}-{c}",
            f"1 ({a}) {b} {c}",
            f"{a}-{b}{c}",
        ]
        written = rng.choice(styles)
    else:
        styles = [national, national, intl, intl, plain]
        if " " in national:
            styles.append(national.replace(" ", ""))
            styles.append(national.replace(" ", "."))
        if region == "FR":
            styles.append(national.replace(" ", "."))
            styles.append(national.replace(" ", "-"))
            styles.append("+33 (0)" + national[1:])
        if region == "DE":
            styles.append(national.replace(" ", "/", 1))
            styles.append("+49 (0)" + national[1:])
            styles.append(national.replace(" ", " - ", 1))
        if region == "GB":
            styles.append("+44 (0)" + national[1:])
        if region == "BR":
            styles.append(f"{nsn[:2]} {nsn[2:-4]}-{nsn[-4:]}")
            styles.append(f"+55 ({nsn[:2]}) {nsn[2:-4]}-{nsn[-4:]}")
        if region == "MX":
            styles.append(f"{nsn[:2]} {nsn[2:6]} {nsn[6:]}")
        if region == "AR":
            styles.append(f"+54 9 {nsn[1:3]} {nsn[3:7]}-{nsn[7:]}" if nsn.startswith("9") else intl)
        if region == "IN":
            styles.append(f"+91-{nsn[:5]}-{nsn[5:]}")
            styles.append(f"0{nsn}")
        if cc in {"971", "966", "20"}:
            styles.append("00" + plain[1:])
        written = rng.choice(styles)
    if region in {"AE", "SA", "EG"} and rng.random() < 0.45:
        written = written.translate(ARABIC_INDIC if rng.random() < 0.8 else PERSIAN)
    if region == "JP" and rng.random() < 0.5:
        written = written.translate(FULLWIDTH)
    if rng.random() < 0.04 and region in {"US", "CA", "GB"}:
        written += rng.choice([" x204", " ext. 12", " ext 3", " x 15"])
    return written


# --- decoys ---------------------------------------------------------------------------------------------


def digits(rng: random.Random, n: int, lead: str = "123456789") -> str:
    return rng.choice(lead) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def luhn_card(rng: random.Random) -> str:
    body = rng.choice(["4", "51", "52", "37", "6011"])
    length = 15 if body == "37" else 16
    while len(body) < length - 1:
        body += rng.choice("0123456789")
    total = 0
    for i, ch in enumerate(reversed(body)):
        v = int(ch)
        if i % 2 == 0:
            v = v * 2 - 9 if v > 4 else v * 2
        total += v
    card = body + str((10 - total % 10) % 10)
    if length == 16 and rng.random() < 0.7:
        sep = rng.choice([" ", "-"])
        card = sep.join(card[i : i + 4] for i in range(0, 16, 4))
    return card


def date_text(rng: random.Random, lang: str) -> str:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.choice([2024, 2025, 2026])
    if lang == "en":
        return rng.choice(
            [f"{m}/{d}/{y}", f"{m:02d}/{d:02d}/{y}", f"{m}/{d}", f"{y}-{m:02d}-{d:02d}", f"{m}/{d}/{y % 100}"]
        )
    if lang == "de":
        return rng.choice([f"{d}.{m}.{y}", f"{d:02d}.{m:02d}.{y}", f"{d}.{m}."])
    return rng.choice([f"{d}/{m}/{y}", f"{d:02d}/{m:02d}/{y}", f"{d}/{m}", f"{d:02d}-{m:02d}-{y}"])


def time_text(rng: random.Random, lang: str) -> str:
    h, mnt = rng.randint(8, 21), rng.choice([0, 15, 30, 45])
    if lang == "en":
        return rng.choice(
            [
                f"{h % 12 or 12}:{mnt:02d}pm",
                f"{h % 12 or 12}pm",
                f"{h}:{mnt:02d}",
                f"{h % 12 or 12}:{mnt:02d} PM",
            ]
        )
    if lang == "fr":
        return rng.choice([f"{h}h{mnt:02d}", f"{h}h", f"{h}:{mnt:02d}"])
    if lang == "pt":
        return rng.choice([f"{h}h", f"{h}:{mnt:02d}", f"{h}h{mnt:02d}"])
    return f"{h}:{mnt:02d}"


def price_text(rng: random.Random, region: str) -> str:
    amount = rng.choice([45, 89.9, 120, 250, 1250, 3499.5, 18, 640])
    whole = f"{amount:,.2f}"
    if region in {"BR"}:
        return "R$ " + whole.replace(",", "X").replace(".", ",").replace("X", ".")
    if region in {"DE", "FR", "ES", "IT", "PT", "IE"}:
        return (
            rng.choice(["€", "€ ", ""])
            + whole.replace(",", "X").replace(".", ",").replace("X", ".")
            + (" €" if rng.random() < 0.3 else "")
        )
    if region == "GB":
        return "£" + whole
    if region == "MX":
        return rng.choice(["$", "MX$"]) + whole
    if region == "IN":
        return "₹" + f"{int(amount) * 80:,}"
    return "$" + whole


# --- message templates ----------------------------------------------------------------------------------

CHITCHAT = {
    "en": [
        "Hi! Are you open on Sunday?",
        "Do you have vegan options?",
        "Thanks so much, see you then!",
        "ok 👍",
        "Can I bring my dog to the patio?",
        "Is parking available near you?",
        "What time do you close tonight?",
        "Just wanted to say the food was amazing last night",
        "Do you do gift cards?",
        "Is there a cancellation fee?",
        "perfect thank you",
        "Can we switch the order to pickup instead of delivery?",
        "Hey, do you cater weddings?",
        "lol yes that works",
        "Sorry, running a bit late!",
        "Could you send me the menu?",
        "Do you take walk-ins or appointment only?",
        "Is the chef able to do gluten free?",
        "Great, confirmed. Thanks!",
        "Can I get a quote for a birthday party?",
        "I left my jacket there yesterday, did anyone find it?",
        "Do you have availability this weekend?",
        "who do I talk to about a refund",
        "Awesome!! 🎉",
        "Yes please",
        "no worries at all",
        "Hi there, I'd like to book a hibachi party at my place",
        "Do you travel to the suburbs for events?",
        "Can you do a kids menu?",
        "Is tip included?",
    ],
    "es": [
        "Hola, ¿tienen mesa para esta noche?",
        "Muchas gracias!",
        "¿Hacen envíos a domicilio?",
        "Perfecto, nos vemos mañana",
        "¿Aceptan tarjeta?",
        "Buenas tardes, quería reservar para un cumpleaños",
        "¿Tienen opciones sin gluten?",
        "Vale, gracias",
    ],
    "pt": [
        "Oi, vocês abrem no domingo?",
        "Obrigado!",
        "Tudo certo, até amanhã",
        "Vocês fazem entrega?",
        "Bom dia! Queria agendar um horário",
        "Aceitam pix?",
        "Perfeito, combinado",
    ],
    "fr": [
        "Bonjour, vous êtes ouverts dimanche ?",
        "Merci beaucoup !",
        "Parfait, à demain",
        "Vous faites la livraison ?",
        "Est-ce qu'il reste de la place ce soir ?",
    ],
    "de": [
        "Hallo, habt ihr am Sonntag geöffnet?",
        "Vielen Dank!",
        "Super, bis morgen",
        "Kann man bei euch mit Karte zahlen?",
        "Gibt es vegane Gerichte?",
    ],
    "it": [
        "Ciao, siete aperti domenica?",
        "Grazie mille!",
        "Perfetto, a domani",
        "Fate consegne a domicilio?",
    ],
}

DIGITS_NO_PHONE: dict[str, list[Callable[[random.Random, str], str]]] = {
    "en": [
        lambda r, g: f"Table for {r.randint(2, 12)} at {time_text(r, 'en')} please",
        lambda r, g: f"We'll be about {r.choice([10, 15, 20])} minutes late, sorry!",
        lambda r, g: f"Can we move our reservation from {time_text(r, 'en')} to {time_text(r, 'en')}?",
        lambda r, g: f"Party of {r.randint(6, 40)} on {date_text(r, 'en')}, is that possible?",
        lambda r, g: f"The total was {price_text(r, g)}, is the deposit refundable?",
        lambda r, g: f"We need {r.randint(2, 4)} high chairs and a table near the window",
        lambda r, g: f"Booked for {date_text(r, 'en')} at {time_text(r, 'en')}, {r.randint(2, 9)} guests",
        lambda r, g: (
            f"Our address is {r.randint(100, 9999)} Oak St, Sacramento, CA {r.randint(90000, 96199)}"
        ),
        lambda r, g: (
            f"Ship to {r.randint(10, 999)} Main St Apt {r.randint(1, 40)}, Austin TX "
            f"{r.randint(73301, 78799)}-{r.randint(1000, 9999)}"
        ),
        lambda r, g: (
            f"Delivery to {r.randint(100, 999)} Pine Ave, Portland OR {r.randint(97201, 97299)}-"
            f"{r.randint(1000, 9999)} please"
        ),
        lambda r, g: f"I paid {price_text(r, g)} on {date_text(r, 'en')} but got charged twice",
        lambda r, g: (
            f"Between {r.randint(2015, 2019)}-{r.randint(2020, 2025)} we hosted {r.randint(20, 400)} events"
        ),
        lambda r, g: f"{r.randint(10, 50)}% off for groups over {r.randint(8, 20)}?",
        lambda r, g: f"we're open {r.randint(9, 11)}am-{r.randint(8, 11)}pm every day except Mon",
        lambda r, g: f"Can we do {date_text(r, 'en')} {time_text(r, 'en')} instead? {r.randint(2, 8)} people",
        lambda r, g: f"The menu says {price_text(r, g)} pp for {r.randint(10, 60)}+ guests, is tax included?",
        lambda r, g: (
            f"{r.randint(2020, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
            f"{r.randint(10, 22):02d}:{r.choice(['00', '30'])} works for us"
        ),
        lambda r, g: f"Room {r.randint(100, 999)}, checking out {date_text(r, 'en')}",
        lambda r, g: (
            f"Suite {r.randint(100, 999)}, {r.randint(1000, 9999)} Market St, San Francisco CA 94103"
        ),
        lambda r, g: f"Flight UA{r.randint(100, 2999)} lands at {time_text(r, 'en')}, can the shuttle wait?",
    ],
    "es": [
        lambda r, g: f"Mesa para {r.randint(2, 12)} a las {time_text(r, 'es')} por favor",
        lambda r, g: f"Somos {r.randint(6, 30)} personas el {date_text(r, 'es')}",
        lambda r, g: f"El total fue {price_text(r, g)}, ¿incluye propina?",
        lambda r, g: f"Llegamos el {date_text(r, 'es')} a las {time_text(r, 'es')}",
        lambda r, g: f"Calle Mayor {r.randint(1, 99)}, {r.randint(28001, 28080)} Madrid",
    ],
    "pt": [
        lambda r, g: f"Mesa para {r.randint(2, 12)} às {time_text(r, 'pt')}",
        lambda r, g: f"Paguei {price_text(r, g)} no dia {date_text(r, 'pt')}",
        lambda r, g: (
            f"Rua Augusta {r.randint(100, 2999)}, São Paulo, CEP {r.randint(1000, 9999):05d}-"
            f"{r.randint(0, 999):03d}"
        ),
        lambda r, g: f"Seremos {r.randint(5, 40)} pessoas dia {date_text(r, 'pt')} às {time_text(r, 'pt')}",
    ],
    "fr": [
        lambda r, g: f"Une table pour {r.randint(2, 10)} à {time_text(r, 'fr')} svp",
        lambda r, g: f"Nous serons {r.randint(6, 30)} le {date_text(r, 'fr')}",
        lambda r, g: f"Le total était {price_text(r, g)}, c'est normal ?",
        lambda r, g: f"{r.randint(1, 150)} rue de Rivoli, {r.randint(75001, 75020)} Paris",
    ],
    "de": [
        lambda r, g: f"Tisch für {r.randint(2, 10)} Personen am {date_text(r, 'de')} um {time_text(r, 'de')}",
        lambda r, g: f"Das wären dann {price_text(r, g)} pro Person?",
        lambda r, g: f"Wir kommen am {date_text(r, 'de')} mit {r.randint(5, 25)} Leuten",
        lambda r, g: f"Lieferadresse: Hauptstraße {r.randint(1, 200)}, {r.randint(10115, 14199)} Berlin",
    ],
    "it": [
        lambda r, g: f"Un tavolo per {r.randint(2, 10)} alle {time_text(r, 'it')}",
        lambda r, g: f"Saremo in {r.randint(6, 30)} il {date_text(r, 'it')}",
        lambda r, g: f"Il totale era {price_text(r, g)}?",
    ],
}


def _order10(r: random.Random) -> str:
    return digits(r, 10, "23456789")


HARD_DECOYS: dict[str, list[Callable[[random.Random, str], str]]] = {
    "en": [
        lambda r, g: f"Order #{_order10(r)} hasn't arrived yet",
        lambda r, g: f"my order number is {_order10(r)}",
        lambda r, g: f"Booking ref {_order10(r)} - can I add 2 more people?",
        lambda r, g: f"Confirmation number: {_order10(r)}",
        lambda r, g: f"Hi, confirmation #{_order10(r)} for {date_text(r, 'en')}. Running late!",
        lambda r, g: f"Tracking: {_order10(r)}, it says delivered but nothing here",
        lambda r, g: f"DHL waybill {_order10(r)} is stuck in customs",
        lambda r, g: (
            f"FedEx tracking number {digits(r, 4)} {digits(r, 4, '0123456789')} {digits(r, 4, '0123456789')}"
        ),
        lambda r, g: f"USPS tracking {'9400' + digits(r, 18, '0123456789')}",
        lambda r, g: (
            f"USPS: 9400 {digits(r, 4, '0123456789')} {digits(r, 4, '0123456789')} "
            f"{digits(r, 4, '0123456789')} {digits(r, 4, '0123456789')} {digits(r, 2, '0123456789')}"
        ),
        lambda r, g: f"UPS 1Z{r.randint(100, 999)}AA{digits(r, 10, '0123456789')}",
        lambda r, g: (
            f"Amazon order {digits(r, 3)}-{digits(r, 7, '0123456789')}-{digits(r, 7, '0123456789')} "
            f"was the wrong size"
        ),
        lambda r, g: f"Invoice INV-{r.randint(2023, 2026)}-{r.randint(1, 99999):05d} still shows unpaid",
        lambda r, g: (
            f"reservation {_order10(r)}, {r.randint(2, 8)} guests, {date_text(r, 'en')} {time_text(r, 'en')}"
        ),
        lambda r, g: f"I paid with {luhn_card(r)} can you refund to the same card",
        lambda r, g: f"card ending in {r.randint(1000, 9999)} was charged {price_text(r, g)}",
        lambda r, g: f"Visa {luhn_card(r)} exp {r.randint(1, 12):02d}/{r.randint(26, 31)}",
        lambda r, g: (
            f"the POS at {r.choice(['192.168', '10.0', '172.16'])}.{r.randint(0, 255)}.{r.randint(1, 254)} "
            f"is not printing tickets"
        ),
        lambda r, g: (
            f"wifi router {r.choice(['192.168', '10.10'])}.{r.randint(100, 255)}.{r.randint(100, 254)} keeps "
            f"dropping"
        ),
        lambda r, g: f"Case {_order10(r)}: the stylist was great btw",
        lambda r, g: (
            f"Ticket {r.randint(2023, 2026)}-{r.randint(1000, 9999)}-{r.randint(1000, 9999)} is still open"
        ),
        lambda r, g: f"Our zip is {r.randint(90001, 96162)}-{r.randint(1000, 9999)}, do you deliver there?",
        lambda r, g: f"Loyalty member #{_order10(r)}, do I get points for the party?",
        lambda r, g: f"PO {_order10(r)} for the office lunch on {date_text(r, 'en')}",
        lambda r, g: (
            f"Gift card {digits(r, 4)} {digits(r, 4, '0123456789')} {digits(r, 4, '0123456789')} "
            f"{digits(r, 4, '0123456789')} balance?"
        ),
        lambda r, g: f"Order ORD{_order10(r)} missing the dessert",
        lambda r, g: (
            f"We are {r.randint(10, 80)} guests, budget {price_text(r, g)}, date {date_text(r, 'en')}"
        ),
        lambda r, g: f"the receipt says {date_text(r, 'en')} {time_text(r, 'en')} txn {_order10(r)}",
        lambda r, g: f"Account {_order10(r)} - please update the billing address",
        lambda r, g: (
            f"IBAN DE{r.randint(10, 99)} {digits(r, 4, '0123456789')} {digits(r, 4, '0123456789')} "
            f"{digits(r, 4, '0123456789')} {digits(r, 4, '0123456789')} {r.randint(10, 99)}"
        ),
        lambda r, g: f"invoice {digits(r, 8)} dated {date_text(r, 'en')}",
    ],
    "es": [
        lambda r, g: f"Mi pedido {_order10(r)} no ha llegado",
        lambda r, g: f"Número de reserva: {_order10(r)}",
        lambda r, g: f"Número de pedido {digits(r, 8)} del {date_text(r, 'es')}",
        lambda r, g: f"Factura {r.randint(2024, 2026)}-{r.randint(1000, 9999)} por favor",
        lambda r, g: f"RFC para la factura: XAXX{r.randint(100000, 999999)}000",
    ],
    "pt": [
        lambda r, g: (
            f"CPF {digits(r, 3)}.{digits(r, 3, '0123456789')}.{digits(r, 3, '0123456789')}-"
            f"{r.randint(10, 99)} para a nota fiscal"
        ),
        lambda r, g: (
            f"CNPJ {r.randint(10, 99)}.{digits(r, 3, '0123456789')}.{digits(r, 3, '0123456789')}/0001-"
            f"{r.randint(10, 99)}"
        ),
        lambda r, g: f"Meu pedido {_order10(r)} ainda não chegou",
        lambda r, g: f"Código de rastreio {_order10(r)}",
        lambda r, g: f"o protocolo é {digits(r, 11)}",
    ],
    "fr": [
        lambda r, g: f"Commande n° {_order10(r)} toujours pas reçue",
        lambda r, g: f"Numéro de réservation : {_order10(r)}",
        lambda r, g: f"Suivi colis {digits(r, 11)}",
    ],
    "de": [
        lambda r, g: f"Bestellnummer {_order10(r)} ist noch nicht da",
        lambda r, g: f"Buchungsnummer: {_order10(r)}",
        lambda r, g: f"Rechnungsnummer {r.randint(2024, 2026)}-{r.randint(10000, 99999)}",
        lambda r, g: f"Sendungsnummer {digits(r, 12)}",
        lambda r, g: f"Kundennummer {digits(r, 9)}",
    ],
    "it": [
        lambda r, g: f"Ordine n. {_order10(r)} non ancora arrivato",
        lambda r, g: f"Codice prenotazione {_order10(r)}",
    ],
}

SELF = {
    "en": [
        "my number is {p}",
        "call me at {p}",
        "text me at {p} pls",
        "you can reach me at {p}",
        "Cell: {p}",
        "my cell is {p}, text is best",
        "Best number to reach me is {p}",
        "{p} is my cell",
        "Hi, this is Dana — can you call me back? {p}",
        "Please call {p} to confirm",
        "Name: {name}\nPhone: {p}\nGuests: {n}\nDate: {date}",
        "Hey it's {name}, new number: {p}",
        "Can you text me the quote? {p}",
        "call me back at {p} after {time}",
        "I'd like to book for {n} on {date}. My phone: {p}",
        "{name} here. Reach me at {p}. We're {n} people.",
        "Whatsapp me {p}",
        "Tel. {p}",
        "Phone #: {p}",
        "my mobile {p}",
        "Contact: {name}, {p}",
        "Hi I called earlier from {p} about the party of {n}",
        "Sorry wrong number earlier, it's {p}",
        "reach me on {p} anytime",
    ],
    "es": [
        "mi número es {p}",
        "llámame al {p}",
        "mi cel {p}",
        "escríbeme por WhatsApp al {p}",
        "Hola, soy {name}, mi teléfono es {p}",
        "Para la reserva de {n} personas, mi número: {p}",
    ],
    "pt": [
        "meu número é {p}",
        "me liga no {p}",
        "meu celular: {p}",
        "pode me chamar no zap {p}",
        "Oi, aqui é {name}, meu telefone é {p}",
    ],
    "fr": ["mon numéro c'est le {p}", "appelez-moi au {p}", "mon portable : {p}", "Tél : {p}"],
    "de": ["meine Nummer ist {p}", "ruf mich an unter {p}", "Handy: {p}", "Tel.: {p}"],
    "it": ["il mio numero è {p}", "chiamami al {p}", "cellulare: {p}"],
}

OTHER = {
    "en": [
        "my wife's number is {p} in case I'm driving",
        "you can also call my assistant at {p}",
        "the venue's number is {p}",
        "this is my husband's cell {p}, he'll pick up the order",
        "if I don't answer try my sister at {p}",
        "The hotel's front desk: {p}",
        "my boss's number is {p}, send the invoice to him",
        "Please coordinate with our planner, her number is {p}",
    ],
    "es": ["el número de mi esposa es {p}", "llama a mi mamá al {p}"],
    "pt": ["o número da minha mãe é {p}", "liga pro meu marido no {p}"],
    "fr": ["le numéro de ma femme : {p}"],
    "de": ["die Nummer meiner Frau ist {p}"],
    "it": ["il numero di mia moglie è {p}"],
}

MIXED = {
    "en": [
        "My number is {p}, and my wife's is {q}",
        "call me at {p}, or my assistant at {q}",
        "Order #{order} - please call me at {p} about it",
        "Booking ref {order}. My cell {p}",
        "The venue's number is {q}; mine is {p}",
    ],
}

OUTBOUND = [
    "Thanks {name}! Your table for {n} is confirmed for {date} at {time}. Questions? Call us at {b}.",
    "Got it, we'll text you at {p} when the table is ready.",
    "We have your number as {p}, is that right?",
    "Hi {name}, your appointment is tomorrow at {time}. Reply C to confirm or call {b}.",
    "Your order #{order} is out for delivery. Questions: {b}",
    "Thank you for choosing us! — The team · {b}",
    "Sure! Deposit is {price}, due by {date}.",
    "See you on {date}! Parking is free after {time}.",
    "Thanks, we received your booking ref {order}.",
]

INBOUND_BUSINESS = [
    "I called {b} twice but nobody picked up",
    "Is {b} still the right number for catering orders?",
    "tried {b} earlier, no answer",
]

NAMES = [
    "Dana",
    "Mike",
    "Priya",
    "Carlos",
    "Ana",
    "Jean",
    "Lukas",
    "Giulia",
    "Aisha",
    "Kenji",
    "Tom",
    "Fatima",
]


def lang_pick(rng: random.Random, table: dict[str, list[str]], lang: str) -> str:
    options = table.get(lang) or table["en"]
    if lang != "en" and rng.random() < 0.25:
        options = table["en"]
    return rng.choice(options)


def business_lines(rng: random.Random, region: str) -> list[phonenumbers.PhoneNumber]:
    return [random_number(rng, region, PhoneNumberType.FIXED_LINE)]


def pick_region(rng: random.Random) -> str:
    regions = list(REGION_WEIGHTS)
    return rng.choices(regions, weights=[REGION_WEIGHTS[r] for r in regions])[0]


def customer_number(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """Mostly a local mobile; sometimes a foreign number (tourists, expats)."""
    if rng.random() < 0.1:
        other = pick_region(rng)
        return random_number(rng, other, PhoneNumberType.MOBILE)
    kind = PhoneNumberType.MOBILE if rng.random() < 0.8 else PhoneNumberType.FIXED_LINE
    return random_number(rng, region, kind)


def fill(rng: random.Random, template: str, lang: str, region: str, **values: str) -> str:
    defaults = {
        "name": rng.choice(NAMES),
        "n": str(rng.randint(2, 30)),
        "date": date_text(rng, lang),
        "time": time_text(rng, lang),
        "order": _order10(rng),
        "price": price_text(rng, region),
    }
    defaults.update(values)
    return template.format(**defaults)


OPENERS = {
    "en": [
        "Hi!",
        "Hey there,",
        "Good morning!",
        "Hello,",
        "Hi, quick question.",
        "Hey, it's me again.",
        "Hiya",
    ],
    "es": ["Hola!", "Buenas,", "Buenos días,"],
    "pt": ["Oi!", "Olá,", "Bom dia!"],
    "fr": ["Bonjour,", "Salut !", "Bonsoir,"],
    "de": ["Hallo,", "Guten Tag,", "Hi!"],
    "it": ["Ciao!", "Buongiorno,"],
}
CLOSERS = {
    "en": [
        "Thanks so much!",
        "Let me know, thanks!",
        "Looking forward to it 🙂",
        "Appreciate it.",
        "Thank you in advance, we're really excited about this.",
        "No rush, whenever you get a chance.",
        "Also, do you have a kids menu?",
    ],
    "es": ["Gracias!", "Quedo atento, gracias.", "Saludos!"],
    "pt": ["Obrigado!", "Fico no aguardo.", "Valeu!"],
    "fr": ["Merci d'avance !", "Bonne journée !"],
    "de": ["Danke im Voraus!", "Viele Grüße"],
    "it": ["Grazie!", "A presto!"],
}


def pad(rng: random.Random, text: str, lang: str, kind: str) -> str:
    """Real messages are often a greeting, the point, and a closing line; a bare template is not."""
    if kind in {"outbound"} or "\n" in text:
        return text
    if rng.random() < 0.35:
        text = f"{rng.choice(OPENERS.get(lang, OPENERS['en']))} {text}"
    if rng.random() < 0.35:
        text = f"{text} {rng.choice(CLOSERS.get(lang, CLOSERS['en']))}"
    return text


def make_record(rng: random.Random, index: int) -> dict[str, object]:
    region = pick_region(rng)
    lang = REGION_LANG[region]
    channel = rng.choice(["sms", "whatsapp", "instagram", "messenger", "booking"])
    business = business_lines(rng, region)
    business_e164 = [e164(n) for n in business]
    roll = rng.random()
    direction = "in"
    # Shares of message kinds: most chat has no phone number (about 14% here, which is more than real
    # threads, where one message in ten or twenty carries one, so the evaluation sees enough phones).
    phones: list[str] = []
    sender: list[str] = []
    kind: str
    if roll < 0.50:
        kind = "chitchat"
        text = lang_pick(rng, CHITCHAT, lang)
    elif roll < 0.72:
        kind = "digits_no_phone"
        text = rng.choice(DIGITS_NO_PHONE.get(lang) or DIGITS_NO_PHONE["en"])(rng, region)
    elif roll < 0.84:
        kind = "decoy"
        table = HARD_DECOYS.get(lang) if rng.random() < 0.5 else None
        text = rng.choice(table or HARD_DECOYS["en"])(rng, region)
    elif roll < 0.93:
        kind = "self"
        number = customer_number(rng, region)
        text = fill(rng, lang_pick(rng, SELF, lang), lang, region, p=write_number(rng, number, region))
        phones.append(e164(number))
        sender.append(e164(number))
    elif roll < 0.945:
        kind = "other"
        number = customer_number(rng, region)
        text = fill(rng, lang_pick(rng, OTHER, lang), lang, region, p=write_number(rng, number, region))
        phones.append(e164(number))
    elif roll < 0.955:
        kind = "mixed"
        mine = customer_number(rng, region)
        theirs = customer_number(rng, region)
        template = rng.choice(MIXED["en"])
        text = fill(
            rng,
            template,
            lang,
            region,
            p=write_number(rng, mine, region),
            q=write_number(rng, theirs, region),
        )
        phones.append(e164(mine))
        sender.append(e164(mine))
        if "{q}" in template:
            phones.append(e164(theirs))
    elif roll < 0.99:
        kind = "outbound"
        direction = "out"
        template = rng.choice(OUTBOUND)
        number = customer_number(rng, region)
        text = fill(
            rng,
            template,
            lang,
            region,
            p=write_number(rng, number, region),
            b=write_number(rng, business[0], region),
        )
        if "{b}" in template:
            phones.append(business_e164[0])
        if "{p}" in template:
            phones.append(e164(number))
    else:
        kind = "inbound_business_number"
        text = rng.choice(INBOUND_BUSINESS).format(b=write_number(rng, business[0], region))
        phones.append(business_e164[0])
    text = pad(rng, text, lang, kind)
    return {
        "id": f"gen-{index:05d}",
        "text": text,
        "region": region,
        "direction": direction,
        "channel": channel,
        "business_numbers": business_e164,
        "phones": phones,
        "sender_phones": sender,
        "kind": kind,
    }


def main() -> int:
    rng = random.Random(SEED)
    records = [make_record(rng, i) for i in range(TARGET_MESSAGES)]
    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with_phone = sum(1 for r in records if r["phones"])
    print(f"wrote {len(records)} messages ({with_phone} with a phone) to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
