"""Error responses: always `{detail}` with words a person can read, never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from workflows.rules.transitions import Refusal, RefusalKind

STATUS_FOR_REFUSAL = {
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
}


class ErrorBody(BaseModel):
    """Every error answer: words a person can read."""

    detail: str


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ValidationErrorBody(ErrorBody):
    """A 422: what is wrong, field by field."""

    errors: list[FieldError] = []


# Documented on every /api/v1 route, so the OpenAPI schema says what the API really answers
# (schemathesis found 401s undocumented and our 422 body unlike FastAPI's default one).
API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body could not be parsed"},
    401: {"model": ErrorBody, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorBody, "description": "Wrong role, or separation of duties"},
    404: {"model": ErrorBody, "description": "No such order, license or record"},
    409: {"model": ErrorBody, "description": "Not allowed in the current state"},
    422: {"model": ValidationErrorBody, "description": "Invalid input, naming the field"},
    503: {"model": ErrorBody, "description": "Temporal unreachable; retry after Retry-After"},
}


class ServiceUnavailable(Exception):
    """A dependency (Temporal) is down; the client should retry later."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


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


def invalid(field_loc: Sequence[Any], message: str) -> RequestValidationError:
    """A 422 naming one field, raised from route code."""
    return RequestValidationError(
        [{"loc": tuple(field_loc), "msg": message, "type": "value_error"}]
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": field_name(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})


async def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return JSONResponse(status_code=STATUS_FOR_REFUSAL[exc.kind], content={"detail": exc.message})


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceUnavailable)
    return JSONResponse(
        status_code=503,
        content={"detail": exc.message},
        headers={"Retry-After": str(exc.retry_after)},
    )


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Refusal, _refusal)
    app.add_exception_handler(ServiceUnavailable, _unavailable)
