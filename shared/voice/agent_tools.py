"""The AI agent's custom functions (``retell_tools``): what the agent can do mid-call.

Retell POSTs ``{"name", "args", "call"}`` and hands the response body, as text, to the agent's
LLM; a non-2xx answer is a failed call that Retell retries (up to 2 times) and then tells the
LLM only that the function failed. So:

* bad arguments, unknown tools, a slot that is gone: **HTTP 200** with ``{"error": "<a sentence
  the agent can say or act on>"}`` — retrying would not help, and the agent needs the reason;
* storage down: 503 (raised as StoreUnavailable), so Retell retries while the caller waits a
  moment;
* every answer has ``result`` (what to tell the caller) or ``error``, plus structured fields.

Every tool is idempotent under Retell's retries: ``book_appointment`` is keyed on
``(call_id, slot)``, ``take_message`` on ``(call_id, message)``, and each action-log line is
keyed the same way, so a retry answers the same and changes nothing.

Each tool appends a readable line to the call's action log ("AI booked an appointment for March
5 at 2:00 PM MST"). The caller's number always comes from the signed call object, never from
the arguments: the agent cannot be talked into looking up, or recording consent for, someone
else's number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.pii.cards import mask_cards
from shared.ports import Ports
from shared.tenants import TenantScope
from shared.voice.agent_payloads import CallRef, ToolRequest, resolve
from shared.voice.transfer import TransferFailed, transfer_live_call

log = get_logger("z3.voice.tools")

Answer = dict[str, Any]


class ToolError(Exception):
    """A failure the agent should hear about (answered 200 with ``{"error": message}``)."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class Context:
    ports: Any
    scope: TenantScope
    tenant: Tenant
    ref: CallRef
    request: ToolRequest
    now: dt.datetime

    @property
    def call_id(self) -> str:
        return self.request.call.call_id

    @property
    def caller(self) -> str | None:
        from shared.voice.settings import normalize_any

        return normalize_any(self.request.call.from_number)

    def log_action(self, text: str, key: str) -> None:
        from shared.voice.calls import append_action

        append_action(self.scope, self.ref.call_sid, text, self.now, key=key)


