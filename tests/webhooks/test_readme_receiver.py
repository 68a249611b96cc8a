"""The README's receiver example works as printed: it accepts a delivery and refuses a forgery."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

from services.webhooks.signing import new_secret, signed_headers

README = Path(__file__).resolve().parents[2] / "README.md"


def receiver_app(secret: str) -> Any:
    """The FastAPI app of the README's example, with `verify` from this package."""
    text = README.read_text()
    section = text[text.index("A receiver in a few lines") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README lost its receiver example"
    source = (
        code.group(1)
        .replace("from verify import", "from services.webhooks.verify import")
        .replace('SECRET = "whsec_…"', f"SECRET = {secret!r}")
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace["app"]


async def test_the_readme_receiver_accepts_a_signed_delivery_and_refuses_others() -> None:
    secret = new_secret()
    app = receiver_app(secret)
    event = {"order_id": "ORD-1", "to_state": "SHIPPED"}
    body = json.dumps({"type": "order.ship", "data": {"event": event, "order": {}}}).encode()
    headers = signed_headers("msg_readme", int(time.time()), body, secret)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        ok = await http.post("/exportflow", content=body, headers=headers)
        assert ok.status_code == 200, ok.text
        again = await http.post("/exportflow", content=body, headers=headers)
        assert again.status_code == 200
        forged = await http.post(
            "/exportflow", content=body.replace(b"SHIPPED", b"X"), headers=headers
        )
        assert forged.status_code == 400
        assert "no v1 signature matches" in forged.text
        unsigned = await http.post("/exportflow", content=body)
        assert unsigned.status_code == 400
