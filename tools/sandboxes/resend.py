"""A loopback Resend API in Resend's own wire format, for the real ``resend`` SDK.

Point the SDK at it with ``RESEND_API_URL`` (``shared.providers.resend`` sets ``resend.api_url``).

* ``POST /emails`` -- JSON body (``from``, ``to`` (string or up to 50), ``subject``, ``html`` /
  ``text``, ``headers``, ``tags`` ...), ``Authorization: Bearer <key>``; answers 200
  ``{"id": "<uuid>"}``. Missing key -> 401 ``missing_api_key``, wrong key -> 403
  ``invalid_api_key``, bad fields -> 422 ``validation_error`` / ``missing_required_field``;
  errors are Resend's ``{"statusCode", "name", "message"}``.
* ``Idempotency-Key`` as Resend honours it (24 hours): the same key with the same body answers
  the first email's id again and sends nothing; the same key with another body -> 409
  ``invalid_idempotent_request``; while the first is in flight -> 409
  ``concurrent_idempotent_requests``; longer than 256 characters -> 400
  ``invalid_idempotency_key``.
* ``GET /emails`` (``limit``; newest first, Resend's list envelope) and ``GET /emails/{id}``:
  what was sent, through the SDK's own ``Emails.list`` / ``Emails.get`` -- the simulated day
  prints the emails this way, on any stack whose ``RESEND_API_URL`` is a sandbox.

Webhooks: after each accepted email the sandbox plays Resend's events -- ``email.sent`` then
``email.delivered``; ``email.bounced`` (``bounce.type`` ``Permanent``) for an address marked
with :meth:`ResendSandbox.bounce`; ``email.delivered`` then ``email.complained`` after
:meth:`ResendSandbox.complain` -- as JSON posts signed Svix-style (:func:`sign_svix`, the
``RESEND_WEBHOOK_SECRET``) to ``PUBLIC_BASE_URL/email_events``, carrying the email's tags.
``webhooks="auto"`` posts them from a background thread (the dev stack), ``"manual"`` queues
them for :meth:`take_webhooks` / :meth:`deliver_webhooks`, ``"off"`` drops them.

For assertions: :attr:`emails` (accepted emails, in order), :meth:`sent_to`, :attr:`requests`;
failure injection: :meth:`fail_next` (any of Resend's documented error shapes for the next
requests: ``status``, ``name``, ``message``, e.g. 429 ``daily_quota_exceeded``, 403
``validation_error`` for an unverified domain, 422 ``invalid_from_address``), or ``stop()``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from werkzeug.wrappers import Request, Response

from tools.sandboxes import Sandbox

WebhookMode = Literal["auto", "manual", "off"]
IDEMPOTENCY_WINDOW = 24 * 3600.0
MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_NAMED = re.compile(r"^(?P<name>[^<>]*)<(?P<address>[^<>]+)>$")
_TAG = re.compile(r"^[A-Za-z0-9_\-]{1,256}$")
_EMAIL_PATH = re.compile(r"^/emails/(?P<id>[0-9a-fA-F\-]{36})$")


def sign_svix(secret: str, body: bytes | str, *, msg_id: str | None = None,
              timestamp: int | None = None) -> dict[str, str]:
    """Svix's headers for ``body``: ``v1,<base64 HMAC-SHA256(decoded secret, "id.ts.body")>``
    (the secret is ``whsec_<base64>``), what Resend sends and ``resend.Webhooks.verify`` checks."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    key = base64.b64decode(secret[6:] if secret.startswith("whsec_") else secret)
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{text}".encode(), hashlib.sha256).digest()
    return {"svix-id": msg_id, "svix-timestamp": str(timestamp),
            "svix-signature": "v1," + base64.b64encode(mac).decode("ascii"), "Content-Type": "application/json"}


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat()


def address_of(value: str) -> str:
    """``Name <a@b.example>`` -> ``a@b.example``."""
    named = _NAMED.match(value.strip())
    return (named.group("address") if named else value).strip()


