"""Fixtures of the console tests: the app in-process, with a worker behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.config import Settings
from tests.harness import ApiHarness, make_api
from tests.web.console import Console, make_console


@pytest.fixture
async def console(settings: Settings, worker: None, screening_list: str) -> AsyncIterator[Console]:
    """The console and API of one app, a worker on its task queue, the demo screening list."""
    async with make_console(settings) as app:
        yield app


@pytest.fixture
async def api_of(console: Console, settings: Settings) -> AsyncIterator[ApiHarness]:
    """The API of the same database, for setting up orders quickly."""
    async with make_api(settings) as harness:
        yield harness
