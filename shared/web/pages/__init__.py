"""The dashboard's pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.pages import account, appointments, audit, auth, contacts, home, settings, support, team, texts

    for module in (auth, home, account, team, audit, texts, contacts, appointments, settings, support):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(support.public)
