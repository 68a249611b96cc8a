"""The console's Policy page: rule sets, the impact preview as table and chart, four eyes."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.db.engine import make_engine
from services.demo import ensure_screening_list
from services.worker import build_worker
from tests.api.test_rulesets import RULESETS, stage_body, unique, wait_fan_out
from tests.harness import ApiHarness, booking, make_api
from tests.policy_data import rtx_needs_license
from tests.web.console import Console, make_console, text_of


@pytest.fixture
async def policy_console(
    private_db_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[tuple[Console, ApiHarness]]:
    """Console, API and worker on a database of the test's own (rule sets are global)."""
    settings = Settings(
        database_url=private_db_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"test-{uuid.uuid4().hex[:10]}",
        worker_max_concurrent_activities=20,
    )
    ensure_screening_list(settings)
    engine = make_engine(private_db_url)
    with ThreadPoolExecutor(max_workers=20) as pool:
        async with (
            build_worker(temporal_env.client, settings, engine, pool),
            make_console(settings) as console,
            make_api(settings) as api,
        ):
            yield console, api
    engine.dispose()


async def test_the_policy_page_previews_a_rule_set_and_takes_the_second_approval(
    policy_console: tuple[Console, ApiHarness],
) -> None:
    console, api = policy_console
    rtx = await api.book(booking(sku="RTX-PRO-6000D"))
    await api.wait_state(rtx, "READY_TO_SHIP")
    version = unique("2026-12.console")
    body = stage_body(version, rtx_needs_license)
    assert (await api.http.post(RULESETS, json=body, headers=api.auth("bob"))).status_code == 201
    page = f"/policy/{version}"

    async with console.browser("vic") as vic:
        listing = await vic.get("/policy")
        assert listing.status_code == 200
        row = re.search(rf'<tr data-version="{re.escape(version)}">.*?</tr>', listing.text, re.S)
        assert row is not None
        assert 'data-status="staged"' in row.group(0)
        detail = await vic.get(page)
        assert 'data-action="approve-ruleset"' not in detail.text  # a viewer cannot approve
        assert '<svg class="chart"' in detail.text
        assert 'data-key="license_newly_required"' in detail.text
        assert f'data-order="{rtx}" data-change="license_newly_required"' in detail.text
        assert "1 of 1 open orders change" in text_of(detail.text)
        download = await vic.get(f"{page}/impact.csv")
        assert download.headers["content-disposition"].startswith("attachment")
        assert rtx in download.text

    async with console.browser("bob") as bob:
        detail = await bob.get(page)
        assert 'data-action="approve-ruleset"' not in detail.text
        assert "You staged this rule set" in text_of(detail.text)
        forged = await bob.post(f"{page}/approve", {"note": "mine"})
        assert forged.status_code == 403
        assert "bob staged rule set" in text_of(forged.text)

    async with console.browser("carol") as carol:
        await carol.get(page)
        r = await carol.post(f"{page}/approve", {"note": "read the notice"})
        assert r.status_code == 303
        detail = await carol.get(r.headers["location"])
        assert "Your approval is recorded." in detail.text
        assert "1 of 2 approvals" in text_of(detail.text)
        assert 'data-action="approve-ruleset"' not in detail.text
        assert "a second officer must" in text_of(detail.text)

    async with console.browser("dave") as dave:
        detail = await dave.get(page)
        assert 'data-action="approve-ruleset"' in detail.text
        r = await dave.post(f"{page}/approve", {"note": ""})
        assert r.status_code == 303
        await wait_fan_out(api, version)
        detail = await dave.get(page)
        assert 'data-status="active"' in detail.text
        assert "1 of 1 open orders" in text_of(detail.text)
    await api.wait_state(rtx, "COMPLIANCE_REVIEW")
