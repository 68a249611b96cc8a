"""`exportflow token create | list | revoke`: API tokens that expire and are revoked one by one."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from schemas.common import Role
from schemas.tokens import TokenInfo
from services.config import Settings
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "": "days"}
MAX_LIFETIME = timedelta(days=3650)


def duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `45s`, `2w` or a plain number of days, as argparse's type."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration such as 90d, 12h or 30m")
    number, unit = match.groups()
    value = timedelta(**{_UNITS[unit]: float(number)})
    if not timedelta(0) < value <= MAX_LIFETIME:
        raise argparse.ArgumentTypeError(f"'{text}' must be more than 0 and at most 3650 days")
    return value


def add_parsers(sub: Any) -> None:
    """Register `token` and its commands on the main parser."""
    tok = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = tok.add_parser("create", help="print a new token for a user and role")
    create.add_argument("--user", required=True)
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument(
        "--expires-in",
        type=duration,
        default=None,
        help="lifetime, e.g. 90d, 12h, 30m (default: EXPORTFLOW_TOKEN_LIFETIME_DAYS, 90 days)",
    )
    listing = tok.add_parser("list", help="tokens with user, roles, use and expiry; no secret")
    listing.add_argument("--user", default=None, help="only this user's tokens")
    listing.add_argument(
        "--active", action="store_true", help="only tokens neither expired nor revoked"
    )
    revoke = tok.add_parser("revoke", help="revoke one token by its id (see token list)")
    revoke.add_argument("token_id")
    revoke.add_argument("--by", default="cli", help="who revokes (recorded)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Dispatch `exportflow token ...`."""
    commands: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "create": _create,
        "list": _list,
        "revoke": _revoke,
    }
    return commands[args.token_command](settings, args)


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


def _create(settings: Settings, args: argparse.Namespace) -> int:
    token, expires_at = create_token(settings, args.user, Role(args.role), args.expires_in)
    print(token)  # alone on stdout, for TOKEN=$(exportflow token create ...)
    print(f"expires {_when(expires_at)}", file=sys.stderr)
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            tokens = auth_repo.list_tokens(session, now=auth_repo.utcnow(), user=args.user)
    finally:
        engine.dispose()
    if args.active:
        tokens = [t for t in tokens if t.status == "active"]
    print(_table(tokens))
    return 0


def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            now = auth_repo.utcnow()
            info = auth_repo.revoke_token(session, token_id=args.token_id, by=args.by, now=now)
            session.commit()
    finally:
        engine.dispose()
    if info is None:
        print(f"no token {args.token_id} (exportflow token list shows the ids)", file=sys.stderr)
        return 2
    print(f"token {info.id} of {info.user} revoked at {_when(info.revoked_at)}")
    return 0


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
