"""Every bad upload is a clear 4xx naming what is wrong, and leaves nothing: no document, no blob, no chunk, no event."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.settings import Settings
from tests.documents.helpers import (
    PNG,
    TEXT,
    blob_counts,
    documents_path,
    fhir_document_reference,
    metadata,
    pdf,
    post_multipart,
    upload,
)
from tests.factories import Citizen, Clinician, new_citizen, new_clinician, relate


async def _patient(client: httpx.AsyncClient, app: Litestar) -> tuple[Citizen, Clinician]:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    return citizen, hospital


async def _nothing_stored(db: asyncpg.Connection, patient_id: uuid.UUID) -> None:
    assert await blob_counts(db, patient_id) == (0, 0, 0)
    events = await db.fetchval(
        "SELECT count(*) FROM event WHERE patient_id = $1 AND type LIKE 'document.%'", patient_id
    )
    assert events == 0


BAD_FILES = [
    pytest.param(pdf(), "application/zip", 415, "application/zip", id="type not allowed"),
    pytest.param(pdf(), "application/octet-stream", 415, "not accepted", id="octet-stream"),
    pytest.param(PNG, "application/pdf", 415, "not application/pdf", id="png said to be a pdf"),
    pytest.param(pdf(), "image/png", 415, "not image/png", id="pdf said to be a png"),
    pytest.param(pdf(), "image/jpeg", 415, "not image/jpeg", id="pdf said to be a jpeg"),
    pytest.param(pdf(), "text/plain", 415, "not text/plain", id="pdf said to be text"),
    pytest.param(b"\xff\xfe\x00\x01 not utf-8", "text/plain", 415, "text/plain", id="text not utf-8"),
    pytest.param(b"plain text with a \x00 NUL", "text/plain", 415, "NUL", id="text with NUL"),
    pytest.param(b"", "application/pdf", 400, "empty", id="empty file"),
]


@pytest.mark.parametrize(("content", "content_type", "status", "words"), BAD_FILES)
async def test_a_bad_file_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    content: bytes,
    content_type: str,
    status: int,
    words: str,
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await post_multipart(client, hospital, citizen.patient_id, metadata(), content, content_type)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    await _nothing_stored(db, citizen.patient_id)


BAD_METADATA = [
    pytest.param({"title": ""}, "metadata.title", id="empty title"),
    pytest.param({"type": "x-ray"}, "metadata.type", id="unknown type"),
    pytest.param({"date": "yesterday"}, "metadata.date", id="bad date"),
    pytest.param({"id": "not-a-uuid"}, "metadata.id", id="bad id"),
    pytest.param({"colour": "blue"}, "metadata.colour", id="unknown field"),
    pytest.param({"visibleToPatient": False}, "metadata.hiddenReason", id="hidden without a reason"),
    pytest.param({"replaces": str(uuid.uuid4())}, "metadata.replaces", id="unknown replaces"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_METADATA)
async def test_bad_metadata_names_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, overrides: dict[str, Any], field: str
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await post_multipart(client, hospital, citizen.patient_id, metadata(**overrides), pdf())
    assert response.status_code == 400, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    await _nothing_stored(db, citizen.patient_id)


async def test_metadata_missing_title_is_named(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, hospital = await _patient(client, app)
    meta = metadata()
    del meta["title"]
    response = await post_multipart(client, hospital, citizen.patient_id, meta, pdf())
    assert response.status_code == 400
    assert "metadata.title" in {error["field"] for error in response.json()["errors"]}
    await _nothing_stored(db, citizen.patient_id)


@pytest.mark.parametrize(
    ("with_metadata", "with_content", "field"), [(False, True, "metadata"), (True, False, "content")]
)
async def test_a_missing_part_is_named(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    with_metadata: bool,
    with_content: bool,
    field: str,
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await post_multipart(
        client, hospital, citizen.patient_id, metadata() if with_metadata else None, pdf() if with_content else None
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == field
    await _nothing_stored(db, citizen.patient_id)


async def test_metadata_after_the_content_that_is_invalid_rolls_the_stored_chunks_back(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, hospital = await _patient(client, app)
    boundary = "grense"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf()
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
            f"{json.dumps(metadata(title=''))}\r\n--{boundary}--\r\n"
        ).encode()
    )
    response = await client.post(
        documents_path(citizen.patient_id),
        content=body,
        headers={**hospital.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400, response.text
    await _nothing_stored(db, citizen.patient_id)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"just text", "text/plain", 415),
        (b"--x\r\nbroken", "multipart/form-data", 400),  # no boundary parameter
        (b'--x\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{}', "multipart/form-data; boundary=x", 400),
        (b"{not json", "application/fhir+json", 400),
        (b'{"resourceType": "Patient"}', "application/fhir+json", 400),
    ],
)
async def test_a_body_that_is_no_upload_is_refused(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, body: bytes, content_type: str, status: int
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await client.post(
        documents_path(citizen.patient_id), content=body, headers={**hospital.headers, "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    await _nothing_stored(db, citizen.patient_id)


async def test_a_fhir_upload_with_a_lying_type_is_refused(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await client.post(
        documents_path(citizen.patient_id),
        json=fhir_document_reference(metadata(), PNG, "application/pdf"),
        headers={**hospital.headers, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 415, response.text
    await _nothing_stored(db, citizen.patient_id)


async def test_a_file_over_the_default_limit_of_20_mib_is_413_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, hospital = await _patient(client, app)
    content = pdf() + b"\x00" * (20 * 1024 * 1024)
    response = await post_multipart(client, hospital, citizen.patient_id, metadata(), content)
    assert response.status_code == 413, response.text
    await _nothing_stored(db, citizen.patient_id)


@pytest.fixture
async def small_limit(settings: Settings, app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The same database and keys, with a document limit of 4 KiB (the session's app holds the pool open)."""
    from backend.app import create_app

    limited = create_app(replace(settings, document_max_bytes=4096))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://testserver") as http:
        yield http


async def test_the_limit_is_the_document_limit_not_the_one_mib_default(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, small_limit: httpx.AsyncClient
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await post_multipart(small_limit, hospital, citizen.patient_id, metadata(), TEXT * 200, "text/plain")
    assert response.status_code == 413, response.text
    await _nothing_stored(db, citizen.patient_id)
    # 2 MiB is over the app's 1 MiB default body limit and under the document limit: accepted.
    big = pdf() + b"\x00" * (2 * 1024 * 1024)
    created = await upload(client, hospital, citizen.patient_id, big)
    assert created["size"] == len(big)


async def test_a_second_entered_in_error_is_409(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen, hospital = await _patient(client, app)
    document = await upload(client, hospital, citizen.patient_id)
    path = f"{documents_path(citizen.patient_id)}/{document['id']}/entered-in-error"
    first = await client.post(path, json={"reason": "Feil pasient"}, headers=hospital.headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "entered-in-error"
    second = await client.post(path, json={"reason": "Feil pasient"}, headers=hospital.headers)
    assert second.status_code == 409, second.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "x-ray"}, "type"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"cursor": "nonsense"}, "cursor"),
    ],
)
async def test_a_bad_list_query_names_the_parameter(
    client: httpx.AsyncClient, app: Litestar, params: dict[str, str], field: str
) -> None:
    citizen, hospital = await _patient(client, app)
    response = await client.get(documents_path(citizen.patient_id), params=params, headers=hospital.headers)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == field
