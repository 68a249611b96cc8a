"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api.deps import StateDep
from services.db.engine import probe
from services.ops.state import AppState

router = APIRouter(tags=["health"])

# A readiness probe answers within this, whatever the database does (a load balancer's probe
# gives up after a few seconds and would count a late answer as a failure anyway).
DATABASE_PROBE_SECONDS = 5.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    """Database and Temporal both reachable (else 503, naming what is not and why)."""
    checks = {"database": await _database(state), "temporal": await _temporal(state)}
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(status_code=200 if ready else 503, content={"ready": ready, **checks})


async def _database(state: AppState) -> str:
    # Off the event loop: a locked SQLite file or an unanswering PostgreSQL must not stall
    # the requests beside this one.
    try:
        await asyncio.wait_for(asyncio.to_thread(probe, state.engine), DATABASE_PROBE_SECONDS)
    except TimeoutError:
        return f"unreachable: no answer within {DATABASE_PROBE_SECONDS:g} s"
    except Exception as exc:  # readiness reports any failure, it never raises
        return f"unreachable: {_reason(exc)}"
    return "ok"


async def _temporal(state: AppState) -> str:
    try:
        client = await state.temporal_client()
        await client.service_client.check_health()
    except Exception as exc:  # as above
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _reason(exc: Exception) -> str:
    # The driver's own first line ("database is locked", "unable to open database file",
    # "connection refused", "database … is not currently accepting connections"), not
    # SQLAlchemy's wrapper with its SQL and link.
    cause = getattr(exc, "orig", None) or exc
    first = next(iter(str(cause).strip().splitlines()), "")
    return f"{type(cause).__name__}: {first[:200]}" if first else type(cause).__name__
