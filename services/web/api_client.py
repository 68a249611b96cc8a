"""The console calls the API in-process, with the signed-in user's own token.

So every role, separation-of-duties and state rule, every Temporal update and every error
message is the API's own: the console adds pages, not rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from services.web.session import WebUser


@dataclass(frozen=True)
class Answer:
    """The API's answer: status and decoded body."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """The API's words for a refusal."""
        if isinstance(self.body, dict) and "detail" in self.body:
            return str(self.body["detail"])
        return f"the API answered {self.status}"

    def field_errors(self) -> dict[str, str]:
        """A 422's messages by field name (`lines[0].sku`), as the API names them."""
        if not isinstance(self.body, dict):
            return {}
        errors = self.body.get("errors") or []
        return {str(e["field"]): str(e["message"]) for e in errors if "field" in e}


class ConsoleApi:
    """The API of this very app, as the signed-in user."""

    def __init__(self, request: Request, user: WebUser) -> None:
        self.app = request.app
        self.headers = {"Authorization": f"Bearer {user.token}"}

    async def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to `/api/v1{path}`, its response as it came; `kwargs` as for httpx."""
        headers = self.headers | kwargs.pop("headers", {})
        transport = httpx.ASGITransport(app=self.app)
        # trust_env=False: no proxy lookups, the request never leaves the process.
        async with httpx.AsyncClient(
            transport=transport, base_url="http://console.local", trust_env=False
        ) as client:
            return await client.request(method, "/api/v1" + path, headers=headers, **kwargs)

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        """One request to `/api/v1{path}`; `kwargs` as for httpx."""
        r = await self.raw(method, path, **kwargs)
        is_json = r.headers.get("content-type", "").startswith("application/json")
        return Answer(r.status_code, r.json() if is_json else {"detail": r.text})

    async def get(self, path: str, **params: Any) -> Answer:
        """GET with query parameters."""
        return await self.call("GET", path, params=params)

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        """POST a JSON body."""
        return await self.call("POST", path, json=body, headers=headers or {})
