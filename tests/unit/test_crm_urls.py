"""SSRF rules of CRM endpoint URLs (shared.crm.urls): outside development only https to public
addresses; every address a name resolves to is checked, and the delivery connects to the one
that was checked."""

from __future__ import annotations

import pytest

from shared.crm.urls import UnsafeEndpointUrl, check_url


def resolver(table):
    return lambda host, port: table.get(host, [])


PUBLIC = resolver({"hooks.example.com": ["93.184.215.14"], "crm.example.com": ["2606:4700::6812:1"],
                   "rebind.example.com": ["93.184.215.14", "10.1.2.3"], "meta.example.com": ["169.254.169.254"],
                   "localhost": ["127.0.0.1"], "metadata.google.internal": ["169.254.169.254"]})


@pytest.mark.parametrize("url, rule", [
    ("http://hooks.example.com/x", "must be an https:// URL"),
    ("ftp://hooks.example.com/x", "must be an https:// URL"),
    ("https://user:pw@hooks.example.com/x", "user name or password"),
    ("https://10.0.0.5/hook", "private, loopback or metadata"),
    ("https://192.168.1.1/hook", "private, loopback or metadata"),
    ("https://127.0.0.1:8443/hook", "private, loopback or metadata"),
    ("https://localhost/hook", "private, loopback or metadata"),
    ("https://[::1]/hook", "private, loopback or metadata"),
    ("https://[::ffff:127.0.0.1]/hook", "private, loopback or metadata"),
    ("https://[fd00:ec2::254]/hook", "private, loopback or metadata"),
    ("https://169.254.169.254/computeMetadata/v1/", "private, loopback or metadata"),
    ("https://100.64.0.1/hook", "private, loopback or metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata server"),
    ("https://meta.example.com/x", "private, loopback or metadata"),
    ("https://rebind.example.com/x", "private, loopback or metadata"),  # one private answer is enough
    ("https://nowhere.example.com/x", "does not resolve"),
    ("not a url", "must be an https:// URL"),
    ("", "not a URL"),
])
def test_refused_outside_development(url, rule):
    ip_resolver = lambda host, port: PUBLIC(host, port) or ([host] if host[0].isdigit() or ":" in host else [])  # noqa: E731
    with pytest.raises(UnsafeEndpointUrl, match=rule) as refused:
        check_url(url, development=False, resolver=ip_resolver)
    assert url not in refused.value.reason or not url  # the reason never repeats the URL


def test_public_https_is_allowed_and_pinned_to_the_checked_address():
    target = check_url("https://hooks.example.com/z3?token=abc", development=False, resolver=PUBLIC)
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com", 443, "/z3?token=abc", "93.184.215.14")
    assert check_url("https://crm.example.com:8443/", development=False, resolver=PUBLIC).port == 8443


def test_development_allows_the_loopback_receiver():
    target = check_url("http://127.0.0.1:9999/hooks/crm", development=True, resolver=lambda h, p: ["127.0.0.1"])
    assert target.scheme == "http" and target.address == "127.0.0.1"


def test_the_real_resolver_refuses_localhost():
    with pytest.raises(UnsafeEndpointUrl, match="private, loopback"):
        check_url("https://localhost/hook", development=False)
