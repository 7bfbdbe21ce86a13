"""The one request/response skeleton every HTTP function uses.

``functions/<name>/main.py`` stays thin::

    @functions_framework.http
    def sms_inbound(request):
        return handle(request, "sms_inbound", verify=twilio_form, handler=_handle)

``handle`` maps outcomes to the status codes providers act on:

* :class:`shared.webhooks.InvalidSignature` -> 403 (forged, unsigned, stale: never processed);
* :class:`shared.errors.InvalidInput` (services) and :class:`BadRequest` (this edge), ``MalformedPayload``, pydantic ``ValidationError``, malformed JSON/form
  (also JSON nested too deeply or holding numbers no store holds) -> 400 with a reason;
* a body over :data:`MAX_BODY_BYTES` -> 413, before anything is read past the limit;
* :class:`shared.ports.StoreUnavailable` (storage or a provider down) -> 503, so the sender
  retries and nothing is dropped;
* :class:`shared.idempotency.InProgress` -> 409 (the same event is being processed; retry);
* anything unexpected -> 500 (logged with the stack, PII redacted). Never a 2xx that drops data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from werkzeug.exceptions import RequestEntityTooLarge

from shared.errors import InvalidInput
from shared.logging import get_logger, set_trace_from_headers
from shared.models.base import MAX_JSON_DEPTH, json_value_problem

log = get_logger("z3.http")

# No provider posts more form fields than this; a body with more is refused (400 or 403).
MAX_FORM_FIELDS = 1000
# No provider posts a body near this size (Retell's call_analyzed with a long transcript is tens
# of KiB); a larger one is a 413 before anything is parsed, and a body without Content-Length
# (chunked) is read only up to it, so no request can make an instance hold more in memory.
MAX_BODY_BYTES = 1024 * 1024


class BadRequest(InvalidInput):
    """:class:`shared.errors.InvalidInput` found by the HTTP edge itself, with any 4xx status
    (415 for a worker's wrong content type): answer ``status`` with this reason (no PII in it)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Reply:
    body: str | bytes = ""
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> "Reply":
        return cls(json.dumps(data, default=str), status, "application/json")

    @classmethod
    def xml(cls, body: str, status: int = 200) -> "Reply":
        return cls(body, status, "text/xml")

    @classmethod
    def text(cls, body: str, status: int = 200) -> "Reply":
        return cls(body, status, "text/plain; charset=utf-8")

    def flask(self) -> tuple[Any, int, dict[str, str]]:
        return self.body, self.status, {"Content-Type": self.content_type, **self.headers}


@dataclass(frozen=True)
class Incoming:
    """What a handler needs from the request, read once."""

    function: str
    method: str
    raw_body: bytes
    content_type: str
    query_string: str
    headers: Mapping[str, str]
    args: Mapping[str, str]
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def form_pairs(self) -> list[tuple[str, str]]:
        """The form-encoded body as (name, value) pairs in order, parsed once per request (the
        signature check and the handler both read it). UTF-8 only; at most 1,000 fields."""
        pairs = self._parsed.get("form")
        if pairs is None:
            from urllib.parse import parse_qsl

            try:
                pairs = parse_qsl(self.raw_body.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                                  errors="strict", max_num_fields=MAX_FORM_FIELDS)
            except UnicodeDecodeError:
                raise BadRequest("body is not UTF-8") from None
            except ValueError:
                raise BadRequest(f"more than {MAX_FORM_FIELDS} form fields") from None
            self._parsed["form"] = pairs
        return pairs

    def form(self) -> dict[str, str]:
        """Form-encoded body as a flat dict (last value wins; Twilio sends each param once)."""
        return dict(self.form_pairs())

    def json(self) -> Any:
        """The JSON body, or 400: not JSON, nested deeper than any provider nests, or holding a
        number no store can hold (``1e400``, ``NaN``, integers beyond 64 bits)."""
        try:
            value = json.loads(self.raw_body or b"null")
        except RecursionError:
            raise BadRequest(f"body is nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("body is not valid JSON") from None
        problem = json_value_problem(value)
        if problem is not None:
            raise BadRequest(f"body is {problem}" if problem.startswith("nested") else f"body: {problem}")
        return value

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or 400."""
        body = self.json()
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        return body


def incoming(request: Any, function: str) -> Incoming:
    # Flask 3.1's per-request limit: a Content-Length above it raises RequestEntityTooLarge before
    # anything is read; a chunked body is read up to one byte past it (werkzeug stops there
    # silently), and that byte is what tells a body over the limit from one at it.
    request.max_content_length = MAX_BODY_BYTES + 1
    raw_body = request.get_data(cache=True)
    if len(raw_body) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    return Incoming(
        function=function,
        method=request.method,
        raw_body=raw_body,
        content_type=(request.headers.get("Content-Type") or "").split(";")[0].strip().lower(),
        query_string=request.query_string.decode("latin-1") if request.query_string else "",
        headers=request.headers,
        args=request.args,
    )


def handle(request: Any, function: str, *, handler: Callable[[Incoming], Reply],
           verify: Callable[[Incoming], None] | None = None, methods: tuple[str, ...] = ("POST",)) -> tuple:
    """Verify, handle, render; map failures to the statuses in the module docstring."""
    from pydantic import ValidationError

    from shared.idempotency import InProgress
    from shared.ports import StoreUnavailable
    from shared.webhooks import InvalidSignature, MalformedPayload

    started = time.perf_counter()
    set_trace_from_headers(request.headers)
    if request.method not in methods:
        return Reply.json({"error": "method not allowed"}, 405).flask()
    try:
        req = incoming(request, function)
    except RequestEntityTooLarge:
        # functions-framework drains the body after every response (get_data()): mark it read, so
        # the refused body is not read into memory after all
        request._cached_data = b""  # noqa: SLF001 - werkzeug's cache of get_data()
        log.info("bad request", extra={"reason": "body too large"})
        return Reply.json({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, 413).flask()
    try:
        if verify is not None:
            verify(req)
        reply = handler(req)
    except InvalidSignature as exc:
        log.warning("rejected request: bad signature", extra={"reason": str(exc)})
        reply = Reply.json({"error": "invalid signature"}, 403)
    except InvalidInput as exc:  # the services' error, and BadRequest (a subclass) of the edge
        log.info("bad request", extra={"reason": exc.reason})
        reply = Reply.json({"error": exc.reason}, exc.status)
    except MalformedPayload as exc:
        log.info("bad request", extra={"reason": exc.reason})
        reply = Reply.json({"error": exc.reason}, 400)
    except ValidationError as exc:
        reasons = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]]
        log.info("bad request", extra={"reason": "; ".join(reasons)})
        reply = Reply.json({"error": "invalid request", "details": reasons}, 400)
    except InProgress:
        reply = Reply.json({"error": "already being processed, retry later"}, 409)
    except StoreUnavailable as exc:
        log.error("dependency unavailable, asking the sender to retry", extra={"reason": str(exc)[:200]})
        reply = Reply.json({"error": "temporarily unavailable, retry"}, 503)
    except Exception:  # noqa: BLE001 - the one place that turns surprises into a logged 500
        log.exception("unhandled error")
        reply = Reply.json({"error": "internal error"}, 500)
    log.info("request", extra={"status": reply.status, "ms": round((time.perf_counter() - started) * 1000, 2)})
    return reply.flask()
