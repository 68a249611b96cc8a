"""Ports for servers that tests start, chosen so that nothing else on the machine takes them."""

from __future__ import annotations

import random
import re
import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing holds now, below the kernel's ephemeral range.

    For servers that must be told their port (the Temporal dev server, a restart on the same
    port). A port from bind(0) is an ephemeral one: until the server binds it, seconds later on
    a busy machine, any outgoing connection on the machine (the suite's own, another run's) may
    be given it as its local port, and the server fails with "address already in use". Nobody
    is handed a port below that range; only another process picking one at random can collide.
    Servers that can bind port 0 themselves should (see `listening_port`).
    """
    low, high = 10_000, _ephemeral_start()
    if high - low < 1_000:  # the ephemeral range covers nearly everything: nothing better
        return _bound_port(0)
    for _ in range(100):
        try:
            return _bound_port(random.randrange(low, high))
        except OSError:  # held by someone: try another
            continue
    raise AssertionError(f"no free port between {low} and {high}")


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _bound_port(port: int) -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        return int(s.getsockname()[1])


_LISTENING = re.compile(r"Uvicorn running on https?://[^\s:]+:(\d+)")


def listening_port(lines: list[str]) -> int:
    """The port an `exportflow api --port 0` process bound, from its "Uvicorn running" line."""
    for line in lines:
        found = _LISTENING.search(line)
        if found:
            return int(found.group(1))
    raise AssertionError("no 'Uvicorn running on' line:\n" + "".join(lines[-20:]))
