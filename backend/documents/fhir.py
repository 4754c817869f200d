"""Journal documents as FHIR R4 DocumentReferences: type, title, the document's date, author by HPR number, the
author's organisation, and `content.attachment.url` pointing at the content route (each content read is its own
audit row there). Read through the domain's own lists with `READ`: a clinician sees what the look-back and her
restrictions let her see, the citizen what the author did not hide from her; `date` searches the document's date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from backend.core.access import Grant
from backend.core.clock import OSLO
from backend.core.fhir import (
    HPR_SYSTEM,
    FhirPage,
    FhirQuery,
    concept,
    fhir_search,
    instant,
    is_citizen,
    patient_reference,
)
from backend.documents.schemas import CitizenDocument, ClinicianDocument
from backend.documents.service import READ, citizen_list, clinician_list, list_query

DOCUMENT_TYPE = "http://helsekort.no/fhir/CodeSystem/document-type"
ORGANISATION = "urn:oid:2.16.578.1.12.4.1.4.101"  # Enhetsregisteret's organisation number


def content_url(grant: Grant, document_id: str) -> str:
    if is_citizen(grant):
        return f"/citizen/v1/me/documents/{document_id}/content"
    return f"/clinician/v1/patients/{grant.patient_id}/documents/{document_id}/content"


def document_reference(grant: Grant, document: ClinicianDocument | CitizenDocument) -> dict[str, Any]:
    """Pure: one document as a DocumentReference of the patient of `grant`, its bytes at the reader's content route."""
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.id),
        "status": document.status,
        "type": concept(DOCUMENT_TYPE, document.type),
        "subject": patient_reference(grant),
        "date": instant(document.created_at),
        "author": [
            {"identifier": {"system": HPR_SYSTEM, "value": document.author.hpr}}
            | ({"display": document.author.name} if document.author.name else {})
        ],
        "custodian": {"identifier": {"system": ORGANISATION, "value": document.organisation}},
        "description": document.title,
        "content": [
            {
                "attachment": {
                    "contentType": document.content_type,
                    "url": content_url(grant, str(document.id)),
                    "size": document.size,
                    "title": document.title,
                    "creation": document.date.isoformat(),
                }
            }
        ],
        "context": {"period": {"start": document.date.isoformat()}},
    }
    if document.department:
        resource["context"]["practiceSetting"] = {"text": document.department}
    if document.replaces is not None:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{document.replaces}"}}
        ]
    return resource


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(OSLO).date() if moment is not None else None


@fhir_search("DocumentReference", "documents", need=READ)
async def search_documents(grant: Grant, query: FhirQuery) -> FhirPage:
    documents: list[ClinicianDocument] | list[CitizenDocument]
    if is_citizen(grant):
        mine = await citizen_list(grant, cursor=query.cursor, limit=query.count)
        documents, following = mine.items, mine.next
    else:
        filters = list_query(None, _day(query.start), _day(query.end), query.cursor, query.count)
        page = await clinician_list(grant, query.settings, filters)
        documents, following = page.items, page.next
    first, last = _day(query.start), _day(query.end)
    kept = [
        document_reference(grant, document)
        for document in documents
        if query.wants_code(document.type)
        and (first is None or document.date >= first)
        and (last is None or document.date <= last)
    ]
    return FhirPage(kept, following)
