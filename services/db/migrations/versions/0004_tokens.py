"""Tokens that expire and can be revoked one by one; a generation counter for API caches.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Existing tokens get an id derived from their hash and expire 90 days after this upgrade (the
default lifetime), so no deployment loses its tokens at the moment it upgrades.

Triggers move `auth_generation` whenever a token is revoked, re-dated or deleted, or a user's
roles change, in the same transaction, whoever makes the change (exportflow or plain SQL). API
processes watch that counter to drop cached tokens within a second. SQLite drops a table's
triggers when batch mode rebuilds it: a later revision that batch-alters `api_tokens` or
`users` must create them again (tests/security/test_tokens.py checks they work at head).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
EXISTING_TOKENS_LIVE = timedelta(days=90)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("token_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("expires_at", _TS, nullable=True))
        batch.add_column(sa.Column("last_used_at", _TS, nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(length=100), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("token_hash", sa.String()),
        sa.column("token_id", sa.String()),
        sa.column("expires_at", _TS),
    )
    op.execute(
        tokens.update().values(
            token_id=sa.func.substr(tokens.c.token_hash, 1, 12),
            expires_at=datetime.now(UTC) + EXISTING_TOKENS_LIVE,
        )
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("token_id", existing_type=sa.String(length=32), nullable=False)
        batch.alter_column("expires_at", existing_type=_TS, nullable=False)
        batch.create_index("ix_api_tokens_token_id", ["token_id"], unique=True)
    generation = op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])
    create_triggers()


_BUMP = "UPDATE auth_generation SET generation = generation + 1 WHERE id = 1"
# (trigger, table, events): what changes who a token is, or whether it may still be used.
TRIGGERS = (
    ("auth_tokens_changed", "api_tokens", "UPDATE OF revoked_at, expires_at, user_name, token_hash"),
    ("auth_tokens_deleted", "api_tokens", "DELETE"),
    ("auth_roles_changed", "users", "UPDATE OF roles, name"),
    ("auth_users_deleted", "users", "DELETE"),
)


def create_triggers() -> None:
    """The triggers that move the generation, in the dialect at hand."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION exportflow_auth_changed() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for name, table, events in TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {events} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION exportflow_auth_changed()"
            )
        return
    for name, table, events in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {events} ON {table} BEGIN {_BUMP}; END")


def drop_triggers() -> None:
    """Remove what create_triggers made."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS exportflow_auth_changed()")


def downgrade() -> None:
    """Revert this revision."""
    drop_triggers()
    op.drop_table("auth_generation")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_token_id")
        batch.drop_column("revoked_by")
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.drop_column("token_id")
