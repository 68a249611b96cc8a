"""The console's Integrations page: subscribe, see health and deliveries, redeliver, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from services.config import Settings
from tests.harness import ApiHarness, booking, make_api
from tests.web.console import Console, make_console, text_of
from tests.webhooks.conftest import FAST, dispatchers, settled, wait_for
from tests.webhooks.receiver import Receiver


@pytest.fixture
async def wired(settings: Settings, worker: None) -> AsyncIterator[tuple[Console, ApiHarness]]:
    """Console and API allowing a receiver on 127.0.0.1, with a dispatcher running."""
    fast = settings.model_copy(update=FAST)
    async with make_console(fast) as console, make_api(fast) as api, dispatchers(fast):
        yield console, api


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on a port of its own."""
    r = Receiver()
    r.start()
    yield r
    r.stop()


async def test_compliance_subscribes_sees_deliveries_redelivers_and_deletes(
    wired: tuple[Console, ApiHarness], receiver: Receiver
) -> None:
    console, api = wired
    async with console.browser("bob") as bob:
        page = await bob.get("/integrations")
        assert page.status_code == 200
        assert 'href="/integrations" aria-current="page"' in page.text
        refused = await bob.post("/integrations/webhooks", {"url": "ftp://example.com/x"})
        assert refused.status_code == 422
        assert 'data-field="url"' in refused.text
        assert "only http and https" in text_of(refused.text)
        made = await bob.post(
            "/integrations/webhooks", {"url": receiver.url, "events": "book, screened"}
        )
        assert made.status_code == 201, made.text
        secret = made.text.split('data-testid="secret">')[1].split("<")[0]
        assert secret.startswith("whsec_")
        receiver.secret = secret
        oid = await api.book(booking(sku="RTX-PRO-6000D"))
        await wait_for(lambda: len(receiver.accepted()) == 2, what="book and screened")
        page = await bob.get("/integrations")
        await settled(api, page.text.split('data-webhook="')[1].split('"')[0])
        page = await bob.get("/integrations")
        assert secret not in page.text, "the secret is shown only once"
        words = text_of(page.text)
        assert "Healthy" in words
        assert "0 pending · 0 failed" in words
        assert f"{oid} #0 order.book" in words
        assert f"{oid} #2 order.screened" in words
        assert page.text.count('data-status="delivered"') == 2
        webhook_id = page.text.split('data-webhook="')[1].split('"')[0]
        delivery_id = receiver.accepted()[0].msg_id
        again = await bob.post(
            f"/integrations/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {}
        )
        assert again.status_code == 303
        await wait_for(lambda: len(receiver.accepted()) == 3, what="the redelivery")
        assert receiver.accepted()[2].msg_id == delivery_id
        gone = await bob.post(f"/integrations/webhooks/{webhook_id}/delete", {})
        assert gone.status_code == 303
        assert "No webhook subscription yet." in text_of((await bob.get("/integrations")).text)


async def test_sales_ops_see_no_integrations_and_are_refused_in_the_apis_words(
    wired: tuple[Console, ApiHarness],
) -> None:
    console, _ = wired
    async with console.browser("alice") as alice:
        orders = await alice.get("/orders")
        assert 'href="/integrations"' not in orders.text
        page = await alice.get("/integrations")
        assert page.status_code == 403
        assert "the compliance or integration role" in text_of(page.text)
        forged = await alice.post("/integrations/webhooks", {"url": "https://8.8.8.8/x"}, csrf="x")
        assert forged.status_code == 403
        assert "CSRF check failed" in text_of(forged.text)
