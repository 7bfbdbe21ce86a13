"""Rendering the email templates (Jinja2): a subject, an HTML part and a text part per email.

Templates live in ``shared/email/templates/``: ``<name>.subject.txt``, ``<name>.html`` and
``<name>.txt``, extending ``_base.html`` / ``_base.txt``. HTML templates are autoescaped
(``select_autoescape`` on ``.html``): a caller who says ``<script>`` in a message, or a text
body with markup, reaches the inbox as text. Links pass the ``safe_url`` filter, which drops
anything that is not ``http(s)://`` (no ``javascript:`` links from data).

Contexts come from the task (JSON values). A missing value renders empty rather than failing
(``ChainableUndefined``): a notification with one field fewer is still worth sending. The
context is content (caller names, messages, texts): it is never logged, and rendering errors are
reported by template name only.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

TEMPLATE_DIR = Path(__file__).parent / "templates"
Category = Literal["transactional", "marketing"]

# Every template the mailer knows and its category (marketing gets the opt-in gate and the
# unsubscribe headers). Matches ``shared.notifications.Template``.
TEMPLATES: dict[str, Category] = {
    "call_summary": "transactional",
    "new_voicemail": "transactional",
    "new_text_message": "transactional",
    "team_invite": "transactional",
    "password_reset": "transactional",
    "security_alert": "transactional",
    "verify_email": "transactional",
    "privacy_request_update": "transactional",
    "crm_endpoint_disabled": "transactional",
    "integration_disconnected": "transactional",
    "integration_sync_failed": "transactional",
    "account_flagged": "transactional",
    "support_request": "transactional",  # to our support address
    "support_received": "transactional",  # the acknowledgement to the member who asked
    "marketing": "marketing",
    "billing_notice": "transactional",
    "policy_update": "transactional",
}
MAX_SUBJECT = 150

_ROLE_LABELS = {"owner": "an owner", "admin": "an admin", "staff": "a team member", "viewer": "a viewer"}
_STATUS_LABELS = {"received": "received", "acknowledged": "confirmed", "in_progress": "in progress",
                  "extended": "extended", "completed": "completed", "denied": "could not be completed"}
_REQUEST_LABELS = {"access": "Access to your data", "export": "Copy of your data (export)",
                   "correction": "Correction", "deletion": "Deletion", "marketing_opt_out": "Marketing opt-out",
                   "right_to_know": "California right to know", "child_data_deletion": "Deletion of a child's data"}


class UnknownTemplate(ValueError):
    pass


class RenderError(ValueError):
    """A template failed to render (a bug in the template, not in the data)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def category(template: str) -> Category:
    try:
        return TEMPLATES[template]
    except KeyError:
        raise UnknownTemplate(template) from None


def render(template: str, context: Mapping[str, Any], *, base: Mapping[str, Any]) -> Rendered:
    """Render ``template``. ``base`` (business name, links, time zone ...) is set by the mailer
    and wins over the task's ``context`` for the keys it defines."""
    category(template)
    env = environment()
    values: dict[str, Any] = {**dict(context), **dict(base)}
    try:
        subject = _one_line(env.get_template(f"{template}.subject.txt").render(values))
        values["subject"] = subject
        html = env.get_template(f"{template}.html").render(values)
        text = _tidy(env.get_template(f"{template}.txt").render(values))
    except Exception as exc:  # jinja2 errors; the message may quote data, so only the type is kept
        raise RenderError(f"template {template} failed to render ({type(exc).__name__})") from None
    return Rendered(subject=subject, html=html, text=text)


def preload() -> None:
    """Compile every template now (instance start-up) instead of in the first task."""
    env = environment()
    for name in TEMPLATES:
        for suffix in ("subject.txt", "html", "txt"):
            env.get_template(f"{name}.{suffix}")


@functools.lru_cache(maxsize=1)
def environment():
    from jinja2 import ChainableUndefined, Environment, FileSystemLoader, pass_context, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        phone=format_phone, duration=format_duration, safe_url=safe_url, role_label=_label(_ROLE_LABELS),
        status_label=_label(_STATUS_LABELS), request_label=_label(_REQUEST_LABELS),
        local_time=pass_context(_local_time), local_date=pass_context(_local_date),
    )
    return env


# --- filters -----------------------------------------------------------------------------------

def format_phone(value: Any) -> str:
    """``+13035550142`` -> ``(303) 555-0142``; other numbers as given."""
    if not value or not isinstance(value, str):
        return ""
    match = re.fullmatch(r"\+1(\d{3})(\d{3})(\d{4})", value.strip())
    return f"({match[1]}) {match[2]}-{match[3]}" if match else value.strip()


def format_duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return ""
    try:
        seconds = int(round(float(value)))
    except (TypeError, ValueError):
        return ""
    if seconds <= 0:
        return ""
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def safe_url(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value if re.match(r"^https?://[^\s<>\"']+$", value, re.IGNORECASE) else ""


def _label(labels: dict[str, str]):
    def label(value: Any) -> str:
        if not value:
            return ""
        return labels.get(str(value), str(value).replace("_", " "))

    return label


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return None


def _zone(ctx: Any) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(str(ctx.get("time_zone") or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local_time(ctx: Any, value: Any) -> str:
    when = _when(value)
    if when is None:
        return value if isinstance(value, str) else ""
    local = when.astimezone(_zone(ctx))
    clock = local.strftime("%I:%M %p").lstrip("0")
    return f"{local.strftime('%a, %b')} {local.day}, {clock} {local.tzname()}"


def _local_date(ctx: Any, value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = dt.date.fromisoformat(value)
        return f"{day.strftime('%B')} {day.day}, {day.year}"
    when = _when(value)
    if when is None:
        return value if isinstance(value, str) else ""
    local = when.astimezone(_zone(ctx))
    return f"{local.strftime('%B')} {local.day}, {local.year}"


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_SUBJECT else line[: MAX_SUBJECT - 1].rstrip() + "…"


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
