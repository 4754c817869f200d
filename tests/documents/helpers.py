"""Test data and calls for the journal documents: files of each type, metadata, uploads, reads."""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx

from backend.core.clock import oslo_now
from backend.documents.demo import demo_pdf
from tests.factories import Citizen, Clinician

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"
TEXT = "Henvisning: vurder hodepine og blodtrykk. Æ, ø og å.\n".encode()


def pdf(text: str = "Epikrise") -> bytes:
    return demo_pdf(text, [f"{text}: {uuid.uuid4()}"])


def metadata(**overrides: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "epicrisis",
        "title": "Epikrise, medisinsk avdeling",
        "date": (oslo_now().date() - timedelta(days=3)).isoformat(),
        "department": "Medisinsk avdeling",
        **overrides,
    }


def documents_path(patient_id: uuid.UUID) -> str:
    return f"/clinician/v1/patients/{patient_id}/documents"


async def post_multipart(
    client: httpx.AsyncClient,
    clinician: Clinician,
    patient_id: uuid.UUID,
    meta: dict[str, Any] | None,
    content: bytes | None,
    content_type: str = "application/pdf",
) -> httpx.Response:
    files: dict[str, Any] = {}
    if meta is not None:
        files["metadata"] = (None, io.BytesIO(json.dumps(meta).encode()), "application/json")
    if content is not None:
        files["content"] = ("document", io.BytesIO(content), content_type)
    return await client.post(documents_path(patient_id), files=files, headers=clinician.headers)


async def upload(
    client: httpx.AsyncClient,
    clinician: Clinician,
    patient_id: uuid.UUID,
    content: bytes | None = None,
    content_type: str = "application/pdf",
    **meta: Any,
) -> dict[str, Any]:
    """A document uploaded (201), its answer."""
    response = await post_multipart(
        client, clinician, patient_id, metadata(**meta), content if content is not None else pdf(), content_type
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def fhir_document_reference(
    meta: dict[str, Any], content: bytes, content_type: str = "application/pdf"
) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": meta["id"]},
        "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary"}]},
        "description": meta["title"],
        "date": f"{meta['date']}T10:00:00+01:00",
        "content": [{"attachment": {"contentType": content_type, "data": base64.b64encode(content).decode()}}],
    }


async def listing(client: httpx.AsyncClient, reader: Clinician, patient_id: uuid.UUID, **params: Any) -> dict[str, Any]:
    response = await client.get(documents_path(patient_id), params=params, headers=reader.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def my_documents(client: httpx.AsyncClient, citizen: Citizen) -> list[dict[str, Any]]:
    response = await client.get("/citizen/v1/me/documents", headers=citizen.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def blob_counts(db: Any, patient_id: uuid.UUID) -> tuple[int, int, int]:
    """(documents, blobs, chunks) of the patient: what an upload left behind."""
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM document WHERE patient_id = $1) AS documents,
               (SELECT count(*) FROM document_blob WHERE patient_id = $1) AS blobs,
               (SELECT count(*) FROM document_blob_chunk WHERE patient_id = $1) AS chunks
        """,
        patient_id,
    )
    return row["documents"], row["blobs"], row["chunks"]
