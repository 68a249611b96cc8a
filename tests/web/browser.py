"""Helpers of the browser tests: a running exportflow, and a person at a Chromium window."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from tests.e2e.procs import base_env, run, started, wait_http
from tests.ports import listening_port

CHROMIUM = Path(os.environ.get("EXPORTFLOW_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
USERS = {"alice": "sales_ops", "bob": "compliance", "carol": "compliance"}


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@dataclass
class Stack:
    """A running exportflow: its URL and a token per user."""

    base: str
    tokens: dict[str, str]


class Person:
    """One person at their own browser window (own cookies)."""

    def __init__(self, browser: Any, stack: Stack, user: str) -> None:
        self.context = browser.new_context(viewport={"width": 1360, "height": 900})
        self.context.set_default_timeout(60_000)  # a busy machine renders slowly
        self.page = self.context.new_page()
        self.stack, self.user = stack, user

    def go(self, path: str) -> Any:
        """Open a console path."""
        self.page.goto(self.stack.base + path)
        return self.page

    def sign_in(self, shot: str = "") -> None:
        """Sign in through the form with this user's token."""
        self.go("/orders")
        self.page.wait_for_url("**/signin?next=*")
        if shot:
            self.shot(shot)
        self.page.fill("#token", self.stack.tokens[self.user])
        self.page.click("button:has-text('Sign in')")
        self.page.wait_for_url("**/orders")

    def shot(self, name: str) -> None:
        """Save a full-page screenshot as a test artifact."""
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def state(self) -> str:
        """The state badge of the order page that is open."""
        return str(self.page.locator("h1 .badge").get_attribute("data-state"))

    def wait_state(self, order_path: str, state: str, tries: int = 60) -> None:
        """Reload the order page until it shows `state`."""
        for _ in range(tries):
            self.go(order_path)
            if self.state() == state:
                return
            self.page.wait_for_timeout(500)
        raise AssertionError(f"{order_path} stuck in {self.state()}, expected {state}")

    def act(self, action: str, fields: dict[str, str] | None = None) -> None:
        """Fill in and submit an action's form on the open page."""
        form = self.page.locator(f"form[data-action='{action}']").first
        for name, value in (fields or {}).items():
            field = form.locator(f"[name='{name}']")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        """Close the window."""
        self.context.close()


def book_in_form(alice: Person) -> str:
    """Book an H20 order in the form (after a refused first try); its id."""
    page = alice.go("/orders/new")
    fields = {
        "purchaser.name": "Example Cloud Computing Co., Ltd.",
        "purchaser.country": "CN",
        "purchaser.address": "Nanshan District, Shenzhen",
        "end_user.name": "Example Inference Services Ltd.",
        "end_user.country": "CN",
        "end_user.address": "Haidian District, Beijing",
        "end_use": "commercial AI inference",
        "requested_ship_date": (date.today() + timedelta(days=40)).isoformat(),
        "external_ref": f"PO-{uuid.uuid4().hex[:6].upper()}",
        "lines[0].quantity": "0",
        "lines[0].unit_price": "12000.00",
    }
    for name, value in fields.items():
        page.fill(f"[name='{name}']", value)
    page.select_option("[name='lines[0].sku']", "H20")
    page.click("button:has-text('Book order')")
    error = page.locator("[data-field='lines[0].quantity']")
    assert "greater than 0" in error.inner_text()
    alice.shot("new-order-field-error")
    page.fill("[name='lines[0].quantity']", "10")
    page.click("button:has-text('Book order')")
    page.wait_for_url(re.compile(r".*/orders/ORD-\w+\?done=book$"))
    return page.url.split("/orders/")[1].split("?")[0]


@contextmanager
def running_stack(temporal_address: str, workdir: Path) -> Iterator[Stack]:
    """Worker and API as processes on a dev server, with a fresh SQLite file in `workdir`."""
    db = workdir / "exportflow.db"
    env = base_env(
        database_url=f"sqlite:///{db}",
        temporal_address=temporal_address,
        task_queue=f"web-{uuid.uuid4().hex[:8]}",
        worker_metrics_port="0",  # no fixed port: other runs on this machine may hold it
        webhooks_allow_private="true",  # the tests' webhook receiver is on 127.0.0.1
    )
    run(["db", "upgrade"], env)
    demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
    with resources.as_file(demo) as path:
        run(["screening-list", "import", str(path)], env)
    tokens = {
        user: run(["token", "create", "--user", user, "--role", role], env).strip()
        for user, role in USERS.items()
    }
    with (
        started(["worker"], env, ready="worker polling"),
        started(["api", "--port", "0"], env, ready="Uvicorn running") as api,
    ):
        base = f"http://127.0.0.1:{listening_port(api.lines)}"
        wait_http(base + "/readyz")
        yield Stack(base, tokens)
