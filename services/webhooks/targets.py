"""Where a webhook may be sent: http(s) URLs whose host resolves to public addresses only.

A subscription is a URL the server will call, so it must not become a way into the private
network (SSRF): loopback, private, link-local (cloud metadata), shared, multicast and reserved
addresses are refused, unless `EXPORTFLOW_WEBHOOKS_ALLOW_PRIVATE=true` (tests, `exportflow
dev`). The check runs when a subscription is created and again before every request, which then
goes to the very address that was checked (a DNS answer that changes in between, "rebinding",
gains nothing).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import anyio

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """A parsed webhook URL: scheme, host (no brackets) and port."""

    url: str
    scheme: str
    host: str
    port: int


def parse_url(url: str) -> Target:
    """Check the form of a webhook URL: http or https, a host, no user or password."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs can receive webhooks")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("the URL may not carry a user or password (sign-in is the signature)")
    default = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, parts.hostname, port or default)


def why_not_public(ip: IpAddress) -> str | None:
    """Why a webhook may not go to this address, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return why_not_public(ip.ipv4_mapped)
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"a {kind} address"
    if not ip.is_global:
        return "not a public address"
    return None


async def resolve(target: Target, *, allow_private: bool) -> list[IpAddress]:
    """The host's addresses, each checked; TargetRefused when any may not be called."""
    try:
        infos = await anyio.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"the host {target.host} does not resolve ({exc})") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not allow_private:
        for ip in addresses:
            if reason := why_not_public(ip):
                what = f"{ip} is" if str(ip) == target.host else f"{target.host} resolves to {ip},"
                raise TargetRefused(
                    f"{what} {reason}; webhooks go to public addresses only "
                    "(EXPORTFLOW_WEBHOOKS_ALLOW_PRIVATE=true allows it)"
                )
    if not addresses:
        raise TargetRefused(f"the host {target.host} has no address")
    return addresses


def pinned_url(target: Target, ip: IpAddress) -> str:
    """The URL with its host replaced by the checked address (send Host and SNI separately)."""
    parts = urlsplit(target.url)
    host = f"[{ip}]" if isinstance(ip, ipaddress.IPv6Address) else str(ip)
    return urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path, parts.query, ""))


def host_header(target: Target) -> str:
    """The Host header for the URL as the subscriber wrote it."""
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"
