"""Intent tags and the English guess, as tables: the rules of workers/domain/intent.py and
workers/domain/language.py read like these cases."""

from __future__ import annotations

import pytest

from workers.domain.intent import TAGS, intent_tags
from workers.domain.language import is_english

TAG_CASES = [
    # booking_inquiry
    ("Hi! I want to book a party for 8 people", "instagram", ("booking_inquiry",)),
    ("Do you do birthdays?", "sms", ("booking_inquiry",)),
    ("Any availability Saturday night?", "sms", ("booking_inquiry",)),
    ("¿Tienen mesa para 4 personas el sábado?", "whatsapp", ("booking_inquiry",)),
    ("Quero fazer uma reserva para 6 pessoas", "whatsapp", ("booking_inquiry",)),
    ("Bonjour, je voudrais réserver une table pour deux", "messenger", ("booking_inquiry",)),
    ("Hallo, ich möchte einen Tisch für 4 Personen reservieren", "messenger", ("booking_inquiry",)),
    # reschedule (not also a booking inquiry: the booking exists)
    ("Can we reschedule to Sunday?", "sms", ("reschedule",)),
    ("Could we move our reservation to 8pm?", "sms", ("reschedule",)),
    ("Necesito cambiar la fecha de mi reserva", "whatsapp", ("reschedule",)),
    ("Dá para remarcar para sexta?", "whatsapp", ("reschedule",)),
    ("Est-ce qu'on peut décaler à samedi ?", "instagram", ("reschedule",)),
    ("Können wir den Termin verschieben?", "instagram", ("reschedule",)),
    # cancellation
    ("I need to cancel my booking for Friday", "instagram", ("cancellation",)),
    ("Sorry, we can't make it tonight", "sms", ("cancellation",)),
    ("Quiero cancelar la reservación", "whatsapp", ("cancellation",)),
    ("Preciso cancelar a reserva", "whatsapp", ("cancellation",)),
    ("Je dois annuler ma réservation", "messenger", ("cancellation",)),
    ("Ich muss leider stornieren", "messenger", ("cancellation",)),
    ("Cancel", "instagram", ("cancellation",)),  # not a carrier channel: a cancellation
    # pricing
    ("How much per person for a party of 10?", "sms", ("booking_inquiry", "pricing")),
    ("What are your prices?", "sms", ("pricing",)),
    ("¿Cuánto cuesta el menú?", "whatsapp", ("pricing",)),
    ("Quanto custa por pessoa?", "whatsapp", ("pricing",)),
    ("C'est combien ?", "instagram", ("pricing",)),
    ("Was kostet das Menü?", "instagram", ("pricing",)),
    # complaint
    ("Very disappointed with the service last night", "sms", ("complaint",)),
    ("I want a refund, this was unacceptable", "sms", ("complaint",)),
    ("Quiero poner una queja, pésimo servicio", "whatsapp", ("complaint",)),
    ("Serviço péssimo, quero reembolso", "whatsapp", ("complaint",)),
    ("Très déçu par le service", "instagram", ("complaint",)),
    ("Ich bin sehr enttäuscht", "instagram", ("complaint",)),
    # opt_out
    ("STOP", "sms", ("opt_out",)),
    ("  stop.  ", "whatsapp", ("opt_out",)),
    ("Cancel", "sms", ("opt_out",)),  # a carrier keyword on SMS: an opt-out, not a cancellation
    ("Please stop texting me", "sms", ("opt_out",)),
    ("Unsubscribe me please", "instagram", ("opt_out",)),
    ("Quiero darme de baja", "whatsapp", ("opt_out",)),
    ("Por favor, parar de enviar mensagens", "whatsapp", ("opt_out",)),
    ("Je veux me désabonner", "sms", ("opt_out",)),
    ("Bitte abmelden", "sms", ("opt_out",)),
    # opt_in
    ("START", "sms", ("opt_in",)),
    ("unstop", "sms", ("opt_in",)),
    ("Sign me up for your texts!", "sms", ("opt_in",)),
    ("Quiero recibir promociones", "whatsapp", ("opt_in",)),
    ("Ich möchte den Newsletter abonnieren", "instagram", ("opt_in",)),
    # nothing, and words that only look like a tag
    ("YES", "sms", ()),  # an answer, not an intent
    ("Thanks, see you soon!", "sms", ()),
    ("stop by tomorrow?", "sms", ()),
    ("I saw you on Facebook", "messenger", ()),
    ("Love the new costume party photos", "instagram", ()),
    ("", "sms", ()),
    (None, "sms", ()),
]


@pytest.mark.parametrize(("text", "channel", "expected"), TAG_CASES)
def test_intent_tags(text: str | None, channel: str, expected: tuple[str, ...]) -> None:
    assert intent_tags(text, channel) == expected


def test_tags_come_in_a_fixed_order() -> None:
    tags = intent_tags("Terrible service and I want a refund. How much was the deposit? Unsubscribe me")
    assert tags == ("pricing", "complaint", "opt_out")
    assert list(tags) == [t for t in TAGS if t in tags]


def test_only_the_first_characters_are_read() -> None:
    assert intent_tags("x" * 2500 + " cancel") == ()


ENGLISH_CASES = [
    ("Hi! I want to book a party for 8 people", True),
    ("Do you do birthdays?", True),
    ("Great!!", True),  # no function words, all ASCII: English
    ("Terrible service", True),
    ("Hi, this is José, can I book a table?", True),  # an accented name does not make it foreign
    ("¿Tienen mesa para 4 personas el sábado?", False),
    ("Hola! ¿Hacen envíos a domicilio? Gracias!", False),
    ("Quero fazer uma reserva para 6 pessoas", False),
    ("Bonjour, je voudrais réserver une table pour deux", False),
    ("Hallo, ich möchte einen Tisch für 4 Personen reservieren", False),
    ("Qué bueno", False),  # no listed words, not ASCII: unknown
    ("Great!! 🎉", True),  # not ASCII, but every word is: as "Great!!"
    ("Amazing evening \u2019 wow", True),
    ("Genial \u2014 ótimo", False),  # a word that is not ASCII
    ("👍", False),
    ("", False),
    (None, False),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH_CASES)
def test_is_english(text: str | None, expected: bool) -> None:
    assert is_english(text) is expected
