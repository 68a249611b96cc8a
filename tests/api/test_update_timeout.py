"""An action Temporal took but no worker confirmed in time is a 503 to retry, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError

from tests.harness import ApiHarness, booking

pytestmark = pytest.mark.usefixtures("screening_list")


async def test_an_update_that_times_out_is_503_with_retry_after(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    oid = await api.book(booking())
    await api.wait_state(oid, "COMPLIANCE_REVIEW")

    # What the SDK raises when the server gives up waiting for a worker to accept the update
    # (seen under load with a worker killed: it was an unhandled 500).
    async def times_out(self: WorkflowHandle[Any, Any], *args: Any, **kwargs: Any) -> Any:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    monkeypatch.setattr(WorkflowHandle, "execute_update", times_out)
    r = await api.act(oid, "approve", "bob", {"note": "ok"})
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert "may still take effect" in r.json()["detail"]
    monkeypatch.undo()
    assert (await api.get(oid))["state"] == "COMPLIANCE_REVIEW"
    assert (await api.act(oid, "approve", "bob", {"note": "ok"})).status_code == 200
