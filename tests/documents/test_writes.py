"""Idempotent by the sender's id, `replaces` supersedes, entered in error by the author's organisation only."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from litestar import Litestar

from tests.documents.helpers import (
    blob_counts,
    documents_path,
    listing,
    metadata,
    my_documents,
    pdf,
    post_multipart,
    upload,
)
from tests.factories import new_citizen, new_clinician, relate


async def test_the_same_id_and_bytes_again_is_200_and_nothing_new(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    meta, content = metadata(), pdf()
    first = await post_multipart(client, hospital, citizen.patient_id, meta, content)
    assert first.status_code == 201, first.text
    again = await post_multipart(client, hospital, citizen.patient_id, meta, content)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 1)
    events = await db.fetchval(
        "SELECT count(*) FROM event WHERE patient_id = $1 AND type = 'document.added'", citizen.patient_id
    )
    assert events == 1

    other = await post_multipart(client, hospital, citizen.patient_id, meta, pdf("Annen epikrise"))
    assert other.status_code == 409, other.text
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 1)


async def test_replaces_supersedes_the_older_document(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    old = await upload(client, hospital, citizen.patient_id)
    new = await upload(client, hospital, citizen.patient_id, pdf("Korrigert epikrise"), replaces=old["id"])
    assert new["replaces"] == old["id"]
    assert new["status"] == "current"

    got = await client.get(f"{documents_path(citizen.patient_id)}/{old['id']}", headers=hospital.headers)
    assert got.json()["status"] == "superseded"
    assert got.json()["supersededBy"] == new["id"]
    statuses = {item["id"]: item["status"] for item in (await listing(client, hospital, citizen.patient_id))["items"]}
    assert statuses == {old["id"]: "superseded", new["id"]: "current"}
    assert {item["id"]: item["status"] for item in await my_documents(client, citizen)} == statuses

    # Only a current document can be replaced.
    again = await post_multipart(client, hospital, citizen.patient_id, metadata(replaces=old["id"]), pdf())
    assert again.status_code == 409, again.text


async def test_only_the_author_organisation_replaces_or_retracts_its_document(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    colleague = new_clinician(app, org_kind="sykehus", org=hospital.org)
    gp = new_clinician(app)
    for clinician in (hospital, gp):
        await relate(client, clinician, citizen.patient_id)
    document = await upload(client, hospital, citizen.patient_id)

    replacing = await post_multipart(client, gp, citizen.patient_id, metadata(replaces=document["id"]), pdf())
    assert replacing.status_code == 403, replacing.text
    path = f"{documents_path(citizen.patient_id)}/{document['id']}/entered-in-error"
    retracting = await client.post(path, json={"reason": "Feil pasient"}, headers=gp.headers)
    assert retracting.status_code == 403, retracting.text
    denied = await db.fetch(
        "SELECT action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 AND basis = 'denied'", gp.hpr
    )
    assert [dict(row) for row in denied] == [
        {"action": "write", "resource_type": "document", "basis": "denied", "refusal": "role"}
    ] * 2
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 1)

    retracted = await client.post(path, json={"reason": "Feil pasient"}, headers=colleague.headers)
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["enteredInErrorReason"] == "Feil pasient"
    assert (await listing(client, hospital, citizen.patient_id))["items"] == []
    assert await my_documents(client, citizen) == []
    mine = await client.get(f"/citizen/v1/me/documents/{document['id']}", headers=citizen.headers)
    assert mine.status_code == 404


async def test_a_laboratory_may_not_upload_documents(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    response = await post_multipart(client, lab, citizen.patient_id, metadata(type="lab-report"), pdf())
    assert response.status_code == 403, response.text
    assert await blob_counts(db, citizen.patient_id) == (0, 0, 0)


async def test_two_uploads_of_the_same_id_at_once_store_one_document(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    meta, content = metadata(), pdf() + bytes(600_000)  # a few chunks, so the two interleave
    answers = await asyncio.gather(
        *(post_multipart(client, hospital, citizen.patient_id, meta, content) for _ in range(2))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 201], [a.text for a in answers]
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 3)
    other = await asyncio.gather(
        post_multipart(client, hospital, citizen.patient_id, (second := metadata()), content),
        post_multipart(client, hospital, citizen.patient_id, second, pdf("Andre bytes")),
    )
    assert sorted(answer.status_code for answer in other) == [201, 409], [a.text for a in other]
    winner = next(answer for answer in other if answer.status_code == 201).json()
    documents, blobs, _ = await blob_counts(db, citizen.patient_id)
    assert (documents, blobs) == (2, 1 if winner["sha256"] == answers[0].json()["sha256"] else 2)
