"""What an operation can answer besides its result; the API and the console map each to a status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflows.rules.transitions import Refusal, RefusalKind

STATUS_FOR_REFUSAL = {
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
}


class ServiceUnavailable(Exception):
    """A dependency (Temporal) is down; the client should retry later."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class NotFound(Exception):
    """No such order, license or record."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(Exception):
    """One field of the input is wrong; `loc` names it as FastAPI does (`("body", "lines", 0)`)."""

    def __init__(self, loc: Sequence[Any], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


def conflict(message: str) -> Refusal:
    """Not possible in the current state of things (409)."""
    return Refusal(RefusalKind.CONFLICT, message)


def status_of(exc: Exception) -> int:
    """The HTTP status an operation's exception stands for (500 for anything else)."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refusal):
        return STATUS_FOR_REFUSAL.get(exc.kind, 409)
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, ServiceUnavailable):
        return 503
    return 500


def field_name(loc: Sequence[Any]) -> str:
    """`("body", "lines", 0, "sku")` -> `lines[0].sku`."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "body"
