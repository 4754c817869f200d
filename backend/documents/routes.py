"""Routes of the journal documents: clinicians upload, list and read them; citizens read theirs and restrict them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream

from backend.core.access import Clinician, MeGrant, authorize, authorize_kept_read
from backend.core.contract import raw_body_types
from backend.core.encoded import json_response
from backend.core.inputs import BODY_LIMIT_OPT
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.documents import intake, service, upload
from backend.documents.delivery import content_response
from backend.documents.schemas import (
    CitizenDocument,
    CitizenDocumentPage,
    ClinicianDocument,
    ClinicianDocumentPage,
    DocumentMetadataIn,
    EnteredInErrorIn,
)

(_METADATA_SCHEMA,) = raw_body_types(DocumentMetadataIn)
_FILE = {"type": "string", "format": "binary"}


@dataclass
class _PostDocumentOperation(Operation):
    """The body is read by the service as it streams, so the two accepted forms are documented here."""

    def __post_init__(self) -> None:
        multipart: dict[str, Any] = {
            "type": "object",
            "required": ["metadata", "content"],
            "properties": {"metadata": {"$ref": _METADATA_SCHEMA}, "content": _FILE},
        }
        fhir: dict[str, Any] = {
            "type": "object",
            "description": "FHIR R4 DocumentReference with one inline base64 attachment (content[0].attachment.data)",
            "required": ["resourceType", "masterIdentifier", "date", "description", "content"],
            "properties": {"resourceType": {"type": "string", "enum": ["DocumentReference"]}},
        }
        self.request_body = RequestBody(
            required=True,
            content={
                intake.MULTIPART: OpenAPIMediaType(schema=multipart),  # type: ignore[arg-type]
                intake.FHIR_JSON: OpenAPIMediaType(schema=fhir),  # type: ignore[arg-type]
            },
        )


_CONTENT_HEADERS = {
    "ETag": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING), description="The content's SHA-256 (quoted)", required=True
    ),
    "Content-Disposition": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING), description="Always `attachment`", required=True
    ),
}


@dataclass
class _ContentOperation(Operation):
    """The file in its own media type (one of four), whole or, for a PDF, one byte range."""

    def __post_init__(self) -> None:
        media = {
            kind: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
            for kind in intake.ALLOWED
        }
        responses = dict(self.responses or {})
        responses["200"] = OpenAPIResponse(description="The file", content=media, headers=dict(_CONTENT_HEADERS))
        responses["206"] = OpenAPIResponse(
            description="One byte range of a PDF (Range: bytes=start-end)",
            content=media,
            headers={
                **_CONTENT_HEADERS,
                "Content-Range": OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING), description="bytes start-end/size", required=True
                ),
            },
        )
        self.responses = responses


_RANGE_NOT_SATISFIABLE = {416: ResponseSpec(None, description="The range starts beyond the end of the file")}
_REPLAYED = {200: ResponseSpec(ClinicianDocument, description="The same id with the same bytes: nothing new")}

Range = Annotated[str | None, HeaderParameter(name="Range", description="bytes=start-end (PDFs only)")]
TypeFilter = Annotated[str | None, QueryParameter(name="type", description="only documents of this type")]
FromDate = Annotated[date | None, QueryParameter(name="from", description="documents dated on or after")]
ToDate = Annotated[date | None, QueryParameter(name="to", description="documents dated on or before")]


class ClinicianDocumentController(Controller):
    path = "/patients/{patient_id:uuid}/documents"
    tags = ["clinician: journal documents"]

    @post(
        "",
        operation_id="clinicianPostDocument",
        summary="Publish a journal document (multipart metadata + content, or a FHIR DocumentReference)",
        operation_class=_PostDocumentOperation,
        responses=_REPLAYED,
        opt={BODY_LIMIT_OPT: "document"},
    )
    async def post_document(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], request: Request[Any, Any, Any]
    ) -> Response[ClinicianDocument]:
        grant = await authorize(clinician, patient_id, service.UPLOAD)
        uploaded = await upload.receive(grant, app_settings(request), request)
        return Response(uploaded.document, status_code=201 if uploaded.created else 200)

    @get(
        "",
        operation_id="clinicianListDocuments",
        summary="The patient's documents from every organisation I may see, newest first; restrictedCount",
    )
    async def list_documents(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        document_type: TypeFilter = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Response[ClinicianDocumentPage]:
        query = service.list_query(document_type, from_date, to_date, cursor, limit)
        read = service.clinician_list_timeless(clinician, app_settings(request), query)
        _, kept = await authorize_kept_read(clinician, patient_id, service.READ, read, service.CLINICIAN_LISTS)
        return json_response(kept.body)

    @get("/{document_id:uuid}", operation_id="clinicianGetDocument", summary="One document's metadata")
    async def get_document(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
    ) -> ClinicianDocument:
        grant = await authorize(clinician, patient_id, service.READ, resource_id=str(document_id))
        return await service.clinician_document(grant, app_settings(request), document_id)

    @get(
        "/{document_id:uuid}/content",
        operation_id="clinicianGetDocumentContent",
        summary="The document's bytes (its own audit row, action read-content); Range for PDFs",
        operation_class=_ContentOperation,
        responses=_RANGE_NOT_SATISFIABLE,
        opt={"skip_compression": True},
    )
    async def get_content(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        byte_range: Range = None,
    ) -> Stream:
        grant = await authorize(clinician, patient_id, service.READ_CONTENT, resource_id=str(document_id))
        settings = app_settings(request)
        content = await service.clinician_content(grant, settings, document_id)
        return content_response(service.document_store(settings), grant, document_id, content, byte_range)

    @post(
        "/{document_id:uuid}/entered-in-error",
        operation_id="clinicianMarkDocumentEnteredInError",
        summary="Retract a document of my organisation (status entered-in-error; gone from lists)",
        status_code=200,
    )
    async def entered_in_error(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[EnteredInErrorIn],
        request: Request[Any, Any, Any],
    ) -> ClinicianDocument:
        grant = await authorize(clinician, patient_id, service.ENTER_IN_ERROR, resource_id=str(document_id))
        return await service.enter_in_error(grant, app_settings(request), document_id, data)


class CitizenDocumentController(Controller):
    path = "/me/documents"
    tags = ["citizen: journal documents"]
    opt = act_for("documents")  # what someone acting for her (Helsekort-Act-For) needs

    @get("", operation_id="citizenListDocuments", summary="My journal documents, newest first")
    async def list_documents(
        self, *, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> CitizenDocumentPage:
        return await service.citizen_list(me, cursor=cursor, limit=limit)

    @get("/{document_id:uuid}", operation_id="citizenGetDocument", summary="One of my documents")
    async def get_document(self, me: MeGrant, document_id: FromPath[uuid.UUID]) -> CitizenDocument:
        return await service.citizen_document(me, document_id)

    @get(
        "/{document_id:uuid}/content",
        operation_id="citizenGetDocumentContent",
        summary="The bytes of one of my documents; Range for PDFs",
        operation_class=_ContentOperation,
        responses=_RANGE_NOT_SATISFIABLE,
        opt={"skip_compression": True},
    )
    async def get_content(
        self, me: MeGrant, document_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], byte_range: Range = None
    ) -> Stream:
        content = await service.citizen_content(me, document_id)
        store = service.document_store(app_settings(request))
        return content_response(store, me, document_id, content, byte_range)

    @put(
        "/{document_id:uuid}/restriction",
        operation_id="citizenRestrictDocument",
        summary="Hide a document from clinicians outside its author's organisation (emergency access still sees it)",
        status_code=204,
        opt=act_for("own"),  # who may read her record is hers to decide, like consents and blocks
    )
    async def restrict(self, me: MeGrant, document_id: FromPath[uuid.UUID]) -> None:
        await service.set_restriction(me, document_id, restricted=True)

    @delete(
        "/{document_id:uuid}/restriction",
        operation_id="citizenUnrestrictDocument",
        summary="Lift my restriction on a document",
        status_code=204,
        opt=act_for("own"),
    )
    async def unrestrict(self, me: MeGrant, document_id: FromPath[uuid.UUID]) -> None:
        await service.set_restriction(me, document_id, restricted=False)
