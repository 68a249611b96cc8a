"""SQLModel tables. The database, not Temporal, is the system of record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

# The webhook tables live in a module of their own; importing this one registers them too.
import services.db.webhook_models  # noqa: F401


def _ts(index: bool = False, nullable: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), index=index, nullable=nullable))


class OrderRow(SQLModel, table=True):
    """The read model of one order: what a status lookup returns, without asking a worker."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key", name="uq_orders_idem"),
        # The list filters by state or destination, newest first: with these a filtered page
        # is an index range read, not a sort of every matching row (bench/RESULTS.md).
        Index("ix_orders_state_created", "state", "created_at", "id"),
        Index("ix_orders_destination_created", "destination", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    external_ref: str | None = Field(default=None, index=True, max_length=100)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str = Field(max_length=64)
    created_by: str = Field(max_length=100)
    created_at: datetime = _ts(index=True)
    updated_at: datetime = _ts()
    state: str = Field(index=True, max_length=32)
    waiting_role: str | None = Field(default=None, index=True, max_length=32)
    state_entered_at: datetime = _ts()
    seq: int = 0
    destination: str = Field(index=True, max_length=2)
    purchaser_name: str = Field(max_length=200)
    end_user_name: str = Field(max_length=200)
    total_value_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_quantity: int
    license_required: bool | None = None
    booking: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    workflow_started: bool = Field(default=False, index=True)
    screened_snapshot_id: int | None = None
    ruleset_version: str | None = Field(default=None, max_length=40)
    # The rule set a fan-out or sweep last found this order unchanged under (see
    # services/policy): an order neither determined nor checked under the active set is stale.
    rules_checked_version: str | None = Field(default=None, max_length=40)
    due_at: datetime | None = _ts(nullable=True)
    retention_until: date | None = None
    legal_hold: bool = False
    legal_hold_reason: str | None = Field(default=None, sa_column=Column(Text))


class OrderLineRow(SQLModel, table=True):
    """One line of an order, kept apart so lists can filter by SKU."""

    __tablename__ = "order_lines"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True, foreign_key="orders.id", max_length=40)
    sku: str = Field(index=True, max_length=64)
    quantity: int
    unit_price_cents: int = Field(sa_column=Column(BigInteger, nullable=False))


class OrderEventRow(SQLModel, table=True):
    """One entry of the audit trail: append-only, unique per order and sequence number."""

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("order_id", "seq", name="uq_events_order_seq"),
        Index("ix_order_events_position", "position", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True, max_length=40)
    seq: int
    # The change feed's order: taken from `FeedCounterRow` under its row lock, so positions
    # are handed out in commit order (an `id` from a sequence is not; see changes_repo).
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    at: datetime = _ts()
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str = Field(max_length=32)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class LicenseRow(SQLModel, table=True):
    """A BIS license shared by the orders drawn on it: its parties here, its items in lines."""

    __tablename__ = "licenses"

    number: str = Field(primary_key=True, max_length=40)
    application_control_number: str | None = Field(default=None, max_length=20)
    licensee: str = Field(default="", max_length=200)
    destination: str | None = Field(default=None, max_length=2)
    parties: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="schemas.licenses.LicenseParties",
    )
    valid_from: date | None = None
    expires_on: date
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = _ts()
    # active, suspended or revoked (schemas.license_actions.LicenseStatus): only an active
    # license is drawn on or shipped under.
    status: str = Field(default="active", max_length=12)
    status_reason: str | None = Field(default=None, sa_column=Column(Text))


class LicenseActionRow(SQLModel, table=True):
    """A suspension, reinstatement or revocation, and how far its fan-out to the orders got."""

    __tablename__ = "license_actions"

    id: int | None = Field(default=None, primary_key=True)
    license_number: str = Field(index=True, foreign_key="licenses.number", max_length=40)
    kind: str = Field(max_length=12)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=100)
    requested_at: datetime = _ts()
    total: int | None = None
    done: int = 0
    finished_at: datetime | None = _ts(nullable=True)
    workflow_started: bool = False


