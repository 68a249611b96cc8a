"""One HTTP attempt of a delivery: signed, to the checked address, timed, never raising."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from services.webhooks.policy import retry_after_seconds
from services.webhooks.results import AttemptResult
from services.webhooks.signing import signed_headers
from services.webhooks.targets import (
    IpAddress,
    Target,
    TargetRefused,
    host_header,
    parse_url,
    pinned_url,
    resolve,
)

RESOLVE_TTL_SECONDS = 30.0
MAX_ANSWER_BYTES = 64 * 1024  # read (and drop) at most this much of an answer


@dataclass
class Sender:
    """Sends attempts of one subscription's deliveries."""

    url: str
    secret: str
    http: aiohttp.ClientSession
    timeout: float
    allow_private: bool
    _resolved: dict[str, tuple[float, list[IpAddress]]] = field(default_factory=dict)

    async def _address(self, target: Target) -> IpAddress:
        cached = self._resolved.get(target.host)
        if cached is None or cached[0] < time.monotonic():
            addresses = await resolve(target, allow_private=self.allow_private)
            cached = (time.monotonic() + RESOLVE_TTL_SECONDS, addresses)
            self._resolved[target.host] = cached
        return cached[1][0]

    async def _post(self, msg_id: str, body: bytes) -> tuple[int, str | None]:
        """(status code, Retry-After) of one request."""
        target = parse_url(self.url)
        ip = await self._address(target)
        headers = signed_headers(msg_id, int(time.time()), body, self.secret)
        headers["host"] = host_header(target)
        async with self.http.post(
            pinned_url(target, ip),
            data=body,
            headers=headers,
            allow_redirects=False,
            # TLS still checks the certificate against the host name the subscriber gave.
            server_hostname=target.host if target.scheme == "https" else None,
        ) as response:
            await response.content.read(MAX_ANSWER_BYTES)  # read (a little) and drop it
            return response.status, response.headers.get("retry-after")

    async def attempt(
        self, msg_id: str, body: bytes, attempt: int, first: datetime | None
    ) -> AttemptResult:
        """Send once; the result says what came back (or why nothing did)."""
        at = datetime.now(UTC)
        began = time.perf_counter()
        code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            async with asyncio.timeout(self.timeout):
                code, retry = await self._post(msg_id, body)
            retry_after = retry_after_seconds(retry)
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except (aiohttp.ClientError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        latency = (time.perf_counter() - began) * 1000
        return AttemptResult(
            delivery_id=msg_id,
            attempt=attempt,
            at=at,
            first_attempt_at=first or at,
            status_code=code,
            latency_ms=latency,
            error=error,
            retry_after=retry_after,
        )
