"""The JSON API under ``/api``: every path under it answers ``{"error": {"code", "message"}}``
on failure (``shared.web.errors``).

``/api/v1`` resources live in ``shared.web.api.v1`` (one module per area, each declaring its
operations with ``shared.web.api.spec.operation``); ``/api/openapi.json`` is the OpenAPI 3.1
document generated from those declarations. Bearer tokens plug in through
``shared.web.api.bearer``.
"""

from __future__ import annotations

from flask import Flask, jsonify, request


def register(app: Flask) -> None:
    from shared.web.api import spec, v1

    app.register_blueprint(v1.blueprint, url_prefix="/api/v1")

    @app.get("/api/openapi.json")
    def openapi_document():
        return jsonify(spec.openapi(f"{request.script_root}/api/v1"))
