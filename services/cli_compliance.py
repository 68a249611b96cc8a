"""Command-line tools for compliance: rule sets, roles, the audit chain and retention."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from schemas.common import Role
from services.cli_progress import PhaseProgress
from services.config import Settings, get_settings
from services.db.engine import SessionFactory, make_engine, session_factory
from services.db.migrate import upgrade

rules_app = typer.Typer(help="License rule sets.", no_args_is_help=True)
role_app = typer.Typer(help="Users' roles.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
records_app = typer.Typer(help="Export records.", no_args_is_help=True)
APPS = ((rules_app, "rules"), (role_app, "role"), (audit_app, "audit"), (records_app, "records"))


def _sessions(settings: Settings, write: bool = False) -> tuple[Any, SessionFactory]:
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    return engine, session_factory(engine, write=write)


@rules_app.command("import")
def rules_import(
    file: Path,
    by: Annotated[str, typer.Option(help="who stages it (recorded; may not approve)")] = "cli",
    effective_on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="activation date (default: the file's)"),
    ] = None,
    expires_on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="first day it no longer applies (temporary)"),
    ] = None,
    citation: Annotated[str | None, typer.Option(help="Federal Register notice or letter")] = None,
) -> None:
    """Stage a rule set (JSON); two compliance officers then approve it."""
    from pydantic import ValidationError

    from schemas.rulesets import StageRuleSet
    from services.policy.store import stage
    from services.rules_store import RuleSetError, parse_ruleset
    from workflows.rules.transitions import Refusal

    engine, sessions = _sessions(get_settings(), write=True)
    try:
        ruleset = parse_ruleset(file)
        body = StageRuleSet(
            ruleset=ruleset,
            effective_on=effective_on.date() if effective_on else None,
            expires_on=expires_on.date() if expires_on else None,
            citation=citation,
        )
        with sessions() as session:
            row = stage(session, body=body, actor=by, now=datetime.now(UTC))
            session.commit()
    except (RuleSetError, Refusal, ValidationError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    print(_staged_message(row.version, row.effective_from, row.expires_on, by))


def _staged_message(version: str, effective: date, expires: date | None, by: str) -> str:
    until = f", expires on {expires}" if expires else ""
    return (
        f"rule set {version} staged (effective on {effective}{until}). It changes nothing until\n"
        f"two compliance officers other than {by} approve it; it is then activated on its date.\n"
        f"  preview  GET  /api/v1/rulesets/{version}/impact   (or the console's Policy page)\n"
        f"  approve  POST /api/v1/rulesets/{version}/approve  (each officer, with their token)"
    )


@rules_app.command("list")
def rules_list() -> None:
    """Rule sets and their status."""
    from services.policy.views import list_views

    engine, sessions = _sessions(get_settings())
    with sessions() as session:
        page = list_views(session)
    engine.dispose()
    for item in page.items:
        approvals = f"{len(item.approvals)}/{item.approvals_needed} approvals"
        print(f"{item.version:<40} {item.status.value:<10} {item.effective_on} {approvals}")


@role_app.command("revoke")
def role_revoke(
    user: Annotated[str, typer.Option(help="whose role")],
    role: Annotated[Role, typer.Option(help="the role to take away")],
) -> None:
    """Take a role from a user (tokens keep working for the roles they still hold)."""
    from services.db.auth_repo import revoke_role

    engine, sessions = _sessions(get_settings(), write=True)
    with sessions() as session:
        left = revoke_role(session, user=user, role=role)
        session.commit()
    engine.dispose()
    if left is None:
        print(f"no user {user}", file=sys.stderr)
        raise typer.Exit(2)
    print(f"{user} now holds: {left or 'no role'}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every order's hash chain; name the first break."""
    from services.db.audit import verify

    engine, sessions = _sessions(get_settings())
    with sessions() as session, PhaseProgress("orders") as progress:
        checked, broken = verify(session, progress=lambda n, total: progress("checked", n, total))
    engine.dispose()
    if broken is not None:
        print(f"BROKEN: {broken}", file=sys.stderr)
        raise typer.Exit(1)
    print(f"audit trail intact: {checked} order(s) checked")


@records_app.command("purge")
def records_purge(
    today: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="as of this date (default: today)"),
    ] = None,
) -> None:
    """Delete records past retention, not on hold."""
    from services.records import delete_record, purgeable

    as_of = today.date() if today else datetime.now(UTC).date()
    engine, sessions = _sessions(get_settings(), write=True)
    with sessions() as session, PhaseProgress("records") as progress:
        ids = purgeable(session, today=as_of)
        for n, order_id in enumerate(ids, start=1):
            delete_record(session, order_id=order_id, today=as_of)
            progress("deleted", n, len(ids))
        session.commit()
    engine.dispose()
    print(f"deleted {len(ids)} record(s) past retention")
