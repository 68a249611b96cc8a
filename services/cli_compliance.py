"""Command-line tools for compliance: rule sets, roles, the audit chain and retention."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from schemas.common import Role
from services.config import Settings
from services.db.engine import SessionFactory, make_engine, session_factory
from services.db.migrate import upgrade


def add_parsers(sub: Any) -> None:
    """Register `rules`, `role`, `audit` and `records` on the main parser."""
    rules = sub.add_parser("rules", help="license rule sets").add_subparsers(
        dest="rules_command", required=True
    )
    imp = rules.add_parser(
        "import", help="stage a rule set (JSON); two compliance officers then approve it"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--by", default="cli", help="who stages it (recorded; may not approve)")
    imp.add_argument("--effective-on", type=date.fromisoformat, default=None,
                     help="activation date (default: the file's effective_from)")  # fmt: skip
    imp.add_argument("--expires-on", type=date.fromisoformat, default=None,
                     help="first day it no longer applies (a temporary measure)")  # fmt: skip
    imp.add_argument("--citation", default=None, help="Federal Register notice or letter")
    rules.add_parser("list", help="rule sets and their status")

    role = sub.add_parser("role", help="users' roles").add_subparsers(
        dest="role_command", required=True
    )
    revoke = role.add_parser(
        "revoke", help="take a role from a user (tokens keep working for the roles they still hold)"
    )
    revoke.add_argument("--user", required=True)
    revoke.add_argument("--role", required=True, choices=[r.value for r in Role])

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check every order's hash chain; name the first break")

    records = sub.add_parser("records", help="export records").add_subparsers(
        dest="records_command", required=True
    )
    purge = records.add_parser("purge", help="delete records past retention, not on hold")
    purge.add_argument(
        "--today", type=date.fromisoformat, default=None, help="as of this date (default: today)"
    )


def _sessions(settings: Settings, write: bool = False) -> tuple[Any, SessionFactory]:
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    return engine, session_factory(engine, write=write)


def _rules(settings: Settings, args: argparse.Namespace) -> int:
    if args.rules_command == "list":
        return _rules_list(settings)
    from pydantic import ValidationError

    from schemas.rulesets import StageRuleSet
    from services.policy.store import stage
    from services.rules_store import RuleSetError, parse_ruleset
    from workflows.rules.transitions import Refusal

    engine, sessions = _sessions(settings, write=True)
    try:
        ruleset = parse_ruleset(args.file)
        body = StageRuleSet(
            ruleset=ruleset,
            effective_on=args.effective_on,
            expires_on=args.expires_on,
            citation=args.citation,
        )
        with sessions() as session:
            row = stage(session, body=body, actor=args.by, now=datetime.now(UTC))
            session.commit()
    except (RuleSetError, Refusal, ValidationError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(_staged_message(row.version, row.effective_from, row.expires_on, args.by))
    return 0


def _staged_message(version: str, effective: date, expires: date | None, by: str) -> str:
    until = f", expires on {expires}" if expires else ""
    return (
        f"rule set {version} staged (effective on {effective}{until}). It changes nothing until\n"
        f"two compliance officers other than {by} approve it; it is then activated on its date.\n"
        f"  preview  GET  /api/v1/rulesets/{version}/impact   (or the console's Policy page)\n"
        f"  approve  POST /api/v1/rulesets/{version}/approve  (each officer, with their token)"
    )


def _rules_list(settings: Settings) -> int:
    from services.policy.views import list_views

    engine, sessions = _sessions(settings)
    with sessions() as session:
        page = list_views(session)
    engine.dispose()
    for item in page.items:
        approvals = f"{len(item.approvals)}/{item.approvals_needed} approvals"
        print(f"{item.version:<40} {item.status.value:<10} {item.effective_on} {approvals}")
    return 0


def _role(settings: Settings, args: argparse.Namespace) -> int:
    from services.db.auth_repo import revoke_role

    engine, sessions = _sessions(settings, write=True)
    with sessions() as session:
        left = revoke_role(session, user=args.user, role=Role(args.role))
        session.commit()
    engine.dispose()
    if left is None:
        print(f"no user {args.user}", file=sys.stderr)
        return 2
    print(f"{args.user} now holds: {left or 'no role'}")
    return 0


def _audit(settings: Settings, _: argparse.Namespace) -> int:
    from services.db.audit import verify

    engine, sessions = _sessions(settings)
    with sessions() as session:
        checked, broken = verify(session)
    engine.dispose()
    if broken is not None:
        print(f"BROKEN: {broken}", file=sys.stderr)
        return 1
    print(f"audit trail intact: {checked} order(s) checked")
    return 0


def _records(settings: Settings, args: argparse.Namespace) -> int:
    from services.records import delete_record, purgeable

    today = args.today or datetime.now(UTC).date()
    engine, sessions = _sessions(settings, write=True)
    with sessions() as session:
        ids = purgeable(session, today=today)
        for order_id in ids:
            delete_record(session, order_id=order_id, today=today)
        session.commit()
    engine.dispose()
    print(f"deleted {len(ids)} record(s) past retention")
    return 0


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "rules": _rules,
    "role": _role,
    "audit": _audit,
    "records": _records,
}