@dataclass
class SentEmail:
    id: str
    sender: str
    to: list[str]
    subject: str
    html: str | None
    text: str | None
    headers: dict[str, str]
    tags: dict[str, str]
    idempotency_key: str | None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    last_event: str = "queued"

    def resource(self, full: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"object": "email", "id": self.id, "to": list(self.to), "from": self.sender,
                               "created_at": iso(self.created_at), "subject": self.subject, "bcc": None,
                               "cc": None, "reply_to": None, "last_event": self.last_event, "scheduled_at": None}
        if full:
            out.update(html=self.html, text=self.text,
                       tags=[{"name": k, "value": v} for k, v in self.tags.items()])
        return out


@dataclass(frozen=True)
class Webhook:
    """One event as Resend (Svix) would post it."""

    url: str
    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    status: int
    idempotency_key: str | None


class ResendError(Exception):
    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


class ResendSandbox(Sandbox):
    name = "resend"

    def __init__(self, api_key: str, *, webhook_secret: str | None = None, webhook_url: str | None = None,
                 webhooks: WebhookMode = "manual", webhook_delay: float = 0.2,
                 poster: Callable[[Webhook], int] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.webhooks_mode: WebhookMode = webhooks if webhook_secret and webhook_url else "off"
        self.webhook_delay = webhook_delay
        self._poster = poster or _http_post
        self._lock = threading.RLock()
        self.emails: list[SentEmail] = []
        self.requests: list[RecordedRequest] = []
        self.webhook_results: list[tuple[str, str, int]] = []  # (email id, event type, http status)
        self._keys: dict[str, tuple[float, str, dict[str, Any] | None]] = {}  # key -> (at, body digest, response)
        self._bounces: dict[str, str] = {}
        self._complaints: set[str] = set()
        self._pending: list[Webhook] = []
        self._failures: list[tuple[int, str, str]] = []

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> "ResendSandbox":
        kwargs.setdefault("webhook_secret", settings.secret("resend_webhook_secret"))
        kwargs.setdefault("webhook_url", settings.function_url("email_events"))
        return cls(settings.secret("resend_api_key"), **kwargs)

    # --- test controls ------------------------------------------------------------------------

    def bounce(self, address: str, bounce_type: str = "Permanent") -> None:
        """Emails to ``address`` are followed by ``email.bounced`` instead of ``email.delivered``."""
        with self._lock:
            self._bounces[address.strip().lower()] = bounce_type

    def complain(self, address: str) -> None:
        """Emails to ``address`` are delivered, then marked as spam (``email.complained``)."""
        with self._lock:
            self._complaints.add(address.strip().lower())

    def fail_next(self, times: int = 1, status: int = 500, name: str = "application_error",
                  message: str = "Internal server error") -> None:
        with self._lock:
            self._failures.extend([(status, name, message)] * times)

    def sent_to(self, address: str) -> list[SentEmail]:
        wanted = address.strip().lower()
        with self._lock:
            return [e for e in self.emails if wanted in (a.lower() for a in e.to)]

    def take_webhooks(self) -> list[Webhook]:
        with self._lock:
            pending, self._pending = self._pending, []
        return pending

    def deliver_webhooks(self) -> list[int]:
        return [self._post(w) for w in self.take_webhooks()]

    def reset(self) -> None:
        with self._lock:
            self.emails.clear()
            self.requests.clear()
            self.webhook_results.clear()
            self._keys.clear()
            self._bounces.clear()
            self._complaints.clear()
            self._pending.clear()
            self._failures.clear()

    # --- the app ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        status = 500
        try:
            response = self._route(request)
            status = response.status_code
            return response
        except ResendError as exc:
            status = exc.status
            return self.error(exc.status, exc.name, exc.message)
        finally:
            with self._lock:
                self.requests.append(RecordedRequest(request.method, request.path, status, key))

    def internal_error(self, request: Request) -> Response:
        return self.error(500, "application_error", "Internal server error")

    def error(self, status: int, name: str, message: str) -> Response:
        return self.json({"statusCode": status, "name": name, "message": message}, status)

    def _route(self, request: Request) -> Response:
        self._authorize(request)
        with self._lock:
            if self._failures:
                raise ResendError(*self._failures.pop(0))
        path = request.path.rstrip("/") or "/"
        if path == "/emails":
            if request.method == "POST":
                return self.json(self._send(request))
            if request.method == "GET":
                return self.json(self._list(request))
        elif match := _EMAIL_PATH.match(path):
            if request.method == "GET":
                with self._lock:
                    found = next((e for e in self.emails if e.id == match.group("id")), None)
                if found is None:
                    raise ResendError(404, "not_found", "Email not found")
                return self.json(found.resource())
        else:
            raise ResendError(404, "not_found", "The requested endpoint does not exist.")
        raise ResendError(405, "method_not_allowed", "Method is not allowed for the requested path.")

    def _authorize(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip() or header[7:].strip() == "None":
            raise ResendError(401, "missing_api_key", "Missing API key in the authorization header.")
        if not hmac.compare_digest(header[7:].strip().encode(), self.api_key.encode()):
            raise ResendError(403, "invalid_api_key", "API key is invalid")

    # --- sending ------------------------------------------------------------------------------

    def _send(self, request: Request) -> dict[str, Any]:
        key = request.headers.get("Idempotency-Key")
        raw = request.get_data()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise ResendError(422, "validation_error", "Invalid JSON body.") from None
        if not isinstance(body, dict):
            raise ResendError(422, "validation_error", "The request body must be a JSON object.")
        if key is not None:
            if not 1 <= len(key) <= 256:
                raise ResendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            now = time.time()
            with self._lock:
                seen = self._keys.get(key)
                if seen is not None and now - seen[0] < IDEMPOTENCY_WINDOW:
                    if seen[1] != digest:
                        raise ResendError(409, "invalid_idempotent_request",
                                          "Same idempotency key used with a different request payload.")
                    if seen[2] is None:
                        raise ResendError(409, "concurrent_idempotent_requests",
                                          "Same idempotency key used while original request is still in progress.")
                    return dict(seen[2])
                self._keys[key] = (now, digest, None)
            try:
                response = self._accept(body, key)
            except BaseException:
                with self._lock:
                    self._keys.pop(key, None)  # a refused request does not use up the key
                raise
            with self._lock:
                self._keys[key] = (now, digest, response)
            return response
        return self._accept(body, None)

    def _accept(self, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        sender = body.get("from")
        to = body.get("to")
        subject = body.get("subject")
        if not sender:
            raise ResendError(422, "missing_required_field", "Missing `from` field.")
        if not to:
            raise ResendError(422, "missing_required_field", "Missing `to` field.")
        if subject is None or subject == "":
            raise ResendError(422, "missing_required_field", "Missing `subject` field.")
        if not body.get("html") and not body.get("text") and not body.get("template"):
            raise ResendError(422, "missing_required_field", "Missing `html` or `text` field.")
        recipients = [to] if isinstance(to, str) else to
        if not isinstance(recipients, list) or not all(isinstance(a, str) for a in recipients):
            raise ResendError(422, "validation_error", "Invalid `to` field.")
        if len(recipients) > MAX_RECIPIENTS:
            raise ResendError(422, "validation_error", "Too many recipients: the maximum is 50.")
        for value in [sender, *recipients]:
            if not isinstance(value, str) or not _ADDRESS.match(address_of(value)):
                raise ResendError(422, "validation_error", "Invalid email address. It needs to follow the "
                                  "`email@example.com` or `Name <email@example.com>` format.")
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ResendError(422, "validation_error", "Invalid `headers` field.")
        tags: dict[str, str] = {}
        for tag in body.get("tags") or []:
            if not isinstance(tag, dict) or not _TAG.match(str(tag.get("name", ""))) \
                    or not _TAG.match(str(tag.get("value", ""))):
                raise ResendError(422, "validation_error", "Tags should only contain ASCII letters, numbers, "
                                  "underscores, or dashes.")
            tags[str(tag["name"])] = str(tag["value"])
        email = SentEmail(id=str(uuid.uuid4()), sender=sender, to=[address_of(a) for a in recipients],
                          subject=str(subject), html=body.get("html"), text=body.get("text"),
                          headers=dict(headers), tags=tags, idempotency_key=key)
        with self._lock:
            self.emails.append(email)
        self._schedule_webhooks(email)
        return {"id": email.id}

    def _list(self, request: Request) -> dict[str, Any]:
        try:
            limit = max(1, min(100, int(request.args.get("limit", "20"))))
        except ValueError:
            raise ResendError(422, "validation_error", "Invalid `limit` parameter.") from None
        with self._lock:
            rows = [e.resource(full=False) for e in reversed(self.emails)]
        return {"object": "list", "has_more": len(rows) > limit, "data": rows[:limit]}

    # --- webhooks -----------------------------------------------------------------------------

    def _schedule_webhooks(self, email: SentEmail) -> None:
        if self.webhooks_mode == "off":
            return
        lowered = [a.lower() for a in email.to]
        with self._lock:
            bounce = next((self._bounces[a] for a in lowered if a in self._bounces), None)
            complaint = any(a in self._complaints for a in lowered)
        steps: list[tuple[str, dict[str, Any]]] = [("email.sent", {})]
        if bounce:
            steps.append(("email.bounced", {"bounce": {"type": bounce, "subType": "General",
                                                       "message": "The recipient's mailbox does not exist."}}))
        else:
            steps.append(("email.delivered", {}))
            if complaint:
                steps.append(("email.complained", {}))
        hooks = [self.webhook(email, kind, extra) for kind, extra in steps]
        if self.webhooks_mode == "manual":
            with self._lock:
                self._pending.extend(hooks)
        else:
            threading.Thread(target=self._play, args=(hooks,), daemon=True,
                             name=f"resend-webhooks-{email.id[:8]}").start()

    def webhook(self, email: SentEmail, event_type: str, extra: dict[str, Any] | None = None,
                *, msg_id: str | None = None, timestamp: int | None = None) -> Webhook:
        """The signed webhook Resend would post for ``email`` (tests build variants with it)."""
        now = dt.datetime.now(dt.timezone.utc)
        payload = {"type": event_type, "created_at": iso(now), "data": {
            "created_at": iso(email.created_at), "email_id": email.id, "from": email.sender, "to": list(email.to),
            "subject": email.subject, "message_id": f"<{email.id}@resend.sandbox>", "tags": dict(email.tags),
            **(extra or {})}}
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = sign_svix(self.webhook_secret or "", body, msg_id=msg_id, timestamp=timestamp)
        return Webhook(self.webhook_url or "", body, headers)

    def _play(self, hooks: list[Webhook]) -> None:
        for hook in hooks:
            time.sleep(self.webhook_delay)
            self._post(hook)

    def _post(self, hook: Webhook) -> int:
        event = hook.event
        with self._lock:
            for email in self.emails:
                if email.id == event["data"]["email_id"]:
                    email.last_event = event["type"].split(".", 1)[1]
        try:
            code = self._poster(hook)
        except Exception:  # noqa: BLE001 - an undeliverable webhook is recorded, as Svix's dashboard shows it
            code = 0
        with self._lock:
            self.webhook_results.append((event["data"]["email_id"], event["type"], code))
        return code


def _http_post(hook: Webhook) -> int:
    import requests

    return requests.post(hook.url, data=hook.body, headers=hook.headers, timeout=10).status_code
