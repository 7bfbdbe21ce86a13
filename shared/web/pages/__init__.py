"""The dashboard's pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.pages import auth, home

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(home.blueprint)
