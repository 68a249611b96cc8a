"""Schemathesis against the OpenAPI schema, with valid tokens: no 5xx, answers match the schema.

The API runs under uvicorn on 127.0.0.1 in a thread of its own, on a fresh SQLite database and
the session's Temporal dev server. Every operation gets a bounded number of generated requests,
valid and invalid; schemathesis' checks include: no server error, status code and content type
documented, response body matching its schema, and invalid input refused with a 4xx.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.serve import api_server
from tests.e2e.procs import wait_http
from tests.faults.conftest import prepared_db, settings_for
from tests.harness import create_tokens

LiveApi = tuple[str, dict[str, str]]
EXAMPLES = 15


@pytest.fixture(scope="module")
def live_api(
    tmp_path_factory: pytest.TempPathFactory, temporal_env: WorkflowEnvironment
) -> Iterator[LiveApi]:
    """The API served over HTTP on a loopback port; yields (base URL, tokens)."""
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    url = prepared_db(f"sqlite:///{folder / 'exportflow.db'}")
    config = settings_for(url, temporal_env.client.service_client.config.target_host)
    tokens = create_tokens(url)
    # Bound here, by the OS, and handed over: no other process can take the port meanwhile.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = api_server(create_app(config), "127.0.0.1", 0, log_level="warning")
    thread = threading.Thread(target=asyncio.run, args=(server.serve([sock]),), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        wait_http(base + "/healthz")
        yield base, tokens
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # The same cases every run, so the suite cannot turn red by chance; widen EXAMPLES or drop
    # this locally to explore.
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _excluded_checks(op: Any) -> list[Any]:
    # Schema-valid is not always valid: an unknown SKU, a cursor we never issued or a license
    # decision without its number are 422 by design (README), so "schema-valid data must be
    # accepted" does not apply; "invalid input gets a 4xx" does, except for multipart uploads,
    # where a file part is bytes on the wire: a "number instead of a file" is still a file.
    excluded = [positive_data_acceptance]
    if "multipart/form-data" in op.get_request_payload_content_types():
        excluded.append(negative_data_rejection)
    return excluded


def _exercise(op: Any, mode: GenerationMode, headers: dict[str, str]) -> str | None:
    """Run one operation's generated cases; the failure as text, or None."""
    # Unknown query parameters are ignored, as HTTP APIs commonly do; a case whose query has
    # one is not "invalid input" for us (its other parts still are, in other cases).
    declared = {p.name for p in op.iter_parameters() if p.location.value == "query"}
    excluded = _excluded_checks(op)

    def known_query(case: schemathesis.Case) -> bool:
        return not isinstance(case.query, dict) or set(case.query) <= declared

    @given(case=op.as_strategy(generation_mode=mode).filter(known_query))
    @SETTINGS
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, timeout=30, excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:  # nothing to make invalid (no parameters, no body): nothing to test
        return None
    except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
        return f"{mode.value} {op.label}: {exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_schema(live_api: LiveApi, mode: GenerationMode) -> None:
    base, tokens = live_api
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    # dave holds both roles, so requests get past authorisation into the routes' own checks.
    headers = {"Authorization": f"Bearer {tokens['dave']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lost its operations"
    failures = [f for op in operations if (f := _exercise(op, mode, headers)) is not None]
    assert not failures, "\n\n".join(failures)
