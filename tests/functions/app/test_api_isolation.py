"""The tenant isolation walk: every operation of ``/api/openapi.json`` called with business B's
owner token (write scope) and business A's ids. An operation that names a resource by id must
answer 404 (405 at most), never 2xx or 403 (which would tell A's id exists); a collection
operation answers B's own data, and nothing A alone holds (ids, numbers, emails, text bodies)
may appear in any answer. A's data is unchanged afterwards.

The walk reads the document, not a list in this file: a route added to the API is walked
without anyone remembering to; :func:`test_the_walk_catches_a_leaky_route` shows it failing on
a route that reads across tenants."""

from __future__ import annotations

from flask import Blueprint

from shared import runtime
from shared.accounts.errors import NotFound
from shared.models.tenant import Role
from shared.ports import Query
from shared.tenants import TenantScope
from shared.web.api import spec
from shared.web.app import create_app
from tests.functions.app.api_world import GOOD_BODIES, Seeded, bearer


def walk(client, a: Seeded, b: Seeded, prefix: str = "") -> tuple[list[str], int]:
    """Failures of the walk, and how many operations it called."""
    document = client.get(f"{prefix}/api/openapi.json").get_json()
    base = document["servers"][0]["url"]
    failures, called = [], 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"]
            url = path
            for name in names:
                url = url.replace("{" + name + "}", a.path_value(name))
            kwargs = {"json": GOOD_BODIES.get((method.upper(), path), {})} if "requestBody" in operation else {}
            reply = client.open(base + url, method=method.upper(), headers=bearer(b.tokens[(Role.owner, "write")]),
                                **kwargs)
            called += 1
            where = f"{method.upper()} {path}"
            if reply.status_code >= 500:
                failures.append(f"{where}: {reply.status_code}")
            elif names and reply.status_code not in (404, 405):
                failures.append(f"{where} with A's ids answered {reply.status_code}, not 404")
            leaked = [m for m in a.markers() if m and m in reply.get_data(as_text=True)]
            if leaked:
                failures.append(f"{where} answered A's data: {leaked}")
    return failures, called


def test_no_operation_reaches_another_business(app_client, ports, seeded):
    a, b = seeded
    failures, called = walk(app_client, a, b)
    assert failures == []
    assert called == len(spec.OPERATIONS)
    # A is untouched: its member, its token, its profile
    scope = TenantScope(ports.store(), a.tenant_id)
    assert scope.get(f"users/{a.users[Role.staff]}") is not None
    assert scope.get(f"api_tokens/{a.token_ids[(Role.owner, 'write')]}") is not None
    assert ports.store().get(scope.root)["name"] == "Business a"
    assert app_client.get("/api/v1/me", headers=bearer(a.tokens[(Role.owner, "write")])).status_code == 200


def test_the_walk_catches_a_leaky_route(ports, seeded):
    """A route that finds a call by sid across every business (the bug the walk exists for)."""
    a, b = seeded
    leaky = Blueprint("leaky", __name__)

    @spec.operation(leaky, "GET", "/leaky-calls/<call_sid>", action="calls.read", summary="leaks",
                    response=None, status=204)
    def leaky_call(call_sid: str):
        for tenant in ports.store().query(Query("tenants")):
            if ports.store().get(f"{tenant.path}/calls/{call_sid}") is not None:
                return None  # 204: "it exists"
        raise NotFound()

    try:
        app = create_app(runtime.current)
        app.register_blueprint(leaky, url_prefix="/api/v1")
        failures, _called = walk(app.test_client(), a, b)
    finally:
        spec.OPERATIONS.remove(next(op for op in spec.OPERATIONS if op.path == "/leaky-calls/{call_sid}"))
    assert failures == ["GET /leaky-calls/{call_sid} with A's ids answered 204, not 404"]
