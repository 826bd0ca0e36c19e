"""The words that label a number in chat, one table per language: what :mod:`phone_cues` reads.

Every entry is a plain lowercase phrase. Two shorthands keep the tables short:

* ``{a|b|}`` is a choice: ``"call {me|us}{| at}"`` stands for "call me", "call us", "call me at" and
  "call us at" (an empty choice leaves the words out);
* ``<name>`` is one of the language's word lists below (``<my>``, ``<number>``, ``<relation>``).

Accent-free spellings ("numero" for "número"), apostrophe variants ("wife's" with a straight or curly
apostrophe, "wifes") and hyphen-free ones ("appelez moi") are added automatically, because people type
them all. A space matches any whitespace. To teach extraction a new cue, add its phrase to the right list
of its language; a phrase that ends in a letter only matches a whole word.

The kinds of label, and how :mod:`phone_cues` binds them to a number:

* ``self_before`` / ``self_after``: the sender gives their own number ("my cell is", "... is my number");
* ``other_before`` / ``other_after``: someone else's ("my wife's number", "... (my son)");
  ``other_next_to`` only counts right before the digits ("Mom: 415...", "mi esposa - 612..."): a
  relation named further away ("my friend recommended you, ...") says nothing about the number;
* ``phone_labels``: a phone, owner unsaid ("Tel:", "WhatsApp"), read as the sender's when nothing else
  says otherwise;
* ``identifier_labels``: the digits are an identifier of something else ("order #", "IBAN", "NPI"), so
  they are no phone at all. This is where to add a new kind of labelled decoy; shapes that need no
  label (dates, prices, codes of letters and digits) are in :mod:`phone_identifiers`;
* ``glue``: words between a label and its value ("my number IS 415...", "llámame AL 612...");
* ``copulas`` and ``determiners``: how a label after the number attaches to it ("... IS MY order
  number", "... ES MI número de socio");
* ``courtesy``: words people glue to the end of a number in a hurry ("415 555 0177pls");
* ``verbs``: verbs of calling and writing people run into the number after them ("call4155550134").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class CueWords:
    """The cue templates of one language (see the module docstring for each kind). ``macros`` are its
    word lists, by name, each a ``|``-separated choice."""

    language: str
    macros: dict[str, str]
    self_before: tuple[str, ...]
    self_after: tuple[str, ...]
    other_before: tuple[str, ...]
    other_next_to: tuple[str, ...]
    other_after: tuple[str, ...]
    phone_labels: tuple[str, ...]
    identifier_labels: tuple[str, ...]
    glue: tuple[str, ...]
    copulas: tuple[str, ...]
    determiners: tuple[str, ...]
    courtesy: tuple[str, ...]
    verbs: tuple[str, ...]


#: Abbreviations and words that follow a label and mean "number" ("order #", "Kunden-Nr.", "nº").
NUMBER_SUFFIXES: Final = "| #| no.| no| nr.| nr| nº| n°| n.| num.| num| number| id| code| ref|-nr.| nummer"
#: The same after a phone label ("phone #", "Handy-Nr.", "Handynr.", "Tel. nº"): still a phone label.
PHONE_SUFFIXES: Final = (
    "| #| no.| no| nr.| nr|nr.|nr| -nr.| -nr| nº| n°| n.| num.| num| number| nummer|-nummer"
)

# --- English ------------------------------------------------------------------------------------------------

_EN = {
    "my": "my|our",
    "adj": "|new |personal |own |direct |best |private |mobile |cell |work |home |main |contact |usual ",
    "number": "number|phone number|phone|phone #|phone no.|cell|cell number|cell #|cellphone|cell phone"
    "|mobile"
    "|mobile number|digits|line|whatsapp|whatsapp number|contact number|contact|#|no.|num|landline|tel",
    "relation": "wife|husband|hubby|partner|spouse|fiance|fiancé|fiancee|fiancée|girlfriend|boyfriend|gf|bf"
    "|mom|mum|mother|mama|dad|father|papa|son|daughter|kid|brother|sister|bro|sis|friend|buddy|boss"
    "|manager|assistant|secretary|colleague|coworker|co-worker|cousin|aunt|uncle|grandma|grandpa"
    "|grandmother|grandfather|nanny|babysitter|sitter|neighbor|neighbour|roommate|flatmate|planner"
    "|wedding planner|coordinator|driver|chef|caterer|florist|dj|photographer|venue|hotel|restaurant|bride"
    "|groom|guest|sponsor|landlord|landlady|agent|receptionist|front desk|host|doctor|dentist|vet|lawyer"
    "|accountant|tenant|nurse|teacher|contractor|plumber|mechanic|in-laws|mother-in-law|father-in-law"
    "|son-in-law|daughter-in-law|niece|nephew|grandson|granddaughter|caregiver|office manager|employer",
    "id": "order|orders|order id|booking|booking ref|booking reference|confirmation|conf|confirm"
    "|reservation|res|ref|reference|tracking|track|shipment|parcel|package|waybill|awb|invoice|inv"
    "|receipt|ticket|tickets|case|account|acct|acc|member|member id|membership|loyalty|loyalty card"
    "|rewards|rewards card|policy|claim|transaction|txn|serial|serial number|s/n|sn|model|sku|item|part"
    "|po|p.o.|pnr|voucher|gift card|card|card number|visa|mastercard|amex|iban|swift|bic|routing|aba"
    "|sort code|zip|zipcode|zip code|postal code|postcode|post code|pin|otp|code|coupon|promo|promo code"
    "|ssn|sin|ein|tin|itin|tax id|tax number|vat|vat number|vat no|license|licence|license plate|plate"
    "|vin|room|table|seat|flight|gate|unit|suite|apt|lot|batch|job|quote|estimate|folio|cust|customer"
    "|customer id|client|client id|patient|patient id|mrn|npi|dea|medicare|medicaid|insurance|group"
    "|subscriber|id|imei|meid|version|app version|build|nhs|nhs number|ip|ip address|dob|date of birth"
    "|ups|usps|fedex|dhl|incident|request|rma|work order|sales order|check|cheque|bank account"
    "|employee id|student id|badge|passport|isbn|amazon order|ebay order|case id|ticket id|plan"
    "|contract|file|file number|reg|registration|record|mileage|odometer|room number|booking code"
    "|upc|ean|gtin|asin|barcode|product|product code|catalog|consignment|prescription|rx|eticket|e-ticket"
    "|boarding pass|itinerary|confirmation code|return|refund|payment|payment id|bill|billing|utility"
    "|meter|loan|mortgage|warranty|certificate|permit|locker|container|pallet|vehicle|chassis|complaint"
    "|service request|company number|company no|national id|staff id|id card|social security",
}

EN: Final = CueWords(
    language="en",
    macros=_EN,
    self_before=(
        "<my> <adj><number>",
        "{call|text|txt|ring|phone|reach|contact|message|msg|whatsapp|whats app|wa|sms|buzz|hit|dm"
        "|call or text|text or call|email or text|get hold of} {me|us}{| back| anytime| any time| directly"
        "| later| tomorrow| tonight| today| on whatsapp| on my cell| on my mobile| instead}"
        "{| at| on| via| @| to}",
        "{you|u|ya} can {call|text|reach|contact|whatsapp|message|find|get|ring} {me|us}{| at| on| via}",
        "{i'm|im|i am|we're|we are} {at|on|reachable at|reachable on|available at|available on}",
        "{best|preferred|good|easiest} {number|phone|contact|way to reach me|number to reach me"
        "|number for me|number to call|number to text|way to get me}",
        "{callback|call back|call-back|contact|reach|reply|return} {number|no.|#|phone|phone number}",
        "{or|and} me {at|on}",
        "me {at|on}",
        "mine",
        "{this|my} is {my|me}",
        "it's me",
        "{text|call} this number",
        "<my> <number> {for|on|in|under|with} {the|my|this|our} {booking|reservation|order|appointment"
        "|account|table|file|event|party|records|profile}",
        "{reach|contact|call|text} me",
    ),
    self_after=(
        "<my> <adj><number>",
        "mine",
        "me",
        "{that's|thats|that is|it's|its} {me|my number|my cell|my phone|mine}",
        "{(cell)|(mobile)|(mine)|(me)|(my cell)|(my number)|(home)|(work)|(personal)|(whatsapp)|(wa)"
        "|(direct)|(cell phone)|(landline)}",
    ),
    other_before=(
        "<my> <relation>{'s|s'|} {|new |personal |work |cell |mobile |direct |office }<number>",
        "{the|our|his|her|their|your} <relation>{'s|s'|}"
        " {|new |personal |work |cell |mobile |direct }<number>",
        "{call|text|reach|contact|ring|try|message|whatsapp|ask for|ask|phone|txt} {my|our|the|his|her|their}"
        " {|new |}<relation>{| at| on| via}",
        "{his|her|their} {|new |personal |work |cell |mobile |direct |home }<number>",
        "{call|text|reach|contact|ring|message|phone|try} {him|her|them}{| at| on}",
        "{not mine|isn't mine|is not mine|not my number|not my phone|not my cell}",
        "<number> of {my|the|our} <relation>",
        "<relation>{'s|s'} {|new |personal |work |cell |mobile |direct }<number>",
    ),
    other_next_to=("{<my>|the|his|her|their} <relation>{'s|s'|}", "<relation>{'s|s'|}"),
    other_after=(
        "{<my>|the|our|his|her|their} <relation>{'s|s'|}",
        "{his|hers|theirs}",
        "belongs to {my|the|our} <relation>",
        "{that's|thats|that is|it's|its} {my|the|our|his|her} <relation>{'s|}",
        "(<relation>)",
        "({my|the|our} <relation>)",
        "{not mine|isn't mine|is not mine}",
    ),
    phone_labels=(
        "{phone|ph|ph.|cell|cellphone|cell phone|mobile|mob|mob.|tel|tel.|tele|telephone|whatsapp|whats app"
        "|wa|sms|contact|home|work|office|landline|direct|direct line|number|fone}{" + PHONE_SUFFIXES + "}",
        # A WhatsApp link to a chat ("wa.me/5511987654321"): the digits are an international number.
        "{wa.me|whatsapp.com/send?phone|whatsapp.com/send/?phone}",
    ),
    identifier_labels=("<id>{" + NUMBER_SUFFIXES + "}", "{#|no.|nº|n°|nr.|num.|ref.}"),
    glue=("is", "was", "are", "were", "at", "on", "to", "it's", "its", "is:", "of", "=", "@"),
    copulas=("is", "was", "=", "that's", "thats", "it's", "its", "-", "is the", "being"),
    determiners=("my", "the", "our", "your", "his", "her", "their", "a", "an"),
    courtesy=(
        "pls",
        "plz",
        "please",
        "pl",
        "thx",
        "thanks",
        "thank",
        "ty",
        "tks",
        "tnx",
        "asap",
        "ok",
        "and",
        "or",
        "anytime",
        "today",
        "tomorrow",
        "tonight",
        "after",
        "before",
        "if",
        "thankyou",
        "cheers",
    ),
    verbs=(
        "call",
        "text",
        "txt",
        "ring",
        "dial",
        "phone",
        "sms",
        "msg",
        "message",
        "whatsapp",
        "contact",
        "reach",
        "try",
    ),
)

# --- Spanish ----------------------------------------------------------------------------------------------

_ES = {
    "my": "mi|mis|nuestro|nuestra",
    "adj": "|nuevo |personal |propio |directo |",
    "number": "número|número de teléfono|número de celular|número de móvil|número de whatsapp|teléfono|tel"
    "|tlf|telf|celular|cel|móvil|whatsapp|whats|wsp|wasap|contacto|fijo|numero",
    "relation": "esposa|esposo|marido|mujer|novia|novio|mamá|madre|papá|padre|hijo|hija|hermano|hermana"
    "|amigo|amiga|jefe|jefa|abuela|abuelo|tío|tía|primo|prima|suegra|suegro|compañero|compañera|vecino"
    "|vecina|secretaria|secretario|asistente|chofer|cocinero|cocinera|chef|organizador|organizadora"
    "|fotógrafo|fotógrafa|salón|hotel|restaurante|dueño|dueña|casero|casera|niñera|doctor|doctora|médico"
    "|pareja|cuñado|cuñada|sobrino|sobrina|nieto|nieta|encargado|encargada|gerente",
    "id": "pedido|orden|reserva|reservación|confirmación|localizador|factura|recibo|ticket|boleto|código"
    "|referencia|ref|rastreo|seguimiento|guía|paquete|envío|cuenta|tarjeta|tarjeta de cliente"
    "|tarjeta de fidelidad|tarjeta de puntos|socio|afiliado|póliza|expediente|incidencia|caso|serie"
    "|dni|nie|nif|cif|rfc|curp|cuit|cuil|rut|clabe|iban|cp|código postal|vuelo|asiento|habitación|mesa"
    "|versión|cupón|folio|contrato|matrícula|placa|pasaporte|cliente|paciente|historia clínica|lote"
    "|modelo|imei|solicitud|trámite|siniestro|nómina|cédula|cuenta bancaria|transferencia|operación"
    "|comprobante|boleta|código de barras|nss|imss|legajo|patente|clave|cupón de descuento|certificado"
    "|garantía|préstamo|recibo de luz|medidor|contador|número de pedido|número de orden",
}

ES: Final = CueWords(
    language="es",
    macros=_ES,
    self_before=(
        "<my> <adj><number>",
        "{llámame|llámeme|llámenos|llámanos|márcame|márqueme|escríbeme|escríbame|mándame|mándeme"
        "|contáctame|contácteme|whatsappéame|localízame}{| al| a| en| por}",
        "me {puedes|pueden|puede|podés|podéis} {llamar|escribir|contactar|localizar|encontrar|marcar"
        "|mandar mensaje|mandar un mensaje|llamar o escribir}{| al| a| en| por}",
        "{puedes|pueden|puede|podés} {llamarme|escribirme|contactarme|localizarme|marcarme}{| al| a| en}",
        "{estoy|sigo} {en|al}",
        "{el mío|la mía}",
        "{contactar|llamar|escribir} {conmigo|a mí}{| al| en}",
        "<my> <number> para {la reserva|el pedido|la cita|el evento}",
        "me {llamas|escribes|marcas}{| al| a}",
    ),
    self_after=(
        "<my> <adj><number>",
        "{el mío|la mía|mío|mía}",
        "{(mío)|(yo)|(celular)|(cel)|(móvil)|(personal)|(whatsapp)}",
    ),
    other_before=(
        "{el|la} <number> de {mi|la|el|su|nuestro|nuestra} <relation>",
        "<number> de {mi|la|el|su|nuestro|nuestra} <relation>",
        "{el|la} <number> del <relation>",
        "{el|la} de {mi|la|el|su} <relation>",
        "{llama|llame|llamar|llamen|escribe|escríbele|escríbanle|contacta|contacte|contactar|marca|marque"
        "|habla con|hablar con} {a|al|con} {mi|la|el|su|nuestra|nuestro} <relation>{| al| a| en}",
        "{su|sus} {|nuevo }<number>",
        "{no es mío|no es mi número|no es el mío}",
    ),
    other_next_to=("{mi|la|el|su|los|las} <relation>", "<relation>"),
    other_after=(
        "{de|del} {mi|la|el|su} <relation>",
        "{(mi <relation>)|(<relation>)|(la <relation>)|(el <relation>)}",
        "{mi|la|el|su} <relation>",
        "{suyo|suya}",
        "{no es mío|no es el mío}",
    ),
    phone_labels=(
        "{tel|tel.|teléfono|tlf|tlf.|telf|telf.|celular|cel|cel.|móvil|whatsapp|wsp|wasap|contacto|fijo|número"
        "|número de teléfono|número de celular|llamar|llamadas}{" + PHONE_SUFFIXES + "| nro.}",
    ),
    identifier_labels=(
        "<id>{" + NUMBER_SUFFIXES + "| nro.| nro}",
        "{número|nro.|nro|nº|n°|num.} de{| la| el| mi| su} <id>",
        "{nro.|núm.}",
    ),
    glue=("es", "era", "son", "al", "el", "a", "en", "es el", "sería", ":"),
    copulas=("es", "era", "es el", "es la", "sería", "="),
    determiners=("mi", "el", "la", "su", "nuestro", "nuestra", "tu"),
    courtesy=(
        "porfa",
        "pf",
        "xfa",
        "plis",
        "gracias",
        "grax",
        "saludos",
        "xf",
        "hoy",
        "mañana",
        "luego",
    ),
    verbs=("llama", "llamar", "llámame", "marca", "marcar", "escribe", "escríbeme", "whatsapp", "contacto"),
)

# --- Portuguese -------------------------------------------------------------------------------------------

_PT = {
    "my": "meu|minha|nosso|nossa|o meu|a minha",
    "adj": "|novo |nova |pessoal |próprio |",
    "number": "número|número de telefone|número de celular|número do celular|número do whatsapp|telefone"
    "|tel|fone|celular|cel|telemóvel|whatsapp|whats|zap|zapzap|wpp|contato|contacto|numero|móvel",
    "relation": "esposa|esposo|marido|mulher|namorada|namorado|mãe|pai|filho|filha|irmão|irmã|amigo|amiga"
    "|chefe|avó|avô|tio|tia|primo|prima|sogra|sogro|vizinho|vizinha|secretária|secretário|assistente"
    "|motorista|cozinheiro|cozinheira|fotógrafo|fotógrafa|salão|hotel|restaurante|dono|dona|babá|médico"
    "|médica|cunhado|cunhada|sobrinho|sobrinha|neto|neta|gerente|patrão|patroa|companheiro|companheira",
    "id": "pedido|encomenda|reserva|confirmação|nota|nota fiscal|nf|nfe|boleto|fatura|factura|recibo|código"
    "|referência|ref|rastreio|código de rastreio|código de rastreamento|rastreamento|objeto|protocolo"
    "|chamado|conta|agência|cartão|cartão fidelidade|cartão de fidelidade|cartão de cliente|sócio"
    "|matrícula|apólice|sinistro|série|número de série|cpf|cnpj|rg|cep|nif|contribuinte|iban|nib|voo"
    "|assento|quarto|mesa|versão|cupom|cupão|contrato|placa|passaporte|cliente|código de cliente"
    "|paciente|lote|modelo|imei|processo|ordem|ordem de serviço|os|solicitação|transferência|pix"
    "|chave pix|código de barras|linha digitável|cnh|renavam|chassi|niss|sns|cartão de cidadão|garantia"
    "|empréstimo|medidor|contador|fatura de luz|conta de luz"
    "|código postal",
}

PT: Final = CueWords(
    language="pt",
    macros=_PT,
    self_before=(
        "<my> <adj><number>",
        "me {liga|ligue|ligar|chama|chame|chamar|manda|mande|mandar|contata|contate|contacta|contacte|acha"
        "|encontra|liga ou manda mensagem}{| mensagem| msg| um zap| zap| whats| no whats| no zap}"
        "{| no| na| em| para o| pro| pra| pelo| neste}",
        "{liga|ligue|chama|chame|manda} {pra mim|para mim}{| no| em}",
        "{pode|podem|você pode|vc pode} me {ligar|chamar|contatar|contactar|achar|encontrar|mandar mensagem"
        "|mandar whats|mandar zap}{| no| na| em| pelo}",
        "{liga-me|ligue-me|contacte-me|contacta-me|chama-me|telefone-me}{| para o| para| no| pro}",
        "{estou|fico} {no|em}",
        "{o meu|a minha}",
        "<my> <number> {pra|para} {a reserva|o pedido|a consulta|o evento}",
    ),
    self_after=(
        "<my> <adj><number>",
        "{o meu|a minha|meu|minha}",
        "{(meu)|(eu)|(celular)|(cel)|(zap)|(whats)}",
    ),
    other_before=(
        "{o|a} <number> {da|do|de} {minha |meu |sua |seu |nossa |nosso |}<relation>",
        "<number> {da|do|de} {minha |meu |sua |seu |}<relation>",
        "{liga|ligue|ligar|chama|chame|fala com|falar com|manda mensagem} {pra|para|com|pro|pra a|para a"
        "|para o|o|a} {minha |meu |sua |seu |o |a |}<relation>{| no| em}",
        "{o|a} {número|celular|telefone|zap} {dele|dela|deles}",
        "{dele|dela}",
        "{não é meu|não é o meu}",
    ),
    other_next_to=("{minha|meu|sua|seu|o|a} <relation>", "<relation>"),
    other_after=(
        "{da|do|de} {minha|meu|sua|seu} <relation>",
        "{(minha <relation>)|(meu <relation>)|(<relation>)}",
        "{minha|meu|sua|seu} <relation>",
        "{dele|dela}",
        "{não é meu|não é o meu}",
    ),
    phone_labels=(
        "{tel|tel.|telefone|fone|cel|cel.|celular|telemóvel|tlm|tlm.|telem.|whatsapp|whats|zap|wpp|contato|contacto|móvel"
        "|número|número de telefone}{" + PHONE_SUFFIXES + "}",
    ),
    identifier_labels=(
        "<id>{" + NUMBER_SUFFIXES + "}",
        "{número|nº|n°|num.} {de|do|da}{| meu| minha} <id>",
    ),
    glue=("é", "eh", "e'", "era", "no", "na", "o", "a", "em", "pra", "para", "pro", "é o", ":"),
    copulas=("é", "eh", "era", "é o", "é a", "="),
    determiners=("meu", "minha", "o", "a", "do", "da", "seu", "sua", "nosso", "nossa"),
    courtesy=(
        "pfv",
        "pf",
        "pfvr",
        "obg",
        "obrigado",
        "obrigada",
        "valeu",
        "vlw",
        "bjs",
        "abs",
        "grato",
        "ou",
        "hoje",
        "amanhã",
    ),
    verbs=("liga", "ligue", "ligar", "chama", "chamar", "manda", "whats", "zap", "contato"),
)

# --- French -----------------------------------------------------------------------------------------------

_FR = {
    "my": "mon|ma|mes|notre",
    "adj": "|nouveau |numéro de |",
    "number": "numéro|num|n°|numéro de téléphone|numéro de portable|numéro de mobile|téléphone|tél|tel"
    "|portable|mobile|fixe|whatsapp|ligne|ligne directe|contact|numero|tel.|tél.|port.",
    "relation": "femme|mari|époux|épouse|copine|copain|conjoint|conjointe|compagne|compagnon|mère|maman"
    "|père|papa|fils|fille|frère|sœur|soeur|ami|amie|patron|patronne|chef|assistante|assistant|secrétaire"
    "|collègue|cousin|cousine|tante|oncle|grand-mère|grand-père|voisin|voisine|chauffeur|traiteur"
    "|photographe|salle|hôtel|restaurant|propriétaire|nounou|médecin|belle-mère|beau-père|neveu|nièce"
    "|fiancé|fiancée|gérant|gérante|responsable",
    "id": "commande|réservation|confirmation|facture|reçu|ticket|billet|code|référence|réf|ref|suivi"
    "|colis|envoi|compte|carte|carte de fidélité|carte client|adhérent|membre|police|contrat|dossier"
    "|sinistre|réclamation|série|siret|siren|tva|numéro fiscal|numéro de sécurité sociale|sécu|nir|iban"
    "|rib|bic|vol|siège|chambre|table|version|coupon|plaque|immatriculation|passeport|client|patient|lot"
    "|modèle|imei|abonné|code postal|cp|devis|bon de commande|transaction|virement|demande|ticket de caisse"
    "|police d'assurance|assurance|mutuelle|numéro de police|contrat d'assurance|carte vitale"
    "|permis|carte d'identité|pièce d'identité|avoir|remboursement|échéance|garantie|prêt|compteur"
    "|code-barres|code barre|numéro de client|numéro d'adhérent|numéro de dossier"
    "|sécurité sociale",
}

FR: Final = CueWords(
    language="fr",
    macros=_FR,
    self_before=(
        "<my> <adj><number>",
        "{appelez|appelle|rappelez|rappelle|contactez|contacte|écrivez|écris|textez|joignez|sonnez|bipez}-moi"
        "{| au| sur| à| par whatsapp au}",
        "{vous pouvez|tu peux|on peut|pouvez-vous|peux-tu} me {joindre|contacter|appeler|rappeler|écrire"
        "|texter|trouver}{| au| sur| à}",
        "{joignable|disponible|dispo|injoignable sauf} {au|sur}",
        "me {joindre|contacter|appeler|rappeler}{| au| sur}",
        "{le mien|la mienne}",
        "<my> <number> pour {la réservation|la commande|le rendez-vous|l'événement}",
        "{c'est|voici} {moi|mon numéro|mon portable}",
    ),
    self_after=(
        "<my> <adj><number>",
        "{le mien|la mienne}",
        "{(moi)|(perso)|(portable)|(mobile)|(whatsapp)|(fixe)}",
    ),
    other_before=(
        "{le|la} <number> de {ma|mon|la|le|notre|sa|son} <relation>",
        "<number> de {ma|mon|la|le|notre} <relation>",
        "{le|la} <number> du <relation>",
        "{celui|celle} de {ma|mon|la|le} <relation>",
        "{appelez|appelle|contactez|contacte|joignez|joins|écrivez à|écris à|appeler|contacter} {ma|mon|la"
        "|le|notre|l'} <relation>{| au| sur}",
        "{son|sa|leur} {|nouveau }<number>",
        "{pas le mien|ce n'est pas le mien|pas mon numéro}",
    ),
    other_next_to=("{ma|mon|notre|le|la|l'} <relation>", "<relation>"),
    other_after=(
        "{de|du} {ma|mon|la|le} <relation>",
        "{(ma <relation>)|(mon <relation>)|(<relation>)}",
        "{ma|mon|la|le|sa|son} <relation>",
        "{le sien|la sienne}",
        "{pas le mien|ce n'est pas le mien}",
    ),
    phone_labels=(
        "{tél|tel|tél.|tel.|téléphone|portable|port|port.|mobile|fixe|whatsapp|contact|ligne directe|numéro"
        "|numéro de téléphone|mob.|gsm}{" + PHONE_SUFFIXES + "}",
    ),
    identifier_labels=(
        "<id>{" + NUMBER_SUFFIXES + "}",
        "{numéro|n°|nº|no} {de|du|d'}{| la| le| ma| mon} <id>",
        "{numéro|n°} {d'|de }{adhérent|abonné|client|commande|dossier|suivi|série|contrat|compte|colis}",
    ),
    glue=("est", "c'est", "au", "le", "à", "sur", ":", "=", "est le", "c'est le"),
    copulas=("est", "c'est", "c est", "est le", "est la", "c'est le", "c'est la", "="),
    determiners=("mon", "ma", "le", "la", "notre", "votre", "son", "sa"),
    courtesy=("svp", "stp", "merci", "mci", "bisous", "bises", "cdlt", "et", "ou", "demain", "aujourd"),
    verbs=("appelle", "appelez", "appeler", "écris", "écrivez", "contact", "contactez"),
)

# --- German -----------------------------------------------------------------------------------------------

_DE = {
    "my": "mein|meine|meiner|meinen|unser|unsere|meine private|meine neue",
    "adj": "|neue |private |direkte |",
    "number": "nummer|handynummer|telefonnummer|mobilnummer|rufnummer|festnetznummer|handy|telefon|tel|tel."
    "|mobil|mobilfunknummer|festnetz|whatsapp|whatsapp-nummer|kontakt|kontaktnummer|durchwahl",
    "relation": "frau|mann|ehefrau|ehemann|freundin|freund|partnerin|partner|mutter|mama|vater|papa|sohn"
    "|tochter|bruder|schwester|chef|chefin|kollege|kollegin|cousin|cousine|tante|onkel|oma|opa|nachbar"
    "|nachbarin|fahrer|fahrerin|assistentin|assistent|sekretärin|vermieter|vermieterin|hotel|restaurant"
    "|location|veranstalter|fotograf|fotografin|caterer|schwiegermutter|schwiegervater|neffe|nichte"
    "|enkel|enkelin|lebensgefährte|lebensgefährtin|verlobte|verlobter|babysitter|arzt|ärztin",
    "id": "bestellung|bestellnummer|bestellnr|bestell-nr|auftrag|auftragsnummer|auftragsnr|buchung"
    "|buchungsnummer|buchungsnr|reservierung|reservierungsnummer|bestätigung|rechnung|rechnungsnummer"
    "|rechnungsnr|rg-nr|quittung|beleg|ticket|ticketnummer|vorgang|vorgangsnummer|referenz|ref|sendung"
    "|sendungsnummer|paket|paketnummer|tracking|trackingnummer|konto|kontonummer|kto|iban|bic|blz|karte"
    "|kundenkarte|kundennummer|kundennr|kd-nr|mitglied|mitgliedsnummer|mitgliedsnr|versicherung"
    "|versicherungsnummer|versichertennummer|police|policennummer|vertrag|vertragsnummer|fall|aktenzeichen"
    "|az|schaden|schadennummer|seriennummer|serien-nr|steuernummer|steuer-nr|steuer-id|steuerid"
    "|steueridentifikationsnummer|ust-idnr|ust-id|ust-id-nr|ustid|umsatzsteuer-id|uid|uid-nr|hrb"
    "|handelsregister|flug|sitz|zimmer|tisch|version|gutschein|gutscheincode|code|kennzeichen|reisepass"
    "|personalausweis|ausweisnummer|patient|patientennummer|charge|modell|artikel|artikelnummer|art-nr"
    "|imei|plz|postleitzahl|zählernummer|zähler|angebot|angebotsnummer|lieferschein|abo|abonummer"
    "|kundenkonto|transaktion|überweisung|antrag|antragsnummer|termin|terminnummer|nr"
    "|kunden-nr|bestell-nr|auftrags-nr|rechnungs-nr|buchungs-nr|reservierungs-nr|vorgangs-nr|mitglieds-nr"
    "|versicherungs-nr|vertrags-nr|konto-nr|sendungs-nr|paket-nr|ticket-nr|artikel-nr|serien-nr|steuer-nr"
    "|personal-nr|personalnummer|ausweis-nr|patienten-nr|termin-nr|referenz-nr|lieferschein-nr|angebots-nr"
    "|abo-nr|zähler-nr|fall-nr|schadens-nr|schadensnummer|identnummer|ident-nr|garantie|darlehen|kredit",
}

DE: Final = CueWords(
    language="de",
    macros=_DE,
    self_before=(
        "<my> <adj><number>",
        "{rufen sie mich|ruf mich|ruft mich|rufen sie uns|ruf uns} {an|zurück|an oder schreiben sie mir}"
        "{| unter| auf| an| bitte unter| bitte an}",
        "{sie erreichen mich|du erreichst mich|ihr erreicht mich|man erreicht mich|sie erreichen uns"
        "|erreichbar|zu erreichen|mich erreichen sie}{| unter| über| auf| am besten unter| immer unter}",
        "{rückruf|rückrufnummer|rückruf bitte|bitte rückruf}{| unter| an| auf}",
        "{schreiben sie mir|schreib mir|schreibt mir|melden sie sich|meld dich}{| unter| auf| per whatsapp"
        "| bei whatsapp unter}",
        "{meine ist|meine lautet}",
        "<my> <number> für {die reservierung|die buchung|den termin|die bestellung}",
        "mich {unter|auf}",
    ),
    self_after=(
        "<my> <adj><number>",
        "{meine|meins|mein}",
        "{(ich)|(privat)|(handy)|(mobil)|(whatsapp)|(festnetz)|(dienstlich)}",
    ),
    other_before=(
        "{die|der} <number> {meiner|meines|von meiner|von meinem|unserer|unseres|der|des} <relation>",
        "<number> {meiner|meines|von meiner|von meinem|der|des|vom} <relation>",
        "{rufen sie|ruf|ruft|erreichen sie|kontaktieren sie|schreiben sie} {meine|meinen|die|den|unsere"
        "|unseren} <relation>{| an| unter| an unter}",
        "{seine|ihre} {|neue |private }<number>",
        "{nicht meine|nicht meins|nicht meine nummer}",
    ),
    other_next_to=(
        "{meine|mein|meiner|meinen|unsere|unser|die|der|den} <relation>",
        "{von|vom} {meiner|meinem} <relation>",
    ),
    other_after=(
        "{meiner|meines|von meiner|von meinem} <relation>",
        "{(meine <relation>)|(mein <relation>)|(<relation>)}",
        "{meine|mein|die|der|seine|ihre} <relation>",
        "{seine|ihre|seins|ihrs}",
        "{nicht meine|nicht meins}",
    ),
    phone_labels=(
        "{tel|tel.|telefon|handy|mobil|mobil.|festnetz|whatsapp|kontakt|fon|nummer|telefonnummer|handynummer"
        "|mobilnummer|rufnummer|tel.-nr.|tel-nr|telefon-nr.|privat|dienstlich|büro}{" + PHONE_SUFFIXES + "}",
    ),
    identifier_labels=("<id>{" + NUMBER_SUFFIXES + "| nr}", "{nr.|nr}"),
    glue=("ist", "lautet", "sind", "unter", "an", "auf", ":", "=", "ist die", "wäre"),
    copulas=("ist", "lautet", "ist die", "ist der", "ist das", "="),
    determiners=("meine", "mein", "die", "der", "das", "unsere", "unser", "ihre", "seine"),
    courtesy=(
        "bitte",
        "danke",
        "lg",
        "vg",
        "mfg",
        "gruß",
        "grüße",
        "dankeschön",
        "und",
        "oder",
        "heute",
        "morgen",
    ),
    verbs=("anrufen", "ruf", "rufen", "anruf", "schreib", "schreiben", "kontakt"),
)

# --- Italian ----------------------------------------------------------------------------------------------

_IT = {
    "my": "il mio|la mia|mio|mia|il nostro|nostro",
    "adj": "|nuovo |",
    "number": "numero|numero di telefono|numero di cellulare|cellulare|cell|telefono|tel|whatsapp|fisso",
    "relation": "moglie|marito|fidanzata|fidanzato|mamma|madre|papà|padre|figlio|figlia|fratello|sorella"
    "|amico|amica|capo|collega|cugino|cugina|zia|zio|nonna|nonno|vicino|vicina|autista|fotografo|segretaria",
    "id": "ordine|prenotazione|conferma|fattura|ricevuta|codice|riferimento|spedizione|tracking|pacco|conto"
    "|carta|tessera|tessera fedeltà|polizza|pratica|codice fiscale|partita iva|p.iva|p. iva|iva|iban"
    "|volo|camera|tavolo|versione|cliente|codice cliente|matricola|cap|seriale|numero di serie|contratto"
    "|targa|lotto|modello|imei|ordine n"
    "|numero d'ordine|codice a barre|numero di pratica|bolletta|contatore|garanzia|prestito",
}

IT: Final = CueWords(
    language="it",
    macros=_IT,
    self_before=(
        "<my> <adj><number>",
        "{chiamami|chiamatemi|scrivimi|scrivetemi|contattami|contattatemi|richiamami|richiamatemi}"
        "{| al| allo| su| sul}",
        "mi {trovi|trovate|potete chiamare|puoi chiamare|puoi scrivere|potete contattare}{| al| allo| su}",
        "il mio",
    ),
    self_after=("<my> <adj><number>", "{il mio|mio}", "{(io)|(cellulare)|(cell)}"),
    other_before=(
        "il <number> di {mia|mio|sua|suo} <relation>",
        "<number> di {mia|mio} <relation>",
        "{chiama|chiamate|contatta|contattate|scrivi a|scrivete a} {mia|mio|la|il} <relation>{| al| allo}",
    ),
    other_next_to=("{mia|mio|sua|suo} <relation>", "<relation>"),
    other_after=("{di mia|di mio} <relation>", "{(mia <relation>)|(mio <relation>)|(<relation>)}"),
    phone_labels=("{tel|tel.|telefono|cell|cell.|cellulare|whatsapp|fisso|numero}{" + PHONE_SUFFIXES + "}",),
    identifier_labels=("<id>{" + NUMBER_SUFFIXES + "}", "{numero|n.} {di|d'|dell'}<id>"),
    glue=("è", "al", "allo", "il", ":", "="),
    copulas=("è", "è il", "="),
    determiners=("il", "la", "mio", "mia", "il mio", "la mia"),
    courtesy=("grazie", "ciao", "grz", "domani", "oggi"),
    verbs=("chiama", "chiamare", "scrivi", "contatta"),
)

#: Every language's words, by language code.
LANGUAGES: Final = {words.language: words for words in (EN, ES, PT, FR, DE, IT)}

#: The language a business in a region writes first (customers may write in any of them).
REGION_LANGUAGES: Final = {
    **dict.fromkeys(("US", "GB", "CA", "AU", "NZ", "IE", "IN", "ZA", "SG", "PH", "NG", "KE", "JM"), "en"),
    **dict.fromkeys(("ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "UY", "PY", "BO", "CR", "GT"), "es"),
    **dict.fromkeys(("PA", "DO", "HN", "SV", "NI", "CU", "PR"), "es"),
    **dict.fromkeys(("BR", "PT", "AO", "MZ"), "pt"),
    **dict.fromkeys(("FR", "BE", "LU", "MC", "SN", "CI", "MA", "TN"), "fr"),
    **dict.fromkeys(("DE", "AT", "CH", "LI"), "de"),
    **dict.fromkeys(("IT", "SM", "VA"), "it"),
}
