"""TwiML for each route, rendered with twilio's ``VoiceResponse`` (imported on first use; it
costs ~20 ms and only the voice functions need it).

Rules every renderer here keeps:

* a recording notice (``<Say>``) comes before the first verb that records (``<Record>``, a
  recorded ``<Dial>``, the AI agent's ``<Dial><Sip>``), unless the caller already heard it in
  this call (``notice=None``);
* every callback URL is ``settings.function_url(name)`` plus a query string we sign nothing
  into ourselves: Twilio signs the whole URL, so ``t=<tenant_id>`` in it cannot be forged;
* no route ends in dead air: a ``<Dial>`` always has an ``action`` that takes a voicemail when
  nobody (or no AI agent) answered, and a ``<Record>`` is followed by a goodbye.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable
from urllib.parse import urlencode

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.voice.settings import IvrMenu

LANGUAGE = "en-US"
NOT_IN_SERVICE = ("We're sorry, the number you have called is not in service. "
                  "Please check the number and try again. Goodbye.")
SORRY_REPEAT = "Sorry, I didn't get that."
VOICEMAIL_THANKS = "Thank you. Your message has been recorded. Goodbye."
VOICEMAIL_EMPTY = "We didn't receive a message. Goodbye."
CONNECTING = "Please hold while we connect your call."


def _response():
    from twilio.twiml.voice_response import VoiceResponse

    return VoiceResponse()


def url(settings: "Settings", function: str, **params: object) -> str:
    """A callback URL: the function's public URL plus ``params`` (None values left out)."""
    query = urlencode(sorted((k, str(v)) for k, v in params.items() if v is not None))
    base = settings.function_url(function)
    return f"{base}?{query}" if query else base


def _say(response, text: str | None) -> None:
    if text:
        response.say(text, language=LANGUAGE)


def not_in_service() -> str:
    response = _response()
    _say(response, NOT_IN_SERVICE)
    response.hangup()
    return str(response)


def reject() -> str:
    """A blocked caller hears a busy signal; the call is never answered (and never billed)."""
    response = _response()
    response.reject(reason="busy")
    return str(response)


def hangup(text: str | None = None) -> str:
    response = _response()
    _say(response, text)
    response.hangup()
    return str(response)


def ai_agent(retell_call_id: str, *, notice: str | None, dial_action: str) -> str:
    """Hand the call to the Retell agent over SIP. When the SIP leg fails, Twilio asks
    ``dial_action`` what next (a voicemail)."""
    response = _response()
    _say(response, notice)
    dial = response.dial(action=dial_action, method="POST")
    dial.sip(f"sip:{retell_call_id}@sip.retellai.com")
    return str(response)


def ivr_menu(menu: "IvrMenu", *, notice: str | None, greeting: str | None, action: str, retry: bool = False) -> str:
    """The menu: keys or speech, one digit. ``actionOnEmptyResult`` makes Twilio call ``action``
    even when the caller says and presses nothing, so a missing choice is routed too."""
    response = _response()
    _say(response, notice)
    hints = ", ".join(dict.fromkeys(k for o in menu.options.values() for k in [o.label.lower(), *o.keywords]))
    gather = response.gather(input="dtmf speech", action=action, method="POST", num_digits=1,
                             timeout=menu.timeout_seconds, speech_timeout="auto", language=LANGUAGE,
                             hints=hints or None, action_on_empty_result=True)
    if retry:
        gather.say(SORRY_REPEAT, language=LANGUAGE)
    elif greeting:
        gather.say(greeting, language=LANGUAGE)
    gather.say(menu.spoken_prompt(), language=LANGUAGE)
    response.redirect(action, method="POST")  # only reached if Twilio skipped the action
    return str(response)


def forward(numbers: Iterable[str], *, notice: str | None, record: bool, timeout: int, dial_action: str,
            recording_callback: str, answered_callback: str) -> str:
    """Ring the team (in parallel); ``dial_action`` takes a voicemail when nobody answers. Each
    ``<Number>`` reports ``answered`` so the call record can say who took it."""
    response = _response()
    _say(response, notice)
    _say(response, CONNECTING)
    kwargs: dict[str, object] = {"action": dial_action, "method": "POST", "timeout": timeout}
    if record:
        kwargs.update(record="record-from-answer-dual", recording_status_callback=recording_callback,
                      recording_status_callback_method="POST", recording_status_callback_event="completed")
    dial = response.dial(**kwargs)
    for number in numbers:
        dial.number(number, status_callback_event="answered", status_callback=answered_callback,
                    status_callback_method="POST")
    return str(response)


def voicemail(prompt: str, *, notice: str | None, max_length: int, record_action: str, recording_callback: str,
              transcribe_callback: str | None = None) -> str:
    """``transcribe_callback``: Twilio transcribes the message (recordings up to 2 minutes) and
    posts the text there (``shared.voice.transcription``)."""
    response = _response()
    _say(response, notice)
    _say(response, prompt)
    extra: dict[str, object] = {"transcribe": True, "transcribe_callback": transcribe_callback} \
        if transcribe_callback else {}
    response.record(action=record_action, method="POST", max_length=max_length, play_beep=True,
                    finish_on_key="#", trim="trim-silence", recording_status_callback=recording_callback,
                    recording_status_callback_method="POST", recording_status_callback_event="completed", **extra)
    _say(response, VOICEMAIL_EMPTY)  # Twilio goes on here when nothing was recorded
    response.hangup()
    return str(response)
