"""Error responses: always `{detail}` with words a person can read, never a 500 for bad input."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError

from services.ops.errors import (
    STATUS_FOR_REFUSAL,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    field_name,
)
from workflows.rules.transitions import Refusal

__all__ = ["STATUS_FOR_REFUSAL", "ServiceUnavailable", "field_name", "install", "invalid"]

log = logging.getLogger(__name__)


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


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return JSONResponse(status_code=404, content={"detail": exc.message})


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return await _validation_error(request, invalid(exc.loc, exc.message))


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # The database refused or dropped the connection (down, restarting, locked past the busy
    # timeout): the request may be retried, as with Temporal away.
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    unavailable = ServiceUnavailable(f"the database is unavailable ({type(exc).__name__})", 2)
    return await _unavailable(request, unavailable)


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
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(InterfaceError, _database_error)
    app.add_exception_handler(InvalidInput, _invalid_input)
