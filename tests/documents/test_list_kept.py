"""A clinician's document list is kept per reader's organisation, page and decision finding
(core.access.authorize_cached): every request is still its own decision and audit row, a kept list is that one
statement, her restriction and a new upload are seen by the next read, emergency access never gets what an
ordinary reader was shown (nor the other way round), and a refused reader reads nothing."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar

from tests.documents.helpers import documents_path, listing, upload
from tests.factories import (
    Citizen,
    Clinician,
    audit_rows,
    caching_live,
    decisions,
    kept_reads_are_the_decision_alone,
    new_citizen,
    new_clinician,
    refused_readers_leave_their_rows,
    relate,
    split_audit,
)


async def _with_documents(client: httpx.AsyncClient, app: Litestar) -> tuple[Citizen, Clinician, Clinician, str]:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    gp = new_clinician(app)
    for clinician in (hospital, gp):
        await relate(client, clinician, citizen.patient_id)
    secret = await upload(client, hospital, citizen.patient_id, title="Poliklinisk notat", type="outpatient-note")
    await upload(client, hospital, citizen.patient_id)
    await caching_live()
    return citizen, hospital, gp, secret["id"]


async def test_a_kept_list_is_the_decision_alone_with_its_row_and_the_same_answer(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    citizen, _hospital, gp, _secret = await _with_documents(client, app)
    first = await kept_reads_are_the_decision_alone(
        lambda: listing(client, gp, citizen.patient_id),
        db,
        statements,
        gp,
        resource_type="document",
        table="FROM document d",
    )
    assert len(first["items"]) == 2


async def test_her_restriction_and_a_new_upload_reach_the_next_read_of_a_kept_list(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen, hospital, gp, secret = await _with_documents(client, app)
    await listing(client, gp, citizen.patient_id)
    assert len((await listing(client, gp, citizen.patient_id))["items"]) == 2  # kept
    restricted = await client.put(f"/citizen/v1/me/documents/{secret}/restriction", headers=citizen.headers)
    assert restricted.status_code == 204, restricted.text
    page = await listing(client, gp, citizen.patient_id)
    assert secret not in {item["id"] for item in page["items"]}
    assert page["restrictedCount"] == 1
    await upload(client, hospital, citizen.patient_id, type="referral", title="Henvisning")
    assert len((await listing(client, gp, citizen.patient_id))["items"]) == 2


async def test_emergency_access_and_another_organisation_never_get_a_list_kept_for_someone_else(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, hospital, gp, secret = await _with_documents(client, app)
    restricted = await client.put(f"/citizen/v1/me/documents/{secret}/restriction", headers=citizen.headers)
    assert restricted.status_code == 204, restricted.text
    await caching_live()
    doctor = new_clinician(app, org_kind="legevakt")
    await relate(client, doctor, citizen.patient_id)
    for _ in range(2):  # read and kept: the restricted one hidden and counted
        ordinary = await listing(client, doctor, citizen.patient_id)
        assert secret not in {item["id"] for item in ordinary["items"]}
        assert ordinary["restrictedCount"] == 1
    opened = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "Bevisstløs pasient på legevakt, trenger journal"},
        headers=doctor.headers,
    )
    assert opened.status_code == 201, opened.text
    for _ in range(2):
        emergency = await listing(client, doctor, citizen.patient_id)
        assert secret in {item["id"] for item in emergency["items"]}
        assert emergency["restrictedCount"] == 0
    assert [row["basis"] for row in await audit_rows(db, doctor) if row["action"] == "read"][-2:] == ["emergency"] * 2
    # The author's organisation sees its own restricted document; the GP's kept list is still the GP's.
    assert secret in {item["id"] for item in (await listing(client, hospital, citizen.patient_id))["items"]}
    assert (await listing(client, gp, citizen.patient_id))["restrictedCount"] == 1


async def test_a_refused_read_of_a_kept_list_reads_nothing_and_leaves_its_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    citizen, _hospital, gp, _secret = await _with_documents(client, app)
    await listing(client, gp, citizen.patient_id)
    await listing(client, gp, citizen.patient_id)  # kept
    statements.clear()
    await refused_readers_leave_their_rows(client, app, db, documents_path(citizen.patient_id), hers="Epikrise")
    app_statements = [statement for statement in statements if "FROM audit_log WHERE hpr" not in statement]
    own, audited = split_audit(app_statements)
    assert audited == 1, app_statements  # the stranger's denied row, after her decision
    assert len(own) == 2, own  # the stranger's decision; the laboratory's refusal by role, its row written at once
    # The stranger's decision (a read in it is gated by the verdict: planned, never run, as the plan tests show),
    # then the laboratory's refusal by role.
    assert decisions(own[:1]), own
    assert own[1].startswith("INSERT INTO audit_log ("), own
