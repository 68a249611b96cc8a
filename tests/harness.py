"""A test harness for the API: in-process app, tokens of every role, and small helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from schemas.common import Role
from services.api.app import create_app
from services.config import Settings
from services.db import auth_repo
from services.db.engine import make_engine, session_factory

USERS: dict[str, tuple[Role, ...]] = {
    "alice": (Role.SALES_OPS,),
    "bob": (Role.COMPLIANCE,),
    "carol": (Role.COMPLIANCE,),
    "vic": (Role.VIEWER,),
    "dave": (Role.SALES_OPS, Role.COMPLIANCE),
    "ivy": (Role.INTEGRATION,),
}


def create_tokens(url: str) -> dict[str, str]:
    """One token per user (a second role for dave is added to the same user)."""
    engine = make_engine(url)
    tokens: dict[str, str] = {}
    now = datetime.now(UTC)
    with session_factory(engine, write=True)() as session:
        for user, roles in USERS.items():
            for role in roles:
                tokens[user] = auth_repo.create_token(session, user=user, role=role, now=now)
        session.commit()
    engine.dispose()
    return tokens


def booking(
    *,
    sku: str = "H20",
    quantity: int = 10,
    price: str = "12000.00",
    end_user: str = "",
    country: str = "CN",
    ref: str | None = None,
) -> dict[str, Any]:
    """A valid booking body; override what a test is about."""
    return {
        "purchaser": {
            "name": "Example Cloud Computing Co., Ltd.",
            "country": "CN",
            "address": "Shenzhen",
        },
        "end_user": {
            "name": end_user or "Example Inference Services Ltd.",
            "country": country,
            "address": "Beijing",
        },
        "end_use": "commercial AI inference",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": price}],
        "requested_ship_date": (date.today() + timedelta(days=30)).isoformat(),
        "external_ref": ref,
    }


def license_body(
    number: str, quantity: int = 100, value: str = "5000000.00", days: int = 365
) -> dict[str, Any]:
    """An approved license decision."""
    return {
        "decision": "approved",
        "license_number": number,
        "approved_quantity": quantity,
        "approved_value": value,
        "expires_on": (date.today() + timedelta(days=days)).isoformat(),
    }


@dataclass
class ApiHarness:
    """An HTTP client on the app plus a token per user."""

    http: httpx.AsyncClient
    tokens: dict[str, str]

    def auth(self, user: str) -> dict[str, str]:
        """Headers that authenticate as `user`."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def book(self, body: dict[str, Any] | None = None, user: str = "alice") -> str:
        """Book an order and return its id."""
        r = await self.http.post("/api/v1/orders", json=body or booking(), headers=self.auth(user))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def get(self, order_id: str) -> dict[str, Any]:
        """The order as a viewer sees it."""
        r = await self.http.get(f"/api/v1/orders/{order_id}", headers=self.auth("vic"))
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def act(self, order_id: str, action: str, user: str, body: Any = None) -> httpx.Response:
        """POST an action."""
        return await self.http.post(
            f"/api/v1/orders/{order_id}/actions/{action}", json=body, headers=self.auth(user)
        )

    async def wait_state(self, order_id: str, state: str, timeout: float = 120) -> dict[str, Any]:
        """Poll until the order reaches `state` (system steps run after booking returns; on a
        busy machine a new worker's first workflow task alone has taken 30 s)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            order = await self.get(order_id)
            if order["state"] == state:
                return order
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{order_id} stuck in {order['state']}, expected {state}")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def make_api(settings: Settings) -> AsyncIterator[ApiHarness]:
    """Run the app's lifespan and serve it through httpx without a socket."""
    app = create_app(settings)
    tokens = create_tokens(settings.database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield ApiHarness(http=http, tokens=tokens)
