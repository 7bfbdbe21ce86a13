"""The dashboard's pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.pages import account, appointments, audit, auth, contacts, home, team, texts

    for module in (auth, home, account, team, audit, texts, contacts, appointments):
        app.register_blueprint(module.blueprint)
