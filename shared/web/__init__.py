"""The web layer of the ``app`` function: one Flask application (``shared.web.app.create_app``)
with a blueprint per area. Flask lives here only; the rules live in ``shared.accounts`` and the
other capabilities, whose domain errors ``shared.web.errors`` maps to status codes."""
