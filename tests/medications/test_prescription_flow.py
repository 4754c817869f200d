"""Issue 17's "done when", through the API only: a GP prescribes from the list, the pharmacy dispenses twice, the
citizen asks for renewal when one is left, the GP approves, and the pharmacy dispenses on the new prescription
while the old one shows as replaced."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar

from tests.medications.factories import (
    dispense,
    entry,
    my_prescriptions,
    patient_with_gp,
    pharmacy,
    prescribed,
    prescriptions_url,
    read,
    write,
)


async def test_prescribe_dispense_renew_approve_and_dispense_on_the_new_one(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    item = entry()
    await write(client, patient.gp, patient.id, [item], 0)

    # The GP prescribes from the list: three dispensings.
    old = await prescribed(client, patient.gp, patient.id, item["id"], dispensings=3)
    assert old["status"] == "active"
    assert old["dispensingsLeft"] == 3
    assert old["medication"]["name"] == "Levaxin"
    assert old["prescriber"]["hpr"] == patient.gp.hpr
    listed = (await read(client, patient.gp, patient.id)).json()["entries"]
    assert listed[0]["prescription"] == {"id": old["id"], "status": "active", "validUntil": old["validUntil"]}

    # The pharmacy, with no care relation, finds her by the fødselsnummer and dispenses twice.
    chemist = pharmacy(app)
    lookup = await client.post(
        "/clinician/v1/patients/lookup", json={"fnr": patient.citizen.fnr}, headers=chemist.headers
    )
    assert lookup.status_code == 200, lookup.text
    assert lookup.json()["patientId"] == str(patient.id)
    active = await client.get(prescriptions_url(patient.id), headers=chemist.headers)
    assert active.status_code == 200, active.text
    assert [p["id"] for p in active.json()["items"]] == [old["id"]]
    for left in (2, 1):
        response = await dispense(client, chemist, patient.id, old["id"])
        assert response.status_code == 201, response.text
        assert response.json()["dispensingsLeft"] == left

    # She sees one left, and asks for renewal from the app.
    [mine] = await my_prescriptions(client, patient.citizen)
    assert (mine["id"], mine["dispensingsLeft"], mine["validUntil"]) == (old["id"], 1, old["validUntil"])
    asked = await client.post(
        f"/citizen/v1/me/prescriptions/{old['id']}/renewal-requests",
        json={"note": "Snart tom"},
        headers=patient.citizen.headers,
    )
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["status"] == "pending"

    # The GP finds it in the practice's inbox and approves.
    inbox = await client.get("/clinician/v1/renewal-requests?status=pending", headers=patient.gp.headers)
    assert inbox.status_code == 200, inbox.text
    assert [r["id"] for r in inbox.json()["items"]] == [request["id"]]
    approved = await client.post(
        f"/clinician/v1/renewal-requests/{request['id']}/approve", json={}, headers=patient.gp.headers
    )
    assert approved.status_code == 200, approved.text
    new_id = approved.json()["newPrescriptionId"]
    assert approved.json()["status"] == "approved"
    assert new_id not in (None, old["id"])

    # The pharmacy dispenses on the new prescription; the old one shows as replaced.
    response = await dispense(client, chemist, patient.id, new_id)
    assert response.status_code == 201, response.text
    assert response.json()["dispensingsLeft"] == 2
    refused = await dispense(client, chemist, patient.id, old["id"])
    assert refused.status_code == 409, refused.text

    everything = await client.get(prescriptions_url(patient.id), headers=patient.gp.headers)
    by_id = {p["id"]: p for p in everything.json()["items"]}
    assert by_id[old["id"]]["status"] == "cancelled"
    assert by_id[old["id"]]["cancelReason"] == "replaced"
    assert by_id[old["id"]]["replacedBy"] == new_id
    assert by_id[new_id]["replaces"] == old["id"]
    assert (by_id[new_id]["status"], by_id[new_id]["dispensingsLeft"]) == ("active", 2)

    # She sees the answer in the app, and the list entry shows the new prescription.
    answers = await client.get("/citizen/v1/me/renewal-requests", headers=patient.citizen.headers)
    assert [(r["id"], r["status"], r["newPrescriptionId"]) for r in answers.json()["items"]] == [
        (request["id"], "approved", new_id)
    ]
    listed = (await read(client, patient.gp, patient.id)).json()["entries"]
    assert listed[0]["prescription"]["id"] == new_id

    # The pharmacy's every access is audited with basis `pharmacy`.
    bases = await db.fetch(
        "SELECT action, resource_type, basis FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND action <> 'lookup'"
        " ORDER BY id",
        patient.id,
        chemist.hpr,
    )
    assert [row["basis"] for row in bases] == ["pharmacy"] * 5
    assert {row["resource_type"] for row in bases} == {"prescription", "prescription-dispensing"}
