"""Documents of an order, stored in the database with their SHA-256; evidence checks."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from schemas.documents import DocumentView, EvidenceRequirement
from services.db.models import DocumentRow
from services.db.money import utc

_META = [c for c in DocumentRow.__table__.columns if c.name != "content"]  # type: ignore[attr-defined]


def add_document(
    session: Session,
    *,
    order_id: str,
    filename: str,
    kind: str,
    content_type: str,
    data: bytes,
    user: str,
    now: datetime,
) -> DocumentView:
    """Store a file; the caller commits."""
    row = DocumentRow(
        id=uuid.uuid4().hex,
        order_id=order_id,
        filename=filename,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content_type=content_type,
        uploaded_by=user,
        uploaded_at=now,
        content=data,
    )
    session.add(row)
    return _view(row)


def list_documents(session: Session, *, order_id: str) -> list[DocumentView]:
    """The order's documents, without their contents, oldest first."""
    stmt = (
        select(*_META)
        .where(DocumentRow.order_id == order_id)
        .order_by(col(DocumentRow.uploaded_at), col(DocumentRow.id))
    )
    views = [DocumentView.model_validate(dict(r._mapping)) for r in session.exec(stmt)]
    for v in views:  # SQLite gives back naive timestamps; they were stored in UTC
        v.uploaded_at = utc(v.uploaded_at)
    return views


def get_document(session: Session, *, order_id: str, document_id: str) -> DocumentRow | None:
    """One document with its content; None when the order has no such document."""
    row = session.get(DocumentRow, document_id)
    return row if row is not None and row.order_id == order_id else None


def missing_evidence(
    session: Session,
    *,
    order_id: str,
    required: list[EvidenceRequirement],
    last_shipped_at: datetime | None,
) -> list[EvidenceRequirement]:
    """Requirements with no document yet (per-shipment ones: none since the last shipment)."""
    docs = list_documents(session, order_id=order_id)
    missing = []
    for req in required:
        found = [d for d in docs if d.kind == req.kind]
        if req.per_shipment and last_shipped_at is not None:
            found = [d for d in found if d.uploaded_at > utc(last_shipped_at)]
        if not found:
            missing.append(req)
    return missing


def _view(row: DocumentRow) -> DocumentView:
    data: dict[str, Any] = row.model_dump(exclude={"content"})
    return DocumentView.model_validate(data)
