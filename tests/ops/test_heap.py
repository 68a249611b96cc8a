"""The API's startup heap is frozen: full garbage collections no longer scan it.

Unfrozen, a full collection scanned the ~160,000 objects startup builds and stalled every request
in flight (status lookups' p99 was ~125 ms on both backends; bench/RESULTS.md).
"""

from __future__ import annotations

import gc

from services.config import Settings
from tests.harness import make_api


async def test_the_api_freezes_what_it_built_at_startup(settings: Settings) -> None:
    gc.unfreeze()  # as a fresh process: nothing frozen yet
    assert gc.get_freeze_count() == 0
    async with make_api(settings) as api:
        frozen = gc.get_freeze_count()
        r = await api.http.get("/healthz")
        assert r.status_code == 200
    assert frozen > 50_000  # modules, catalog and schemas, as the docstring counts them
