"""The local stack's mail viewer: the emails the Resend sandbox accepted, readable in a browser at
``/_sandbox/resend/`` (what Mailpit is for SMTP).

* ``GET /`` -- every email, newest first: when, from, to, subject, last event;
* ``GET /messages/{id}`` -- one email: its headers (from, to, subject, date, tags, the headers
  the mailer set, the idempotency key, Resend's last event), its HTML and its text;
* ``GET /messages/{id}/html`` -- the email's HTML by itself, for the frame of the page above;
* ``GET /messages/{id}/text`` -- the email's text part as ``text/plain``.

Rules it keeps:

* every page is a Jinja2 template with autoescape: a subject, an address or a text part is
  shown as text, never as markup;
* the email's HTML is the only markup served, and only at ``/messages/{id}/html``, inside an
  ``<iframe sandbox>`` (no scripts, no same origin, no forms, no top navigation) and with a
  Content-Security-Policy that forbids every fetch but inline styles and ``data:`` images and
  sandboxes the document even when opened by itself;
* no API key (it is the developer's own stack), but loopback clients only (403 otherwise);
* every other path (``/emails``, ``/emails/{id}``) is the Resend API itself, answered by the
  sandbox this viewer wraps.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable

from jinja2 import DictLoader, Environment, select_autoescape
from werkzeug.wrappers import Request, Response

from tools.sandboxes.resend import ResendSandbox, SentEmail

HTML_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox")
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; base-uri 'none'; form-action 'none'"
_MESSAGE = re.compile(r"^/messages/(?P<id>[0-9a-fA-F\-]{36})(?:/(?P<part>html|text))?$")

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %} - Z3 OS local mail</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f4}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
iframe{width:100%;height:32rem;border:1px solid #ccc}pre{white-space:pre-wrap;background:#f8f8f8;padding:.8rem}
</style></head><body>{% block body %}{% endblock %}</body></html>"""

_LIST = """{% extends "layout.html" %}{% block title %}Mailbox{% endblock %}{% block body %}
<h1>Local mailbox</h1>
<p>{{ emails|length }} email{{ "" if emails|length == 1 else "s" }} sent through the Resend sandbox, newest first.</p>
{% if emails %}<table><thead><tr><th>Sent</th><th>From</th><th>To</th><th>Subject</th><th>Last event</th></tr></thead><tbody>
{% for e in emails %}<tr><td>{{ e.created_at.strftime("%Y-%m-%d %H:%M:%S") }} UTC</td><td>{{ e.sender }}</td>
<td>{{ e.to|join(", ") }}</td><td><a href="{{ base }}/messages/{{ e.id }}">{{ e.subject or "(no subject)" }}</a></td><td>{{ e.last_event }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>No email yet.</p>{% endif %}
{% endblock %}"""

_MESSAGE_PAGE = """{% extends "layout.html" %}{% block title %}{{ e.subject }}{% endblock %}{% block body %}
<p><a href="{{ base }}/">&larr; Mailbox</a></p>
<h1>{{ e.subject or "(no subject)" }}</h1>
<h2>Headers</h2>
<dl>
<dt>From</dt><dd>{{ e.sender }}</dd>
<dt>To</dt><dd>{{ e.to|join(", ") }}</dd>
<dt>Subject</dt><dd>{{ e.subject }}</dd>
<dt>Date</dt><dd>{{ e.created_at.isoformat() }}</dd>
<dt>Resend id</dt><dd>{{ e.id }}</dd>
<dt>Last event</dt><dd>{{ e.last_event }}</dd>
<dt>Idempotency key</dt><dd>{{ e.idempotency_key or "-" }}</dd>
{% for name, value in e.headers.items() %}<dt>{{ name }}</dt><dd>{{ value }}</dd>
{% endfor %}{% for name, value in e.tags.items() %}<dt>tag {{ name }}</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
<h2>HTML</h2>
{% if e.html %}<iframe sandbox title="HTML of the email" src="{{ base }}/messages/{{ e.id }}/html"></iframe>
{% else %}<p>No HTML part.</p>{% endif %}
<h2>Text</h2>
{% if e.text %}<pre>{{ e.text }}</pre>{% else %}<p>No text part.</p>{% endif %}
{% endblock %}"""

_env = Environment(loader=DictLoader({"layout.html": _LAYOUT, "list.html": _LIST, "message.html": _MESSAGE_PAGE}),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


class MailboxViewer:
    """A WSGI app: the viewer's pages, and the wrapped :class:`ResendSandbox` for the API."""

    def __init__(self, sandbox: ResendSandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path.rstrip("/") or "/"
        if request.method in ("GET", "HEAD") and (path == "/" or _MESSAGE.match(path)):
            return self.page(request, path)(environ, start_response)
        return self.sandbox(environ, start_response)

    def page(self, request: Request, path: str) -> Response:
        if not _loopback(request.remote_addr):
            return Response("the mail viewer answers loopback clients only", status=403, mimetype="text/plain")
        emails = list(self.sandbox.emails)  # a copy: the sandbox appends from other threads
        base = request.script_root  # "/_sandbox/resend" where the dev stack mounts it
        if path == "/":
            return self._html(_env.get_template("list.html").render(emails=list(reversed(emails)), base=base))
        match = _MESSAGE.match(path)
        assert match is not None
        found = next((e for e in emails if e.id == match.group("id")), None)
        if found is None:
            return Response("no such email", status=404, mimetype="text/plain")
        if match.group("part") == "html":
            return self._email_html(found)
        if match.group("part") == "text":
            return Response(found.text or "", mimetype="text/plain", headers={"X-Content-Type-Options": "nosniff"})
        return self._html(_env.get_template("message.html").render(e=found, base=base))

    @staticmethod
    def _html(body: str) -> Response:
        return Response(body, mimetype="text/html", headers={"Content-Security-Policy": PAGE_CSP,
                                                             "X-Content-Type-Options": "nosniff"})

    @staticmethod
    def _email_html(email: SentEmail) -> Response:
        return Response(email.html or "", mimetype="text/html",
                        headers={"Content-Security-Policy": HTML_CSP, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer"})