def _key(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# --- check_availability ---------------------------------------------------------------------------

class AvailabilityArgs(_Args):
    date: dt.date | None = None  # a local date the caller asked about
    days: int | None = Field(default=None, ge=1, le=366)
    limit: int = Field(default=6, ge=1, le=20)

    @field_validator("date", "days", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value in ("", "null") else value


def _spread(slots: Iterable, zone, limit: int, per_day: int = 3) -> list:
    """At most ``per_day`` slots a (local) day, earliest first, so the caller hears a choice of
    days rather than every hour of tomorrow."""
    chosen, counts = [], {}
    for slot in slots:
        day = slot.start.astimezone(zone).date()
        if counts.get(day, 0) < per_day:
            chosen.append(slot)
            counts[day] = counts.get(day, 0) + 1
        if len(chosen) >= limit:
            break
    return chosen


def _slot_list(slots: list, tenant: Tenant) -> list[dict[str, str]]:
    from shared.scheduling.slots import describe, iso_local

    return [{"start": iso_local(s.start, tenant.zone), "label": describe(s.start, tenant.zone)} for s in slots]


def check_availability(ctx: Context, args: AvailabilityArgs) -> Answer:
    from shared.scheduling import appointments
    from shared.scheduling.slots import speak_slots

    settings = ctx.tenant.settings.scheduling
    label = settings.appointment_label
    if not settings.enabled:
        ctx.log_action("AI checked availability: this business does not book by phone", f"avail:{ctx.call_id}:off")
        return {"result": f"{ctx.tenant.name} does not book {label}s by phone. Offer to take a message.",
                "slots": []}
    busy = _calendar_busy(ctx, days=args.days, on=args.date)
    found = appointments.iter_open_slots(ctx.scope, ctx.tenant, ctx.now, days=args.days, on=args.date,
                                         also_busy=busy)
    offered = _spread(found, ctx.tenant.zone, args.limit, per_day=args.limit if args.date else 3)
    key = f"avail:{ctx.call_id}:{_key(args.model_dump(mode='json'))}"
    if not offered:
        when = (f"on {args.date:%A, %B} {args.date.day}" if args.date
                else f"in the next {args.days or settings.horizon_days} days")
        ctx.log_action(f"AI checked availability: nothing open {when}", key)
        return {"result": f"There are no open {label} times {when}. Offer another day or to take a message.",
                "slots": [], "time_zone": ctx.tenant.time_zone}
    ctx.log_action(f"AI checked availability and offered {len(offered)} times", key)
    return {"result": f"Open {label} times: {speak_slots(offered, ctx.tenant.zone)}.",
            "slots": _slot_list(offered, ctx.tenant), "time_zone": ctx.tenant.time_zone}


def _calendar_busy(ctx: Context, *, days: int | None = None, on: dt.date | None = None) -> list:
    """The business's Google Calendar busy times for the range asked, within the calendar's
    budget (a slow Google falls back to the cache or to our own bookings only)."""
    from shared.calendar import availability
    from shared.scheduling.appointments import span
    from shared.voice.fallback import within_budget

    start, end = span(ctx.tenant, ctx.now, days=days, on=on)
    # whole local days: the cache key stays the same all day (the earlier hours cost nothing)
    return availability.busy(ctx.ports, ctx.tenant.id, start, end, run=within_budget).intervals


def _calendar_event(ctx: Context, appt: Any) -> None:
    """The appointment's event in the business's Google Calendar, within the calendar's budget
    (a late one still lands: the event id is derived from the appointment, so a retry is one event)."""
    import concurrent.futures

    from shared.calendar.availability import BUDGET_SECONDS
    from shared.calendar.events import sync_quietly
    from shared.voice.fallback import within_budget

    try:
        within_budget(lambda: sync_quietly(ctx.ports, ctx.tenant.id, appt), BUDGET_SECONDS)
    except concurrent.futures.TimeoutError:
        log.warning("calendar event still being written", extra={"appointment_id": appt.id})


# --- book_appointment ---------------------------------------------------------------------------

class BookingArgs(_Args):
    start: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)  # a callback number, when not the calling one
    reason: str = Field(default="", max_length=1000)


def book_appointment(ctx: Context, args: BookingArgs) -> Answer:
    from shared.scheduling import appointments
    from shared.scheduling.slots import describe_short, iso_local, parse_start, slot_key
    from shared.voice.settings import normalize_any

    try:
        start = parse_start(args.start, ctx.tenant.zone, now=ctx.now)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    phone = normalize_any(args.phone) if args.phone else ctx.caller
    if args.phone and phone is None:
        raise ToolError("That callback number is not a valid phone number. Ask the caller to repeat it.")
    booking = appointments.book(
        ctx.scope, ctx.tenant, ctx.now, start=start, booking_key=f"{ctx.call_id}:{slot_key(start)}",
        customer_name=args.name, customer_phone=phone, reason=args.reason, call_sid=ctx.ref.call_sid,
        retell_call_id=ctx.call_id, also_busy=_calendar_busy(ctx, on=start.astimezone(ctx.tenant.zone).date()))
    label = ctx.tenant.settings.scheduling.appointment_label
    if booking.status == "disabled":
        raise ToolError(f"{ctx.tenant.name} does not book {label}s by phone. Offer to take a message.")
    if booking.status in ("taken", "not_offered"):
        from shared.scheduling.slots import speak_slots

        why = "was just taken" if booking.status == "taken" else "is not an open time"
        nearby = (f" Nearby open times: {speak_slots(booking.alternatives, ctx.tenant.zone)}."
                  if booking.alternatives else " There are no open times near it.")
        return {"booked": False, "error": f"That time {why}.{nearby}",
                "slots": _slot_list(booking.alternatives, ctx.tenant)}
    appt = booking.appointment
    assert appt is not None
    if booking.status == "booked" or appt.calendar_event_id is None:
        _calendar_event(ctx, appt)
    ctx.log_action(f"AI booked {_a(label)} for {describe_short(appt.start, ctx.tenant.zone)} ({appt.customer_name})",
                   f"book:{appt.id}")
    return {"booked": True,
            "result": f"Booked: {appt.label}, for {appt.customer_name}. Repeat the date and time to the caller.",
            "appointment": {"id": appt.id, "start": iso_local(appt.start, ctx.tenant.zone), "label": appt.label,
                            "time_zone": appt.time_zone}}


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


# --- take_message ---------------------------------------------------------------------------------

class MessageArgs(_Args):
    message: str = Field(min_length=1, max_length=2000)
    name: str = Field(default="", max_length=200)
    callback_number: str | None = Field(default=None, max_length=40)
    urgent: bool = False


def take_message(ctx: Context, args: MessageArgs) -> Answer:
    from shared.notifications import notify_business
    from shared.voice.calls import call_path
    from shared.voice.listing import with_listing
    from shared.voice.settings import normalize_any

    callback = normalize_any(args.callback_number) if args.callback_number else ctx.caller
    if args.callback_number and callback is None:
        raise ToolError("That callback number is not a valid phone number. Ask the caller to repeat it.")
    args = args.model_copy(update={"message": mask_cards(args.message)})  # no card number is stored
    key = f"msg:{ctx.call_id}:{_key(args.message, args.name, callback)}"
    entry = {"key": key, "at": ctx.now, "name": args.name, "callback_number": callback, "message": args.message,
             "urgent": args.urgent}
    path = call_path(ctx.ref.call_sid)

    def store(tx) -> None:
        doc = tx.get(path) or {}
        taken = list(doc.get("messages_taken") or [])
        if any(m.get("key") == key for m in taken):
            return
        patch: dict[str, Any] = {"messages_taken": [*taken, entry]}
        if not doc:
            patch.update(call_sid=ctx.ref.call_sid, created_at=ctx.now)
        tx.set(path, with_listing(doc, patch), merge=True)

    ctx.scope.transaction(store)
    notify_business(ctx.ports, tenant_id=ctx.tenant.id, template="new_voicemail", dedup_key=key, context={
        "kind": "message_taken_by_ai", "call_sid": ctx.ref.call_sid, "caller_name": args.name,
        "callback_number": callback, "message": args.message, "urgent": args.urgent,
        "taken_at": ctx.now.isoformat()})
    who = f" from {args.name}" if args.name else ""
    ctx.log_action(f"AI took a{'n urgent' if args.urgent else ''} message{who}", key)
    return {"result": "The message is saved and the team has been notified. Tell the caller someone will get "
                      "back to them.", "saved": True}


# --- transfer_call --------------------------------------------------------------------------------
# The call is moved for real: the live Twilio call is redirected to dial the person
# (shared.voice.transfer); one transfer per call, whatever Retell retries.

class TransferArgs(_Args):
    to: str = Field(default="", max_length=100)  # a team member's name or a department ("sales")


def transfer_call(ctx: Context, args: TransferArgs) -> Answer:
    voice = ctx.tenant.settings.voice
    wanted = args.to.lower().strip()
    name = None
    if wanted:
        targets, name = _match_target(voice, wanted)
        if not targets:
            choices = [o.label for o in voice.ivr.options.values() if o.action == "forward"]
            choices += [m.name for m in voice.team]
            listed = f" You can transfer to: {', '.join(choices)}." if choices else ""
            raise ToolError(f"I don't know who '{args.to}' is.{listed} Or offer to take a message.")
    else:
        is_open, _why = voice.open_at(ctx.now.astimezone(ctx.tenant.zone))
        targets = voice.default_targets() if is_open else voice.resolve(voice.after_hours_forward_to)
        if not targets:
            raise ToolError("Nobody is available to take a transfer right now. Offer to take a message instead.")
    number = targets[0]
    name = name or voice.member_name(number) or "the team"
    try:
        moved = transfer_live_call(ctx.ports, ctx.tenant, ctx.ref.call_sid, number=number, name=name, now=ctx.now)
    except TransferFailed:
        raise ToolError("The caller has already hung up; the call cannot be transferred.") from None
    ctx.log_action(f"AI transferred the caller to {moved.name}", f"transfer:{ctx.call_id}")
    return {"result": f"The call is being transferred to {moved.name} now; the caller hears that they are being "
                      "connected. Say nothing more.",
            "transfer_to": moved.to, "alternates": list(targets[1:]), "name": moved.name, "transferred": True}


def _match_target(voice, wanted: str) -> tuple[tuple[str, ...], str | None]:
    for member in voice.team:
        full = member.name.lower()
        if wanted in (full, full.split()[0], member.id):
            return (member.number,), member.name
    for option in voice.ivr.options.values():
        if option.action != "forward":
            continue
        if wanted == option.label.lower() or wanted in option.keywords:
            return (voice.resolve(option.forward_to) or voice.default_targets()), option.label
    return (), None


# --- lookup_caller --------------------------------------------------------------------------------

class NoArgs(_Args):
    pass


def lookup_caller(ctx: Context, args: NoArgs) -> Answer:
    from shared.voice.contacts import contact_name

    name = contact_name(ctx.scope, ctx.caller)
    if name:
        ctx.log_action(f"AI recognised the caller as {name}", f"lookup:{ctx.call_id}")
        return {"known": True, "name": name, "result": f"The caller is {name}, a known contact."}
    ctx.log_action("AI looked up the caller: not a saved contact", f"lookup:{ctx.call_id}")
    return {"known": False, "result": "The caller is not a saved contact. Ask for their name if you need it."}


# --- record_sms_consent ---------------------------------------------------------------------------

class ConsentArgs(_Args):
    agreed: bool
    disclosure: str = Field(default="", max_length=1000)  # the exact words spoken, when not the standard ones


def record_sms_consent(ctx: Context, args: ConsentArgs) -> Answer:
    from shared.consent import record_sms_consent as record_yes
    from shared.consent import record_sms_revocation
    from shared.sms.texts import verbal_disclosure

    number = ctx.caller
    if number is None:
        raise ToolError("The caller's number is hidden, so I can't record text consent. Carry on without texts.")
    disclosure = args.disclosure or verbal_disclosure(ctx.tenant.name)
    if args.agreed:
        record_yes(ctx.scope, number, call_id=ctx.ref.call_sid, disclosure=disclosure, now=ctx.now)
        ctx.log_action("AI recorded the caller's verbal consent to texts", f"consent:{ctx.call_id}:yes")
        return {"result": "Consent recorded. The caller can reply STOP to any text to opt out.", "recorded": True}
    record_sms_revocation(ctx.scope, number, call_id=ctx.ref.call_sid, disclosure=disclosure, now=ctx.now)
    ctx.log_action("AI recorded that the caller does not want texts", f"consent:{ctx.call_id}:no")
    return {"result": "Noted: no texts will be sent to this caller.", "recorded": True}


# --- dispatch -------------------------------------------------------------------------------------

TOOLS: dict[str, tuple[type[_Args], Callable[[Context, Any], Answer]]] = {
    "check_availability": (AvailabilityArgs, check_availability),
    "book_appointment": (BookingArgs, book_appointment),
    "take_message": (MessageArgs, take_message),
    "transfer_call": (TransferArgs, transfer_call),
    "lookup_caller": (NoArgs, lookup_caller),
    "record_sms_consent": (ConsentArgs, record_sms_consent),
}


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg'].lower()}")
    return "Invalid arguments (" + "; ".join(parts) + "). Ask the caller again and retry."


def run_tool(ports: Ports, request: ToolRequest) -> Answer:
    """Answer one custom-function call. StoreUnavailable propagates (503: Retell retries)."""
    entry = TOOLS.get(request.name)
    if entry is None:
        log.warning("unknown agent tool", extra={"tool": request.name[:64], "retell_call_id": request.call.call_id})
        return {"error": f"There is no tool called '{request.name}'. Available tools: {', '.join(TOOLS)}."}
    model, tool = entry
    try:
        args = model.model_validate(request.args)
    except ValidationError as exc:
        return {"error": _explain(exc)}
    store = ports.store()
    ref = resolve(store, request.call)
    if ref is None:
        log.warning("agent tool for an unknown call",
                    extra={"tool": request.name, "retell_call_id": request.call.call_id})
        return {"error": "I can't reach this business's records for this call. Offer to take the caller's name and "
                         "number and say someone will call back."}
    ctx = Context(ports, TenantScope(store, ref.tenant_id), ref.tenant(), ref, request, ports.clock().now())
    try:
        answer = tool(ctx, args)
    except ToolError as exc:
        answer = {"error": exc.message, **exc.extra}
    log.info("agent tool", extra={"tool": request.name, "retell_call_id": request.call.call_id,
                                  "call_sid": ref.call_sid, "ok": "error" not in answer})
    return answer
