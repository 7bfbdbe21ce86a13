"""The one permission table, walked: each role and scope against each action, and every route of
the app declares an action of the table (or is one of the signed-out pages)."""

from __future__ import annotations

import pytest

from shared.accounts import permissions
from shared.accounts.errors import Forbidden
from shared.accounts.principal import Principal
from shared.models.tenant import Role

EXPECTED = {  # what a business owner would expect each role to do
    "calls.recordings.play": {"owner", "admin", "staff"},
    "routing.update": {"owner", "admin"},
    "billing.read": {"owner"},
    "billing.manage": {"owner"},
    "data.export": {"owner", "admin"},
    "data.delete": {"owner"},
    "members.manage": {"owner", "admin"},
    "members.transfer_ownership": {"owner"},
    "audit.read": {"owner", "admin"},
    "calls.read": {"owner", "admin", "staff", "viewer"},
    "integrations.read": {"owner", "admin"},
    "integrations.manage": {"owner", "admin"},
}


@pytest.mark.parametrize("action", sorted(permissions.PERMISSIONS))
@pytest.mark.parametrize("role", list(Role))
def test_every_role_against_every_action(role, action):
    kind, roles = permissions.PERMISSIONS[action]
    for scopes in ({"read", "write"}, {"read"}):
        principal = Principal("t_1", "u_1", role, "token", frozenset(scopes))
        expected = role in roles and (kind == "read" or "write" in scopes)
        assert permissions.can(principal, action) is expected
        if not expected:
            with pytest.raises(Forbidden):
                permissions.require(principal, action)
    if action in EXPECTED:
        assert (role.value in EXPECTED[action]) is permissions.allowed(role, action)


def test_viewer_only_reads():
    assert not [a for a in permissions.PERMISSIONS if permissions.allowed(Role.viewer, a)
                and permissions.kind(a) == "write" and a not in ("account.security", "tokens.manage")]


PUBLIC = {"auth.", "legal.", "static_file", "openapi_document"}  # the API description and the policies are public


def test_every_route_declares_an_action():
    from shared import runtime
    from shared.web.app import create_app

    app = create_app(runtime.current)
    undeclared = [rule.endpoint for rule in app.url_map.iter_rules()
                  if not any(rule.endpoint.startswith(p) for p in PUBLIC)
                  and not hasattr(app.view_functions[rule.endpoint], "z3_action")]
    assert undeclared == []
