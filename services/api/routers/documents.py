"""Documents on an order: evidence uploads (multipart), their list and download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from schemas.common import Actor, Role
from schemas.documents import DocumentList, DocumentView
from services.api.deps import AnyRole, StateDep, require
from services.ops import documents as ops

router = APIRouter(tags=["documents"])

Uploader = Annotated[Actor, Depends(require(Role.SALES_OPS, Role.COMPLIANCE))]


@router.post("/orders/{order_id}/documents", status_code=201, response_model=DocumentView)
async def upload_document(
    order_id: str,
    state: StateDep,
    user: Uploader,
    file: Annotated[UploadFile, File(description="the document")],
    kind: Annotated[str, Form(description="what it is, e.g. lab_test_report")] = "other",
) -> DocumentView:
    """Sales ops or compliance: attach a document (evidence for a condition) to the order."""
    limit = state.settings.documents_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"file: over the {limit:,}-byte limit")
    return await ops.upload(
        state,
        order_id,
        filename=file.filename,
        kind=kind,
        content_type=file.content_type,
        data=data,
        user=user.user,
    )


@router.get("/orders/{order_id}/documents", response_model=DocumentList)
async def list_documents(order_id: str, _: AnyRole, state: StateDep) -> DocumentList:
    """Any role: the order's documents (no contents), oldest first."""
    return await ops.documents(state, order_id)


@router.get("/orders/{order_id}/documents/{document_id}")
async def download_document(
    order_id: str, document_id: str, _: AnyRole, state: StateDep
) -> Response:
    """Any role: the document as uploaded, as an attachment."""
    row = await ops.document(state, order_id, document_id)
    headers = ops.download_headers(row)
    return Response(row.content, media_type="application/octet-stream", headers=headers)
