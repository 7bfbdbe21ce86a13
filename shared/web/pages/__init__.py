"""The dashboard's pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from shared.web.pages import account, audit, auth, calls, home, overview, team, voicemail

    for module in (auth, home, account, team, audit, calls, overview, voicemail):
        app.register_blueprint(module.blueprint)
