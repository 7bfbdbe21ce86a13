"""The compliance texts: keyword replies and the verbal disclosure. Pure.

Written to the CTIA Messaging Principles: each reply names the business, says what the person
is (or no longer is) subscribed to, and carries no marketing. The opt-in confirmation states
the frequency, "Msg & data rates may apply" and how to stop; the help reply says how to stop and
how to get help (the business's own number: we never hand out the owner's personal email).
Every text starts with the business name so the person knows who is writing.
"""

from __future__ import annotations

from typing import Literal

ReplyKind = Literal["opt_out", "opt_in", "help"]

FREQUENCY = "Msg frequency varies"
RATES = "Msg & data rates may apply"


def _pretty(e164: str | None) -> str:
    if e164 and len(e164) == 12 and e164.startswith("+1"):
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return e164 or ""


def opt_out_confirmation(business: str) -> str:
    return f"{business}: You are unsubscribed and will receive no more texts from us. Reply START to resubscribe."


def opt_in_confirmation(business: str) -> str:
    return (f"{business}: You are subscribed to texts about your calls and appointments. {FREQUENCY}. "
            f"{RATES}. Reply HELP for help, STOP to opt out.")


def help_text(business: str, business_number: str | None) -> str:
    contact = f"call us at {_pretty(business_number)}" if business_number else "call us"
    return (f"{business}: Texts about your calls and appointments. For help, {contact}. "
            f"{RATES}. Reply STOP to opt out.")


def reply_for(kind: ReplyKind, business: str, business_number: str | None) -> str:
    if kind == "opt_out":
        return opt_out_confirmation(business)
    if kind == "opt_in":
        return opt_in_confirmation(business)
    return help_text(business, business_number)


def verbal_disclosure(business: str) -> str:
    """What the voice agent says before recording a verbal consent (``record_sms_consent``
    stores the exact words spoken; agents that phrase it differently pass their own text)."""
    return (f"May {business} text you at this number about this call and your appointments? "
            f"{FREQUENCY}. {RATES}. You can reply STOP at any time to opt out, or HELP for help.")
