"""Rule sets as policy changes: staged, approved by two officers, activated and expired on dates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Rule sets stored before this revision took effect on their date without approval. They keep
that: each is recorded as approved by "(before four-eyes approval)", and as activated at its
effective date when that has passed; one dated later waits for the worker to start its timer.
A stored set older than the rule set bundled then (2026-01-15) had already given way to it and
is recorded as expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_BUNDLED_THEN = date(2026, 1, 15)
_LEGACY = "(before four-eyes approval)"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("rule_sets") as batch:
        batch.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("citation", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("approvals", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("approved_at", _TS, nullable=True))
        batch.add_column(sa.Column("activated_at", _TS, nullable=True))
        batch.add_column(sa.Column("expired_at", _TS, nullable=True))
        batch.add_column(
            sa.Column("workflow_started", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("fan_out", sa.JSON(), nullable=True))
        batch.create_index("ix_rule_sets_activated_at", ["activated_at"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("rules_checked_version", sa.String(40), nullable=True))
    op.create_table(
        "rule_set_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version", "seq", name="uq_rule_set_events_seq"),
    )
    op.create_index("ix_rule_set_events_version", "rule_set_events", ["version"])
    _carry_over_legacy_rule_sets()


def _carry_over_legacy_rule_sets() -> None:
    conn = op.get_bind()
    sets = sa.table(
        "rule_sets",
        sa.column("version", sa.String),
        sa.column("effective_from", sa.Date),
        sa.column("imported_at", _TS),
        sa.column("approvals", sa.JSON),
        sa.column("approved_at", _TS),
        sa.column("activated_at", _TS),
        sa.column("expired_at", _TS),
    )
    events = sa.table(
        "rule_set_events",
        sa.column("version", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("at", _TS),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("reason", sa.Text),
        sa.column("data", sa.JSON),
    )
    now = datetime.now(UTC)
    rows = conn.execute(sa.select(sets.c.version, sets.c.effective_from, sets.c.imported_at))
    for version, effective, imported_at in rows.fetchall():
        start = datetime(effective.year, effective.month, effective.day, tzinfo=UTC)
        values = {
            "approvals": [{"by": _LEGACY, "at": imported_at.isoformat(), "note": None}],
            "approved_at": imported_at,
            "activated_at": start if start <= now else None,
            "expired_at": now if effective < _BUNDLED_THEN else None,
        }
        conn.execute(sets.update().where(sets.c.version == version).values(**values))
        reason = "stored before rule sets needed four-eyes approval; carried over as approved"
        conn.execute(
            events.insert().values(
                version=version, seq=1, at=now, actor="migration", action="migrated",
                reason=reason, data={},
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_rule_set_events_version", table_name="rule_set_events")
    op.drop_table("rule_set_events")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("rules_checked_version")
    with op.batch_alter_table("rule_sets") as batch:
        batch.drop_index("ix_rule_sets_activated_at")
        for column in ("fan_out", "workflow_started", "expired_at", "activated_at",
                       "approved_at", "approvals", "citation", "expires_on"):
            batch.drop_column(column)
