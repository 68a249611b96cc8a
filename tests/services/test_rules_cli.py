"""`exportflow rules import`: a good file is stored, a bad one refused with exit code 2."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session

from services.db.engine import make_engine
from services.rules_store import active_ruleset
from tests.conftest import tool

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "rules" / "example-notice.json"


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"EXPORTFLOW_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [tool("exportflow"), "rules", "import", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_example_rule_file_imports_and_takes_effect_on_its_date(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    raw = json.loads(EXAMPLE.read_text("utf-8"))
    future = date.today() + timedelta(days=30)
    raw["ruleset"]["effective_from"] = future.isoformat()
    path = tmp_path / "notice.json"
    path.write_text(json.dumps(raw))
    done = _run(db, str(path), "--by", "carol")
    assert done.returncode == 0, done.stderr
    assert raw["ruleset"]["version"] in done.stdout
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            version = raw["ruleset"]["version"]
            assert active_ruleset(session, today=date.today()).version != version
            assert active_ruleset(session, today=future).version == version
    finally:
        engine.dispose()


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
