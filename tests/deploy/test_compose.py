"""deploy/compose.yaml and its env template: services, ordering, images and secrets."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY, PLACEHOLDER, SECRET_KEY, is_unpinned

EXPECTED = {"postgresql", "temporal", "temporal-ui", "migrate", "api", "worker"}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}; $${...} is an escaped dollar.
REFERENCE = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"][name]
    return found


def env_example() -> dict[str, str]:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def with_defaults(text: str) -> str:
    """`text` as compose would interpolate it with no variables set (required ones as 'x')."""
    return REFERENCE.sub(lambda m: m["arg"] if m["op"] in {"-", ":-"} else "x", text)


def seconds(duration: str) -> int:
    value, unit = int(duration[:-1]), duration[-1]
    return value * {"s": 1, "m": 60}[unit]


def test_compose_has_the_expected_services() -> None:
    assert set(compose()["services"]) >= EXPECTED


def test_postgresql_is_checked_persisted_and_creates_exportflows_database() -> None:
    pg = service("postgresql")
    assert pg["image"] == "postgres:15"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    volumes = [v.split(":") for v in pg["volumes"]]
    named = [src for src, dst, *_ in volumes if dst == "/var/lib/postgresql/data"]
    assert named, "no volume holds the data directory"
    assert named[0] in compose()["volumes"], "data must live on a named volume"
    (init,) = [src for src, dst, *_ in volumes if dst == "/docker-entrypoint-initdb.d"]
    sql = (DEPLOY / init / "01-exportflow.sql").read_text()
    assert "CREATE DATABASE exportflow" in sql
    assert PLACEHOLDER not in sql, "the password comes from the environment"
    assert "PASSWORD '" not in sql, "no literal password in the init script"


def test_temporal_runs_auto_setup_on_the_postgresql_service() -> None:
    temporal = service("temporal")
    assert temporal["image"].startswith("temporalio/auto-setup:")
    env = environment(temporal)
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert {"DB_PORT", "POSTGRES_USER", "POSTGRES_PWD"} <= env.keys()
    assert temporal["depends_on"]["postgresql"]["condition"] == "service_healthy"
    test = " ".join(temporal["healthcheck"]["test"])
    assert "temporal operator" in test or "tctl" in test


def test_migrate_is_a_one_shot_db_upgrade() -> None:
    migrate = service("migrate")
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgresql"]["condition"] == "service_healthy"


def test_api_waits_for_migrations_and_temporal_and_checks_readyz() -> None:
    api = service("api")
    assert api["command"][0] == "api"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert any(str(port).endswith(":8000") for port in api["ports"])
    # uvicorn finishes in-flight requests for up to 30 s; Docker's default is 10 s.
    assert seconds(api["stop_grace_period"]) > 30


def test_worker_runs_two_replicas_and_has_time_to_drain() -> None:
    worker = service("worker")
    assert worker["command"] == ["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert seconds(worker["stop_grace_period"]) > 30


def test_images_are_pinned_and_exportflows_own_tag_is_a_variable() -> None:
    for name, svc in compose()["services"].items():
        image = svc["image"]
        assert not is_unpinned(with_defaults(image)), name
        if "build" in svc:
            # name:${TAG...}: a release is chosen by setting a variable, not by editing here.
            assert re.search(r":\$\{\w+[^}]*\}$", image), f"{name}: tag it through a variable"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_secret_is_committed_in_compose(name: str) -> None:
    for key, value in environment(service(name)).items():
        if not SECRET_KEY.search(key):
            continue
        for ref in REFERENCE.finditer(value):
            if ref["op"] in {"-", ":-"}:
                assert ref["arg"] == PLACEHOLDER, f"{name}.{key}: a default secret"
        literal = REFERENCE.sub("", value)
        if "://" in literal:  # a URL: only its password must come from a variable
            literal = re.sub(r"^.*://[^:/@]*:?", "", literal).split("@", 1)[0]
        assert literal == "", f"{name}.{key} holds a literal secret"


def test_env_example_documents_every_variable_with_placeholder_secrets() -> None:
    example = env_example()
    referenced = {m["name"] for m in REFERENCE.finditer((DEPLOY / "compose.yaml").read_text())}
    assert referenced <= example.keys(), referenced - example.keys()
    for key, value in example.items():
        if SECRET_KEY.search(key):
            assert value == PLACEHOLDER, f"{key} in .env.example must stay {PLACEHOLDER}"


def test_the_real_env_file_is_ignored_by_git() -> None:
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert ".env" in ignored
