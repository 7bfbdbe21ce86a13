"""One POST to a checked CRM endpoint: to the address :func:`shared.crm.urls.check_url` vetted
(so a DNS answer that changes between the check and the connection cannot redirect us to an
internal address), with TLS verified against the endpoint's host name, no redirects followed
(a 3xx is a failed attempt), bounded time, and at most 2 KB of the answer kept."""

from __future__ import annotations

from dataclasses import dataclass

from shared.crm.urls import Target

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
KEEP_BYTES = 2048


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, TLS)
    error: str | None = None  # the failure's kind (exception class), never the URL
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    import urllib3

    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if target.scheme == "https":
        import certifi

        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1, cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(), assert_hostname=target.host, server_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)
    try:
        response = pool.urlopen("POST", target.path, body=body, headers={
            **headers, "Host": host_header, "User-Agent": "Z3-OS-Webhooks/1"}, redirect=False,
            preload_content=False, assert_same_host=False)
        try:
            kept = response.read(KEEP_BYTES)
        finally:
            response.release_conn()
        return Answer(status=response.status, body=kept)
    except urllib3.exceptions.HTTPError as exc:
        return Answer(status=None, error=type(exc).__name__)
    finally:
        pool.close()
