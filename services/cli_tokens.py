"""`exportflow token create | list | revoke`: API tokens that expire and are revoked one by one."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from typing import Annotated

import typer

from schemas.common import Role
from schemas.tokens import TokenInfo
from services.config import Settings, get_settings
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "": "days"}
MAX_LIFETIME = timedelta(days=3650)


def duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `45s`, `2w` or a plain number of days (a usage error otherwise)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise typer.BadParameter(f"'{text}' is not a duration such as 90d, 12h or 30m")
    number, unit = match.groups()
    value = timedelta(**{_UNITS[unit]: float(number)})
    if not timedelta(0) < value <= MAX_LIFETIME:
        raise typer.BadParameter(f"'{text}' must be more than 0 and at most 3650 days")
    return value


app = typer.Typer(help="API tokens.", no_args_is_help=True)


def create_token(
    settings: Settings, user: str, role: Role, expires_in: timedelta | None = None
) -> tuple[str, datetime]:
    """Issue a token (migrating the database first if needed): the token and its expiry."""
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    now = auth_repo.utcnow()
    expires_at = now + (expires_in or timedelta(days=settings.token_lifetime_days))
    try:
        with session_factory(engine, write=True)() as session:
            token = auth_repo.create_token(
                session, user=user, role=role, now=now, expires_at=expires_at
            )
            session.commit()
    finally:
        engine.dispose()
    return token, expires_at


@app.command("create")
def create(
    user: Annotated[str, typer.Option(help="who the token is for")],
    role: Annotated[Role, typer.Option(help="the role it carries")],
    expires_in: Annotated[
        timedelta | None,
        typer.Option(
            parser=duration,
            metavar="DURATION",
            help="lifetime, e.g. 90d, 12h, 30m (default: EXPORTFLOW_TOKEN_LIFETIME_DAYS, 90 days)",
        ),
    ] = None,
) -> None:
    """Print a new token for a user and role."""
    token, expires_at = create_token(get_settings(), user, role, expires_in)
    print(token)  # alone on stdout, for TOKEN=$(exportflow token create ...)
    print(f"expires {_when(expires_at)}", file=sys.stderr)


@app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option(help="only this user's tokens")] = None,
    active: Annotated[
        bool, typer.Option("--active", help="only tokens neither expired nor revoked")
    ] = False,
) -> None:
    """Tokens with user, roles, use and expiry; no secret."""
    settings = get_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            tokens = auth_repo.list_tokens(session, now=auth_repo.utcnow(), user=user)
    finally:
        engine.dispose()
    if active:
        tokens = [t for t in tokens if t.status == "active"]
    print(_table(tokens))


@app.command("revoke")
def revoke(
    token_id: str, by: Annotated[str, typer.Option(help="who revokes (recorded)")] = "cli"
) -> None:
    """Revoke one token by its id (see token list)."""
    settings = get_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            now = auth_repo.utcnow()
            info = auth_repo.revoke_token(session, token_id=token_id, by=by, now=now)
            session.commit()
    finally:
        engine.dispose()
    if info is None:
        print(f"no token {token_id} (exportflow token list shows the ids)", file=sys.stderr)
        raise typer.Exit(2)
    print(f"token {info.id} of {info.user} revoked at {_when(info.revoked_at)}")


HEADER = ("ID", "USER", "ROLE", "ROLES NOW", "CREATED", "LAST USED", "EXPIRES", "STATUS")


def _table(tokens: list[TokenInfo]) -> str:
    rows = [HEADER] + [
        (
            t.id,
            t.user,
            t.role.value,
            ",".join(r.value for r in t.roles) or "-",
            _when(t.created_at),
            _when(t.last_used_at),
            _when(t.expires_at),
            t.status,
        )
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else "-"
