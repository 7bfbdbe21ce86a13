"""app: the tenant dashboard and its JSON API (people, not providers, call it).

One Flask application (``shared.web.app``) built once per instance serves every path under
``/app`` (``shared.web.app.serve``).
"""

import functions_framework

from shared import runtime
from shared.web.app import create_app, serve

_app = create_app(runtime.current)


@functions_framework.http
def app(request):
    return serve(_app, request)
