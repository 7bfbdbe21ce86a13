"""The routing rules: who answers an incoming call. Pure functions, no I/O, exhaustively tested
(tests/unit/test_voice_routing.py).

:func:`decide` applies the rules in this order (first match wins):

1. no tenant owns the number         -> ``not_in_service`` (a polite message, then hang up)
2. the account is closed             -> ``not_in_service``
3. the caller is blocked             -> ``rejected`` (busy signal, the call is never answered);
   so is a caller without caller id when the business blocks anonymous calls
4. the service is suspended/flagged  -> ``voicemail`` (the business still gets its messages)
5. the caller is a VIP               -> ``forward`` to the VIP targets, at any hour
6. closed (outside hours, holiday)   -> the after-hours action (ai | forward | voicemail)
7. open, with an IVR menu            -> ``ivr``
8. open                              -> the open-hours action (ai | forward | voicemail)

Fallbacks keep a caller from ever hitting dead air: the AI action with the AI turned off, or a
forward with nobody to forward to, becomes voicemail (the reason says why). :func:`route_choice`
routes an IVR answer, :func:`after_dial` what follows a forward or AI leg that ended.

``record`` says whether the route records the caller; every recorded route hears the tenant's
recording notice first (rendered by ``shared.voice.twiml``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from shared.models.tenant import Tenant
    from shared.voice.settings import IvrMenu, VoiceSettings

RouteAction = Literal["ai", "ivr", "forward", "voicemail", "rejected", "not_in_service"]
# The reason of the forward route an AI agent's transfer_call puts the call on (shared.voice.transfer).
TRANSFER_REASON = "ai_transfer"


@dataclass(frozen=True)
class Caller:
    number: str | None  # E.164, or None: anonymous, restricted or not a valid number
    name: str | None = None  # the business's contact name for this number, when known


@dataclass(frozen=True)
class Route:
    action: RouteAction
    reason: str  # a stable code: "after_hours", "blocked_caller", "ivr_choice" ...
    detail: str = ""  # for people: "closed on Sunday", "pressed 2: Service"
    forward_to: tuple[str, ...] = ()  # E.164 numbers, dialled in parallel
    record: bool = False
    option: str | None = None  # the IVR digit that led here

    @property
    def answered(self) -> bool:
        """A call record exists for every route but ``not_in_service`` (no tenant to own it)."""
        return self.action != "not_in_service"


def decide(tenant: "Tenant | None", settings: "VoiceSettings | None", caller: Caller, now: dt.datetime) -> Route:
    """Who answers a call to ``tenant`` from ``caller`` at ``now`` (aware). ``settings`` defaults
    to ``tenant.settings.voice``."""
    if tenant is None:
        return Route("not_in_service", "unknown_number", "no business uses this number")
    settings = settings if settings is not None else tenant.settings.voice
    status = str(getattr(tenant.status, "value", tenant.status))
    if status == "closed":
        return Route("not_in_service", "account_closed", "the account is closed")
    if caller.number is not None and caller.number in settings.blocked_numbers:
        return Route("rejected", "blocked_caller", "the caller is on the blocked list")
    if caller.number is None and settings.block_anonymous:
        return Route("rejected", "anonymous_caller", "calls without caller id are blocked")
    if status != "active":
        return Route("voicemail", "service_suspended", f"service is {status.replace('_', ' ')}", record=True)
    if caller.number is not None and caller.number in settings.vip_numbers:
        targets = settings.resolve(settings.vip_forward_to) or settings.default_targets()
        if targets:
            return Route("forward", "vip", "the caller is a VIP", forward_to=targets,
                         record=settings.record_forwarded_calls)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    is_open, why = settings.open_at(now.astimezone(tenant.zone))
    if not is_open:
        targets = settings.resolve(settings.after_hours_forward_to) or settings.default_targets()
        return _act(settings, settings.after_hours_action, "after_hours", why, targets)
    if settings.ivr.active:
        return Route("ivr", "ivr_menu", why, record=True)
    return _act(settings, settings.open_action, "business_hours", why, settings.default_targets())


def _act(settings: "VoiceSettings", action: str, reason: str, detail: str, targets: tuple[str, ...],
         option: str | None = None) -> Route:
    if action == "ai":
        if settings.ai_enabled:
            return Route("ai", reason, detail, record=True, option=option)
        return Route("voicemail", "ai_disabled", _join(detail, "the AI agent is turned off"), record=True,
                     option=option)
    if action == "forward":
        if targets:
            return Route("forward", reason, detail, forward_to=targets, record=settings.record_forwarded_calls,
                         option=option)
        return Route("voicemail", "no_forward_target", _join(detail, "nobody to forward to"), record=True,
                     option=option)
    return Route("voicemail", reason, detail, record=True, option=option)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


# --- the IVR menu ------------------------------------------------------------------------------

# Homophones ("to", "for", "oh") are left out on purpose: they are too common in sentences.
_SPOKEN_DIGITS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                  "seven": "7", "eight": "8", "nine": "9"}
_WORD = re.compile(r"[a-z0-9']+")


def choose(menu: "IvrMenu", digits: str | None, speech: str | None) -> str | None:
    """The menu option a caller picked, or None. Keys win over speech. Speech picks an option by
    a spoken digit ("one", "press 2") or by one of its keywords or its label; when the words
    match several options the answer is ambiguous and nothing is chosen."""
    digits = (digits or "").strip()
    if digits:
        return digits[0] if digits[0] in menu.options else None
    words = _WORD.findall((speech or "").lower())
    if not words:
        return None
    text = " " + " ".join(words) + " "
    matches: set[str] = set()
    for digit, option in menu.options.items():
        phrases = [*option.keywords, option.label.lower()]
        if any(f" {' '.join(_WORD.findall(p))} " in text for p in phrases if _WORD.findall(p)):
            matches.add(digit)
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        # "one", "press two", "2"
        spoken = {_SPOKEN_DIGITS.get(w, w) for w in words}
        spoken = {d for d in spoken if len(d) == 1 and d.isdigit() and d in menu.options}
        if len(spoken) == 1:
            return spoken.pop()
    return None


def route_choice(settings: "VoiceSettings", *, digits: str | None, speech: str | None, attempt: int) -> Route:
    """Route an answer to the IVR menu. ``attempt`` counts the menus played so far (1 = the
    first). An invalid or missing choice repeats the menu until ``max_attempts``, then takes a
    voicemail."""
    digit = choose(settings.ivr, digits, speech)
    if digit is None:
        heard = "no choice" if not (digits or speech) else "an invalid choice"
        if attempt < settings.ivr.max_attempts:
            return Route("ivr", "ivr_retry", f"{heard}; menu repeated", record=True)
        return Route("voicemail", "ivr_no_choice", f"{heard} after {attempt} menus", record=True)
    option = settings.ivr.options[digit]
    targets = settings.resolve(option.forward_to) or settings.default_targets()
    return _act(settings, option.action, "ivr_choice", f"chose {digit}: {option.label}", targets, option=digit)


# --- after a forwarded or AI leg -------------------------------------------------------------

ANSWERED_DIAL_STATUSES = frozenset({"completed", "answered"})


def after_dial(kind: Literal["forward", "ai", "transfer"], dial_status: str | None,
               call_status: str | None = None) -> Route | None:
    """What follows a ``<Dial>`` that ended. None: the call is over (it was answered, or the
    caller hung up). Otherwise voicemail, so nobody is left in dead air."""
    if call_status in ("completed", "canceled") or dial_status == "canceled":
        return None
    if dial_status in ANSWERED_DIAL_STATUSES:
        return None
    status = dial_status or "unknown"
    if kind == "ai":
        return Route("voicemail", "ai_unavailable", f"the AI agent's line ended: {status}", record=True)
    if kind == "transfer":
        return Route("voicemail", "transfer_unanswered", f"nobody answered the transfer ({status})", record=True)
    return Route("voicemail", "forward_unanswered", f"nobody answered ({status})", record=True)
