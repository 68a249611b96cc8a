"""A cookie-keeping client of the console, in-process: one per person, like browsers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from typing import Any

import httpx
from fastapi import FastAPI

from services.api.app import create_app
from services.config import Settings
from tests.harness import create_tokens

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """One person's session: their cookies and the last CSRF token a page gave them."""

    http: httpx.AsyncClient
    csrf: str = ""

    async def get(self, path: str, **params: Any) -> httpx.Response:
        """GET a page and remember its CSRF token."""
        r = await self.http.get(path, params=params or None)
        if found := CSRF.search(r.text):
            self.csrf = found.group(1)
        return r

    async def post(
        self, path: str, data: dict[str, str], csrf: str | None = None
    ) -> httpx.Response:
        """POST a form with this session's CSRF token (or the one given)."""
        fields = {"csrf_token": self.csrf if csrf is None else csrf} | data
        return await self.http.post(path, data=fields)

    async def sign_in(self, token: str) -> httpx.Response:
        """Sign in through the form, as a person would."""
        await self.get("/signin")
        r = await self.post("/signin", {"token": token, "next": "/orders"})
        await self.get("/orders")
        return r


@dataclass
class Console:
    """The app with tokens of every role, and a browser per user on demand."""

    app: FastAPI
    tokens: dict[str, str]

    @asynccontextmanager
    async def browser(self, user: str | None = None) -> AsyncIterator[Browser]:
        """A fresh browser, signed in as `user` when given."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as http:
            browser = Browser(http)
            if user:
                r = await browser.sign_in(self.tokens[user])
                assert r.status_code == 303, r.text
            yield browser


@asynccontextmanager
async def make_console(settings: Settings) -> AsyncIterator[Console]:
    """Run the app's lifespan; browsers talk to it without a socket."""
    app = create_app(settings)
    tokens = create_tokens(settings.database_url)
    async with app.router.lifespan_context(app):
        yield Console(app, tokens)


def text_of(html: str) -> str:
    """The visible text of a page, whitespace collapsed, for assertions on words."""
    no_tags = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(no_tags))
