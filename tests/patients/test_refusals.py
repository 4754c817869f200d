"""Care-relation routes refused by role: 403 before anything about the patient is asked, one denied row each."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from tests.factories import Clinician, new_citizen, new_clinician


async def _rows(db: Any, clinician: Clinician) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT patient_id, action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id",
        clinician.hpr,
    )
    return [dict(row) for row in rows]


async def test_attesting_a_kind_the_organisation_may_not_is_one_role_refusal_and_no_relation(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    woman = await new_citizen(client, app)
    gp = new_clinician(app, org_kind="fastlege")
    response = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/care-relations", json={"kind": "midwife"}, headers=gp.headers
    )
    assert response.status_code == 403, response.text
    assert "may not attest a midwife care relation" in response.json()["detail"]
    assert await _rows(db, gp) == [
        {
            "patient_id": woman.patient_id,
            "action": "attest",
            "resource_type": "care-relation",
            "basis": "denied",
            "refusal": "role",
        }
    ]
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE patient_id = $1", woman.patient_id) == 0


async def test_a_laboratory_listing_care_relations_is_one_role_refusal(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    woman = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    response = await client.get(
        f"/clinician/v1/patients/{woman.patient_id}/care-relations", params={"limit": 5}, headers=lab.headers
    )
    assert response.status_code == 403, response.text
    assert await _rows(db, lab) == [
        {
            "patient_id": woman.patient_id,
            "action": "read",
            "resource_type": "care-relation",
            "basis": "denied",
            "refusal": "role",
        }
    ]
