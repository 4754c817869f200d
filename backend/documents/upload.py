"""Receiving a document: the multipart or FHIR body, its bytes staged in the store, and the document recorded,
all in one transaction, so that any refusal (bad metadata, a lying type, over the limit, a conflicting id, an
unknown `replaces`) rolls everything back and leaves no bytes behind.

The sender's id makes the upload idempotent: the same id with the same bytes answers 200 with what is there and
stores nothing; with other bytes it is 409. `replaces` supersedes the author organisation's current document.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request

from backend.core import events
from backend.core.access import Grant, clinician_of, refuse, write_transaction
from backend.core.clock import utcnow
from backend.core.errors import BadRequest, Conflict
from backend.core.inputs import UnsupportedMediaType
from backend.core.settings import Settings
from backend.documents import intake, queries
from backend.documents.schemas import ClinicianDocument, DocumentMetadataIn
from backend.documents.service import clinician_document, document_store
from backend.documents.store import DocumentStore, Staged


async def receive(grant: Grant, settings: Settings, request: Request[Any, Any, Any]) -> Uploaded:
    """The upload route's body, by its media type: multipart streams; the FHIR form is one JSON document."""
    content_type = request.headers.get("content-type")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == intake.MULTIPART:
        return await upload_multipart(grant, settings, _body(request), content_type)
    if media in (intake.FHIR_JSON, "application/json"):
        raw = bytearray()
        async for piece in _body(request):
            raw += piece
        return await upload_fhir(grant, settings, bytes(raw))
    raise UnsupportedMediaType(
        f"send the document as {intake.MULTIPART} (metadata + content) or {intake.FHIR_JSON}, not {media[:60] or 'nothing'}"
    )


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The request body as it arrives. Not `request.stream()`, which holds it to the app's 1 MiB default: the
    route's own limit is applied by core/inputs.py as the bytes are counted."""
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            return
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


@dataclass(frozen=True, slots=True)
class Uploaded:
    document: ClinicianDocument
    created: bool  # False: the same id and bytes were there already (nothing new)


class _Replay(Exception):
    """The same id with the same bytes: roll the upload back and answer with what is there."""


