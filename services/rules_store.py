"""Rule-set files, and the rules in force for the worker's determinations."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session

from schemas.catalog import Catalog, RuleSet
from services.db.engine import SessionFactory
from services.policy.store import active_version, ruleset_of
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


class DbRuleSource:
    """Products from the bundled catalog, rules from the rule set in force (or the bundle)."""

    def __init__(self, read_session: SessionFactory) -> None:
        self._session = read_session
        self._lock = threading.Lock()
        # A version's rules never change once stored: parse each once.
        self._catalogs: dict[str, Catalog] = {}

    def active_catalog(self) -> Catalog:
        """The catalog with the rule set in force now."""
        with self._session() as session:
            return self._catalog(session, active_version(session))

    def catalog_of(self, version: str) -> Catalog:
        """The catalog with the rules of `version` (stored, or the bundled baseline)."""
        with self._session() as session:
            return self._catalog(session, version)

    def _catalog(self, session: Session, version: str) -> Catalog:
        with self._lock:
            found = self._catalogs.get(version)
        if found is None:
            found = Catalog(products=load_catalog().products, ruleset=ruleset_of(session, version))
            with self._lock:
                self._catalogs[version] = found
        return found
