"""Webhook targets: http(s) only, and never the private network unless allowed."""

from __future__ import annotations

import pytest

from services.webhooks.targets import TargetRefused, host_header, parse_url, pinned_url, resolve


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/hooks", "loopback"),
        ("http://localhost/hooks", "loopback"),
        ("http://[::1]/hooks", "loopback"),
        ("http://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("http://10.1.2.3/hooks", "private"),
        ("https://192.168.0.10/hooks", "private"),
        ("http://172.16.5.4/hooks", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/hooks", "link-local"),
        ("http://0.0.0.0/hooks", "unspecified"),
        ("http://100.64.1.1/hooks", "not a public address"),
        ("http://224.0.0.1/hooks", "multicast"),
    ],
)
async def test_private_loopback_and_link_local_targets_are_refused(url: str, why: str) -> None:
    with pytest.raises(TargetRefused, match=why):
        await resolve(parse_url(url), allow_private=False)


async def test_they_are_allowed_when_the_setting_says_so_and_public_ones_always() -> None:
    assert [str(ip) for ip in await resolve(parse_url("http://127.0.0.1:9/x"), allow_private=True)]
    found = await resolve(parse_url("https://8.8.8.8/hooks"), allow_private=False)
    assert [str(ip) for ip in found] == ["8.8.8.8"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///nohost", "no host"),
        ("https://user:pw@example.com/x", "user or password"),
        ("http://example.com:99999/x", "not a valid URL"),
    ],
)
def test_only_plain_http_and_https_urls_with_a_host(url: str, why: str) -> None:
    with pytest.raises(TargetRefused, match=why):
        parse_url(url)


def test_a_request_goes_to_the_checked_address_with_the_original_host() -> None:
    import ipaddress

    target = parse_url("https://erp.example.com/hooks/in?x=1")
    assert pinned_url(target, ipaddress.ip_address("93.184.216.34")) == (
        "https://93.184.216.34:443/hooks/in?x=1"
    )
    assert host_header(target) == "erp.example.com"
    odd = parse_url("http://erp.example.com:8080/h")
    assert pinned_url(odd, ipaddress.ip_address("2001:db8::1")) == "http://[2001:db8::1]:8080/h"
    assert host_header(odd) == "erp.example.com:8080"
