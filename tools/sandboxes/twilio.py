r"""A loopback Twilio REST API (``api.twilio.com``) in Twilio's own wire format, for the real SDK.

Point ``twilio.rest.Client`` at it with ``TWILIO_API_BASE_URL`` (``shared.providers.twilio`` sets
``client.api.base_url``). Served under ``/2010-04-01/Accounts/{AccountSid}/...``:

* ``Messages.json`` -- ``POST`` creates a message from a form body (``To``, ``From`` or
  ``MessagingServiceSid``, ``Body`` and/or ``MediaUrl``, ``StatusCallback``) and answers 201 with
  Twilio's message JSON (``sid`` ``SM...``, ``status`` ``queued``, RFC 2822 dates, string counts);
  ``GET`` lists (filters ``To``, ``From``, ``PageSize``; Twilio's page envelope).
* ``Messages/{sid}.json`` -- ``GET`` fetches.
* ``Calls/{CallSid}.json`` -- ``GET`` fetches; ``POST`` updates (``Twiml``, ``Url``, ``Method``,
  ``Status=completed|canceled``). The sandbox cannot see calls that tests simulate by posting
  webhooks, so an unknown ``CA`` sid is taken as an in-progress call on first use (or preload one
  with :meth:`TwilioSandbox.add_call`). Redirecting a finished call answers 21220, like Twilio.
  A redirect whose TwiML ``<Dial>``\s ``<Number>``\s is played as Twilio plays it (below).
* ``Recordings.json`` -- ``GET`` lists, newest first (``DateCreated>``/``DateCreated<``,
  ``CallSid``, ``PageSize``/``Page``; Twilio's page envelope with ``next_page_uri``).
* ``Recordings/{sid}.json`` -- ``GET`` fetches, ``DELETE`` answers 204 and forgets it.
* ``Recordings/{sid}.wav`` / ``.mp3`` / no extension (= wav) -- the media, behind HTTP Basic auth
  (we run Twilio with "HTTP Basic Authentication for media access" on). Preload with
  :meth:`TwilioSandbox.add_recording`; without audio a short silent WAV is made up. ``.mp3`` is
  served only when mp3 bytes were given (404 otherwise: the sandbox does not transcode).

Not Twilio's API, for simulations that drive a stack over HTTP (the dev stack's simulated day):
``POST /_control/Recordings.json`` with form ``CallSid``, optional ``RecordingSid``,
``Duration`` and ``AudioBase64`` (WAV) makes a recording exist, as Twilio does when it records a
call (this sandbox cannot see the calls a simulation plays); answers the recording's JSON, 201.

Every request must carry HTTP Basic ``AccountSid:AuthToken`` (else 401, code 20003) for the
account in the path (else 404, 20404). Errors are Twilio's JSON
``{"code", "message", "more_info", "status"}`` -- e.g. 21211 for an invalid ``To``, 21610 for a
recipient that texted STOP to the carrier (:meth:`unsubscribe`), 21602/21603/21617 for missing
body/from and over-long bodies.

Status callbacks: after a create with ``StatusCallback`` the sandbox plays Twilio's delivery
sequence (``sent`` then ``delivered``, or ``sent`` then ``undelivered`` with an ``ErrorCode`` for
numbers marked with :meth:`undeliverable`) as form posts signed with ``X-Twilio-Signature``
(``RequestValidator(auth_token)``) to the callback URL, carrying ``MessageSid``, ``SmsSid``,
``MessageStatus``, ``SmsStatus``, ``AccountSid``, ``From``, ``To``, ``ApiVersion`` (and
``ErrorCode``). ``callbacks="auto"`` posts them from a background thread (the dev stack);
``"manual"`` queues them for :meth:`take_callbacks` / :meth:`deliver_callbacks` (tests decide
when, and in which order); ``"off"`` drops them.

Redirected calls: an update with ``Twiml`` holding ``<Dial>`` with ``<Number>``\s dials them.
Each number answers (default; :meth:`dial_outcome` makes one ``no-answer``, ``busy`` or
``failed``): its ``statusCallback`` gets the child leg's ``in-progress`` (``ParentCallSid``,
``Direction=outbound-dial``) when ``statusCallbackEvent`` asks for ``answered``; a ``record``\ed
``<Dial>`` makes a recording of the parent call (fetchable here) and posts its
``recordingStatusCallback``; then the ``<Dial>``\s ``action`` gets ``DialCallStatus``,
``DialCallSid``, ``DialCallDuration``; its TwiML answer is kept in :attr:`twiml_answers`. An
answered call then ends: ``completed`` goes to the call's ``StatusCallback`` when one is known
(:meth:`add_call`, or ``POST /_control/Calls.json`` with ``CallSid``, ``From``, ``To``,
``StatusCallback`` for a simulation). These callbacks follow the same ``callbacks`` mode as the
message ones (:meth:`take_callbacks` in ``manual`` mode; results in :attr:`call_callback_results`).

For assertions: :attr:`requests` (every request: method, path, form, auth ok, status),
:attr:`messages` (created messages by sid), :meth:`sent_to`, :attr:`call_updates`,
:attr:`deleted_recordings`. Failure injection: :meth:`fail_next` (5xx/429 for the next requests).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import re
import threading
import time
import uuid
from urllib.parse import urlencode
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox
from tools.sandboxes.audio import silent_wav

API_VERSION = "2010-04-01"
_SID32 = r"[0-9a-fA-F]{32}"
_ROUTE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>AC{_SID32})(?P<rest>/.*)$")
_MESSAGES = re.compile(r"^/Messages\.json$")
_RECORDINGS = re.compile(r"^/Recordings\.json$")
_MESSAGE = re.compile(rf"^/Messages/(?P<sid>(?:SM|MM){_SID32})\.json$")
_CALL = re.compile(rf"^/Calls/(?P<sid>CA{_SID32})\.json$")
_RECORDING = re.compile(rf"^/Recordings/(?P<sid>RE{_SID32})\.json$")
_MEDIA = re.compile(rf"^/Recordings/(?P<sid>RE{_SID32})(?:\.(?P<ext>wav|mp3))?$")
MAX_BODY = 1600

CallbackMode = Literal["auto", "manual", "off"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    query: dict[str, str]
    auth_ok: bool
    status: int = 0


@dataclass(frozen=True)
class Callback:
    """One status callback as Twilio would post it."""

    url: str
    params: dict[str, str]
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Twilio-Signature": self.signature, "Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class _Recording:
    sid: str
    call_sid: str
    wav: bytes
    mp3: bytes | None
    duration: int
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


def rfc2822(value: dt.datetime | None) -> str | None:
    return email.utils.format_datetime(value.astimezone(dt.timezone.utc)) if value else None


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class TwilioSandbox(Sandbox):
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, *, callbacks: CallbackMode = "manual",
                 callback_delay: float = 0.2, poster: Callable[[Callback], int] | None = None) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks_mode: CallbackMode = callbacks
        self.callback_delay = callback_delay
        self._poster = poster or _http_post
        self._lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self.call_updates: list[tuple[str, dict[str, str]]] = []
        self.recordings: dict[str, _Recording] = {}
        self.deleted_recordings: list[str] = []
        self.unsubscribed: set[str] = set()
        self.undeliverable_numbers: dict[str, int] = {}
        self._pending: list[Callback] = []
        self._failures: list[tuple[int, int, str]] = []
        self.callback_results: list[tuple[str, str, int]] = []  # (sid, status, http status)
        self.dial_outcomes: dict[str, tuple[str, int]] = {}  # number -> (DialCallStatus, talk seconds)
        self.twiml_answers: list[tuple[str, str]] = []  # (url, TwiML) answered to a <Dial> action
        self.call_callback_results: list[tuple[str, int]] = []  # (url, http status) of call callbacks

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> "TwilioSandbox":
        return cls(settings.twilio_account_sid, settings.secret("twilio_auth_token"), **kwargs)

    # --- test controls ------------------------------------------------------------------------

    def unsubscribe(self, number: str) -> None:
        """The recipient texted STOP to the carrier: creates to it answer 21610."""
        with self._lock:
            self.unsubscribed.add(number)

    def undeliverable(self, number: str, error_code: int = 30006) -> None:
        """Messages to this number are accepted, then reported ``undelivered`` (30006: landline)."""
        with self._lock:
            self.undeliverable_numbers[number] = error_code

    def fail_next(self, times: int = 1, status: int = 503, code: int = 20503, message: str = "Service Unavailable") -> None:
        with self._lock:
            self._failures.extend([(status, code, message)] * times)

    def add_call(self, sid: str | None = None, *, from_: str = "+13035550142", to: str = "+13035550100",
                 status: str = "in-progress", status_callback: str | None = None) -> str:
        sid = sid or new_sid("CA")
        with self._lock:
            self.calls[sid] = self._call_resource(sid, from_=from_, to=to, status=status)
            if status_callback:
                self.calls[sid]["_status_callback"] = status_callback
        return sid

    def dial_outcome(self, number: str, outcome: str = "answered", talk_seconds: int = 45) -> None:
        """How ``number`` answers a ``<Dial>``: ``answered`` (talks ``talk_seconds``), ``no-answer``,
        ``busy`` or ``failed``."""
        if outcome not in ("answered", "no-answer", "busy", "failed"):
            raise ValueError("outcome is answered, no-answer, busy or failed")
        with self._lock:
            self.dial_outcomes[number] = ("completed" if outcome == "answered" else outcome, talk_seconds)

    def add_recording(self, sid: str | None = None, *, call_sid: str | None = None, wav: bytes | None = None,
                      mp3: bytes | None = None, duration: int = 3, created: dt.datetime | None = None) -> str:
        sid = sid or new_sid("RE")
        with self._lock:
            self.recordings[sid] = _Recording(sid, call_sid or new_sid("CA"), wav or silent_wav(min(duration, 2)),
                                              mp3, duration, created or dt.datetime.now(dt.timezone.utc))
        return sid

    def recording_url(self, sid: str) -> str:
        """The ``RecordingUrl`` Twilio would send in a callback (no extension), on this sandbox."""
        return f"{self.url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages.values() if m["to"] == number]

    def take_callbacks(self) -> list[Callback]:
        """The queued status callbacks (manual mode), oldest first; the queue is emptied."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending

    def deliver_callbacks(self) -> list[int]:
        """Post the queued callbacks over HTTP now; returns the HTTP statuses."""
        return [self._post(cb) for cb in self.take_callbacks()]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.messages.clear()
            self.calls.clear()
            self.call_updates.clear()
            self.recordings.clear()
            self.deleted_recordings.clear()
            self.unsubscribed.clear()
            self.undeliverable_numbers.clear()
            self._pending.clear()
            self._failures.clear()
            self.callback_results.clear()
            self.dial_outcomes.clear()
            self.twiml_answers.clear()
            self.call_callback_results.clear()

    # --- the app ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        form = {k: request.form.getlist(k) for k in request.form.keys()} if request.method in ("POST", "PUT") else {}
        auth_ok = self._authorized(request)
        status = 500
        try:
            response = self._route(request, form, auth_ok)
            status = response.status_code
            return response
        except TwilioError as exc:
            status = exc.status
            return self.error(exc.status, exc.code, exc.message, request.path)
        finally:
            with self._lock:
                self.requests.append(RecordedRequest(request.method, request.path, form, dict(request.args),
                                                     auth_ok, status))

    def internal_error(self, request: Request) -> Response:
        return self.error(500, 20500, "Internal Server Error", request.path)

    def error(self, status: int, code: int, message: str, path: str = "") -> Response:
        body: dict[str, Any] = {"code": code, "message": message,
                                "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
        if status == 401:
            body["detail"] = "Your AccountSid or AuthToken was incorrect."
            return self.json(body, status, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
        return self.json(body, status)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def _route(self, request: Request, form: dict[str, list[str]], auth_ok: bool) -> Response:
        match = _ROUTE.match(request.path)
        if not auth_ok:
            raise TwilioError(401, 20003, "Authenticate")
        if request.path == "/_control/Recordings.json" and request.method == "POST":
            return self.json(self._control_recording(_first(form)), 201)
        if request.path == "/_control/Calls.json" and request.method == "POST":
            return self.json(self._control_call(_first(form)), 201)
        if match is None or match.group("account") != self.account_sid:
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
        with self._lock:
            if self._failures:
                status, code, message = self._failures.pop(0)
                raise TwilioError(status, code, message)
        rest = match.group("rest")
        one = _first(form)
        if _MESSAGES.match(rest):
            if request.method == "POST":
                return self.json(self._create_message(one, form), 201)
            if request.method == "GET":
                return self.json(self._list_messages(request))
        elif m := _MESSAGE.match(rest):
            if request.method == "GET":
                return self.json(self._get(self.messages, m.group("sid"), request.path))
        elif m := _CALL.match(rest):
            if request.method == "GET":
                return self.json(self._call(m.group("sid")))
            if request.method == "POST":
                return self.json(self._update_call(m.group("sid"), one, root=request.url_root.rstrip("/")))
        elif _RECORDINGS.match(rest):
            if request.method == "GET":
                return self.json(self._list_recordings(request))
        elif m := _RECORDING.match(rest):
            rec = self._recording(m.group("sid"), request.path)
            if request.method == "GET":
                return self.json(self._recording_resource(rec))
            if request.method == "DELETE":
                with self._lock:
                    self.recordings.pop(rec.sid, None)
                    self.deleted_recordings.append(rec.sid)
                return Response(status=204)
        elif m := _MEDIA.match(rest):
            if request.method == "GET":
                rec = self._recording(m.group("sid"), request.path)
                if m.group("ext") == "mp3":
                    if rec.mp3 is None:
                        raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
                    return Response(rec.mp3, status=200, content_type="audio/mpeg")
                return Response(rec.wav, status=200, content_type="audio/x-wav")
        else:
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
        raise TwilioError(405, 20004, "Method not allowed")

    # --- messages -----------------------------------------------------------------------------

    def _create_message(self, one: dict[str, str], form: dict[str, list[str]]) -> dict[str, Any]:
        to = one.get("To", "").strip()
        sender = one.get("From", "").strip()
        body = one.get("Body", "")
        media = form.get("MediaUrl", [])
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not _valid_number(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not one.get("MessagingServiceSid"):
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if not body and not media:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.unsubscribed:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        now = dt.datetime.now(dt.timezone.utc)
        sid = new_sid("MM" if media else "SM")
        resource = {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": body,
            "date_created": rfc2822(now), "date_sent": None, "date_updated": rfc2822(now),
            "direction": "outbound-api", "error_code": None, "error_message": None, "from": sender or None,
            "messaging_service_sid": one.get("MessagingServiceSid"), "num_media": str(len(media)),
            "num_segments": str(max(1, -(-len(body) // 153) if len(body) > 160 else 1)), "price": None,
            "price_unit": "USD", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to, "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self.messages[sid] = resource
        callback_url = one.get("StatusCallback")
        if callback_url and self.callbacks_mode != "off":
            error = self.undeliverable_numbers.get(to)
            steps: list[tuple[str, int | None]] = [("sent", None), ("undelivered", error) if error else ("delivered", None)]
            callbacks = [self._callback(callback_url, resource, status, code) for status, code in steps]
            if self.callbacks_mode == "manual":
                with self._lock:
                    self._pending.extend(callbacks)
            else:
                threading.Thread(target=self._play, args=(callbacks,), daemon=True,
                                 name=f"twilio-callbacks-{sid[-6:]}").start()
        return dict(resource)

    def _callback(self, url: str, resource: dict[str, Any], status: str, error_code: int | None) -> Callback:
        from twilio.request_validator import RequestValidator

        params = {"AccountSid": self.account_sid, "ApiVersion": API_VERSION, "From": resource["from"] or "",
                  "To": resource["to"], "MessageSid": resource["sid"], "SmsSid": resource["sid"],
                  "MessageStatus": status, "SmsStatus": status}
        if resource.get("messaging_service_sid"):
            params["MessagingServiceSid"] = resource["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return Callback(url, params, signature)

    def _play(self, callbacks: list[Callback]) -> None:
        for callback in callbacks:
            time.sleep(self.callback_delay)
            self._post(callback)

    def _post(self, callback: Callback) -> int:
        status = callback.params["MessageStatus"]
        with self._lock:
            message = self.messages.get(callback.params["MessageSid"])
            if message is not None:
                message["status"] = status
                message["date_updated"] = rfc2822(dt.datetime.now(dt.timezone.utc))
                if status in ("sent", "delivered", "undelivered"):
                    message["date_sent"] = message["date_sent"] or message["date_updated"]
                if "ErrorCode" in callback.params:
                    message["error_code"] = int(callback.params["ErrorCode"])
        try:
            code = self._poster(callback)
        except Exception:  # noqa: BLE001 - a callback that cannot be delivered is recorded, like Twilio's debugger
            code = 0
        with self._lock:
            self.callback_results.append((callback.params["MessageSid"], status, code))
        return code

    def _list_messages(self, request: Request) -> dict[str, Any]:
        to, sender = request.args.get("To"), request.args.get("From")
        size = max(1, min(1000, int(request.args.get("PageSize", "50") or 50)))
        with self._lock:
            rows = [dict(m) for m in self.messages.values()
                    if (not to or m["to"] == to) and (not sender or m["from"] == sender)]
        rows.reverse()  # newest first, as Twilio lists
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json?PageSize={size}&Page=0"
        return {"messages": rows[:size], "end": min(size, len(rows)) - 1, "first_page_uri": uri,
                "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None, "start": 0,
                "uri": uri}

    def _get(self, table: dict[str, dict[str, Any]], sid: str, path: str) -> dict[str, Any]:
        with self._lock:
            found = table.get(sid)
        if found is None:
            raise TwilioError(404, 20404, f"The requested resource {path} was not found")
        return dict(found)

    # --- calls --------------------------------------------------------------------------------

    def _call_resource(self, sid: str, *, from_: str, to: str, status: str) -> dict[str, Any]:
        now = rfc2822(dt.datetime.now(dt.timezone.utc))
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        return {
            "account_sid": self.account_sid, "annotation": None, "answered_by": None, "api_version": API_VERSION,
            "caller_name": None, "date_created": now, "date_updated": now, "direction": "inbound", "duration": None,
            "end_time": None, "forwarded_from": None, "from": from_, "from_formatted": from_, "group_sid": None,
            "parent_call_sid": None, "phone_number_sid": None, "price": None, "price_unit": "USD",
            "queue_time": "0", "sid": sid, "start_time": now, "status": status, "to": to, "to_formatted": to,
            "trunk_sid": None, "uri": base + ".json",
            "subresource_uris": {"recordings": base + "/Recordings.json", "notifications": base + "/Notifications.json"},
        }

    def _call(self, sid: str) -> dict[str, Any]:
        with self._lock:
            if sid not in self.calls:
                self.calls[sid] = self._call_resource(sid, from_="", to="", status="in-progress")
            return {k: v for k, v in self.calls[sid].items() if not k.startswith("_")}

    def _control_call(self, one: dict[str, str]) -> dict[str, Any]:
        sid = one.get("CallSid", "")
        if not re.fullmatch(rf"CA{_SID32}", sid):
            raise TwilioError(400, 21201, "CallSid is required")
        self.add_call(sid, from_=one.get("From", ""), to=one.get("To", ""),
                      status_callback=one.get("StatusCallback") or None)
        return self._call(sid)

    def _update_call(self, sid: str, one: dict[str, str], root: str = "") -> dict[str, Any]:
        call = self._call(sid)
        status = one.get("Status")
        if status is not None and status not in ("completed", "canceled"):
            raise TwilioError(400, 21218, f"Invalid Status value {status}")
        redirect = "Twiml" in one or "Url" in one
        if redirect and call["status"] in ("completed", "canceled", "failed", "busy", "no-answer"):
            raise TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if "Twiml" in one and len(one["Twiml"]) > 4000:
            raise TwilioError(400, 13805, "Twiml exceeds 4000 characters")
        with self._lock:
            self.call_updates.append((sid, dict(one)))
            current = self.calls[sid]
            if status is not None:
                current["status"] = status
                current["end_time"] = rfc2822(dt.datetime.now(dt.timezone.utc))
            current["date_updated"] = rfc2822(dt.datetime.now(dt.timezone.utc))
            resource = dict(current)
        if "Twiml" in one and self.callbacks_mode != "off":
            callbacks = self._dial_callbacks(sid, one["Twiml"], root)
            if callbacks and self.callbacks_mode == "manual":
                with self._lock:
                    self._pending.extend(callbacks)
            elif callbacks:
                threading.Thread(target=self._play_calls, args=(callbacks,), daemon=True,
                                 name=f"twilio-dial-{sid[-6:]}").start()
        return {k: v for k, v in resource.items() if not k.startswith("_")}

    # --- a redirected call dials ---------------------------------------------------------------

    def _signed(self, url: str, params: dict[str, str]) -> Callback:
        from twilio.request_validator import RequestValidator

        return Callback(url, params, RequestValidator(self.auth_token).compute_signature(url, params))

    def _dial_callbacks(self, sid: str, twiml: str, root: str) -> list[Callback]:
        """What Twilio posts while the new TwiML's ``<Dial>`` rings its numbers (the first number
        that answers takes the call; otherwise the last outcome is the Dial's)."""
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            raise TwilioError(400, 12100, "Document parse failure") from None
        dial = root.find("Dial")
        numbers = dial.findall("Number") if dial is not None else []
        if dial is None or not numbers:
            return []
        with self._lock:
            call = dict(self.calls[sid])
        base = {"AccountSid": self.account_sid, "ApiVersion": API_VERSION}
        now = email.utils.formatdate(usegmt=True)
        out: list[Callback] = []
        status, talk, child = "no-answer", 0, None
        for number in numbers:
            to = (number.text or "").strip()
            status, talk = self.dial_outcomes.get(to, ("completed", 45))
            if status != "completed":
                continue
            child = new_sid("CA")
            events = (number.get("statusCallbackEvent") or "completed").split()
            if number.get("statusCallback") and "answered" in events:
                out.append(self._signed(number.get("statusCallback"), {
                    **base, "CallSid": child, "ParentCallSid": sid, "CallStatus": "in-progress", "From": call["from"],
                    "To": to, "Direction": "outbound-dial", "Timestamp": now, "SequenceNumber": "0",
                    "CallbackSource": "call-progress-events"}))
            break
        if status == "completed" and dial.get("record", "do-not-record") != "do-not-record":
            recording = self.add_recording(call_sid=sid, duration=talk)
            if dial.get("recordingStatusCallback"):
                out.append(self._signed(dial.get("recordingStatusCallback"), {
                    **base, "CallSid": sid, "RecordingSid": recording, "RecordingUrl": f"{root}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{recording}",
                    "RecordingStatus": "completed", "RecordingDuration": str(talk), "RecordingChannels": "2",
                    "RecordingSource": "DialVerb"}))
        if dial.get("action"):
            params = {**base, "CallSid": sid, "From": call["from"], "To": call["to"], "CallStatus": "in-progress",
                      "Direction": call.get("direction") or "inbound", "DialCallStatus": status}
            if child:
                params.update(DialCallSid=child, DialCallDuration=str(talk))
            out.append(self._signed(dial.get("action"), params))
        if status == "completed" and call.get("_status_callback"):
            out.append(self._signed(call["_status_callback"], {
                **base, "CallSid": sid, "From": call["from"], "To": call["to"], "CallStatus": "completed",
                "Direction": call.get("direction") or "inbound", "CallDuration": str(talk + 60), "Timestamp": now}))
        return out

    def _play_calls(self, callbacks: list[Callback]) -> None:
        for callback in callbacks:
            time.sleep(self.callback_delay)
            self.post_call_callback(callback)

    def post_call_callback(self, callback: Callback) -> int:
        """Post one call callback over HTTP, as Twilio would (and keep a Dial action's TwiML)."""
        import requests

        try:
            response = requests.post(callback.url, data=callback.params, headers=callback.headers, timeout=15)
            code = response.status_code
            if "DialCallStatus" in callback.params:
                with self._lock:
                    self.twiml_answers.append((callback.url, response.text))
        except requests.RequestException:
            code = 0
        self.record_call_callback(callback, code)
        return code

    def record_call_callback(self, callback: Callback, code: int) -> None:
        with self._lock:
            self.call_callback_results.append((callback.url, code))
            if callback.params.get("CallStatus") == "completed" and callback.params.get("CallSid") in self.calls:
                self.calls[callback.params["CallSid"]]["status"] = "completed"

    # --- recordings ---------------------------------------------------------------------------

    def _control_recording(self, one: dict[str, str]) -> dict[str, Any]:
        call_sid = one.get("CallSid", "")
        if not re.fullmatch(rf"CA{_SID32}", call_sid):
            raise TwilioError(400, 21201, "CallSid is required")
        sid = one.get("RecordingSid") or new_sid("RE")
        if not re.fullmatch(rf"RE{_SID32}", sid):
            raise TwilioError(400, 21201, "RecordingSid is not a recording sid")
        try:
            duration = int(one.get("Duration") or 3)
            audio = base64.b64decode(one["AudioBase64"], validate=True) if one.get("AudioBase64") else None
        except ValueError:
            raise TwilioError(400, 21201, "Duration or AudioBase64 is malformed") from None
        self.add_recording(sid, call_sid=call_sid, wav=audio, duration=duration)
        return self._recording_resource(self.recordings[sid])

    def _list_recordings(self, request: Request) -> dict[str, Any]:
        """Newest first, Twilio's page envelope; ``DateCreated>`` / ``DateCreated<`` (a date or an
        ISO 8601 time, as the SDK sends them), ``CallSid``, ``PageSize`` and ``Page``."""
        def bound(name: str) -> dt.datetime | None:
            raw = request.args.get(name)
            if not raw:
                return None
            try:
                value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise TwilioError(400, 20001, f"Invalid {name}") from None
            return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)

        after, before, call_sid = bound("DateCreated>"), bound("DateCreated<"), request.args.get("CallSid")
        try:
            size = max(1, min(1000, int(request.args.get("PageSize", "50") or 50)))
            page = max(0, int(request.args.get("Page", "0") or 0))
        except ValueError:
            raise TwilioError(400, 20001, "Invalid paging") from None
        with self._lock:
            rows = sorted((r for r in self.recordings.values()
                           if (after is None or r.created >= after) and (before is None or r.created <= before)
                           and (not call_sid or r.call_sid == call_sid)), key=lambda r: r.created, reverse=True)
        # Twilio's page links repeat the filters
        kept = urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in ("Page", "PageSize", "PageToken")])
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings.json?{kept + '&' if kept else ''}PageSize={size}"
        chunk = rows[page * size:(page + 1) * size]
        more = (page + 1) * size < len(rows)
        return {"recordings": [self._recording_resource(r) for r in chunk], "page": page, "page_size": size,
                "start": page * size, "end": page * size + max(0, len(chunk) - 1),
                "first_page_uri": f"{base}&Page=0", "uri": f"{base}&Page={page}",
                "previous_page_uri": f"{base}&Page={page - 1}" if page else None,
                "next_page_uri": f"{base}&Page={page + 1}" if more else None}

    def _recording(self, sid: str, path: str) -> _Recording:
        with self._lock:
            rec = self.recordings.get(sid)
        if rec is None:
            raise TwilioError(404, 20404, f"The requested resource {path} was not found")
        return rec

    def _recording_resource(self, rec: _Recording) -> dict[str, Any]:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{rec.sid}"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "call_sid": rec.call_sid,
            "conference_sid": None, "channels": 1, "date_created": rfc2822(rec.created),
            "date_updated": rfc2822(rec.created), "start_time": rfc2822(rec.created), "price": None,
            "price_unit": "USD", "duration": str(rec.duration), "sid": rec.sid, "source": "RecordVerb",
            "status": "completed", "error_code": None, "encryption_details": None, "track": "both",
            "uri": base + ".json", "media_url": f"https://api.twilio.com{base}",
            "subresource_uris": {"add_on_results": base + "/AddOnResults.json",
                                 "transcriptions": base + "/Transcriptions.json"},
        }


def _first(form: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in form.items() if v}


def _valid_number(raw: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, "US"))
    except phonenumbers.NumberParseException:
        return False


def _http_post(callback: Callback) -> int:
    import requests

    return requests.post(callback.url, data=callback.params, headers=callback.headers, timeout=10).status_code

