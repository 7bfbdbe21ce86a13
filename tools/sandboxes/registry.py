"""The provider sandboxes the local stack serves, and the setting that points each SDK at one.

name -> (setting, factory). ``scripts/dev`` mounts ``factory()`` (a WSGI app speaking the
provider's wire format) at ``/_sandbox/<name>`` and sets ``<setting>`` to that URL, so the real
SDK client talks to it through ordinary configuration. Tests start the same apps on their own
loopback ports. Each capability registers its provider here.
"""

from __future__ import annotations

from typing import Any, Callable

Factory = Callable[[], Any]


def registry() -> dict[str, tuple[str, Factory]]:
    entries: dict[str, tuple[str, Factory]] = {}
    return entries
