"""``/api/v1``: the tenant's JSON API. Each resource module adds its routes to ``blueprint``
and is imported below."""

from __future__ import annotations

from flask import Blueprint, jsonify

from shared.web import auth

blueprint = Blueprint("api_v1", __name__)


@blueprint.get("/me")
@auth.requires("account.read")
def me():
    principal = auth.principal()
    user = auth.ports().store().get(f"tenants/{principal.tenant_id}/users/{principal.user_id}") or {}
    return jsonify({"user_id": principal.user_id, "tenant_id": principal.tenant_id, "role": principal.role.value,
                    "email": user.get("email"), "name": user.get("name", ""), "auth": principal.auth,
                    "scopes": sorted(principal.scopes)})
