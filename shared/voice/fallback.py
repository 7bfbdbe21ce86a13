"""Twilio's Fallback URL of a number (``voice_answer?fallback=1``) when the ordinary answer
failed again: a voicemail with the settings this instance last read for the number, without the
store (``shared.voice.answer.answer_fallback`` decides when).

The ordinary answer gets :data:`FALLBACK_BUDGET_SECONDS` on a small thread pool: a store that
hangs rather than fails would otherwise outlast Twilio's 15 s wait for the Fallback URL too.
"""

from __future__ import annotations

from typing import Callable, Mapping, TypeVar

from shared.ports import Ports
from shared.voice import twiml
from shared.voice.lookup import last_seen_tenant
from shared.voice.params import CallParams
from shared.voice.routing import Caller, decide
from shared.voice.settings import DEFAULT_VOICEMAIL_PROMPT, normalize_any, notice_text

T = TypeVar("T")

UNAVAILABLE = ("We're sorry, we can't take your call right now. Please try again in a few minutes. "
               "Goodbye.")
# How long the fallback gives the ordinary answer (a store that hangs rather than fails would
# otherwise outlast Twilio's 15 s wait for the Fallback URL too).
FALLBACK_BUDGET_SECONDS = 5.0
_fallback_pool = None


def within_budget(fn: Callable[[], T], seconds: float | None = None) -> T:
    """``fn()`` on a worker thread, given up on (TimeoutError) after ``seconds`` (default
    :data:`FALLBACK_BUDGET_SECONDS`); it may still finish in the background (the answer is
    idempotent)."""
    import concurrent.futures  # only the Fallback URL needs a thread pool
    import contextvars

    global _fallback_pool
    if _fallback_pool is None:
        _fallback_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="z3-fallback")
    context = contextvars.copy_context()
    return _fallback_pool.submit(context.run, fn).result(
        timeout=FALLBACK_BUDGET_SECONDS if seconds is None else seconds)


def answer_without_store(ports: Ports, params: CallParams, query: Mapping[str, str]) -> str:
    """A voicemail with the settings this instance last read for the number (the recording
    callback names the business, so the message is ingested once the store is back; blocked
    callers and closed accounts are still turned away), or, for a number this instance has not
    seen, an apology and a hang-up."""
    tenant = last_seen_tenant(query, params.To)
    if tenant is None:
        return twiml.hangup(UNAVAILABLE)
    route = decide(tenant, tenant.settings.voice, Caller(normalize_any(params.From), None), ports.clock().now())
    if route.action == "rejected":
        return twiml.reject()
    if route.action == "not_in_service":
        return twiml.not_in_service()
    voice = tenant.settings.voice
    return twiml.voicemail(voice.voicemail_prompt or DEFAULT_VOICEMAIL_PROMPT, notice=notice_text(tenant),
                           max_length=voice.voicemail_max_seconds,
                           record_action=twiml.url(ports.settings, "voice_ivr", t=tenant.id, step="recorded",
                                                   fallback=1),
                           recording_callback=twiml.url(ports.settings, "voice_status", t=tenant.id),
                           transcribe_callback=twiml.url(ports.settings, "voice_status", t=tenant.id,
                                                         event="transcription"))
