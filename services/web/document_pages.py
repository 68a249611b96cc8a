"""Documents on an order page: upload (evidence for conditions) and download."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.web.api_client import ConsoleApi
from services.web.order_pages import order_page
from services.web.session import User, checked_form
from services.web.templating import render

router = APIRouter(include_in_schema=False)

# Passed on from the API's download: always an attachment, never rendered here.
_KEEP = ("content-disposition", "x-content-type-options", "x-document-sha256")


@router.post("/orders/{order_id}/documents")
async def upload(request: Request, user: User, order_id: str) -> Response:
    """Upload a document through the API; its refusal is shown next to the upload form."""
    form = await checked_form(request)
    file, kind = form.get("file"), str(form.get("kind") or "").strip() or "other"
    if not isinstance(file, UploadFile) or not file.filename:
        return await order_page(
            request, user, order_id, upload_error="Choose a file to upload.", status=422
        )
    data = await file.read()
    files = {"file": (file.filename, data, file.content_type or "application/octet-stream")}
    answer = await ConsoleApi(request, user).call(
        "POST", f"/orders/{order_id}/documents", files=files, data={"kind": kind}
    )
    if not answer.ok:
        return await order_page(
            request, user, order_id, upload_error=answer.detail, status=answer.status
        )
    return RedirectResponse(f"/orders/{quote(order_id)}?uploaded={quote(kind)}", status_code=303)


@router.get("/orders/{order_id}/documents/{document_id}")
async def download(request: Request, user: User, order_id: str, document_id: str) -> Response:
    """The document as uploaded, as an attachment (the API's own download)."""
    path = f"/orders/{quote(order_id, safe='')}/documents/{quote(document_id, safe='')}"
    r = await ConsoleApi(request, user).raw("GET", path)
    if r.status_code != 200:
        return render(request, "error.html", user, r.status_code, message=r.text)
    headers = {k: v for k, v in r.headers.items() if k.lower() in _KEEP}
    return Response(r.content, media_type="application/octet-stream", headers=headers)
