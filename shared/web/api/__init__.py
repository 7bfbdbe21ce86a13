"""The JSON API under ``/api``: every path under it answers ``{"error": {"code", "message"}}``
on failure (``shared.web.errors``).

``/api/v1`` resources live in ``shared.web.api.v1`` (one module per resource, each adding its
routes to ``v1.blueprint``); Bearer tokens plug in through ``shared.web.api.bearer``. Every
route declares its action with ``@auth.requires(...)`` (``shared.web.auth``).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.api import v1

    app.register_blueprint(v1.blueprint, url_prefix="/api/v1")
