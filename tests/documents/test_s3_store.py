"""The S3-compatible store (`HELSEKORT_DOCUMENT_STORE=s3://bucket/prefix`), against a local S3 server (moto's server
mode, started here): the same API, the bytes in the bucket under the patient and SHA-256, nothing left by a failure."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import asyncpg
import boto3
import httpx
import pytest
from litestar import Litestar
from moto.server import ThreadedMotoServer

from backend.core.db import DB
from backend.documents.intake import once
from backend.documents.store import S3Store, Staged, store_for
from backend.settings import Settings
from tests.documents.helpers import blob_counts, documents_path, metadata, pdf, post_multipart, upload
from tests.factories import new_citizen, new_clinician, relate

BUCKET = "helsekort-documents"
PREFIX = "journal"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {
        name: os.environ.get(name)
        for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")
    }
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1"
    )
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _objects(endpoint: str) -> list[str]:
    listed: dict[str, Any] = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_objects_v2(
        Bucket=BUCKET
    )
    return sorted(item["Key"] for item in listed.get("Contents", []))


@pytest.fixture
async def s3_client(settings: Settings, app: Litestar, s3_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An app on the same database whose documents live in the S3 bucket (the session's app holds the pool)."""
    from backend.app import create_app

    on_s3 = create_app(replace(settings, document_store=f"s3://{BUCKET}/{PREFIX}", document_max_bytes=6 * 1024 * 1024))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=on_s3), base_url="http://testserver") as http:
        yield http


async def test_a_document_round_trips_through_the_bucket(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, s3_server: str, s3_client: httpx.AsyncClient
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    content = pdf() + os.urandom(5 * 1024 * 1024 + 17)  # more than one S3 part

    created = await upload(s3_client, hospital, citizen.patient_id, content)
    key = f"{PREFIX}/{citizen.patient_id}/{created['sha256']}"
    assert key in _objects(s3_server)
    assert not [name for name in _objects(s3_server) if "/staging/" in name]
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 0)  # the bytes are in the bucket, not in chunks

    path = f"{documents_path(citizen.patient_id)}/{created['id']}/content"
    whole = await s3_client.get(path, headers=hospital.headers)
    assert whole.status_code == 200
    assert whole.content == content
    part = await s3_client.get(path, headers={**hospital.headers, "Range": "bytes=1000-300000"})
    assert part.status_code == 206
    assert part.content == content[1000:300001]
    mine = await s3_client.get(f"/citizen/v1/me/documents/{created['id']}/content", headers=citizen.headers)
    assert mine.content == content

    # The same content again (another document) is stored once.
    again = await upload(s3_client, hospital, citizen.patient_id, content, title="Kopi")
    assert again["sha256"] == created["sha256"]
    assert [name for name in _objects(s3_server) if str(citizen.patient_id) in name] == [key]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"x" * 100, "application/pdf", 415),
        (b"%PDF-1.4\n" + b"\x00" * (6 * 1024 * 1024), "application/pdf", 413),
    ],
)
async def test_a_refused_upload_leaves_no_object_behind(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    s3_server: str,
    s3_client: httpx.AsyncClient,
    content: bytes,
    content_type: str,
    status: int,
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    before = _objects(s3_server)
    response = await post_multipart(s3_client, hospital, citizen.patient_id, metadata(), content, content_type)
    assert response.status_code == status, response.text
    assert _objects(s3_server) == before
    assert await blob_counts(db, citizen.patient_id) == (0, 0, 0)


async def test_a_conflicting_upload_and_a_rolled_back_one_leave_no_object_behind(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, s3_server: str, s3_client: httpx.AsyncClient
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    meta = metadata()
    first = await post_multipart(s3_client, hospital, citizen.patient_id, meta, pdf())
    assert first.status_code == 201
    before = _objects(s3_server)
    conflict = await post_multipart(s3_client, hospital, citizen.patient_id, meta, pdf("Andre bytes"))
    assert conflict.status_code == 409
    assert _objects(s3_server) == before

    # A transaction that fails after the object was placed: discard removes it, as no row names the content.
    store = store_for(f"s3://{BUCKET}/{PREFIX}")
    assert isinstance(store, S3Store)
    content = pdf("Rullet tilbake")
    placed: list[Staged] = []

    async def fail_after_keep() -> None:
        async with DB.transaction(), DB.connection() as connection:
            staged = await store.stage(connection, citizen.patient_id, once(content))
            await store.keep(connection, citizen.patient_id, staged)
            placed.append(staged)
            assert f"{PREFIX}/{citizen.patient_id}/{staged.sha256}" in _objects(s3_server)
            raise RuntimeError("the upload failed after keep")

    with pytest.raises(RuntimeError, match="after keep"):
        await fail_after_keep()
    [staged] = placed
    await store.discard(citizen.patient_id, staged)
    assert _objects(s3_server) == before
    assert await blob_counts(db, citizen.patient_id) == (1, 1, 0)
    # …but an object a row still names is kept.
    kept = first.json()
    await store.discard(citizen.patient_id, Staged(uuid.uuid4(), kept["sha256"], kept["size"]))
    assert _objects(s3_server) == before
