"""The four failure classes of issue 11, one table each, in several languages.

Each row is a message as a customer or a business might write it, with the numbers a reader finds in
it. Most rows failed before the extractor bound labels to the digits they name (see the issue); they
stay here so that none comes back.
"""

from __future__ import annotations

import pytest

from workers.domain.phones import ExtractionContext, Owner, extract

LINK_THRESHOLD = 0.6


def phones(text: str, region: str) -> list[str]:
    return [c.e164 for c in extract(text, region, ExtractionContext())]


# --- 1. a decoy elsewhere in the message never suppresses a cued phone ------------------------------------

DECOY_ELSEWHERE = [
    ("call me at 415-555-0134, my zip is 94110", "US", ["+14155550134"]),
    ("text 212 555 0199 - flight DL 1234 lands 6pm", "US", ["+12125550199"]),
    ("DOB 3/4, member ID 88123456701, callback 503.555.0120", "US", ["+15035550120"]),
    ("my cell 415-555-0134, the server IP is 10.0.0.12", "US", ["+14155550134"]),
    ("call me 415-555-0134 about ticket 4471223", "US", ["+14155550134"]),
    ("Ticket 2984-747432. Phone: (201) 814-9488", "US", ["+12018149488"]),
    ("my mobile 07911 123456, postcode SW1A 1AA", "GB", ["+447911123456"]),
    ("mi celular es 612 34 56 78, vuelo IB 3166 a las 18:00", "ES", ["+34612345678"]),
    ("número do pedido 11973340766\nmeu telefone (11) 96864-1952", "BR", ["+5511968641952"]),
    ("Telefone: 912326907; código de rastreamento CP480660723ES", "PT", ["+351912326907"]),
    ("mon portable : 06 12 34 56 78, colis 6A12345678901", "FR", ["+33612345678"]),
    ("Vorgangsnummer 0212591171, meine Telefonnummer lautet +41 78 182 67 11", "CH", ["+41781826711"]),
    ("Sie erreichen mich unter 0151 23456789 am besten abends", "DE", ["+4915123456789"]),
    ("meine Handynummer 0151 23456789 - Bestellung 4930123456", "DE", ["+4915123456789"]),
    # An identifier named without its value: a comma ends its name, the number after it is free.
    ("question about my order, 415-555-0134", "US", ["+14155550134"]),
    ("sobre mi pedido, 612 345 678", "ES", ["+34612345678"]),
    ("dúvida sobre o pedido, (11) 98765-4321", "BR", ["+5511987654321"]),
    ("concernant ma commande, 06 12 34 56 78", "FR", ["+33612345678"]),
    ("Frage zu meiner Rechnung, 0171 2345678", "DE", ["+491712345678"]),
    # A label is the number's before it only with glue of its own kind: "au" gives a phone.
    ("la réservation est au 06 12 34 56 78", "FR", ["+33612345678"]),
]


@pytest.mark.parametrize(("text", "region", "expected"), DECOY_ELSEWHERE)
def test_a_decoy_elsewhere_never_suppresses_a_cued_phone(text: str, region: str, expected: list[str]) -> None:
    assert phones(text, region) == expected


# --- 2. lettered and labelled identifiers are no phones ---------------------------------------------------

