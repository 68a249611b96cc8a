"""Documents on an order page: upload (evidence for conditions) and download."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from schemas.common import Role
from services.ops import documents as ops
from services.web.failures import REFUSALS, failure
from services.web.order_pages import order_page
from services.web.session import User, app_state, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)


@router.post("/orders/{order_id}/documents")
async def upload(request: Request, user: User, order_id: str) -> Response:
    """Upload a document as the API does; a refusal is shown next to the upload form."""
    form = await checked_form(request)
    file, kind = form.get("file"), str(form.get("kind") or "").strip() or "other"
    if not isinstance(file, UploadFile) or not file.filename:
        return await order_page(
            request, user, order_id, upload_error="Choose a file to upload.", status=422
        )
    state = app_state(request)
    limit = state.settings.documents_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        message = f"file: over the {limit:,}-byte limit"
        return await order_page(request, user, order_id, upload_error=message, status=413)
    if not (user.has(Role.SALES_OPS) or user.has(Role.COMPLIANCE)):
        message = "Uploading documents needs the sales ops or compliance role."
        return await order_page(request, user, order_id, upload_error=message, status=403)
    try:
        await ops.upload(
            state,
            order_id,
            filename=file.filename,
            kind=kind,
            content_type=file.content_type,
            data=data,
            user=user.name,
        )
    except REFUSALS as exc:
        refused = failure(exc)
        return await order_page(
            request, user, order_id, upload_error=refused.detail, status=refused.status
        )
    return RedirectResponse(f"/orders/{quote(order_id)}?uploaded={quote(kind)}", status_code=303)


@router.get("/orders/{order_id}/documents/{document_id}")
async def download(request: Request, user: User, order_id: str, document_id: str) -> Response:
    """The document as uploaded, as an attachment (as the API's own download)."""
    try:
        row = await ops.document(app_state(request), order_id, document_id)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)
    headers = ops.download_headers(row)
    return Response(row.content, media_type="application/octet-stream", headers=headers)
