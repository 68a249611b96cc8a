"""A real HTTP receiver on 127.0.0.1 for webhook tests: records, verifies, can fail or be away."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from services.webhooks.verify import VerificationError, verify
from tests.e2e.procs import free_port


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    msg_id: str
    body: bytes
    valid: bool
    arrived: float  # time.time()
    answered: int

    @property
    def change(self) -> tuple[str, int]:
        """(order id, seq) of the change it carries."""
        event = json.loads(self.body)["data"]["event"]
        return str(event["order_id"]), int(event["seq"])


@dataclass
class Receiver:
    """Answers `status` (or a random 500 with probability `flaky`) after `delay` seconds."""

    secret: str = ""
    status: int = 200
    # When set, decides the answer from the (order id, seq) a request carries.
    decide: Callable[[tuple[str, int]], int] | None = None
    delay: float = 0.0
    flaky: float = 0.0
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    active: int = 0  # requests being answered right now
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=lambda: random.Random(14))

    @property
    def url(self) -> str:
        """Where to subscribe."""
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        """Listen (again) on the same port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver._handle(self, body)

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = dict(handler.headers.items())
        try:
            verify(body, headers, self.secret)
            valid = True
        except VerificationError:
            valid = False
        with self._lock:
            self.active += 1
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.active -= 1
            got = Received(headers.get("webhook-id", ""), body, valid, time.time(), 0)
            if self.decide is not None:
                status = self.decide(got.change)
            else:
                status = 500 if self._rng.random() < self.flaky else self.status
            self.received.append(dataclasses.replace(got, answered=status))
        with contextlib.suppress(ConnectionError):  # the sender may be gone (a killed worker)
            handler.send_response(status)
            handler.send_header("content-length", "2")
            handler.end_headers()
            handler.wfile.write(b"ok")

    def accepted(self) -> list[Received]:
        """Requests answered 2xx, in arrival order."""
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]


def check_deliveries(receiver: Receiver, expected: set[tuple[str, int]]) -> dict[str, int]:
    """Every expected change arrived, under one webhook-id each, signed, in order per order.

    Returns counts: requests, distinct webhook-ids, repeats of an id already acknowledged.
    """
    requests = list(receiver.received)
    assert all(r.valid for r in requests), "a request failed signature verification"
    ids: dict[str, tuple[str, int]] = {}
    bodies: dict[str, bytes] = {}
    for r in requests:
        assert ids.setdefault(r.msg_id, r.change) == r.change, "one webhook-id, two changes"
        assert bodies.setdefault(r.msg_id, r.body) == r.body, "a retry changed the body"
    per_change: dict[tuple[str, int], set[str]] = defaultdict(set)
    for msg_id, change in ids.items():
        per_change[change].add(msg_id)
    mine = {c: m for c, m in per_change.items() if c[0] in {o for o, _ in expected}}
    assert set(mine) == expected, f"missing {sorted(expected - set(mine))[:5]}"
    assert all(len(m) == 1 for m in mine.values()), "a change came under two webhook-ids"
    first: dict[str, list[int]] = defaultdict(list)
    acked: set[str] = set()
    repeats = 0
    for r in receiver.accepted():
        if r.msg_id in acked:
            repeats += 1
            continue
        acked.add(r.msg_id)
        order_id, seq = r.change
        first[order_id].append(seq)
    for order_id, seqs in first.items():
        if order_id in {o for o, _ in expected}:
            assert seqs == sorted(seqs), f"{order_id} arrived out of order: {seqs}"
    return {"requests": len(requests), "ids": len(ids), "repeats": repeats}
