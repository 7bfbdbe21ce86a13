"""What the app records about the client of a request: IP, its prefix, user agent."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from shared.config import Settings


@dataclass(frozen=True)
class ClientInfo:
    ip: str
    user_agent: str

    @property
    def ip_prefix(self) -> str:
        """The network a sign-in came from (IPv4 /24, IPv6 /48): a new one is a "new place"."""
        try:
            address = ipaddress.ip_address(self.ip)
        except ValueError:
            return ""
        bits = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def client_info(request, settings: Settings) -> ClientInfo:
    ip = request.remote_addr or ""
    if not settings.development:  # behind the load balancer: the client is the hop it added
        hops = [part.strip() for part in (request.headers.get("X-Forwarded-For") or "").split(",") if part.strip()]
        if len(hops) >= settings.z3_forwarded_hops:
            ip = hops[-settings.z3_forwarded_hops]
    try:
        ip = str(ipaddress.ip_address(ip))
    except ValueError:
        ip = ""
    return ClientInfo(ip=ip, user_agent=(request.headers.get("User-Agent") or "")[:300])