class LicenseActionResultRow(SQLModel, table=True):
    """What a license action did to one order: one line per order, written once."""

    __tablename__ = "license_action_results"
    __table_args__ = (
        UniqueConstraint("action_id", "order_id", name="uq_license_action_results_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(index=True, foreign_key="license_actions.id")
    order_id: str = Field(max_length=40)
    outcome: str = Field(max_length=40)
    state: str = Field(max_length=32)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = _ts()


class LicenseLineRow(SQLModel, table=True):
    """One item line of a license (an SKU or an ECCN) with its approved quantity and value."""

    __tablename__ = "license_lines"
    __table_args__ = (
        UniqueConstraint("license_number", "line_no", name="uq_license_lines_number_line"),
    )

    id: int | None = Field(default=None, primary_key=True)
    license_number: str = Field(index=True, foreign_key="licenses.number", max_length=40)
    line_no: int
    sku: str | None = Field(default=None, max_length=64)
    eccn: str | None = Field(default=None, max_length=20)
    approved_quantity: int
    approved_value_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Migrated from a license that pooled several SKUs under one quantity: its orders ship or
    # release as before, but it takes no new draws (services/db/migrations 0005).
    pooled: bool = False
    pooled_skus: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class LicenseLedgerRow(SQLModel, table=True):
    """An entry of a license line's ledger: reserve, commit or release; remaining is derived."""

    __tablename__ = "license_ledger"

    id: int | None = Field(default=None, primary_key=True)
    entry_key: str = Field(unique=True, max_length=120, description="idempotency key")
    license_number: str = Field(index=True, foreign_key="licenses.number", max_length=40)
    line_id: int = Field(index=True, foreign_key="license_lines.id")
    sku: str | None = Field(
        default=None, max_length=64, description="the order's item; None: a whole order"
    )
    order_id: str = Field(index=True, max_length=40)
    kind: str = Field(max_length=10)
    quantity: int
    value_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    actor: str = Field(max_length=100)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    itn: str | None = Field(default=None, max_length=20)
    at: datetime = _ts()


class ObligationRow(SQLModel, table=True):
    """A license condition someone must fulfil by a date; a blocking one stops shipment."""

    __tablename__ = "license_obligations"

    id: int | None = Field(default=None, primary_key=True)
    license_number: str = Field(index=True, foreign_key="licenses.number", max_length=40)
    code: str = Field(max_length=40)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(default="", max_length=100)
    due_on: date | None = None
    blocking: bool = True
    fulfilled_by: str | None = Field(default=None, max_length=100)
    fulfilled_at: datetime | None = _ts(nullable=True)


class UserRow(SQLModel, table=True):
    """A person; separation of duties is by user, not by token."""

    __tablename__ = "users"

    name: str = Field(primary_key=True, max_length=100)
    roles: str = Field(max_length=200, description="comma-separated roles")
    created_at: datetime = _ts()


class TokenRow(SQLModel, table=True):
    """An API token, stored only as its SHA-256 hash; it expires and can be revoked alone."""

    __tablename__ = "api_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    token_id: str = Field(unique=True, index=True, max_length=32, description="shown, not secret")
    user_name: str = Field(index=True, foreign_key="users.name", max_length=100)
    role: str = Field(max_length=32)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    # Written at most once a minute per token (services/ops/auth.py), not on every request.
    last_used_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=100)


class AuthGenerationRow(SQLModel, table=True):
    """One row counting changes to tokens and roles (moved by triggers, migration 0004), so
    every API process drops what it cached about tokens."""

    __tablename__ = "auth_generation"

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class ScreeningSnapshotRow(SQLModel, table=True):
    """One imported version of a screening list."""

    __tablename__ = "screening_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    source_format: str = Field(max_length=20)
    file_name: str = Field(max_length=300)
    row_count: int
    content_hash: str = Field(max_length=64, unique=True)
    imported_by: str = Field(max_length=100)
    imported_at: datetime = _ts()
    active: bool = Field(default=True, index=True)


class ScreeningEntryRow(SQLModel, table=True):
    """One listed party of a snapshot."""

    __tablename__ = "screening_entries"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(index=True, foreign_key="screening_snapshots.id")
    entry_id: str = Field(max_length=100)
    source: str = Field(max_length=200)
    entry_type: str = Field(default="", max_length=50)
    name: str = Field(sa_column=Column(Text, nullable=False))
    alt_names: str = Field(default="", sa_column=Column(Text, nullable=False))
    addresses: str = Field(default="", sa_column=Column(Text, nullable=False))
    countries: str = Field(default="", max_length=500)
    programs: str = Field(default="", sa_column=Column(Text, nullable=False))
    license_requirement: str = Field(default="", sa_column=Column(Text, nullable=False))
    license_policy: str = Field(default="", sa_column=Column(Text, nullable=False))


class WhitelistRow(SQLModel, table=True):
    """A party found not to be a listed entry; lapses at expiry or when the entry changes."""

    __tablename__ = "screening_whitelist"

    id: int | None = Field(default=None, primary_key=True)
    party_key: str = Field(index=True, max_length=300, description="normalised party name")
    entry_id: str = Field(max_length=100)
    entry_hash: str = Field(max_length=64, description="the entry as it was when whitelisted")
    order_id: str = Field(max_length=40)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=100)
    created_at: datetime = _ts()
    expires_on: date | None = None


class RuleSetRow(SQLModel, table=True):
    """A license rule set: staged, approved by two officers, activated on its date.

    The most recently activated one that has not expired decides; with none, the rule set
    bundled with the release does. `effective_from` is the activation date.
    """

    __tablename__ = "rule_sets"

    version: str = Field(primary_key=True, max_length=40)
    effective_from: date
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    imported_by: str = Field(max_length=100, description="who staged it")
    imported_at: datetime = _ts()
    expires_on: date | None = None
    citation: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    approvals: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    approved_at: datetime | None = _ts(nullable=True)
    activated_at: datetime | None = _ts(index=True, nullable=True)
    expired_at: datetime | None = _ts(nullable=True)
    workflow_started: bool = False
    fan_out: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class RuleSetEventRow(SQLModel, table=True):
    """An event of a rule set: staged, approved, activated, expired, fan-out done."""

    __tablename__ = "rule_set_events"
    __table_args__ = (UniqueConstraint("version", "seq", name="uq_rule_set_events_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(index=True, max_length=40)
    seq: int
    at: datetime = _ts()
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DocumentRow(SQLModel, table=True):
    """One uploaded file; append-only, part of the order's export record."""

    __tablename__ = "order_documents"

    id: str = Field(primary_key=True, max_length=32)
    order_id: str = Field(index=True, max_length=40)
    filename: str = Field(max_length=255)
    kind: str = Field(max_length=40)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    content_type: str = Field(max_length=100)
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class FeedCounterRow(SQLModel, table=True):
    """The last change-feed position handed out: one row, locked by each event's writer."""

    __tablename__ = "change_feed"

    id: int = Field(default=1, primary_key=True)
    last_position: int = Field(sa_column=Column(BigInteger, nullable=False))
