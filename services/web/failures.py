"""What the console shows when an operation refuses: the same words and status as the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from services.ops.errors import InvalidInput, NotFound, ServiceUnavailable, field_name, status_of
from workflows.rules.transitions import Refusal

# What an operation raises for its caller to show; anything else is a bug and a 500.
REFUSALS = (NotFound, Refusal, InvalidInput, ServiceUnavailable, ValidationError)


@dataclass(frozen=True)
class Failure:
    """A refused operation: HTTP status, words for a person, and messages by field name."""

    status: int
    detail: str
    fields: dict[str, str] = field(default_factory=dict)


def failure(exc: Exception) -> Failure:
    """The console's view of an exception in `REFUSALS`."""
    if isinstance(exc, ValidationError):  # a body the form produced, checked by its model
        fields = {field_name(e["loc"]): e["msg"] for e in exc.errors()}
        return Failure(422, "; ".join(f"{k}: {v}" for k, v in fields.items()), fields)
    if isinstance(exc, InvalidInput):
        return Failure(422, exc.message, {field_name(exc.loc): exc.message})
    message = getattr(exc, "message", str(exc))
    return Failure(status_of(exc), str(message))
