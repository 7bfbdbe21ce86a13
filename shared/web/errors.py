"""Domain errors -> HTTP answers. API paths (``/api/``) answer ``{"error": {"code", "message"}}``,
plus the error's details (``field`` when one field is at fault, ``fields`` (field path ->
message) when several are: a body that does not validate, the settings service's
``SettingsInvalid``; :meth:`AccountError.details`);
pages answer an HTML page with the message. Never a 500 for bad input; a store down is a 503."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from shared.accounts.errors import AccountError, Throttled, Unauthenticated
from shared.logging import get_logger
from shared.errors import InvalidInput as ServiceInvalidInput
from shared.idempotency import InProgress
from shared.ports import StoreUnavailable

log = get_logger("z3.app")


def is_api() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


MAX_FIELDS = 50


def api_error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
              details: dict[str, Any] | None = None):
    details = dict(details or {})
    if details.get("fields"):
        details["fields"] = dict(list(details["fields"].items())[:MAX_FIELDS])
    response = jsonify({"error": {"code": code, "message": message, **{k: v for k, v in details.items() if v}}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _path(error) -> str:
    return ".".join(str(p) for p in error["loc"]) or "body"


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """Field path (``voice.hours.mon.0.start``, the settings service's form) -> message."""
    out: dict[str, str] = {}
    for error in exc.errors():
        out.setdefault(_path(error), error["msg"].removeprefix("Value error, "))
    return out


def validation_message(exc: ValidationError) -> str:
    parts = [f"{_path(e)}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts) or "invalid input"


def validation_field(exc: ValidationError) -> dict[str, Any]:
    """The first field at fault (``{"field": "to"}``), when the error names one."""
    errors = exc.errors()
    where = errors[0]["loc"] if errors else ()
    return {"field": ".".join(str(p) for p in where)} if where else {}


def register(app: Flask) -> None:
    @app.errorhandler(AccountError)
    def account_error(exc: AccountError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else {}
        if is_api():
            return api_error(exc.status, exc.code, exc.message, headers, exc.details())
        if isinstance(exc, Unauthenticated) and request.method == "GET":
            from flask import redirect, url_for

            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        return render_template("error.html", message=exc.message, status=exc.status), exc.status, headers

    @app.errorhandler(ValidationError)
    def invalid(exc: ValidationError):
        if is_api():
            return api_error(422, "invalid_input", validation_message(exc),
                             details={**validation_field(exc), "fields": validation_fields(exc)})
        return render_template("error.html", message="Some of what was sent is not valid.", status=422), 422

    @app.errorhandler(ServiceInvalidInput)
    def service_invalid(exc: ServiceInvalidInput):
        # A domain service's refusal (shared.errors: the integrations, contacts ... raise it with
        # their own 4xx status and a reason without personal data) that no view turned into a
        # field error: its status and reason, never a 500.
        status = exc.status if 400 <= exc.status < 500 else 400
        code = {403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid_input"}.get(status, "bad_request")
        if is_api():
            return api_error(status, code, exc.reason)
        return render_template("error.html", message=exc.reason, status=status), status

    @app.errorhandler(StoreUnavailable)
    def unavailable(exc: StoreUnavailable):
        log.error("dependency unavailable", extra={"reason": str(exc)[:200]})
        if is_api():
            return api_error(503, "unavailable", "Temporarily unavailable, try again.", {"Retry-After": "5"})
        return render_template("error.html", message="Temporarily unavailable, try again in a moment.",
                               status=503), 503, {"Retry-After": "5"}

    @app.errorhandler(InProgress)
    def in_progress(exc: InProgress):
        # Another request holds the same idempotency key (the same text being sent, e.g. a cancel's
        # notice while the first cancel is still sending it): nothing failed, it is being done.
        if is_api():
            return api_error(409, "in_progress", "The same change is being made right now; retry in a moment.",
                             {"Retry-After": "5"})
        return render_template("error.html", message="This is being done right now: reload the page in a moment.",
                               status=409), 409, {"Retry-After": "5"}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 400: "bad_request"}.get(
            exc.code or 500, "error")
        if is_api():
            return api_error(exc.code or 500, code, exc.description or code)
        return render_template("error.html", message=exc.description, status=exc.code), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        if is_api():
            return api_error(500, "internal", "Internal error.")
        return render_template("error.html", message="Something went wrong on our side.", status=500), 500
