"""`exportflow webhooks …` on the command line: create, list, deliveries, delete, verify."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from services.webhooks.signing import new_secret, signed_headers
from tests.conftest import tool
from tests.e2e.procs import base_env


def exportflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the command; its exit code and output."""
    return subprocess.run(
        [tool("exportflow"), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_subscriptions_are_managed_from_the_command_line(tmp_path: Path) -> None:
    env = base_env(database_url=f"sqlite:///{tmp_path / 'exportflow.db'}")
    refused = exportflow(["webhooks", "create", "--url", "http://127.0.0.1:9/h"], env)
    assert refused.returncode == 2
    assert "refused: url: 127.0.0.1 is a loopback address" in refused.stderr
    bad = exportflow(["webhooks", "create", "--url", "https://8.8.8.8/h", "--event", "x"], env)
    assert bad.returncode == 2
    assert "events.0: unknown action 'x'" in bad.stderr
    env["EXPORTFLOW_WEBHOOKS_ALLOW_PRIVATE"] = "true"
    args = ["--url", "http://127.0.0.1:9/h", "--event", "ship", "--sku", "H20", "--by", "erp"]
    made = exportflow(["webhooks", "create", *args], env)
    assert made.returncode == 0, made.stderr
    webhook_id = made.stdout.split()[1]
    assert webhook_id.startswith("wh_")
    assert "secret (shown only now): whsec_" in made.stdout
    listed = exportflow(["webhooks", "list"], env)
    assert f"{webhook_id}  http://127.0.0.1:9/h  (active, 0 pending, 0 failed" in listed.stdout
    assert "whsec_" not in listed.stdout
    assert exportflow(["webhooks", "deliveries", webhook_id], env).returncode == 0
    missing = exportflow(["webhooks", "redeliver", webhook_id, "msg_none"], env)
    assert missing.returncode == 2
    assert exportflow(["webhooks", "delete", webhook_id], env).returncode == 0
    assert "no webhook subscriptions" in exportflow(["webhooks", "list"], env).stdout
    assert exportflow(["webhooks", "delete", webhook_id], env).returncode == 2


def test_verify_tells_a_genuine_delivery_from_a_tampered_one(tmp_path: Path) -> None:
    secret = new_secret()
    body = b'{"type":"order.ship","data":{}}'
    sent = signed_headers("msg_cli", int(time.time()), body, secret)
    (tmp_path / "body.json").write_bytes(body)
    (tmp_path / "tampered.json").write_bytes(body.replace(b"ship", b"deliver"))
    flags = [
        "--secret", secret,
        "--id", sent["webhook-id"],
        "--timestamp", sent["webhook-timestamp"],
        "--signature", sent["webhook-signature"],
    ]  # fmt: skip
    env = base_env()
    good = exportflow(["webhooks", "verify", str(tmp_path / "body.json"), *flags], env)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "valid"
    bad = exportflow(["webhooks", "verify", str(tmp_path / "tampered.json"), *flags], env)
    assert bad.returncode == 1
    assert "invalid: no v1 signature matches" in bad.stderr
