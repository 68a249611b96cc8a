"""Documents on an order: evidence uploads, their list and download, for API and console."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

from sqlmodel import Session

from schemas.documents import KIND_PATTERN, DocumentList, DocumentView
from services.db import documents_repo, orders_repo
from services.db.models import DocumentRow
from services.ops.errors import InvalidInput, NotFound
from services.ops.state import AppState


def file_name(raw: str | None) -> str:
    """Only the last path segment, without control characters: it is echoed in a header."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip()[:255]
    if not name:
        raise InvalidInput(("body", "file"), "file: the upload has no file name")
    return name


async def upload(
    state: AppState,
    order_id: str,
    *,
    filename: str | None,
    kind: str,
    content_type: str | None,
    data: bytes,
    user: str,
) -> DocumentView:
    """Attach a document to the order (the caller has checked the size limit)."""
    if not re.fullmatch(KIND_PATTERN, kind):
        raise InvalidInput(("body", "kind"), f"kind: {kind!r} must match {KIND_PATTERN}")
    if not data:
        raise InvalidInput(("body", "file"), "file: the upload is empty")
    name = file_name(filename)
    media = (content_type or "application/octet-stream")[:100]

    def write(session: Session) -> DocumentView | None:
        if orders_repo.get_order(session, order_id) is None:
            return None
        return documents_repo.add_document(
            session,
            order_id=order_id,
            filename=name,
            kind=kind,
            content_type=media,
            data=data,
            user=user,
            now=datetime.now(UTC),
        )

    view = await state.write(write)
    if view is None:
        raise NotFound(f"no order {order_id}")
    return view


async def documents(state: AppState, order_id: str) -> DocumentList:
    """The order's documents (no contents), oldest first."""

    def read(session: Session) -> DocumentList | None:
        if orders_repo.get_order(session, order_id) is None:
            return None
        return DocumentList(items=documents_repo.list_documents(session, order_id=order_id))

    found = await state.read(read)
    if found is None:
        raise NotFound(f"no order {order_id}")
    return found


async def document(state: AppState, order_id: str, document_id: str) -> DocumentRow:
    """One document with its content."""
    row = await state.read(
        lambda session: documents_repo.get_document(
            session, order_id=order_id, document_id=document_id
        )
    )
    if row is None:
        raise NotFound(f"no document {document_id} on order {order_id}")
    return row


def download_headers(row: DocumentRow) -> dict[str, str]:
    """Always a download, never rendered by the browser: uploads are not trusted content."""
    return {
        "Content-Disposition": f'attachment; filename="{row.filename}"',
        "X-Content-Type-Options": "nosniff",
        "X-Document-SHA256": row.sha256,
    }
