"""The API described once: every ``/api/v1`` operation is declared with :func:`operation`, which
registers the Flask route (behind its permission-table action) and records the pydantic models
it reads and answers with; :func:`openapi` assembles the OpenAPI 3.1 document from them.

Why a registry over pydantic's own JSON Schema rather than spectree or flask-openapi3: OpenAPI
3.1's schemas *are* JSON Schema 2020-12, which ``pydantic.json_schema.models_json_schema`` emits
as is; the routes stay plain Flask views behind ``auth.requires``; and the function's cold start
carries no extra framework (neither library is a dependency today).

The wrapper does the request plumbing every operation shares: the query string through the
operation's query model, a JSON body through its body model (415 when it is not JSON, 422 when
it does not validate), and the answer: a model serialised as JSON, or 204 for None.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from shared.accounts import permissions
from shared.accounts.errors import AccountError
from shared.web import auth


class UnsupportedMediaType(AccountError):
    code = "unsupported_media_type"
    status = 415


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = Field(default=None, description="the input field at fault, when there is one")
    retry_at: dt.datetime | None = Field(default=None, description="when trying again may succeed (a text "
                                                                   "refused for quiet hours)")
    fields: dict[str, str] | None = Field(
        default=None, description="invalid input: each invalid field's path (voice.hours.mon.0.start) and "
                                  "what is wrong with it")


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    model_config = ConfigDict(title="Error")
    error: ErrorDetail


_ERROR_TEXT = {400: "Bad request", 401: "Not signed in, or the API token is unknown or revoked",
               403: "The role or the token's scope does not allow this, or the CSRF token is missing",
               404: "Not found (or another business's)", 409: "Conflict", 413: "Body too large",
               415: "The body is not JSON", 422: "Invalid input", 429: "Too many requests",
               503: "Temporarily unavailable: retry"}


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI form: /calls/{call_sid}
    action: str
    summary: str
    response: type[BaseModel] | None
    status: int
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()


OPERATIONS: list[Operation] = []
_RULE_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_][a-z0-9_]*)>")


def _parse(model: type[BaseModel] | None, kind: str) -> BaseModel | None:
    if model is None:
        return None
    if kind == "query":
        return model.model_validate(request.args.to_dict())
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send a JSON body (Content-Type: application/json).")
    return model.model_validate_json(request.get_data() or b"")


def _reply(result: Any, status: int) -> Response:
    if result is None:
        return Response(status=204)
    response = jsonify(result.model_dump(mode="json", by_alias=True))
    response.status_code = status
    return response


def operation(blueprint: Blueprint, method: str, rule: str, *, action: str, summary: str,
              response: type[BaseModel] | None, status: int = 200, body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, path_params: dict[str, dict[str, Any]] | None = None,
              errors: tuple[int, ...] = ()) -> Callable:
    """Declare one operation: ``rule`` is Flask's (``/calls/<call_sid>``); ``path_params`` the
    JSON Schema of each path parameter. The view gets path parameters, then ``body=`` and
    ``query=`` (the parsed models) when declared, and returns a model (or None: 204)."""
    path = _RULE_PARAM.sub(r"{\1}", rule)
    names = _RULE_PARAM.findall(rule)
    params = {name: (path_params or {}).get(name, {"type": "string"}) for name in names}
    OPERATIONS.append(Operation(method.upper(), path, action, summary, response, status, body, query, params,
                                errors))

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            if body is not None:
                kwargs["body"] = _parse(body, "body")
            if query is not None:
                kwargs["query"] = _parse(query, "query")
            return _reply(view(**kwargs), status)

        guarded = auth.requires(action)(handler)
        blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=guarded, methods=[method.upper()])
        return guarded

    return wrap


# --- the document --------------------------------------------------------------------------------

def _error_response(status: int, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": _ERROR_TEXT.get(status, "Error"), "content": {"application/json": {"schema": schema}}}


def _statuses(op: Operation) -> list[int]:
    found = {401, 403, 503, *op.errors}
    if op.path_params:
        found.add(404)
    if op.body is not None or op.query is not None or op.path_params:
        found.add(422)
    if op.body is not None:
        found |= {400, 413, 415}
    return sorted(found)


def openapi(server_url: str, operations: list[Operation] | None = None) -> dict[str, Any]:
    operations = OPERATIONS if operations is None else operations
    models: list[tuple[type[BaseModel], str]] = [(ErrorBody, "serialization")]
    for op in operations:
        if op.response is not None:
            models.append((op.response, "serialization"))
        if op.body is not None:
            models.append((op.body, "validation"))
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "operationId": f"{op.method.lower()}_{op.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
            "summary": op.summary,
            "description": f"Needs `{op.action}` ({permissions.kind(op.action)}).",
            "parameters": [{"name": name, "in": "path", "required": True, "schema": schema}
                           for name, schema in op.path_params.items()],
            "responses": {},
        }
        if op.query is not None:
            query_schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
            required = set(query_schema.get("required", ()))
            for name, schema in query_schema.get("properties", {}).items():
                item["parameters"].append({"name": name, "in": "query", "required": name in required,
                                           "schema": schema})
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": refs[(op.body, "validation")]}}}
        if op.response is None:
            item["responses"][str(op.status)] = {"description": "Done"}
        else:
            item["responses"][str(op.status)] = {"description": "OK", "content": {"application/json": {
                "schema": refs[(op.response, "serialization")]}}}
        for status in _statuses(op):
            item["responses"][str(status)] = _error_response(status, refs[(ErrorBody, "serialization")])
        if not item["parameters"]:
            del item["parameters"]
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Z3 OS API", "version": "1",
                 "description": "A business's calls, texts, consent ledger, team and settings. Authenticate "
                                "with `Authorization: Bearer <personal API token>`, or with the session "
                                "cookie plus the `X-CSRF-Token` header on anything that changes state."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token (z3_...)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-z3_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }
