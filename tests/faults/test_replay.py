"""Saved histories of every lifecycle path replay against the current workflows.

A change to a workflow that would break running orders (a command added, dropped or reordered
without a revision gate) fails here. Histories are recorded by
`python -m tests.faults.record_histories`; those of orders that ran under older code are kept
in folders of their own and must replay too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.faults.incompatible_workflow import ScreensFirst
from tests.faults.record_histories import HISTORIES, saved_names
from tests.faults.record_policy_histories import NAMES as POLICY_NAMES
from tests.faults.record_policy_histories import POLICY_HISTORIES
from workflows.license_action import LicenseActionWorkflow
from workflows.order import OrderWorkflow
from workflows.ruleset import RuleSetWorkflow

pytestmark = pytest.mark.faults

NAMES = saved_names()

# Recorded under workflow revision 1 (schemas.workflow_io.WORKFLOW_REVISION): orders running
# then must still replay (their clean pre-ship re-screening had an event of its own).
BEFORE_PATCH = HISTORIES / "before-rescreen-in-ship-event"
# Recorded before orders could change (amend, partial approval and shipments, license
# suspension): orders running then, under revision 2, must still replay.
BEFORE_CHANGES = HISTORIES / "2026-12-01-before-order-changes"
# Recorded under revision 3, when every activity of an order was a remote activity.
BEFORE_LOCAL = HISTORIES / "2026-12-01-before-local-activities"
OLDER = {
    folder: sorted(p.stem for p in folder.glob("*.json"))
    for folder in (BEFORE_PATCH, BEFORE_CHANGES, BEFORE_LOCAL)
}


# What each history beyond the plain lifecycle is kept for: the updates, signals and fired
# timers it must hold, in order (a re-recording that lost one would replay nothing new).
EXERCISES = {
    "disposition_not_a_match": ["disposition", "approve", "ship", "deliver"],
    "disposition_escalated_then_verified": ["disposition", "disposition"],
    "recheck_after_new_snapshot": ["approve", "signal:recheck", "reject"],
    "two_officer_approval": ["approve", "approve", "record_license", "ship", "deliver"],
    "license_expiry": ["approve", "record_license", "timer", "timer", "record_license"],
    "review_escalation": ["timer", "reject"],
}


def _history(name: str, folder: Path = HISTORIES) -> WorkflowHistory:
    path = folder / f"{name}.json"
    return WorkflowHistory.from_json(f"replay-{name}", path.read_text())


def _replayer() -> Replayer:
    return Replayer(
        workflows=[OrderWorkflow, LicenseActionWorkflow], data_converter=pydantic_data_converter
    )


def test_a_history_is_saved_for_every_lifecycle_path() -> None:
    saved = sorted(p.stem for p in Path(HISTORIES).glob("*.json"))
    assert saved == NAMES


def test_older_histories_are_kept() -> None:
    assert len(OLDER[BEFORE_PATCH]) == 8
    assert OLDER[BEFORE_CHANGES] == sorted(OLDER[BEFORE_PATCH])
    assert OLDER[BEFORE_LOCAL] == NAMES


@pytest.mark.parametrize("name", NAMES)
async def test_saved_history_replays_against_the_current_workflow(name: str) -> None:
    result = await _replayer().replay_workflow(_history(name))
    assert result.replay_failure is None


@pytest.mark.parametrize(
    ("folder", "name"), [(folder, name) for folder, names in OLDER.items() for name in names]
)
async def test_histories_of_orders_running_under_older_code_still_replay(
    folder: Path, name: str
) -> None:
    result = await _replayer().replay_workflow(_history(name, folder))
    assert result.replay_failure is None


def _kinds(folder: Path, name: str = "happy_path_h20") -> list[str]:
    events = json.loads((folder / f"{name}.json").read_text())["events"]
    return [e["eventType"] for e in events]


def test_the_pre_patch_happy_path_takes_the_old_branch() -> None:
    # Guards the point of the test above: the old history has the extra transition activity
    # of the separate re-screening event, and neither needs a patch marker.
    old, remote = _kinds(BEFORE_PATCH), _kinds(BEFORE_LOCAL)
    assert "EVENT_TYPE_MARKER_RECORDED" not in old + remote
    scheduled = "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    assert (old.count(scheduled), remote.count(scheduled)) == (13, 12)


def test_revision_4_writes_in_local_activities_and_reads_in_activities() -> None:
    # Of the same twelve activities, five writes are markers in the workflow task that ran
    # them. The four reads (screening twice, determination, the shipment check) stay
    # activities, and so does the first write of an update with no read before it (approve,
    # the license draw, deliver): the update must be in the history before it writes.
    remote, local = _kinds(BEFORE_LOCAL), _kinds(HISTORIES)
    assert local.count("EVENT_TYPE_MARKER_RECORDED") == 5
    assert local.count("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED") == 7
    tasks = "EVENT_TYPE_WORKFLOW_TASK_COMPLETED"
    assert local.count(tasks) < remote.count(tasks)
    assert len(local) < len(remote) * 0.8


def test_the_new_paths_took_their_new_commands() -> None:
    # The split's history starts the remainder's workflow; the fan-out's continues as new
    # or finishes, never a marker.
    def kinds(name: str) -> list[str]:
        events = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
        return [e["eventType"] for e in events]

    assert "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED" in kinds("split")
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED" in kinds("suspend_reinstate")
    assert kinds("license_action_suspend")[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"


@pytest.mark.parametrize("folder", [HISTORIES, BEFORE_LOCAL], ids=["local", "remote"])
async def test_an_incompatible_change_fails_replay(folder: Path) -> None:
    # Against remote activities the reordered command is a nondeterminism error; against local
    # ones the first marker's result (a transition's) does not decode as a screening result.
    replayer = Replayer(workflows=[ScreensFirst], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(
        _history("happy_path_h20", folder), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    if folder == BEFORE_LOCAL:
        assert isinstance(result.replay_failure, workflow.NondeterminismError)


def _exercised(name: str) -> list[str]:
    found = []
    for event in json.loads((HISTORIES / f"{name}.json").read_text())["events"]:
        kind = event["eventType"]
        if kind == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            accepted = event["workflowExecutionUpdateAcceptedEventAttributes"]
            found.append(accepted["acceptedRequest"]["input"]["name"])
        elif kind == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED":
            found.append(
                "signal:" + event["workflowExecutionSignaledEventAttributes"]["signalName"]
            )
        elif kind == "EVENT_TYPE_TIMER_FIRED":
            found.append("timer")
    return found


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_a_saved_history_holds_what_it_is_kept_for(name: str) -> None:
    assert _exercised(name) == EXERCISES[name]


POLICY = sorted(p.stem for p in POLICY_HISTORIES.glob("*.json"))


def test_the_policy_paths_are_saved() -> None:
    assert set(POLICY_NAMES) <= set(POLICY)
    assert "ruleset_activation_first_run" in POLICY  # the fan-out continued as new


@pytest.mark.parametrize("name", POLICY)
async def test_saved_policy_history_replays(name: str) -> None:
    # A customs stop's hold at booking, a redetermine signal, and the rule set's own workflow
    # (timer, activation, fan-out batches, continue-as-new).
    replayer = Replayer(
        workflows=[OrderWorkflow, RuleSetWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(_history(name, POLICY_HISTORIES))
    assert result.replay_failure is None
