"""Indexes for the order list: state or destination, newest first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

Measured on 100,000 orders (bench/RESULTS.md): a state-filtered page went from a sort of every
matching row (200-550 ms on SQLite) to an index range read.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_orders_state_created", "orders", ["state", "created_at", "id"])
    op.create_index("ix_orders_destination_created", "orders", ["destination", "created_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_orders_destination_created", table_name="orders")
    op.drop_index("ix_orders_state_created", table_name="orders")
