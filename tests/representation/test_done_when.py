"""Issue 18, done when: a mother sees her 7-year-old's lab result and renews her 13-year-old's prescription, cannot see
the 13-year-old's lab results, and the daughter with power of attorney for her 84-year-old father reads his
medication list — every access in the right person's log."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import new_clinician, relate
from tests.labs.reports import lab_report, released
from tests.medications.factories import entry, prescribed, write
from tests.representation.helpers import acting, audit_rows, give_power, person_aged, register_guardian


async def test_mother_children_and_the_daughter_with_power_of_attorney(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    mother = await person_aged(client, app, 38)
    son = await person_aged(client, app, 7)
    daughter = await person_aged(client, app, 13)
    for child in (son, daughter):
        await register_guardian(client, app, mother, child)
    gp = new_clinician(app, org_kind="fastlege", name="Fastlege Test")
    for child in (son, daughter):
        await relate(client, gp, child.patient_id)
    sons_report = await released(client, gp, son.patient_id, lab_report(requester=gp))
    await released(client, gp, daughter.patient_id, lab_report(requester=gp))
    medicine = entry("Ventoline", "R03AC02", strength="0,1 mg/dose")
    await write(client, gp, daughter.patient_id, [medicine], 0)
    prescription = await prescribed(client, gp, daughter.patient_id, medicine["id"])

    # She sees her 7-year-old's lab result (the list and the report).
    results = await client.get("/citizen/v1/me/lab-results", headers=acting(mother, son))
    assert results.status_code == 200, results.text
    assert [item["id"] for item in results.json()["items"]] == [sons_report]
    one = await client.get(f"/citizen/v1/me/lab-results/{sons_report}", headers=acting(mother, son))
    assert one.status_code == 200, one.text

    # She renews her 13-year-old's prescription …
    renewal = await client.post(
        f"/citizen/v1/me/prescriptions/{prescription['id']}/renewal-requests",
        json={"note": "Snart tom"},
        headers=acting(mother, daughter),
    )
    assert renewal.status_code == 201, renewal.text
    # … and cannot see the 13-year-old's lab results: 404, as for anyone's.
    hidden = await client.get("/citizen/v1/me/lab-results", headers=acting(mother, daughter))
    assert hidden.status_code == 404, hidden.text

    # The daughter with power of attorney for her 84-year-old father reads his medication list.
    father = await person_aged(client, app, 84)
    adult_daughter = await person_aged(client, app, 52)
    fathers_gp = new_clinician(app, org_kind="fastlege")
    await relate(client, fathers_gp, father.patient_id)
    await write(client, fathers_gp, father.patient_id, [entry("Albyl-E", "B01AC06", strength="75 mg")], 0)
    await give_power(client, father, adult_daughter, ["medications"])
    medications = await client.get("/citizen/v1/me/medications", headers=acting(adult_daughter, father))
    assert medications.status_code == 200, medications.text
    assert [item["name"] for item in medications.json()["entries"]] == ["Albyl-E"]
    # Power of attorney for medications is not power of attorney for lab results.
    assert (await client.get("/citizen/v1/me/lab-results", headers=acting(adult_daughter, father))).status_code == 404

    # Every access in the right person's log: basis `representative` (or `denied`), the actor a citizen.
    def acted(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [
            (r["actor_kind"], r["action"], r["resource_type"], r["basis"], r["refusal"])
            for r in rows
            if r["actor_kind"] == "citizen"
        ]

    assert acted(await audit_rows(db, son.patient_id)) == [
        ("citizen", "read", "lab-results", "representative", None),
        ("citizen", "read", "lab-results", "representative", None),
    ]
    assert acted(await audit_rows(db, daughter.patient_id)) == [
        ("citizen", "write", "prescriptions", "representative", None),
        ("citizen", "read", "lab-results", "denied", "out-of-scope"),
    ]
    assert acted(await audit_rows(db, father.patient_id)) == [
        ("citizen", "read", "medications", "representative", None),
        ("citizen", "read", "lab-results", "denied", "out-of-scope"),
    ]
    assert acted(await audit_rows(db, mother.patient_id)) == []
    assert acted(await audit_rows(db, adult_daughter.patient_id)) == []
    # The father reads it in his own access log, the representative named as a citizen.
    log = await client.get("/citizen/v1/me/access-log", headers=father.headers)
    assert log.status_code == 200, log.text
    entries = [(e["actorKind"], e["basis"], e["resourceType"], e["representative"]) for e in log.json()["items"]]
    assert ("citizen", "representative", "medications", str(adult_daughter.patient_id)) in entries
    assert ("citizen", "denied", "lab-results", str(adult_daughter.patient_id)) in entries
    assert all(e[3] is None for e in entries if e[0] != "citizen")
    # The renewal is the daughter's (the 13-year-old's) own request, on her list.
    mine = await client.get("/citizen/v1/me/renewal-requests", headers=daughter.headers)
    assert mine.status_code == 200, mine.text
    assert len(mine.json()["items"]) == 1
