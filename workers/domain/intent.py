"""Intent tags of an inbound customer message: what the customer is asking for, by written rules.

Rules, not a model, so an admin can read why a message got a tag. Each tag has phrases in English,
Spanish, Portuguese, French and German (the languages the extractor reads), matched as whole words
in the message with case and accents folded ("Cancelación" matches "cancelacion", "für" "fur").
Every language's phrases are tried on every message: chat mixes languages, and trying them all
costs less than guessing the language first. A message can have several tags.

| tag | what it means | e.g. |
|---|---|---|
| booking_inquiry | asks to book or about availability | "table for 6 tomorrow?", "¿tienen mesa para 4?" |
| reschedule | asks to move an existing booking | "can we move it to Saturday", "verschieben" |
| cancellation | calls a booking off | "I need to cancel", "annuler ma réservation" |
| pricing | asks what it costs | "how much per person", "quanto custa" |
| complaint | is unhappy with the service | "very disappointed", "quiero un reembolso" |
| opt_out | asks to stop receiving messages | "STOP", "unsubscribe me", "darme de baja" |
| opt_in | asks to receive messages (again) | "START", "sign me up for texts" |

Precedence: a message that reschedules or cancels is about an existing booking, so it is not also
a booking inquiry ("cancel my reservation" is a cancellation only). An SMS or WhatsApp message that
is exactly a carrier consent keyword (workers.domain.consent: STOP, CANCEL, END, START, ...) is
opt_out or opt_in and nothing else: a bare "CANCEL" texted to a business number is an opt-out to
the carrier (on Instagram it is a cancellation).
"YES", which carriers take as an opt-in only after an opt-out, is an answer here, not a tag.

Limits: negation is not read ("I don't want to cancel" is tagged cancellation), and only the first
:data:`MAX_CHARS` characters are read.
"""

from __future__ import annotations

import re

from workers.domain.accents import without_accents
from workers.domain.consent import OPT_IN, OPT_OUT, keyword_signal

MAX_CHARS = 2000

TAGS = ("booking_inquiry", "reschedule", "cancellation", "pricing", "complaint", "opt_out", "opt_in")

# Phrases as regular expressions over folded text (lower case, no accents, one space between
# words); each is matched with word boundaries. `\w*` lets a stem take its endings.
_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "booking_inquiry": {
        "en": (
            r"book(?:ing|ed)?",
            r"reserv\w*",
            r"table for",
            r"party (?:for|of)",
            r"\d+ (?:people|guests|persons|pax|adults|kids)",
            r"availab\w*",
            r"do you (?:do|host|cater|have (?:room|space|a table|openings?))",
            r"any (?:openings?|slots?|tables?)",
        ),
        "es": (
            r"reserv\w*",
            r"mesa para",
            r"\d+ (?:personas|invitados|adultos)",
            r"disponib\w*",
            r"agendar",
            r"hacen (?:fiestas|eventos|cumpleanos)",
            r"organizan (?:fiestas|eventos|cumpleanos)",
        ),
        "pt": (
            r"reserv\w*",
            r"mesa para",
            r"\d+ (?:pessoas|convidados|adultos)",
            r"disponib\w*",
            r"agendar",
            r"marcar um(?:a)? (?:mesa|horario|festa)",
        ),
        "fr": (r"reserv\w*", r"table pour", r"\d+ (?:personnes|invites|adultes)", r"disponib\w*"),
        "de": (
            r"reservier\w*",
            r"buchen",
            r"buchung",
            r"tisch fur",
            r"\d+ (?:personen|gaste|erwachsene)",
            r"verfugbar\w*",
            r"frei(?:en|e)? (?:tisch|termin|platz)",
        ),
    },
    "reschedule": {
        "en": (
            r"reschedul\w*",
            r"postpon\w*",
            r"move (?:it|(?:my|our|the) (?:booking|reservation|appointment|party|date|time))",
            r"change (?:the|my|our) (?:date|time|day|booking|reservation)",
            r"different (?:date|day|time)",
            r"another (?:date|day|time)",
            r"later (?:date|day|time)",
            r"earlier (?:date|day|time)",
            r"push (?:it|the \w+) back",
        ),
        "es": (
            r"reprogram\w*",
            r"cambiar (?:la|mi|nuestra) (?:fecha|hora|reserva\w*)",
            r"posponer",
            r"aplazar",
            r"mover (?:la|mi) (?:reserva\w*|fecha)",
            r"para otro dia",
        ),
        "pt": (
            r"reagend\w*",
            r"remarc\w*",
            r"mudar (?:a|minha|nossa) (?:data|hora|reserva)",
            r"adiar",
            r"para outro dia",
        ),
        "fr": (
            r"reporter",
            r"decaler",
            r"changer (?:la|ma|notre) (?:date|heure|reservation)",
            r"un autre jour",
        ),
        "de": (r"verschieb\w*", r"umbuchen", r"anderen (?:tag|termin)", r"termin (?:andern|aendern)"),
    },
    "cancellation": {
        "en": (
            r"cancel\w*",
            r"call(?:ing)? (?:it )?off",
            r"won'?t make it",
            r"can'?t make it",
            r"cannot make it",
            r"no longer (?:coming|need)",
        ),
        "es": (r"cancel\w*", r"anular"),
        "pt": (r"cancel\w*", r"desmarcar"),
        "fr": (r"annul\w*",),
        "de": (r"stornier\w*", r"storno", r"absagen", r"abzusagen"),
    },
    "pricing": {
        "en": (
            r"prices?",
            r"priced",
            r"pricing",
            r"costs?",
            r"costing",
            r"how much",
            r"rates?",
            r"quote",
            r"fees?",
            r"per (?:person|head|guest)",
            r"deposit",
            r"menu prices?",
        ),
        "es": (
            r"precio\w*",
            r"cuanto (?:cuesta|cuestan|es|sale|cobran|vale)",
            r"costo\w*",
            r"tarifa\w*",
            r"cotizacion",
            r"por persona",
        ),
        "pt": (r"preco\w*", r"quanto (?:custa|custam|e|fica|sai|cobram)", r"orcamento", r"por pessoa"),
        "fr": (r"prix", r"combien", r"tarif\w*", r"cout\w*", r"devis", r"par personne"),
        "de": (r"preis\w*", r"was kostet", r"kosten", r"wie ?viel", r"angebot", r"pro person"),
    },
    "complaint": {
        "en": (
            r"complain\w*",
            r"disappoint\w*",
            r"terrible",
            r"awful",
            r"horrible",
            r"worst",
            r"unacceptable",
            r"rude",
            r"refund\w*",
            r"never again",
            r"not happy",
            r"food poisoning",
        ),
        "es": (
            r"queja\w*",
            r"reclam\w*",
            r"decepcion\w*",
            r"pesim\w*",
            r"horrible",
            r"inaceptable",
            r"reembolso",
            r"mal servicio",
        ),
        "pt": (r"reclama\w*", r"decepcion\w*", r"pessim\w*", r"horrivel", r"inaceitavel", r"reembolso"),
        "fr": (r"plainte", r"reclamation", r"decu\w*", r"inacceptable", r"horrible", r"rembourse\w*"),
        "de": (
            r"beschwer\w*",
            r"enttausch\w*",
            r"unverschamt",
            r"schrecklich",
            r"katastroph\w*",
            r"erstattung",
            r"unzufrieden",
        ),
    },
    "opt_out": {
        "en": (
            r"unsubscribe",
            r"opt(?:-| )?out",
            r"stop (?:texting|messaging|sending|contacting|calling)",
            r"remove me",
            r"don'?t (?:text|message|contact) me",
            r"do not (?:text|message|contact) me",
            r"no more (?:texts|messages|sms)",
        ),
        "es": (
            r"dar(?:me)? de baja",
            r"no me (?:escriban|envien|manden|contacten)",
            r"no (?:quiero )?(?:recibir )?mas mensajes",
        ),
        "pt": (
            r"descadastr\w*",
            r"parar de (?:enviar|mandar)",
            r"nao (?:me )?(?:enviem|mandem)",
            r"sair da lista",
        ),
        "fr": (r"desabonn\w*", r"desinscri\w*", r"ne plus recevoir"),
        "de": (r"abmelden", r"abbestellen", r"keine (?:nachrichten|sms) mehr", r"austragen"),
    },
    "opt_in": {
        "en": (r"subscribe me", r"opt(?:-| )?in", r"sign me up", r"resubscribe"),
        "es": (r"suscribir\w*", r"dar(?:me)? de alta", r"quiero recibir"),
        "pt": (r"inscrever", r"quero receber"),
        "fr": (r"m'?abonner", r"je veux recevoir"),
        "de": (r"anmelden", r"abonnieren"),
    },
}


