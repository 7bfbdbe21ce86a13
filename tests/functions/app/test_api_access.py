"""Every API operation (walked from the registry, so a new route is covered by adding it):
signed out 401, a role the permission table refuses 403, a read token on a write action 403,
a cookie request without its CSRF token 403, invalid input 422 (never 500), and the error
shape ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import pytest

from shared.accounts import permissions
from shared.web.api import spec
from shared.models.tenant import Role
from tests.functions.app.api_world import BAD_BODIES, ROLES, Seeded, bearer, call

OPS = spec.OPERATIONS
IDS = [f"{op.method} {op.path}" for op in OPS]


def _error(reply, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    error = reply.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_the_registry_holds_every_api_route(app_client):
    paths = {f"{op.method} /api/v1{op.path}" for op in OPS}
    assert {"GET /api/v1/me", "GET /api/v1/calls/{call_sid}", "DELETE /api/v1/members/{user_id}",
            "GET /api/v1/numbers/{number_id}/consent", "PATCH /api/v1/business", "GET /api/v1/audit-log"} <= paths
    assert len(paths) == len(OPS)  # no operation declared twice


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_signed_out_is_401(app_client, seeded, op):
    a, _b = seeded
    _error(call(app_client, op, a, {}), 401, "unauthenticated")
    _error(call(app_client, op, a, bearer("z3_not-a-token-anyone-made")), 401, "unauthenticated")


@pytest.mark.parametrize("op", [op for op in OPS if len(permissions.PERMISSIONS[op.action][1]) < len(ROLES)],
                         ids=[i for op, i in zip(OPS, IDS) if len(permissions.PERMISSIONS[op.action][1]) < len(ROLES)])
def test_a_role_the_table_refuses_is_403(app_client, seeded, op):
    a, _b = seeded
    allowed = permissions.PERMISSIONS[op.action][1]
    for role in (r for r in ROLES if r not in allowed):
        _error(call(app_client, op, a, bearer(a.tokens[(role, "write")])), 403, "forbidden")


@pytest.mark.parametrize("op", [op for op in OPS if permissions.kind(op.action) == "write"],
                         ids=[i for op, i in zip(OPS, IDS) if permissions.kind(op.action) == "write"])
def test_a_read_token_on_a_write_action_is_403(app_client, seeded, op):
    a, _b = seeded
    _error(call(app_client, op, a, bearer(a.tokens[(next(iter(permissions.PERMISSIONS[op.action][1])), "read")])),
           403, "forbidden")


STATE_CHANGING = [op for op in OPS if op.method not in ("GET", "HEAD")]


@pytest.mark.parametrize("op", STATE_CHANGING, ids=[f"{op.method} {op.path}" for op in STATE_CHANGING])
def test_a_cookie_request_without_csrf_is_403(app_client, business, signed_in, op):
    values = Seeded(business.tenant_id, users={Role.staff: "u_nobody"}, token_ids={(Role.owner, "write"): "tok_x"})
    _error(call(app_client, op, values, {}), 403, "forbidden")
    _error(call(app_client, op, values, {"X-CSRF-Token": "forged"}), 403, "forbidden")
    with_token = call(app_client, op, values, {"X-CSRF-Token": signed_in})
    assert with_token.status_code != 403 and with_token.status_code < 500, with_token.text


@pytest.mark.parametrize("op", [op for op in OPS if op.body is not None],
                         ids=[i for op, i in zip(OPS, IDS) if op.body is not None])
def test_invalid_bodies_are_422_or_415_never_500(app_client, seeded, op):
    a, _b = seeded
    headers = bearer(a.tokens[(ROLES[0], "write")])  # POST /tokens checks its body before refusing a token
    reply = call(app_client, op, a, headers, body=BAD_BODIES[(op.method, op.path)])
    _error(reply, 422, "invalid_input")
    for raw, content_type, status in ((b"{", "application/json", 422), (b"[]", "application/json", 422),
                                      (b"", "application/json", 422), (b"name=x", "text/plain", 415)):
        reply = app_client.open("/api/v1" + op.path, method=op.method, data=raw, headers={
            **headers, "Content-Type": content_type})
        assert reply.status_code == status, (raw, reply.text)
        assert reply.get_json()["error"]["code"] in ("invalid_input", "unsupported_media_type")


@pytest.mark.parametrize("op", [op for op in OPS if op.query is not None],
                         ids=[i for op, i in zip(OPS, IDS) if op.query is not None])
def test_invalid_pages_are_422(app_client, seeded, op):
    a, _b = seeded
    headers = bearer(a.tokens[(ROLES[0], "write")])
    for query in ("limit=0", "limit=101", "limit=ten", "cursor=%21%21not-a-cursor", "cursor=eyJ0IjoidiJ9"):
        reply = app_client.get(f"/api/v1{op.path}?{query}", headers=headers)
        _error(reply, 422, "invalid_input")


def test_malformed_path_values_are_4xx_never_500(app_client, seeded):
    a, _b = seeded
    headers = bearer(a.tokens[(ROLES[0], "write")])
    _error(app_client.get("/api/v1/numbers/not-a-number/consent", headers=headers), 404, "not_found")
    _error(app_client.get("/api/v1/numbers/" + "A" * 43 + "/consent", headers=headers), 404, "not_found")
    _error(app_client.get("/api/v1/calls/..%2F..%2Fusers", headers=headers), 404, "not_found")
    _error(app_client.get("/api/v1/calls/" + "C" * 300, headers=headers), 404, "not_found")
    _error(app_client.delete("/api/v1/members/u%20x", headers=headers), 404, "not_found")
