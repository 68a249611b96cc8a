"""Documents on an order: evidence uploads (multipart), their list and download."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from schemas.common import Actor, Role
from schemas.documents import KIND_PATTERN, DocumentList, DocumentView
from services.api.deps import AnyRole, StateDep, require
from services.db import documents_repo, orders_repo
from services.ops.errors import NotFound

router = APIRouter(tags=["documents"])

Uploader = Annotated[Actor, Depends(require(Role.SALES_OPS, Role.COMPLIANCE))]


def _filename(raw: str | None) -> str:
    # Only the last path segment, without control characters: it is echoed in a header.
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip()[:255]
    if not name:
        raise HTTPException(422, "file: the upload has no file name")
    return name


@router.post("/orders/{order_id}/documents", status_code=201, response_model=DocumentView)
async def upload_document(
    order_id: str,
    state: StateDep,
    user: Uploader,
    file: Annotated[UploadFile, File(description="the document")],
    kind: Annotated[str, Form(description="what it is, e.g. lab_test_report")] = "other",
) -> DocumentView:
    """Sales ops or compliance: attach a document (evidence for a condition) to the order."""
    if not re.fullmatch(KIND_PATTERN, kind):
        raise HTTPException(422, f"kind: {kind!r} must match {KIND_PATTERN}")
    limit = state.settings.documents_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"file: over the {limit:,}-byte limit")
    if not data:
        raise HTTPException(422, "file: the upload is empty")
    name = _filename(file.filename)
    content_type = (file.content_type or "application/octet-stream")[:100]

    def write(session: Session) -> DocumentView | None:
        if orders_repo.get_order(session, order_id) is None:
            return None
        return documents_repo.add_document(
            session,
            order_id=order_id,
            filename=name,
            kind=kind,
            content_type=content_type,
            data=data,
            user=user.user,
            now=datetime.now(UTC),
        )

    view = await state.write(write)
    if view is None:
        raise NotFound(f"no order {order_id}")
    return view


@router.get("/orders/{order_id}/documents", response_model=DocumentList)
async def list_documents(order_id: str, _: AnyRole, state: StateDep) -> DocumentList:
    """Any role: the order's documents (no contents), oldest first."""

    def read(session: Session) -> DocumentList | None:
        if orders_repo.get_order(session, order_id) is None:
            return None
        return DocumentList(items=documents_repo.list_documents(session, order_id=order_id))

    found = await state.read(read)
    if found is None:
        raise NotFound(f"no order {order_id}")
    return found


@router.get("/orders/{order_id}/documents/{document_id}")
async def download_document(
    order_id: str, document_id: str, _: AnyRole, state: StateDep
) -> Response:
    """Any role: the document as uploaded, as an attachment."""
    row = await state.read(
        lambda session: documents_repo.get_document(
            session, order_id=order_id, document_id=document_id
        )
    )
    if row is None:
        raise HTTPException(404, f"no document {document_id} on order {order_id}")
    # Always a download, never rendered by the browser: uploads are not trusted content.
    headers = {
        "Content-Disposition": f'attachment; filename="{row.filename}"',
        "X-Content-Type-Options": "nosniff",
        "X-Document-SHA256": row.sha256,
    }
    return Response(row.content, media_type="application/octet-stream", headers=headers)
