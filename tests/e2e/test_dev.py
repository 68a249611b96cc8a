"""`exportflow dev`: one command starts everything, and a restart keeps every order."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import tool
from tests.e2e.procs import Proc, base_env
from tests.ports import free_port

pytestmark = pytest.mark.e2e


def _dev(tmp_path: Path, ports: dict[str, int], *extra: str) -> Proc:
    args = ["dev", *extra] + [f"--{k}-port={v}" for k, v in ports.items()]
    proc = Proc(args, base_env(), cwd=tmp_path)
    proc.wait_for("Press Ctrl-C", timeout=120)
    return proc


def _wait_state(http: httpx.Client, oid: str, token: str, state: str, timeout: float = 120) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    while (seen := http.get(f"/orders/{oid}", headers=headers).json()["state"]) != state:
        assert time.monotonic() < deadline, f"{oid} stuck in {seen}, never reached {state}"
        time.sleep(0.1)


def test_dev_starts_everything_and_a_restart_keeps_every_order(tmp_path: Path) -> None:
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    proc = _dev(tmp_path, ports, "--demo")
    out = "".join(proc.lines)
    assert f"http://127.0.0.1:{ports['api']}/docs" in out
    assert f"http://127.0.0.1:{ports['ui']}" in out
    assert "exportflow token create" in out
    orders = dict(re.findall(r"demo order\s+(ORD-\w+)\s+(\S+)", out))
    tokens = dict(re.findall(r"^\s+(\S+\.demo2?)\s+(ef_\S+)$", out, re.M))
    assert set(orders.values()) == {"demo-h20-cn", "demo-rtxpro-cn", "demo-listed-end-user"}
    by_key = {v: k for k, v in orders.items()}
    base = f"http://127.0.0.1:{ports['api']}/api/v1"
    with httpx.Client(base_url=base, timeout=30) as http:
        _wait_state(http, by_key["demo-h20-cn"], tokens["viewer.demo"], "COMPLIANCE_REVIEW")
        _wait_state(http, by_key["demo-rtxpro-cn"], tokens["viewer.demo"], "READY_TO_SHIP")
        _wait_state(http, by_key["demo-listed-end-user"], tokens["viewer.demo"], "SCREENING_REVIEW")
    assert proc.stop(signal.SIGINT) == 0
    assert (tmp_path / ".exportflow" / "temporal.db").exists()
    assert (tmp_path / ".exportflow" / "exportflow.db").exists()

    proc = _dev(tmp_path, ports)
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            auth = {"Authorization": f"Bearer {tokens['compliance.demo']}"}
            listed = http.get("/orders", headers=auth).json()["items"]
            assert {o["id"] for o in listed} == set(orders)
            # The workflow survived the restart of the dev server and takes the next step.
            r = http.post(f"/orders/{by_key['demo-h20-cn']}/actions/approve", json={}, headers=auth)
            assert r.status_code == 200, r.text
            assert r.json()["state"] == "AWAITING_LICENSE"
    finally:
        assert proc.stop(signal.SIGINT) == 0


def test_dev_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                tool("exportflow"),
                "dev",
                f"--api-port={port}",
                f"--temporal-port={free_port()}",
                f"--ui-port={free_port()}",
            ],
            cwd=tmp_path,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"exportflow dev: port {port} is already in use; choose another with --api-port"
    )
