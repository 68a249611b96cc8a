"""The command line keeps its commands and flags on typer: help for each, usage errors in words."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import tool
from tests.e2e.procs import base_env

# Every command with the flags it has always had (argparse before typer).
COMMANDS: dict[str, list[str]] = {
    "dev": ["--demo", "--data-dir", "--api-port", "--temporal-port", "--ui-port"],
    "api": ["--host", "--port", "--workers"],
    "worker": [],
    "db upgrade": [],
    "token create": ["--user", "--role", "--expires-in"],
    "token list": ["--user", "--active"],
    "token revoke": ["--by"],
    "screening-list import": ["--by"],
    "orders import": ["--user", "--atomic", "--no-atomic", "--report"],
    "rules import": ["--by", "--effective-on", "--expires-on", "--citation"],
    "rules list": [],
    "role revoke": ["--user", "--role"],
    "audit verify": [],
    "records purge": ["--today"],
    "webhooks create": ["--url", "--event", "--state", "--sku", "--description", "--by"],
    "webhooks list": [],
    "webhooks delete": [],
    "webhooks deliveries": ["--status", "--limit"],
    "webhooks redeliver": [],
    "webhooks verify": ["--secret", "--id", "--timestamp", "--signature", "--tolerance"],
}


def exportflow(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command with a wide terminal, so help is not wrapped."""
    env = base_env() | {"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}
    return subprocess.run(
        [tool("exportflow"), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_its_flags(command: str) -> None:
    done = exportflow(*command.split(), "--help")
    assert done.returncode == 0, done.stderr
    for flag in COMMANDS[command]:
        assert flag in done.stdout, (command, flag, done.stdout)


def test_the_top_level_help_lists_every_command_and_offers_completion() -> None:
    done = exportflow("--help")
    assert done.returncode == 0
    for command in {c.split()[0] for c in COMMANDS}:
        assert command in done.stdout
    assert "--install-completion" in done.stdout


def test_usage_errors_exit_2_and_say_what_is_wrong() -> None:
    bad_role = exportflow("token", "create", "--user", "x", "--role", "boss")
    assert bad_role.returncode == 2
    assert "boss" in bad_role.stderr
    assert "sales_ops" in bad_role.stderr  # the choices are named
    missing = exportflow("orders", "import", "book.csv")
    assert missing.returncode == 2
    assert "--user" in missing.stderr
    bad_lifetime = exportflow("token", "create", "--user", "x", "--role", "viewer",
                              "--expires-in", "forever")  # fmt: skip
    assert bad_lifetime.returncode == 2
    assert "not a duration such as 90d" in bad_lifetime.stderr
    bad_date = exportflow("records", "purge", "--today", "tomorrow")
    assert bad_date.returncode == 2
    assert "--today" in bad_date.stderr
