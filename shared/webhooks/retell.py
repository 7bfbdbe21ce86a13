"""Retell: ``x-retell-signature: v={unix ms},d={hex HMAC-SHA256(api key, raw body + ms)}``.

The key is the API key that carries the webhook badge in Retell's dashboard (``RETELL_WEBHOOK_KEY``,
defaulting to ``RETELL_API_KEY``): Retell signs both its webhooks and its custom-function calls
with that key, which need not be the key our API calls use (:func:`signing_key`).

Checked with the SDK's own ``retell.lib.webhook_auth.verify(body, api_key, signature) -> bool``,
which refuses a header that is not exactly ``v=<digits>,d=<64 lowercase hex>`` and a timestamp
more than 5 minutes (``FIVE_MINUTES`` ms) away from now, in either direction.

``import retell.lib.webhook_auth`` runs ``retell/__init__.py`` first, which builds the whole API
client: 2-4 s here, against Retell's 10 s webhook timeout. The helper module itself needs only
the standard library and ``cryptography``, so it is loaded straight from the installed SDK's
file (about 0.1 s); when ``retell`` is already imported, the package's own copy is used.
"""

from __future__ import annotations

import functools
import re
import time
from types import ModuleType
from typing import Any

from shared import runtime
from shared.http import Incoming
from shared.webhooks import TOLERANCE_SECONDS, InvalidSignature, _header, _secret, _text

PROVIDER = "retell"
SIGNATURE_HEADER = "x-retell-signature"
_PRIVATE_NAME = "_z3_retell_webhook_auth"
# The SDK's format, used here only to word the reason of a refusal; the SDK decides.
_FORMAT = re.compile(r"v=(\d+),d=([0-9a-f]{64})")


@functools.lru_cache(maxsize=1)
def _sdk_helper() -> ModuleType:
    """The SDK's ``webhook_auth`` module, without importing the ``retell`` client if possible."""
    import importlib.util
    import sys
    from pathlib import Path

    if "retell" not in sys.modules:
        package = importlib.util.find_spec("retell")  # locates the package without running it
        locations = list(package.submodule_search_locations or []) if package else []
        path = Path(locations[0], "lib", "webhook_auth.py") if locations else None
        if path is not None and path.is_file():
            spec = importlib.util.spec_from_file_location(_PRIVATE_NAME, path)
            if spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return module
    from retell.lib import webhook_auth

    return webhook_auth


def preload() -> None:
    """Load the SDK helper now (instance start) rather than on the first request."""
    _sdk_helper()


def signing_key(settings: Any) -> str:
    """The key Retell signs with: ``RETELL_WEBHOOK_KEY`` when set, else ``RETELL_API_KEY``.
    Raises :class:`InvalidSignature` when neither is configured."""
    name = "retell_webhook_key" if settings.secret("retell_webhook_key") else "retell_api_key"
    return _secret(settings, name, PROVIDER)


def verify_retell_request(req: Incoming) -> None:
    """The ``verify`` of the Retell-facing functions (``retell_webhook``, ``retell_tools``), with
    the settings of this instance; raises :class:`InvalidSignature` (403)."""
    verify_retell(runtime.settings(), raw_body=req.raw_body, signature=req.headers.get(SIGNATURE_HEADER))


def verify_retell(settings: Any, *, raw_body: bytes, signature: str | None) -> None:
    """Raise :class:`InvalidSignature` unless Retell signed this body within the last 5 minutes."""
    api_key = signing_key(settings)
    signature = _header(signature, PROVIDER, SIGNATURE_HEADER)
    body = _text(raw_body, PROVIDER)
    verify = _sdk_helper().verify
    try:
        valid = verify(body, api_key, signature)
    except Exception:  # noqa: BLE001 - whatever the SDK trips on, the request is not proven
        raise InvalidSignature(PROVIDER, "signature could not be checked") from None
    if valid is not True:
        raise InvalidSignature(PROVIDER, _why(signature))


def _why(signature: str) -> str:
    """Words for a refusal the SDK already made (it only answers True/False)."""
    match = _FORMAT.fullmatch(signature)
    if match is None:
        return "malformed signature header"
    try:
        stale = abs(time.time() - int(match.group(1)) / 1000) > TOLERANCE_SECONDS
    except (ValueError, OverflowError):
        return "malformed signature header"
    return "timestamp outside the 5-minute tolerance" if stale else "signature mismatch"
