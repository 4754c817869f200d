"""A document's bytes on the way out: streamed from the store, never whole, with the headers that keep a browser
from rendering or sniffing them (attachment, nosniff, a sandboxing Content-Security-Policy), `ETag` = SHA-256,
and single byte ranges for PDFs (206; 416 outside the file). `X-Content-Type-Options: nosniff` is on every answer
(core/middleware.py)."""

from __future__ import annotations

import re
import uuid

from litestar.response import Stream

from backend.core.access import Grant
from backend.core.errors import HelsekortError
from backend.documents.queries import StoredContent
from backend.documents.store import DocumentStore

CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
EXTENSIONS = {"application/pdf": "pdf", "text/plain": "txt", "image/jpeg": "jpg", "image/png": "png"}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(HelsekortError):
    status = 416
    title = "Range not satisfiable"
    slug = "range-not-satisfiable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range `header` asks for, as inclusive offsets; None for the whole file (no header, several ranges
    or a form this server ignores, as RFC 9110 allows); 416 for a range that starts beyond the end."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        suffix = int(match[2])
        if suffix == 0:
            raise RangeNotSatisfiable("the range is empty", headers={"Content-Range": f"bytes */{size}"})
        return max(size - suffix, 0), size - 1
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"the file has {size} bytes", headers={"Content-Range": f"bytes */{size}"})
    return start, end


def content_response(
    store: DocumentStore,
    grant: Grant,
    document_id: uuid.UUID,
    content: StoredContent,
    range_header: str | None,
) -> Stream:
    size = content.size
    pdf = content.content_type == "application/pdf"
    wanted = byte_range(range_header, size) if pdf else None
    start, end = wanted or (0, size - 1)
    headers = {
        "Content-Disposition": f'attachment; filename="{document_id}.{EXTENSIONS[content.content_type]}"',
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "ETag": f'"{content.sha256}"',
        "Content-Length": str(end - start + 1),
        "Cache-Control": "no-store",
    }
    if pdf:
        headers["Accept-Ranges"] = "bytes"
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Stream(
        store.read(grant.patient_id, content.blob_id, content.sha256, start, end),
        media_type=content.content_type,
        status_code=206 if wanted is not None else 200,
        headers=headers,
    )