IDENTIFIERS = [
    ("ORD-2025-449810", "US"),
    ("REF-720-555-0142", "US"),
    ("INV 2024 5550199", "US"),
    ("see SO-201-679-8168", "US"),
    ("475-492-7798-INV", "US"),
    ("call me about order 2024-555-0101", "US"),  # a misleading cue: the order label is nearer
    ("please ring me re claim 4155550123", "US"),
    ("NPI 1234567893", "US"),
    ("S/N 4155550123", "US"),
    ("app version 4.15.555.0123", "US"),
    ("parcel 4155550123", "US"),
    ("member ID 4155550123", "US"),
    ("loyalty card 415-555-0123", "US"),
    ("group # (415) 555-0123", "US"),
    ("policy number: 4155550123", "US"),
    ("account 4155550123", "US"),
    ("4155550123 is my member ID", "US"),
    ("IBAN DE89 3704 0044 0532 0130 00", "DE"),
    ("USt-IdNr. DE123456789", "DE"),
    ("USt-IdNr: DE 614 572 377", "DE"),
    ("Steuernummer 21/815/08150", "DE"),
    ("Kundennummer 0151 23456789", "DE"),
    ("0151 23456789 ist meine Kundennummer", "DE"),
    ("dates: 03.05.2025-07.05.2025", "DE"),
    ("CPF 12345678909", "BR"),
    ("CNPJ 12.345.678/0001-95", "BR"),
    ("pedido nº (11) 98765-4321", "BR"),
    ("me manda o status da nota (11) 2095-2723", "BR"),
    ("SIRET 732 829 320 00074", "FR"),
    ("numéro de commande 06 12 34 56 78", "FR"),
    ("police d'assurance 01 23 64 58 02", "FR"),
    ("rappelez-moi au sujet du dossier 0123243602", "FR"),
    ("612345678 es mi número de socio", "ES"),
    ("tarjeta de fidelidad 612 34 56 78", "ES"),
    ("NIF 12345678Z", "ES"),
    ("ma commande est la 0612345678", "FR"),
    # A code's suffix after a dash, even one that reads like a word ("ab": German "from").
    ("SIREN 224 975 770, 520-908-6867-AB", "DE"),
    # Digits spaced like the rest of the value before them (a card, a parcel), or too short to be a
    # number written with its trunk prefix.
    ("Sendung 2960 4455 1700", "DE"),
    ("card 4111 1111 1111 1111", "US"),
    ("Auftrag 01519 4198039", "DE"),
    ("NHS number 782 252 1158", "DE"),
    # Digits a country would write with its trunk prefix '0', written without it and without a label.
    ("PED 2024 7968970", "DE"),
    ("Vorgang 3012345678", "DE"),
]


@pytest.mark.parametrize(("text", "region"), IDENTIFIERS)
def test_identifiers_are_no_phones(text: str, region: str) -> None:
    assert phones(text, region) == []


VALUE_THEN_PHONE = [
    ("order 12345 415-555-0134", "US", ["+14155550134"]),
    ("ORD-2025-449810 (415) 555-0134", "US", ["+14155550134"]),
    ("ticket 48213 4155550134", "US", ["+14155550134"]),
    ("12345 4155550134", "US", ["+14155550134"]),
    ("pedido 2024-118 +34 612 345 678", "ES", ["+34612345678"]),
    ("pedido 12345 (11) 98765-4321", "BR", ["+5511987654321"]),
    ("commande 12345 06 12 34 56 78", "FR", ["+33612345678"]),
    ("Bestellung 12345 0171 2345678", "DE", ["+491712345678"]),
    ("Rechnung 2021-463189 01518 8025030", "DE", ["+4915188025030"]),
]


@pytest.mark.parametrize(("text", "region", "expected"), VALUE_THEN_PHONE)
def test_a_phone_written_as_one_right_after_a_value_is_found(
    text: str, region: str, expected: list[str]
) -> None:
    assert phones(text, region) == expected


def test_a_phone_after_an_identifier_in_one_run_is_still_found() -> None:
    assert phones("order #12345678 / 415-555-0134", "US") == ["+14155550134"]
    assert phones("CPF 870.518.163-84. 07 81 82 80 40", "CH") == ["+41781828040"]
    text = "order no. 2023-989-6523 / BK-2022-309196 / 2016246169 is my cell"
    assert phones(text, "US") == ["+12016246169"]


# --- 3. phones glued to words, lists, prefixes and groupings ----------------------------------------------

LAYOUTS = [
    ("reach me at7185550123", "US", ["+17185550123"]),
    ("call4155550134", "US", ["+14155550134"]),
    ("text me 4155550134tomorrow", "US", ["+14155550134"]),
    ("call 312 555 0177pls", "US", ["+13125550177"]),
    ("my number is5066088859", "CA", ["+15066088859"]),
    ("Nummer0151/23456789", "DE", ["+4915123456789"]),
    ("Handy-Nr.: 0151 23456789", "DE", ["+4915123456789"]),
    ("appelez-moi au +33 6 12 71 98 55svp", "FR", ["+33612719855"]),
    ("Numbers:\n1) 415-555-0134\n2) 415-555-0199", "US", ["+14155550134", "+14155550199"]),
    ("números:\n1) +52 200 489 3756\n2) 2226118418", "MX", ["+522004893756", "+522226118418"]),
    ("415-555-0134 415-555-0199", "US", ["+14155550134", "+14155550199"]),
    ("00 91 98765 43210", "US", ["+919876543210"]),
    ("0xx62 3212-3456", "BR", ["+556232123456"]),
    ("liga-me para o 0XX11 93427-6044", "BR", ["+5511934276044"]),
    ("06 12 34 56 78", "FR", ["+33612345678"]),
    ("06.12.34.56.78", "FR", ["+33612345678"]),
    ("06-12-34-56-78", "FR", ["+33612345678"]),
    ("+33 (0)6 12 34 56 78", "FR", ["+33612345678"]),
    ("whatsapp me: wa.me/5511992265177", "US", ["+5511992265177"]),
    ("saremo in 6 alle 20:30 3128047945", "IT", ["+393128047945"]),
    ("we'll be 6 2013188051", "US", ["+12013188051"]),
    # A number from abroad labelled a phone, its '+' left out; the label before or after it.
    ("my number is 44 7911 123456", "US", ["+447911123456"]),
    ("44 7911 123456 is my number", "US", ["+447911123456"]),
    ("mi número es 49 151 23456789", "MX", ["+4915123456789"]),
    ("meine Nummer: 351 912 197 991", "DE", ["+351912197991"]),
]


