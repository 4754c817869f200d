"""Tjenstlig behov: care relations, who may attest them, blocks, consent, emergency access and labs."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.access import authorize
from backend.core.errors import Forbidden, NotFound
from tests.factories import block, new_citizen, new_clinician, relate, synthetic_fnr


async def test_lookup_answers_the_same_patient_for_the_same_number(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    clinician = new_clinician(app)
    response = await client.post("/clinician/v1/patients/lookup", json={"fnr": citizen.fnr}, headers=clinician.headers)
    assert response.status_code == 200
    assert response.json() == {"patientId": str(citizen.patient_id)}


async def test_lookup_rejects_bad_control_digits_without_echoing_them(client: httpx.AsyncClient, app: Litestar) -> None:
    fnr = synthetic_fnr()
    bad = fnr[:-1] + str((int(fnr[-1]) + 1) % 10)
    response = await client.post("/clinician/v1/patients/lookup", json={"fnr": bad}, headers=new_clinician(app).headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "fnr"
    assert bad not in response.text


async def test_unrelated_clinician_gets_404_like_a_missing_patient(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    clinician = new_clinician(app)
    existing = await client.get(
        f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=clinician.headers
    )
    missing = await client.get(f"/clinician/v1/patients/{uuid.uuid4()}/care-relations", headers=clinician.headers)
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["detail"] == missing.json()["detail"]


async def test_care_relation_gives_the_whole_organisation_access(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app, org_kind="fastlege")
    colleague = new_clinician(app, org_kind="fastlege", org=gp.org)
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/care-relations", json={"kind": "gp"}, headers=gp.headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "gp"
    assert body["until"] is None
    assert body["attestedBy"]["hpr"] == gp.hpr
    listed = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=colleague.headers)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]


@pytest.mark.parametrize(
    ("org_kind", "kind", "allowed"),
    [
        ("fastlege", "gp", True),
        ("fastlege", "midwife", False),
        ("helsestasjon", "midwife", True),
        ("sykehus", "hospital", True),
        ("sykehus", "midwife", True),
        ("sykehus", "gp", False),
        ("legevakt", "legevakt", True),
        ("hjemmetjeneste", "homecare", True),
        ("laboratorium", "gp", False),
        ("laboratorium", "hospital", False),
    ],
)
async def test_which_organisation_kinds_may_attest_which_relation(
    client: httpx.AsyncClient, app: Litestar, org_kind: str, kind: str, allowed: bool
) -> None:
    citizen = await new_citizen(client, app)
    clinician = new_clinician(app, org_kind=org_kind)
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/care-relations", json={"kind": kind}, headers=clinician.headers
    )
    assert response.status_code == (201 if allowed else 403)


@pytest.mark.parametrize("until", ["2000-01-01T00:00:00+00:00", "2030-01-01T00:00:00", "2099-01-01T00:00:00+00:00"])
async def test_care_relation_end_time_is_validated(client: httpx.AsyncClient, app: Litestar, until: str) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/care-relations",
        json={"kind": "gp", "until": until},
        headers=gp.headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "until"
    listed = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=gp.headers)
    assert listed.status_code == 404  # nothing was stored


async def test_expired_care_relation_no_longer_gives_access(
    client: httpx.AsyncClient, app: Litestar, db: object
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    await db.execute(  # type: ignore[attr-defined]
        "UPDATE care_relation SET valid_until = now() - interval '1 second' WHERE patient_id = $1", citizen.patient_id
    )
    response = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=gp.headers)
    assert response.status_code == 404


async def test_block_refuses_a_related_clinician_but_not_emergency_access(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    await block(client, citizen, gp)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    assert (await client.get(path, headers=gp.headers)).status_code == 404
    emergency = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "Bevisstløs pasient på legevakt, trenger legemiddelliste"},
        headers=gp.headers,
    )
    assert emergency.status_code == 201
    assert "until" in emergency.json()
    assert (await client.get(path, headers=gp.headers)).status_code == 200
    # The citizen sees the emergency access in her feed and her access log.
    changes = (await client.get("/citizen/v1/me/changes", headers=citizen.headers)).json()["items"]
    assert "emergency-access.opened" in [item["type"] for item in changes]
    log = (await client.get("/citizen/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assert {"emergency", "denied"} <= {entry["basis"] for entry in log}


async def test_emergency_access_needs_a_reason(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "x"},
        headers=new_clinician(app).headers,
    )
    assert response.status_code == 400
    assert "reason" in response.text


async def test_emergency_access_to_a_missing_patient_is_404(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await client.post(
        f"/clinician/v1/patients/{uuid.uuid4()}/emergency-access",
        json={"reason": "Akutt innleggelse uten journal"},
        headers=new_clinician(app).headers,
    )
    assert response.status_code == 404


async def test_consent_is_required_where_the_resource_asks_for_it(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    await relate(client, midwife, citizen.patient_id)
    from backend.core.auth import ClinicianPrincipal

    principal: ClinicianPrincipal = await app.state.token_verifier.verify(midwife.token)
    with pytest.raises(NotFound):
        await authorize(
            principal, citizen.patient_id, action="read", resource_type="pregnancy", consent="pregnancy-card"
        )
    assert (await client.put("/citizen/v1/me/consents/pregnancy-card", headers=citizen.headers)).status_code == 204
    grant = await authorize(
        principal, citizen.patient_id, action="read", resource_type="pregnancy", consent="pregnancy-card"
    )
    assert grant.basis == "care-relation"
    assert (await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=citizen.headers)).status_code == 204
    with pytest.raises(NotFound):
        await authorize(
            principal, citizen.patient_id, action="read", resource_type="pregnancy", consent="pregnancy-card"
        )


async def test_laboratory_may_write_for_any_patient_but_never_read(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    principal = await app.state.token_verifier.verify(lab.token)
    grant = await authorize(
        principal, citizen.patient_id, action="write", resource_type="lab-report", laboratory_may_write=True
    )
    assert grant.basis == "laboratory"
    with pytest.raises(Forbidden):  # a role that may not read: 403, audited as refused by role
        await authorize(
            principal, citizen.patient_id, action="read", resource_type="lab-report", laboratory_may_write=True
        )
    with pytest.raises(NotFound):
        await authorize(principal, uuid.uuid4(), action="write", resource_type="lab-report", laboratory_may_write=True)


async def test_me_is_created_once_and_reports_consents(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    again = await client.get("/citizen/v1/me", headers=citizen.headers)
    assert again.json() == {"patientId": str(citizen.patient_id), "consents": []}
    await client.put("/citizen/v1/me/consents/pregnancy-card", headers=citizen.headers)
    assert (await client.get("/citizen/v1/me", headers=citizen.headers)).json()["consents"] == ["pregnancy-card"]


async def test_unknown_consent_scope_and_bad_hpr_are_400(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    scope = await client.put("/citizen/v1/me/consents/everything", headers=citizen.headers)
    assert scope.status_code == 400
    assert scope.json()["errors"][0]["field"] == "scope"
    hpr = await client.put("/citizen/v1/me/blocks/not-a-number", headers=citizen.headers)
    assert hpr.status_code == 400


async def test_blocks_are_listed_and_lifted(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    await block(client, citizen, gp)
    await block(client, citizen, gp)  # idempotent
    blocks = (await client.get("/citizen/v1/me/blocks", headers=citizen.headers)).json()["items"]
    assert [entry["hpr"] for entry in blocks] == [gp.hpr]
    assert (await client.delete(f"/citizen/v1/me/blocks/{gp.hpr}", headers=citizen.headers)).status_code == 204
    assert (await client.get("/citizen/v1/me/blocks", headers=citizen.headers)).json()["items"] == []
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    assert (await client.get(path, headers=gp.headers)).status_code == 200


async def _audit_bases(db: asyncpg.Connection, patient_id: uuid.UUID, hpr: str, action: str) -> list[str]:
    rows = await db.fetch(
        "SELECT basis FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND action = $3 ORDER BY id",
        patient_id,
        hpr,
        action,
    )
    return [row["basis"] for row in rows]


async def test_a_blocked_clinician_cannot_attest_a_relation_that_lets_his_colleagues_in(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """Issue 13: a block must not be sidestepped by the blocked clinician attesting for his organisation."""
    citizen = await new_citizen(client, app)
    blocked = new_clinician(app, org_kind="fastlege")
    colleague = new_clinician(app, org_kind="fastlege", org=blocked.org)
    await block(client, citizen, blocked)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    refused = await client.post(path, json={"kind": "gp"}, headers=blocked.headers)
    missing = await client.post(f"/clinician/v1/patients/{uuid.uuid4()}/care-relations", json={"kind": "gp"},
                                headers=blocked.headers)  # fmt: skip
    assert refused.status_code == missing.status_code == 404  # exactly as for a patient that does not exist
    assert (await client.get(path, headers=colleague.headers)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE patient_id = $1", citizen.patient_id) == 0
    assert await _audit_bases(db, citizen.patient_id, blocked.hpr, "attest") == ["denied"]
    # The colleague, whom she has not blocked, may still attest for the practice.
    await relate(client, colleague, citizen.patient_id)


async def test_a_laboratory_may_not_open_emergency_access_nor_read_through_one(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """Issue 13: a laboratory posts lab reports and nothing else; emergency access is for those who treat."""
    citizen = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "unconscious patient in the lab's waiting room"},
        headers=lab.headers,
    )
    assert response.status_code == 403, response.text
    assert await db.fetchval("SELECT count(*) FROM emergency_access WHERE patient_id = $1", citizen.patient_id) == 0
    assert await _audit_bases(db, citizen.patient_id, lab.hpr, "emergency-access") == ["denied"]
    # An emergency access row a laboratory already holds (opened before this rule) gives it no reading either.
    await db.execute(
        """
        INSERT INTO emergency_access (id, patient_id, hpr, org_number, reason, valid_from, valid_until)
        VALUES ($1, $2, $3, $4, 'opened before the rule', now(), now() + interval '1 hour')
        """,
        uuid.uuid4(),
        citizen.patient_id,
        lab.hpr,
        lab.org,
    )
    medications = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/medications", headers=lab.headers)
    assert medications.status_code == 403  # refused by role before the emergency row is even looked at
