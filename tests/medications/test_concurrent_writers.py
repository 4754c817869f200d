"""Two organisations editing one list from the same version: exactly one wins, the other gets 412 and retries."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from litestar import Litestar

from tests.medications.factories import entry, patient_with_gp, put, read, related_clinician, write


async def test_two_clinicians_writing_from_the_same_version_one_wins_and_the_loser_retries(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    hospital = await related_clinician(client, app, patient, org_kind="sykehus", authorization="LE")
    base = await write(client, patient.gp, patient.id, [entry()], 0)

    gp_change = [*base["entries"], entry("Paracet", "N02BE01")]
    hospital_change = [*base["entries"], entry("Fragmin", "B01AB04", strength="5000 IE")]
    answers = await asyncio.gather(
        put(client, patient.gp, patient.id, gp_change, 1),
        put(client, hospital, patient.id, hospital_change, 1),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 412]
    winner, loser = (answers[0], answers[1]) if answers[0].status_code == 200 else (answers[1], answers[0])
    assert winner.json()["version"] == 2
    assert loser.json()["currentVersion"] == 2

    # The loser reads the list again, reapplies its change and succeeds; nothing is lost.
    loser_clinician, loser_entry = (
        (hospital, hospital_change[-1]) if answers[0].status_code == 200 else (patient.gp, gp_change[-1])
    )
    fresh = await read(client, loser_clinician, patient.id)
    assert fresh.headers["etag"] == '"2"'
    retried = await write(client, loser_clinician, patient.id, [*fresh.json()["entries"], loser_entry], 2)
    assert retried["version"] == 3
    assert sorted(item["name"] for item in retried["entries"]) == ["Fragmin", "Levaxin", "Paracet"]
    assert await db.fetchval("SELECT count(*) FROM medication_list_version WHERE patient_id = $1", patient.id) == 3


async def test_many_writers_from_one_version_exactly_one_wins(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    base = await write(client, patient.gp, patient.id, [entry()], 0)
    answers = await asyncio.gather(
        *(
            put(client, patient.gp, patient.id, [*base["entries"], entry(f"Medisin {n}", "N02BE01")], 1)
            for n in range(8)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200] + [412] * 7
    rows = await db.fetchval("SELECT count(*) FROM medication_entry_version WHERE patient_id = $1", patient.id)
    assert rows == 2


async def test_two_first_writes_to_a_new_list_do_not_both_win(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    answers = await asyncio.gather(
        put(client, patient.gp, patient.id, [entry("A", "N02BE01")], 0),
        put(client, patient.gp, patient.id, [entry("B", "N02BE01")], 0),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 412]
    assert await db.fetchval("SELECT version FROM medication_list WHERE patient_id = $1", patient.id) == 1