class _Refused(Exception):
    """A rule only the write can see (replacing another organisation's document): refused after the rollback."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class _Upload:
    """What one upload staged, so that a failure can take it back."""

    staged: Staged | None = None


async def upload_multipart(grant: Grant, settings: Settings, body: Any, content_type: str | None) -> Uploaded:
    """`multipart/form-data` with the parts `metadata` (JSON) and `content` (the file), read as they stream."""
    boundary = intake.boundary_of(content_type)
    store = document_store(settings)

    async def read(connection: Any, upload: _Upload) -> tuple[DocumentMetadataIn, str]:
        metadata: DocumentMetadataIn | None = None
        declared: str | None = None
        async for part in intake.parts(body, boundary):
            if part.name == "metadata" and metadata is None:
                metadata = intake.decode_metadata(await intake.read_small(part))
            elif part.name == "content" and upload.staged is None:
                declared = intake.declared_type(part.content_type)
                inspected = intake.Inspected(part.data, declared, settings.document_max_bytes)
                upload.staged = await store.stage(connection, grant.patient_id, inspected)
            else:
                raise BadRequest(
                    f"{part.name[:40]}: unexpected part; send one metadata and one content", field=part.name[:40]
                )
        if metadata is None:
            raise BadRequest("metadata: the part is missing", field="metadata")
        if declared is None:
            raise BadRequest("content: the part is missing", field="content")
        return metadata, declared

    return await _upload(grant, settings, store, read)


async def upload_fhir(grant: Grant, settings: Settings, raw: bytes) -> Uploaded:
    """A FHIR DocumentReference with the file inline (base64)."""
    fhir = intake.read_fhir(raw, settings.document_max_bytes)
    store = document_store(settings)

    async def read(connection: Any, upload: _Upload) -> tuple[DocumentMetadataIn, str]:
        inspected = intake.Inspected(intake.once(fhir.content), fhir.content_type, settings.document_max_bytes)
        upload.staged = await store.stage(connection, grant.patient_id, inspected)
        return fhir.metadata, fhir.content_type

    return await _upload(grant, settings, store, read)


Reader = Callable[[Any, _Upload], Awaitable[tuple[DocumentMetadataIn, str]]]


async def _upload(grant: Grant, settings: Settings, store: DocumentStore, read: Reader) -> Uploaded:
    upload = _Upload()
    try:
        async with write_transaction(grant) as connection:
            metadata, content_type = await read(connection, upload)
            if upload.staged is None:
                raise RuntimeError("the upload's reader returned without staging the content")
            await _record(connection, grant, store, metadata=metadata, content_type=content_type, staged=upload.staged)
    except _Replay:
        await _discard(store, grant, upload)
        return Uploaded(await clinician_document(grant, settings, metadata.id), created=False)
    except _Refused as refused:
        await _discard(store, grant, upload)
        await refuse(grant, refused.rule, resource_id=str(metadata.id))
    except BaseException:
        await _discard(store, grant, upload)
        raise
    return Uploaded(await clinician_document(grant, settings, metadata.id), created=True)


async def _discard(store: DocumentStore, grant: Grant, upload: _Upload) -> None:
    if upload.staged is not None:
        await store.discard(grant.patient_id, upload.staged)


async def _same_or_conflict(connection: Any, grant: Grant, document_id: uuid.UUID, staged: Staged) -> None:
    existing = await queries.lock_document(connection, grant.patient_id, document_id)
    if existing is None:
        return
    if existing.sha256 == staged.sha256:
        raise _Replay
    raise Conflict("a document with this id exists with other content; a new version needs a new id and `replaces`")


async def _record(
    connection: Any,
    grant: Grant,
    store: DocumentStore,
    *,
    metadata: DocumentMetadataIn,
    content_type: str,
    staged: Staged,
) -> None:
    principal = clinician_of(grant)
    await _same_or_conflict(connection, grant, metadata.id, staged)
    replaced = None
    if metadata.replaces is not None:
        if metadata.replaces == metadata.id:
            raise BadRequest("metadata.replaces: a document cannot replace itself", field="metadata.replaces")
        replaced = await queries.lock_document(connection, grant.patient_id, metadata.replaces)
        if replaced is None:
            raise BadRequest("metadata.replaces: no such document of this patient", field="metadata.replaces")
        if replaced.organisation != principal.org_number:
            raise _Refused("only the author's organisation may replace its document")
        if replaced.status != "current":
            raise Conflict(f"metadata.replaces: that document is {replaced.status}, not current")
    await store.keep(connection, grant.patient_id, staged)
    new = queries.NewDocument(
        metadata=metadata,
        organisation=principal.org_number,
        org_kind=principal.org_kind,
        author_hpr=principal.hpr,
        author_name=principal.name,
        author_authorization=principal.authorization,
        content_type=content_type,
        size=staged.size,
        sha256=staged.sha256,
        created_at=utcnow(),
    )
    if not await queries.insert_document(connection, grant.patient_id, new):
        await _same_or_conflict(connection, grant, metadata.id, staged)  # a concurrent upload of the same id won
        raise Conflict("a document with this id is being uploaded; retry")
    if replaced is not None:
        await queries.supersede(connection, grant.patient_id, replaced.id, metadata.id)
        await events.append_event(
            grant.patient_id,
            events.EventType.DOCUMENT_SUPERSEDED,
            replaced.id,
            citizen_visible=replaced.visible_to_patient,
        )
    # Hidden from the patient: not in her feed, and no push (the rules never see an event she may not see).
    await events.append_event(
        grant.patient_id, events.EventType.DOCUMENT_ADDED, metadata.id, citizen_visible=metadata.visible_to_patient
    )
