"""JSON-lines logging for Cloud Logging, with PII redacted.

Each record is one JSON object on stderr with ``severity``, ``message``, ``function``,
``logging.googleapis.com/trace`` (from ``X-Cloud-Trace-Context`` / ``traceparent`` when a
request set it) and any ``extra`` fields. Before it is written, every string (message, args and
extra values, recursively) passes through :func:`redact`: phone numbers, email addresses and
card-like digit runs are masked, and fields whose *name* says they hold content (``body``,
``from``, ``to``, ``phone``, ``email``, ``transcript`` ...) are replaced wholesale.

Use ``log = get_logger(__name__)``; never ``print``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from typing import Any

_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("z3_trace", default=None)

# Field names whose values are content or contact data: never logged, whatever they hold.
SENSITIVE_KEYS = frozenset({
    "body", "text", "message_body", "transcript", "summary", "from", "to", "from_number", "to_number",
    "phone", "phone_number", "number", "caller", "called", "email", "address", "caller_name",
    "password", "token", "access_token", "refresh_token", "secret", "card", "card_number", "digits",
    "speech", "speechresult", "recording_url", "authorization", "cookie",
})

# Also percent-encoded, as they appear in URLs and form bodies: bob%40example.com, %2B1303...
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# E.164 (+ or %2B, then 8-15 digits) and North American numbers: (303) 555-0100, 303.555.0100,
# 3035550100, 13035550123 (national format with the leading 1). The NANP shape (area code and
# exchange start with 2-9) keeps unix times in seconds (1772470800) from reading as a number.
_PHONE = re.compile(
    r"(?<![\w])(?:(?:\+|%2[Bb])\d[\d\s().\-]{7,17}\d"
    r"|(?:\b1[\s.\-]?\(?|\(?\b)[2-9]\d{2}\)?[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}\b)"
)
# 13-19 digit runs (optionally grouped): card numbers. A bare 13-digit run starting with 1 is a
# unix time in milliseconds (until 2286), not a card (13-digit cards start with 4), so it stays.
_CARD = re.compile(r"\b(?!1\d{12}\b)(?:\d[ \-]?){13,19}\b")

# Terminal colour codes (werkzeug colours its request lines): noise inside a JSON line.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_STD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub("[card]", text)
    return _PHONE.sub("[phone]", text)


def scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    def __init__(self, function_name: str = "", project: str | None = None) -> None:
        super().__init__()
        self.function_name = function_name
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        entry: dict[str, Any] = {
            "severity": record.levelname if record.levelname != "WARN" else "WARNING",
            "message": redact(_ANSI.sub("", message)),
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
            "logger": record.name,
        }
        if self.function_name:
            entry["function"] = self.function_name
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = (
                f"projects/{self.project}/traces/{trace}" if self.project else trace)
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                entry[key] = scrub(value, key)
        if record.exc_info:
            # Exception text may quote data: redact it like everything else.
            entry["stack_trace"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def set_trace_from_headers(headers: Any) -> None:
    """Remember the request's trace id for the log lines of this request."""
    # ``headers is None``, not truthiness: ``len()`` of werkzeug's headers walks the whole environ.
    value = None
    cloud = headers.get("X-Cloud-Trace-Context") if headers is not None else None
    if cloud:
        value = cloud.split("/", 1)[0]
    else:
        parent = headers.get("traceparent") if headers is not None else None
        if parent and parent.count("-") >= 3:
            value = parent.split("-")[1]
    _trace.set(value if value and re.fullmatch(r"[0-9a-fA-F]{1,64}", value) else None)


_configured = False


def configure(function_name: str = "", level: str | None = None, stream: Any = None) -> None:
    """Install the JSON handler on the root logger (idempotent)."""
    global _configured
    from shared.config import get_settings

    settings = get_settings()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(function_name or settings.z3_function_name, settings.google_cloud_project))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_z3", False)]:
        root.removeHandler(old)
    handler._z3 = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level or settings.z3_log_level)
    _configured = True


def get_logger(name: str) -> logging.Logger:
    if not _configured:
        configure()
    return logging.getLogger(name)
