"""Which CRM endpoint URLs we send to (checked when an endpoint is added and again before every
delivery, and the delivery then connects to the very address that was checked).

Rules outside development (the embedded backend or the emulators): https only, no user info, a
host name or address that resolves, and every address it resolves to is a public unicast one:
not private (RFC 1918, ULA), loopback, link-local (169.254.0.0/16 holds the cloud metadata
server), CGNAT, multicast, reserved or unspecified, including IPv4 written inside IPv6; the
metadata host names are refused by name too. Anything else would let a tenant make our
functions post to (and report the answers of) internal services. In development loopback and
http are allowed: the CRM receiver sandbox listens on 127.0.0.1.

Reasons name the rule, never the URL (it is the tenant's data and may carry a token).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from shared.errors import InvalidInput

MAX_URL = 2048
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
Resolver = Callable[[str, int], list[str]]


class UnsafeEndpointUrl(InvalidInput):
    """An endpoint URL we refuse to send to."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to ask for (host, path)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query
    address: str


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def check_url(url: object, *, development: bool, resolver: Resolver = resolve) -> Target:
    """The :class:`Target` for ``url``, or :class:`UnsafeEndpointUrl` naming the rule it breaks."""
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
        raise UnsafeEndpointUrl("the endpoint URL is not a URL")
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeEndpointUrl("the endpoint URL is not a URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeEndpointUrl("the endpoint URL must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpointUrl("the endpoint URL must not carry a user name or password")
    if parts.scheme != "https" and not development:
        raise UnsafeEndpointUrl("the endpoint URL must be an https:// URL")
    if host in METADATA_HOSTS and not development:
        raise UnsafeEndpointUrl("the endpoint URL names the metadata server")
    addresses = resolver(host, port)
    if not addresses:
        raise UnsafeEndpointUrl("the endpoint's host name does not resolve")
    if not development and not all(public_address(a) for a in addresses):
        raise UnsafeEndpointUrl("the endpoint's host resolves to a private, loopback or metadata address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])
