"""The dashboard's pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.pages import account, audit, auth, home, settings, support, team

    for module in (auth, home, account, team, audit, settings, support):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(support.public)
