"""Voice scenarios of the simulated day: calls played against a running stack the way Twilio
plays them — signed form posts to ``voice_answer``, the TwiML's own callback URLs, status and
recording callbacks — and what happened to each call, read back from its record.

* IVR choice forwarded to a person (menu, "2", Dana answers, a recorded conversation);
* after-hours voicemail (the recording is copied into our storage and erased at Twilio);
* a blocked caller (busy signal, never answered);
* a Retell outage: the AI agent cannot be reached, the caller leaves a voicemail instead.

The stack's wall clock decides business hours, so each scenario sets the phone settings it
needs for its call (open all day with the menu on, closed, ...) and puts the business's own
settings back afterwards; it says so in its output. Listed in ``tools.simulate.scenarios()``.
"""

from __future__ import annotations

import contextlib
import functools
import datetime as dt
import email.utils
import hashlib
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from urllib.parse import urlparse


Out = Callable[[str], None]

CALLERS = {"ivr": "+17205550145", "voicemail": "+17205550143", "blocked": "+17205550666", "outage": "+17205550144"}
TEAM = [{"id": "dana", "name": "Dana Rivera", "number": "+13035550111"},
        {"id": "lee", "name": "Lee Park", "number": "+13035550122"}]
MENU = {
    "enabled": True,
    "options": {
        "1": {"label": "booking an appointment", "action": "ai", "keywords": ["appointment", "book", "schedule"]},
        "2": {"label": "our service desk", "action": "forward", "forward_to": ["dana"], "keywords": ["service", "repair"]},
        "3": {"label": "anything else", "action": "voicemail", "keywords": ["message"]},
    },
}
ALL_DAY = {day: [{"start": "00:00", "end": "00:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


# --- a pretend Twilio -------------------------------------------------------------------------------

@dataclass
class SimulatedCall:
    """One inbound call, driven like Twilio drives it."""

    base_url: str
    settings: Any
    caller: str
    to: str
    sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def params(self, status: str, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": self.settings.twilio_account_sid, "From": self.caller,
                "To": self.to, "Caller": self.caller, "Called": self.to, "CallStatus": status,
                "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}

    def post(self, url: str, params: dict[str, str]) -> tuple[int, ET.Element | None]:
        """POST to one of our public URLs (signed over it), delivered to the running stack."""
        import requests
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(self.settings.secret("twilio_auth_token")).compute_signature(url, params)
        parsed = urlparse(url)
        target = f"{self.base_url.rstrip('/')}{parsed.path}" + (f"?{parsed.query}" if parsed.query else "")
        response = requests.post(target, data=params, headers={"X-Twilio-Signature": signature}, timeout=20)
        root = None
        if response.headers.get("Content-Type", "").startswith("text/xml"):
            root = ET.fromstring(response.content)
        return response.status_code, root

    def answer(self) -> ET.Element:
        status, root = self.post(self.settings.function_url("voice_answer"), self.params("ringing"))
        if status != 200 or root is None:
            raise RuntimeError(f"voice_answer answered {status}")
        return root

    def status(self, status: str, seconds: int, **extra: str) -> None:
        stamp = email.utils.format_datetime(self.started + dt.timedelta(seconds=seconds))
        self.post(self.settings.function_url("voice_status"),
                  self.params(status, Timestamp=stamp, CallbackSource="call-progress-events", **extra))

    def recording_url(self, recording_sid: str) -> str:
        base = (self.settings.twilio_api_base_url or "https://api.twilio.com").rstrip("/")
        return f"{base}/2010-04-01/Accounts/{self.settings.twilio_account_sid}/Recordings/{recording_sid}"

    def record_action(self, recording_sid: str | None, seconds: int) -> dict[str, str]:
        """What Twilio posts to ``<Record action>`` when the caller finishes the message."""
        if not recording_sid:
            return self.params("in-progress", RecordingDuration="0")
        return self.params("in-progress", RecordingSid=recording_sid, RecordingUrl=self.recording_url(recording_sid),
                           RecordingDuration=str(seconds))

    def leave_voicemail(self, record: ET.Element, seconds: int) -> str | None:
        """The caller speaks after the beep: Twilio holds the recording (in the stack's sandbox),
        posts the ``<Record>`` action, then the recording callback. Returns the RecordingSid
        (None when the stack has no Twilio sandbox to hold it)."""
        recording_sid = _preload_recording(self.settings, self.sid, seconds)
        self.post(record.get("action"), self.record_action(recording_sid, seconds))
        if recording_sid:
            self.recording_done(record.get("recordingStatusCallback"), recording_sid, seconds, "RecordVerb")
            if record.get("transcribe") == "true" and record.get("transcribeCallback") and seconds <= 120:
                self.transcription_done(record.get("transcribeCallback"), recording_sid, VOICEMAIL_WORDS)
        return recording_sid

    def transcription_done(self, callback_url: str, recording_sid: str, text: str) -> None:
        """Twilio's transcribeCallback (a <Record transcribe="true"> of up to 2 minutes)."""
        transcription_sid = "TR" + hashlib.sha256(recording_sid.encode()).hexdigest()[:32]
        self.post(callback_url, {
            "AccountSid": self.settings.twilio_account_sid, "CallSid": self.sid, "RecordingSid": recording_sid,
            "RecordingUrl": self.recording_url(recording_sid), "TranscriptionSid": transcription_sid,
            "TranscriptionStatus": "completed", "TranscriptionText": text, "TranscriptionType": "fast",
            "TranscriptionUrl": f"{self.recording_url(recording_sid)}/Transcriptions/{transcription_sid}",
            "CallStatus": "completed", "From": self.caller, "To": self.to, "ApiVersion": "2010-04-01"})

    def recording_done(self, callback_url: str, recording_sid: str, seconds: int, source: str) -> None:
        self.post(callback_url, {
            "AccountSid": self.settings.twilio_account_sid, "CallSid": self.sid, "RecordingSid": recording_sid,
            "RecordingUrl": self.recording_url(recording_sid),
            "RecordingStatus": "completed", "RecordingDuration": str(seconds), "RecordingChannels": "1",
            "RecordingSource": source})


def _preload_recording(settings, call_sid: str, seconds: int) -> str | None:
    """Make the recording exist in the stack's Twilio sandbox (what Twilio holds after recording
    the call), over HTTP through the sandbox's control route, so it works against any running
    stack whose ``TWILIO_API_BASE_URL`` is a sandbox. None when there is no sandbox to preload."""
    import requests

    if not settings.twilio_api_base_url:
        return None
    try:
        response = requests.post(f"{settings.twilio_api_base_url.rstrip('/')}/_control/Recordings.json",
                                 data={"CallSid": call_sid, "Duration": str(seconds)}, timeout=5,
                                 auth=(settings.twilio_account_sid, settings.secret("twilio_auth_token")))
    except requests.RequestException:
        return None
    return response.json().get("sid") if response.status_code == 201 else None


VOICEMAIL_WORDS = ("Hi, this is Jordan Reyes. I was hoping to move my cleaning to next week, "
                   "please call me back when you open. Thanks.")


# --- settings for one call ----------------------------------------------------------------------

def configure_demo(ports, tenant) -> None:
    """The demo business's lasting phone settings: its team and a blocked number, the menu
    written but off, the AI agent answering around the clock (idempotent)."""
    store = ports.store()
    doc = store.get(f"tenants/{tenant.id}") or {}
    voice = ((doc.get("settings") or {}).get("voice") or {})
    if voice.get("team"):
        return
    from shared.voice.settings import VoiceSettings

    configured = VoiceSettings(team=TEAM, blocked_numbers=[CALLERS["blocked"]], ivr={**MENU, "enabled": False})
    store.update(f"tenants/{tenant.id}", {"settings.voice": configured.to_doc()})


@contextlib.contextmanager
def phone_settings(ports, tenant, **changes: Any) -> Iterator[None]:
    """The business's voice settings with ``changes`` for the duration of one simulated call."""
    from shared.voice.settings import VoiceSettings

    store = ports.store()
    path = f"tenants/{tenant.id}"
    saved = ((store.get(path) or {}).get("settings") or {}).get("voice") or {}
    store.update(path, {"settings.voice": VoiceSettings(**{**saved, **changes}).to_doc()})
    try:
        yield
    finally:
        store.update(path, {"settings.voice": VoiceSettings(**saved).to_doc()})


def _retell_outage(base_url: str, mode: str) -> bool:
    import requests

    try:
        response = requests.post(f"{base_url.rstrip('/')}/_sandbox/retell/_control/outage", json={"mode": mode},
                                 timeout=5)
    except requests.RequestException:
        return False
    return response.status_code == 200


# --- reading back what happened -------------------------------------------------------------------

def _wait_for_recording(ports, dispatcher, tenant_id: str, call_sid: str, timeout: float = 10.0) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dispatcher is not None:
            dispatcher.drain(timeout=1.0)
        doc = ports.store().get(f"tenants/{tenant_id}/calls/{call_sid}") or {}
        if doc.get("recordings"):
            return doc["recordings"][-1]
        time.sleep(0.1)
    return None


def describe(ports, tenant_id: str, call_sid: str, recording: dict | None = None, expect_recording: bool = False) -> str:
    from shared.phone import mask

    doc = ports.store().get(f"tenants/{tenant_id}/calls/{call_sid}")
    if doc is None:
        return f"call …{call_sid[-6:]}: no record"
    steps = " → ".join(f"{h['route']} ({h['detail'] or h['reason']})" for h in doc.get("route_history") or [])
    parts = [f"call …{call_sid[-6:]} from {mask(doc.get('from') or '')}: {steps}"]
    parts.append(f"route={doc.get('route')} reason={doc.get('route_reason')}")
    if doc.get("status"):
        parts.append(f"status={doc['status']}" + (f" after {doc['duration']} s" if doc.get("duration") else ""))
    if doc.get("answered_by"):
        parts.append(f"answered by {doc['answered_by']}")
    parts.append("recording notice played" if doc.get("recording_notice_played") else "no recording notice")
    if recording:
        parts.append(f"recording stored ({recording['size']} bytes, sha256 {recording['sha256'][:12]}…) "
                     f"at {recording['blob_path']}")
    elif expect_recording:
        parts.append("recording NOT stored")
    return "; ".join(parts)


# --- the scenarios ----------------------------------------------------------------------------------

def _scenario(fn: Callable[..., None]) -> Callable[..., None]:
    """A scenario that fails says so and lets the day go on (it is a demo, not a test)."""

    @functools.wraps(fn)
    def run(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
        try:
            fn(base_url, ports, dispatcher, tenant, out)
        except Exception as exc:  # noqa: BLE001 - reported to the person watching the demo
            out(f"  scenario failed: {type(exc).__name__}: {exc}")

    return run


@_scenario
def ivr_forwarded(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
    configure_demo(ports, tenant)
    out("• IVR choice forwarded to a person (for this call: open all day, phone menu on)")
    with phone_settings(ports, tenant, hours=ALL_DAY, ivr=MENU):
        call = SimulatedCall(base_url, ports.settings, CALLERS["ivr"], tenant.numbers[0])
        menu = call.answer()
        call.status("ringing", 0)
        call.status("in-progress", 1)
        gather = menu.find("Gather")
        _, forward = call.post(gather.get("action"), call.params("in-progress", Digits="2"))
        dial = forward.find("Dial")
        number = dial.find("Number")
        leg = "CA" + uuid.uuid4().hex  # Dana's phone answers the forwarded leg
        call.post(number.get("statusCallback"), {
            "CallSid": leg, "ParentCallSid": call.sid, "AccountSid": ports.settings.twilio_account_sid,
            "From": call.caller, "To": number.text, "CallStatus": "in-progress", "Direction": "outbound-dial"})
        recording_sid = _preload_recording(ports.settings, call.sid, 84)
        call.post(dial.get("action"), call.params("in-progress", DialCallStatus="completed", DialCallSid=leg,
                                                  DialCallDuration="84"))
        if recording_sid:
            call.recording_done(dial.get("recordingStatusCallback"), recording_sid, 84, "DialVerb")
        call.status("completed", 96, CallDuration="95")
    recording = _wait_for_recording(ports, dispatcher, tenant.id, call.sid) if recording_sid else None
    out("  " + describe(ports, tenant.id, call.sid, recording, expect_recording=True))
    if not recording_sid:
        out("  (no Twilio sandbox to hold the recording: TWILIO_API_BASE_URL is not a sandbox)")


@_scenario
def after_hours_voicemail(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
    configure_demo(ports, tenant)
    out("• After-hours voicemail (for this call: the business is closed, after-hours calls go to voicemail)")
    with phone_settings(ports, tenant, hours={}, after_hours_action="voicemail"):
        call = SimulatedCall(base_url, ports.settings, CALLERS["voicemail"], tenant.numbers[0])
        root = call.answer()
        call.status("in-progress", 1)
        recording_sid = call.leave_voicemail(root.find("Record"), 23)
        call.status("completed", 40, CallDuration="39")
    recording = _wait_for_recording(ports, dispatcher, tenant.id, call.sid) if recording_sid else None
    out("  " + describe(ports, tenant.id, call.sid, recording, expect_recording=True))


@_scenario
def blocked_caller(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
    configure_demo(ports, tenant)
    out("• A blocked caller")
    call = SimulatedCall(base_url, ports.settings, CALLERS["blocked"], tenant.numbers[0])
    root = call.answer()
    verbs = [child.tag for child in root]
    call.status("busy", 0)
    out(f"  TwiML: {verbs}; " + describe(ports, tenant.id, call.sid))


@_scenario
def retell_outage(base_url: str, ports, dispatcher, tenant, out: Out) -> None:
    configure_demo(ports, tenant)
    out("• Retell outage: the AI agent cannot be reached (for this call: open all day, AI answers)")
    if not _retell_outage(base_url, "error"):
        out("  (skipped: this stack has no Retell sandbox to take down)")
        return
    try:
        with phone_settings(ports, tenant, hours=ALL_DAY, open_action="ai"):
            call = SimulatedCall(base_url, ports.settings, CALLERS["outage"], tenant.numbers[0])
            root = call.answer()
    finally:
        _retell_outage(base_url, "off")
    call.status("in-progress", 1)
    record = root.find("Record")
    recording_sid = call.leave_voicemail(record, 12) if record is not None else None
    call.status("completed", 20, CallDuration="19")
    recording = _wait_for_recording(ports, dispatcher, tenant.id, call.sid) if recording_sid else None
    out("  " + describe(ports, tenant.id, call.sid, recording, expect_recording=True))


ALL = [ivr_forwarded, after_hours_voicemail, blocked_caller, retell_outage]
