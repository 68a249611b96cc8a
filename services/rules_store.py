"""Rule sets as effective-dated data: imported from JSON, the newest in force decides."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session, col, select

from schemas.catalog import Catalog, RuleSet
from services.db.engine import SessionFactory
from services.db.models import RuleSetRow
from workflows.catalog import load_catalog


class RuleSetError(ValueError):
    """A rule-set file that cannot be taken, with the reason."""


def parse_ruleset(path: Path) -> RuleSet:
    """Read and validate a rule-set JSON file (the `ruleset` object of the catalog format)."""
    try:
        raw = json.loads(path.read_text("utf-8"))
        return RuleSet.model_validate(raw.get("ruleset", raw) if isinstance(raw, dict) else raw)
    except (OSError, json.JSONDecodeError) as exc:
        raise RuleSetError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RuleSetError(f"{path}: {where}: {first['msg']}") from exc


def import_ruleset(session: Session, *, ruleset: RuleSet, imported_by: str) -> RuleSetRow:
    """Store a rule set; the same version twice must be the same rules."""
    body = ruleset.model_dump(mode="json")
    known = session.get(RuleSetRow, ruleset.version)
    if known is not None:
        if known.body != body:
            raise RuleSetError(f"version {ruleset.version} exists with other rules; bump it")
        return known
    row = RuleSetRow(
        version=ruleset.version,
        effective_from=ruleset.effective_from,
        body=body,
        imported_by=imported_by,
        imported_at=datetime.now(UTC),
    )
    session.add(row)
    session.commit()
    return row


def active_ruleset(session: Session, *, today: date) -> RuleSet:
    """The newest rule set in force today; the bundled one when none is stored."""
    row = session.exec(
        select(RuleSetRow)
        .where(col(RuleSetRow.effective_from) <= today)
        .order_by(col(RuleSetRow.effective_from).desc(), col(RuleSetRow.imported_at).desc())
        .limit(1)
    ).first()
    bundled = load_catalog().ruleset
    if row is None or row.effective_from < bundled.effective_from:
        return bundled
    return RuleSet.model_validate(row.body)


class DbRuleSource:
    """Products from the bundled catalog, rules from the database (or the bundle)."""

    def __init__(self, read_session: SessionFactory) -> None:
        self._session = read_session
        self._lock = threading.Lock()
        self._cached: Catalog | None = None

    def active_catalog(self) -> Catalog:
        """The catalog with the rule set in force today."""
        with self._session() as session:
            rules = active_ruleset(session, today=datetime.now(UTC).date())
        with self._lock:
            if self._cached is None or self._cached.ruleset.version != rules.version:
                self._cached = Catalog(products=load_catalog().products, ruleset=rules)
            return self._cached
