"""The dashboard's pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.pages import (
        account, appointments, audit, auth, calls, contacts, home, integrations, overview, privacy, settings, support,
        team, texts, voicemail,
    )

    for module in (auth, home, account, team, audit, calls, overview, voicemail, texts, contacts, appointments,
                   settings, integrations, support, privacy):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(support.public)
