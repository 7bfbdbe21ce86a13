"""The TwiML of a route (``voice_answer``, ``voice_ivr``, the AI transfer): which callback URLs
it names and whether the recording notice comes first. The TwiML itself is built by
``shared.voice.twiml``.

The TwiML of routes without call-specific content (all but the AI agent's SIP address) is
rendered once per instance and tenant settings version (``_RENDERED``).
"""

from __future__ import annotations

from shared.logging import get_logger
from shared.models.tenant import Tenant
from shared.ports import Ports
from shared.voice import twiml
from shared.voice.memo import Memo
from shared.voice.params import CallParams
from shared.voice.routing import TRANSFER_REASON, Route
from shared.voice.settings import DEFAULT_VOICEMAIL_PROMPT, greeting, notice_text

log = get_logger("z3.voice")

# (base URL, tenant version token, route, notice) -> TwiML, for the routes whose TwiML has
# nothing call-specific (all but the AI agent's SIP address). A changed document has a new token.
_RENDERED = Memo(512)


def render(ports: Ports, tenant: Tenant, route: Route, *, play_notice: bool, retell_call_id: str | None = None,
           cache_key: int | None = None) -> str:
    """The TwiML of ``route``. With ``cache_key`` (the tenant document's version token) the TwiML of
    routes without call-specific content is rendered once per instance and settings version."""
    if cache_key is None or route.action == "ai":
        return _render(ports, tenant, route, play_notice=play_notice, retell_call_id=retell_call_id)
    key = (ports.settings.public_base_url, cache_key, route, play_notice)
    return _RENDERED.get(key) or _RENDERED.put(key, _render(ports, tenant, route, play_notice=play_notice))


def _render(ports: Ports, tenant: Tenant, route: Route, *, play_notice: bool, retell_call_id: str | None = None) -> str:
    settings = ports.settings
    voice = tenant.settings.voice
    notice = notice_text(tenant) if play_notice else None
    t = tenant.id
    if route.action == "not_in_service":
        return twiml.not_in_service()
    if route.action == "rejected":
        return twiml.reject()
    if route.action == "ivr":
        return twiml.ivr_menu(voice.ivr, notice=notice, greeting=greeting(tenant),
                              action=twiml.url(settings, "voice_ivr", t=t, attempt=1))
    if route.action == "ai":
        assert retell_call_id, "the AI route needs a registered Retell call"
        return twiml.ai_agent(retell_call_id, notice=notice,
                              dial_action=twiml.url(settings, "voice_ivr", t=t, step="dial", kind="ai"))
    if route.action == "forward":
        return twiml.forward(route.forward_to, notice=notice, record=route.record,
                             timeout=voice.forward_timeout_seconds,
                             dial_action=twiml.url(settings, "voice_ivr", t=t, step="dial",
                                                   kind="transfer" if route.reason == TRANSFER_REASON else "forward"),
                             recording_callback=twiml.url(settings, "voice_status", t=t),
                             answered_callback=twiml.url(settings, "voice_status", t=t, leg="forward"))
    return twiml.voicemail(voice.voicemail_prompt or DEFAULT_VOICEMAIL_PROMPT, notice=notice,
                           max_length=voice.voicemail_max_seconds,
                           record_action=twiml.url(settings, "voice_ivr", t=t, step="recorded"),
                           recording_callback=twiml.url(settings, "voice_status", t=t),
                           transcribe_callback=twiml.url(settings, "voice_status", t=t, event="transcription"))


def replayed(tenant_id: str, params: CallParams) -> str:
    """The answer to a request for a call that already ended (``shared.voice.calls.is_over``)."""
    log.warning("request for a call that already ended: hung up, nothing written (a replay?)",
                extra={"tenant_id": tenant_id, "call_sid": params.CallSid})
    return twiml.hangup()