@pytest.mark.parametrize(("text", "region", "expected"), LAYOUTS)
def test_layouts_people_type(text: str, region: str, expected: list[str]) -> None:
    assert phones(text, region) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The UUID is CA801c26f98cd16e231354125ad046e40b.",
        "4155550123abc",
        "1Z999AA10123456784",
        "SKU 887276623153 in size 10.5 pls, or UPC 0 12345 67890 5",
    ],
)
def test_codes_of_letters_and_digits_are_no_phones(text: str) -> None:
    assert phones(text, "US") == []


# --- 4. cue words in every language, read in the business's first -----------------------------------------

OWNERS = [
    # text, region, owner, the number identifies the sender at the link threshold
    ("mi número es 612 34 56 78", "ES", Owner.SENDER, True),
    ("llámame al 612345678", "ES", Owner.SENDER, True),
    ("el número de mi esposa es 612 34 56 78", "ES", Owner.OTHER_PERSON, False),
    ("meu celular é (11) 98765-4321", "BR", Owner.SENDER, True),
    ("me liga no 11 98765-4321", "BR", Owner.SENDER, True),
    ("o número da minha mãe é (11) 98765-4321", "BR", Owner.OTHER_PERSON, False),
    ("mon portable : 06 12 34 56 78", "FR", Owner.SENDER, True),
    ("appelez-moi au 06 12 34 56 78", "FR", Owner.SENDER, True),
    ("le numéro de ma femme est le 06 12 34 56 78", "FR", Owner.OTHER_PERSON, False),
    ("meine Handynummer ist 0151 23456789", "DE", Owner.SENDER, True),
    ("Sie erreichen mich unter 030 1234567", "DE", Owner.SENDER, True),
    ("die Nummer meiner Frau ist 0151 23456789", "DE", Owner.OTHER_PERSON, False),
    ("rufen Sie meinen Mann an: 0151 23456789", "DE", Owner.OTHER_PERSON, False),
    ("il mio numero è 333 123 4567", "IT", Owner.SENDER, True),
    ("mi número es 415-555-0134", "US", Owner.SENDER, True),  # a Spanish message to a US business
    ("my number is 06 12 34 56 78", "FR", Owner.SENDER, True),  # an English one to a French business
    ("0151 23456789 (meine Frau)", "DE", Owner.OTHER_PERSON, False),
    ("Port : 06 12 34 56 78", "FR", Owner.SENDER, True),
    ("Tlm: 912 345 678", "PT", Owner.SENDER, True),
    ("Can you call 4155550123? Thats my brother", "US", Owner.OTHER_PERSON, False),
]


@pytest.mark.parametrize(("text", "region", "owner", "links"), OWNERS)
def test_whose_number_in_every_language(text: str, region: str, owner: Owner, links: bool) -> None:
    (candidate,) = extract(text, region, ExtractionContext())
    assert candidate.owner is owner
    assert (candidate.confidence >= LINK_THRESHOLD) is links


# --- confidence: nothing identifier-like ever links a thread ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Order 12345678 - 415-555-0134",
        "415-555-0134 ref ABC-1234",
        "ticket 4471223, 415-555-0134",
        "question about my order, 415-555-0134",
        "order 12345 415-555-0134",
        "text 212 555 0199 - flight DL 1234 lands 6pm",
    ],
)
def test_a_bare_number_beside_an_identifier_stays_below_the_link_threshold(text: str) -> None:
    for candidate in extract(text, "US", ExtractionContext()):
        assert candidate.confidence < LINK_THRESHOLD, candidate


def test_a_bare_number_alone_still_links() -> None:
    (candidate,) = extract("415-555-0134", "US", ExtractionContext())
    assert candidate.owner is Owner.SENDER and candidate.confidence >= LINK_THRESHOLD
