"""Schemathesis against the OpenAPI schema, on a running stack with real orders in it.

An API and a worker run as processes on a fresh SQLite database and the session's Temporal dev
server, with orders in every waiting state, a license with an obligation and a listed party
under review. Every operation gets a bounded number of generated requests, valid and invalid;
valid ones mostly name real orders, licenses and obligations, so actions reach the workflows.
Schemathesis' checks all run, "valid data is accepted" included: no server error, status code,
content type and headers documented, body matching its schema, invalid input refused with a
4xx and schema-valid input never refused as malformed (422) except by the documented rules
listed in SEMANTIC_422. Hypothesis' health checks are on, but for the wall-clock one. An
operation for which no request could be generated fails the test.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from temporalio.testing import WorkflowEnvironment

from tests.api.schemathesis_stack import SEMANTIC_422, Seeded, seed_orders, semantic_422
from tests.faults.conftest import prepared_db
from tests.harness import create_tokens
from tests.ops.support import OpsProc, api_base, api_spec, ops_env, processes, worker_spec

pytestmark = pytest.mark.timeout(900)

EXAMPLES = 8


@dataclass
class LiveStack:
    """The running API, its tokens, what was seeded, and the API process (for its log)."""

    base: str
    tokens: dict[str, str]
    seeded: Seeded
    api: OpsProc


@pytest.fixture(scope="module")
def live_stack(
    tmp_path_factory: pytest.TempPathFactory, temporal_env: WorkflowEnvironment
) -> Iterator[LiveStack]:
    """API and worker processes, and orders booked and moved through the states."""
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    url = prepared_db(f"sqlite:///{folder / 'exportflow.db'}")
    tokens = create_tokens(url)
    env = ops_env(url, temporal_env.client.service_client.config.target_host)
    with processes(api_spec(env), worker_spec(env)) as (api, _):
        base = api_base(api)
        yield LiveStack(base, tokens, seed_orders(base, tokens), api)


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # The same cases every run, so the suite cannot turn red by chance; widen EXAMPLES or drop
    # this locally to explore.
    derandomize=True,
    # Generation time is wall-clock time: on a busy machine it says nothing about the test.
    suppress_health_check=[HealthCheck.too_slow],
)


def _excluded_checks(op: Any) -> list[Any]:
    # A file part is bytes on the wire: for a multipart upload "a number instead of a file" is
    # still a file, so "invalid input gets a 4xx" cannot apply there.
    if "multipart/form-data" in op.get_request_payload_content_types():
        return [negative_data_rejection]
    return []


def _with_real_ids(case: Any, seeded: Seeded, rng: random.Random) -> Any:
    """Most valid requests name a real order, license and obligation; some keep their own."""
    path = dict(case.path_parameters or {})
    if rng.random() < 0.8:
        real = {
            "order_id": rng.choice(seeded.orders),
            "number": rng.choice(seeded.licenses),
            "obligation_id": rng.choice(seeded.obligations),
        }
        path.update({k: v for k, v in real.items() if k in path})
    case.path_parameters = path
    if case.operation.path.endswith("/watch"):
        # Valid, and short: an unchanged order would hold the request for up to 30 s.
        case.query = {**(case.query or {}), "timeout": 0.2}
    return case


def _exercise(
    op: Any, mode: GenerationMode, stack: LiveStack, headers: dict[str, str], cases: Counter[str]
) -> str | None:
    """Run one operation's generated cases; the failure as text, or None."""
    # Unknown query parameters are ignored, as HTTP APIs commonly do; a case whose query has
    # one is not "invalid input" for us (its other parts still are, in other cases).
    declared = {p.name for p in op.iter_parameters() if p.location.value == "query"}

    def known_query(case: schemathesis.Case) -> bool:
        return not isinstance(case.query, dict) or set(case.query) <= declared

    strategy = op.as_strategy(generation_mode=mode).filter(known_query)
    if mode is GenerationMode.POSITIVE:
        rng = random.Random(op.label)
        strategy = strategy.map(lambda case: _with_real_ids(case, stack.seeded, rng))

    @given(case=strategy)
    @SETTINGS
    def check(case: schemathesis.Case) -> None:
        cases[op.label] += 1
        response = case.call(base_url=stack.base, headers=headers, timeout=60)
        if mode is GenerationMode.POSITIVE and semantic_422(op.label, response):
            return  # schema-valid, refused by a documented rule (SEMANTIC_422)
        case.validate_response(response, excluded_checks=_excluded_checks(op))

    try:
        check()
    except Unsatisfiable:  # nothing could be generated: counted below, not passed over
        return None
    except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
        return f"{mode.value} {op.label}: {exc}"
    return None


def _takes_input(op: Any) -> bool:
    return bool(list(op.iter_parameters())) or bool(op.get_request_payload_content_types())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_schema(
    live_stack: LiveStack, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(live_stack.base + "/openapi.json")
    # dave holds both roles and booked none of the seeded orders, so requests get past
    # authorisation into the routes' own checks and the workflows' rules.
    headers = {"Authorization": f"Bearer {live_stack.tokens['dave']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25, "the schema lost its operations"
    cases: Counter[str] = Counter()
    failures = [f for op in operations if (f := _exercise(op, mode, live_stack, headers, cases))]
    untested = sorted(op.label for op in operations if not cases[op.label])
    if mode is GenerationMode.POSITIVE:
        assert not untested, f"no valid request generated for {untested}"
    else:  # only an operation that takes no input at all has nothing to make invalid
        assert untested == sorted(op.label for op in operations if not _takes_input(op))
    if failures:
        api_log = "".join(live_stack.api.drain()[-60:])
        pytest.fail("\n\n".join(failures) + "\n\nAPI log (last lines):\n" + api_log)
    print(f"{mode.value}: {sum(cases.values())} requests over {len(cases)} operations")
    assert SEMANTIC_422  # the allowance is explicit, and reviewed with the schema
