"""Upload and download, byte for byte: multipart and FHIR, every allowed type, the headers content is served with."""

from __future__ import annotations

import hashlib
import os

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.documents.store import CHUNK_SIZE
from tests.documents.helpers import (
    JPEG,
    PNG,
    TEXT,
    blob_counts,
    documents_path,
    fhir_document_reference,
    metadata,
    pdf,
    upload,
)
from tests.factories import new_citizen, new_clinician, relate


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(None, "application/pdf"), (TEXT, "text/plain"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
async def test_a_document_comes_back_byte_for_byte_with_safe_headers(
    client: httpx.AsyncClient, app: Litestar, content: bytes | None, content_type: str
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    content = content or pdf()

    created = await upload(client, gp, citizen.patient_id, content, content_type)
    assert created["contentType"] == content_type
    assert created["size"] == len(content)
    assert created["sha256"] == hashlib.sha256(content).hexdigest()
    assert created["status"] == "current"
    assert created["organisation"] == gp.org
    assert created["author"]["hpr"] == gp.hpr

    response = await client.get(f"{documents_path(citizen.patient_id)}/{created['id']}/content", headers=gp.headers)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["etag"] == f'"{created["sha256"]}"'
    assert "content-encoding" not in response.headers

    mine = await client.get(f"/citizen/v1/me/documents/{created['id']}/content", headers=citizen.headers)
    assert mine.status_code == 200
    assert mine.content == content


async def test_a_file_of_many_chunks_round_trips_and_ranges_cross_chunk_borders(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    content = pdf() + os.urandom(3 * CHUNK_SIZE + 1234)

    created = await upload(client, hospital, citizen.patient_id, content)
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 4)
    path = f"{documents_path(citizen.patient_id)}/{created['id']}/content"
    whole = await client.get(path, headers=hospital.headers)
    assert whole.content == content

    start, end = CHUNK_SIZE - 10, 2 * CHUNK_SIZE + 10
    part = await client.get(path, headers={**hospital.headers, "Range": f"bytes={start}-{end}"})
    assert part.status_code == 206
    assert part.content == content[start : end + 1]
    assert part.headers["content-range"] == f"bytes {start}-{end}/{len(content)}"
    assert part.headers["accept-ranges"] == "bytes"

    tail = await client.get(path, headers={**hospital.headers, "Range": "bytes=-100"})
    assert tail.status_code == 206
    assert tail.content == content[-100:]
    open_ended = await client.get(path, headers={**hospital.headers, "Range": f"bytes={len(content) - 5}-"})
    assert open_ended.content == content[-5:]

    beyond = await client.get(path, headers={**hospital.headers, "Range": f"bytes={len(content)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(content)}"


async def test_ranges_are_for_pdfs_only(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    created = await upload(client, gp, citizen.patient_id, TEXT, "text/plain")
    response = await client.get(
        f"{documents_path(citizen.patient_id)}/{created['id']}/content", headers={**gp.headers, "Range": "bytes=0-3"}
    )
    assert response.status_code == 200
    assert response.content == TEXT


async def test_a_fhir_document_reference_with_an_inline_attachment_round_trips(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    content = pdf("Epikrise fra FHIR")
    meta = metadata()
    response = await client.post(
        documents_path(citizen.patient_id),
        json=fhir_document_reference(meta, content),
        headers={**hospital.headers, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] == meta["id"]
    assert created["type"] == "epicrisis"
    assert created["title"] == meta["title"]
    assert created["date"] == meta["date"]
    got = await client.get(f"{documents_path(citizen.patient_id)}/{meta['id']}/content", headers=hospital.headers)
    assert got.content == content


async def test_identical_content_is_stored_once_per_patient(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    content = pdf()
    first = await upload(client, gp, citizen.patient_id, content)
    second = await upload(client, gp, citizen.patient_id, content, title="Kopi")
    assert first["sha256"] == second["sha256"]
    assert await blob_counts(db, citizen.patient_id) == (2, 1, 1)
    for document in (first, second):
        got = await client.get(f"{documents_path(citizen.patient_id)}/{document['id']}/content", headers=gp.headers)
        assert got.content == content
