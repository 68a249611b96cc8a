"""The FastAPI application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services import web
from services.api import errors, fastpath, metrics
from services.api.routers import (
    actions,
    changes,
    documents,
    filing,
    health,
    imports,
    licenses,
    orders,
    records,
    rulesets,
    screening,
    tasks,
    tokens,
    watch,
    webhooks,
)
from services.config import Settings, get_settings
from services.ops.heap import freeze_startup_heap
from services.ops.state import AppState


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine and the Temporal client live as long as it does."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState.open(settings)
        app.state.exportflow = state
        # The API serves reads without Temporal and connects when it is back.
        with contextlib.suppress(errors.ServiceUnavailable):
            await state.temporal_client()
        freeze_startup_heap()
        yield
        await state.close()

    app = FastAPI(
        title="exportflow",
        version="0.1.0",
        summary="Export-licensed GPU orders: screening, licenses, approvals, shipment.",
        lifespan=lifespan,
    )
    errors.install(app)
    metrics.install(app)
    # imports first: `POST /orders/import` must win over any `/orders/{order_id}` route.
    api_routers = (
        imports.router,
        orders.router,
        watch.router,
        actions.router,
        licenses.router,
        tasks.router,
        records.router,
        documents.router,
        filing.router,
        screening.router,
        rulesets.router,
        tokens.router,
        changes.router,
        webhooks.router,
    )
    for router in api_routers:
        app.include_router(router, prefix="/api/v1", responses=errors.API_ERRORS)
    app.include_router(health.router)
    app.include_router(health.router, prefix="/api/v1")
    web.install(app)  # the console at `/`, after the API so its paths cannot shadow any
    # Last, so it is the outermost middleware: a successful status lookup skips the rest.
    fastpath.install(app)
    return app