def _dispatch() -> dict[str, tuple[re.Pattern[str], tuple[str, ...]]]:
    """One pattern per first character: every phrase starts with a letter or a digit (`\\d`), so
    the text is tried only at word starts, and there only against the phrases that can match.
    Each phrase is a group of its own; `lastindex` names the tag of the one that matched."""
    by_start: dict[str, list[tuple[str, str]]] = {}
    for tag in TAGS:
        for phrases in _PHRASES[tag].values():
            for phrase in phrases:
                starts = "0123456789" if phrase.startswith(r"\d") else phrase[0]
                if not (starts.isalpha() or starts.isdigit()):
                    raise ValueError(f"intent phrase {phrase!r} must start with a letter or \\d")
                for start in starts:
                    by_start.setdefault(start, []).append((tag, phrase))
    table = {}
    for start, pairs in by_start.items():
        pattern = re.compile("|".join(f"({phrase})(?!\\w)" for _, phrase in pairs))
        table[start] = (pattern, (_NO_TAG, *(tag for tag, _ in pairs)))
    return table


_NO_TAG = ""
_DISPATCH = _dispatch()
_WORD_START = re.compile(r"(?<!\w)\w")
_SPACES = re.compile(r"\s+")
# Whole-message consent keywords; YES is an answer, not an intent (see the module's docstring).
_KEYWORD_TAGS = {**dict.fromkeys(OPT_OUT, "opt_out"), **dict.fromkeys(OPT_IN - {"YES"}, "opt_in")}


def fold(text: str) -> str:
    """Lower case, accents dropped, one space between words: the text the rules read."""
    lowered = text[:MAX_CHARS].lower().replace("\u2019", "'")
    return _SPACES.sub(" ", without_accents(lowered)).strip()


def intent_tags(text: str | None, channel: str = "") -> tuple[str, ...]:
    """The tags of an inbound message on `channel`, in the order of :data:`TAGS`; empty when none
    applies. Consent keywords are read as such only where carriers read them (SMS, WhatsApp)."""
    if not text:
        return ()
    signal = keyword_signal(text, channel, "in")
    if signal is not None and signal.keyword in _KEYWORD_TAGS:
        return (_KEYWORD_TAGS[signal.keyword],)
    folded = fold(text)
    found: set[str] = set()
    for start in _WORD_START.finditer(folded):
        rule = _DISPATCH.get(start.group())
        if rule is None:
            continue
        matched = rule[0].match(folded, start.start())
        if matched is not None:
            found.add(rule[1][matched.lastindex or 0])
    if "booking_inquiry" in found and ("reschedule" in found or "cancellation" in found):
        found.discard("booking_inquiry")
    return tuple(tag for tag in TAGS if tag in found)
