"""`exportflow rules import` stages a rule set (approved by two others, it decides on its date);
a bad file is refused with exit code 2."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from schemas.common import Role
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.policy import lifecycle, store
from services.policy.store import active_version
from tests.conftest import tool
from workflows.rules.transitions import Refusal

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "rules" / "example-notice.json"


def _run(db: Path, *args: str, command: str = "import") -> subprocess.CompletedProcess[str]:
    env = {"EXPORTFLOW_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [tool("exportflow"), "rules", command, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _officers(engine: Engine, *names: str) -> None:
    with session_factory(engine, write=True)() as session:
        for name in names:
            auth_repo.create_token(session, user=name, role=Role.COMPLIANCE, now=datetime.now(UTC))
        session.commit()


def test_an_imported_rule_file_is_staged_and_decides_only_once_approved_on_its_date(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    raw = json.loads(EXAMPLE.read_text("utf-8"))
    future = date.today() + timedelta(days=30)
    raw["ruleset"]["effective_from"] = future.isoformat()
    version = raw["ruleset"]["version"]
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(raw))
    done = _run(db, str(path), "--by", "carol", "--citation", "91 FR 12345")
    assert done.returncode == 0, done.stderr
    assert f"rule set {version} staged (effective on {future})" in done.stdout
    assert f"POST /api/v1/rulesets/{version}/approve" in done.stdout
    listed = _run(db, command="list")
    assert re.search(rf"{re.escape(version)}\s+staged\s+{future}\s+0/2 approvals", listed.stdout)
    engine = make_engine(f"sqlite:///{db}")
    _officers(engine, "bob", "dave")
    write = session_factory(engine, write=True)
    try:
        with write() as session:
            assert active_version(session) != version  # staged: decides nothing
            with pytest.raises(Refusal, match="carol staged"):
                store.approve(session, version=version, actor="carol", note=None, now=_now())
            store.approve(session, version=version, actor="bob", note="ok", now=_now())
            with pytest.raises(Refusal, match="already approved"):
                store.approve(session, version=version, actor="bob", note=None, now=_now())
            store.approve(session, version=version, actor="dave", note="ok", now=_now())
            session.commit()
        with write() as session:
            assert active_version(session) != version  # approved, its date not yet come
            lifecycle.activate(session, version=version, at=store.midnight(future))
            session.commit()
        with write() as session:
            assert active_version(session) == version
            assert store.get(session, version).citation == "91 FR 12345"
    finally:
        engine.dispose()


def test_the_same_file_twice_is_one_rule_set_and_a_changed_one_needs_a_new_version(
    tmp_path: Path,
) -> None:
    raw = json.loads(EXAMPLE.read_text("utf-8"))
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(raw))
    assert _run(tmp_path / "x.db", str(path)).returncode == 0
    assert _run(tmp_path / "x.db", str(path)).returncode == 0
    raw["ruleset"]["rules"].pop()
    path.write_text(json.dumps(raw))
    done = _run(tmp_path / "x.db", str(path))
    assert done.returncode == 2
    assert "bump it" in done.stderr


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_bad_rule_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    raw = json.loads(EXAMPLE.read_text("utf-8"))
    raw["ruleset"]["rules"][0]["policy"] = "maybe"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    done = _run(tmp_path / "x.db", str(path))
    assert done.returncode == 2
    assert "refused" in done.stderr
    assert "policy" in done.stderr


def test_a_rule_naming_an_unknown_group_is_refused(tmp_path: Path) -> None:
    raw = json.loads(EXAMPLE.read_text("utf-8"))
    raw["ruleset"]["rules"][0]["country_groups"] = ["D:9"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    done = _run(tmp_path / "x.db", str(path))
    assert done.returncode == 2
    assert "D:9" in done.stderr


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    done = _run(tmp_path / "x.db", str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert "nope.json" in done.stderr
