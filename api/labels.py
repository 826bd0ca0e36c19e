"""What people call things: channels, review questions and intent tags, in words for the console
and the terminal view."""

from __future__ import annotations

CHANNEL_NAMES = {
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "instagram": "Instagram",
    "messenger": "Facebook Messenger",
    "booking": "Booking form",
}
# The entry label is shorter than the channel list's name, as in the design document.
SHORT_NAMES = {**CHANNEL_NAMES, "messenger": "Facebook"}

# Review questions (identity_conflicts.kind) as a person would ask them.
CONFLICT_QUESTIONS = {
    "identity_phone_conflict": "This sender belongs to one customer but gave a number another one owns.",
    "shared_phone_candidate": "A new sender gave a number another customer already owns.",
    "low_confidence_link": "The evidence is too weak to link this sender automatically.",
    "shared_phone": "A sender gave a number marked shared, which links nobody automatically.",
    "profile_name_clash": "The sender's profile name is not the name of the customer it is linked to.",
}

INTENT_NAMES = {
    "booking_inquiry": "booking inquiry",
    "reschedule": "reschedule",
    "cancellation": "cancellation",
    "pricing": "pricing",
    "complaint": "complaint",
    "opt_out": "opt-out",
    "opt_in": "opt-in",
}
