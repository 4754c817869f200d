"""Writing the whole list at a version: ETag/If-Match, the missing-entries rule, validation, warnings and events."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.medications.factories import entry, list_url, patient_with_gp, put, read, stopped, write


async def _versions(db: asyncpg.Connection, patient_id: Any) -> tuple[int, int]:
    version = await db.fetchval("SELECT version FROM medication_list WHERE patient_id = $1", patient_id)
    rows = await db.fetchval("SELECT count(*) FROM medication_entry_version WHERE patient_id = $1", patient_id)
    return version or 0, rows


async def test_a_new_patient_has_an_empty_list_at_version_0(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    response = await read(client, patient.gp, patient.id)
    assert response.headers["etag"] == '"0"'
    assert response.json() == {"version": 0, "updatedAt": None, "entries": [], "warnings": [], "lastReconciled": None}


async def test_a_write_makes_a_new_version_and_answers_the_list_with_its_etag(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    levaxin = entry("Levaxin", "H03AA01", dose={"quantity": 1, "unit": "tablett", "timesPerDay": 1})
    response = await put(client, patient.gp, patient.id, [levaxin], 0)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body["version"] == 1
    [stored] = body["entries"]
    assert stored["id"] == levaxin["id"]
    assert stored["dose"] == {
        "quantity": 1,
        "unit": "tablett",
        "timesPerDay": 1,
        "intervalDays": 1,
        "asNeeded": False,
        "maxPerDay": None,
    }
    # A new entry without a prescriber is the writing clinician's.
    assert stored["prescriber"] == {"hpr": patient.gp.hpr, "name": "Fastlege Test"}
    again = await read(client, patient.gp, patient.id)
    assert again.headers["etag"] == '"1"'
    assert again.json()["entries"] == body["entries"]


async def test_what_was_read_can_be_sent_back_unchanged_without_a_new_version(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry(), entry("Paracet", "N02BE01", strength="500 mg")], 0)
    echoed = await write(client, patient.gp, patient.id, body["entries"], 1)
    assert echoed["version"] == 1
    assert echoed["entries"] == body["entries"]
    assert await _versions(db, patient.id) == (1, 2)


async def test_only_changed_entries_get_a_new_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry(), entry("Paracet", "N02BE01", strength="500 mg")], 0)
    changed = [
        {**item, "dosage": "2 tabletter daglig"} if item["name"] == "Paracet" else item for item in body["entries"]
    ]
    after = await write(client, patient.gp, patient.id, changed, 1)
    assert after["version"] == 2
    assert await _versions(db, patient.id) == (2, 3)
    current = await db.fetch(
        "SELECT name, dosage FROM medication_entry_version WHERE patient_id = $1 AND to_version IS NULL ORDER BY name",
        patient.id,
    )
    assert [(row["name"], row["dosage"]) for row in current] == [
        ("Levaxin", "1 tablett daglig"),
        ("Paracet", "2 tabletter daglig"),
    ]


async def test_a_write_without_if_match_is_refused_with_428(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    response = await put(client, patient.gp, patient.id, [entry()], None)
    assert response.status_code == 428
    assert response.json()["currentVersion"] == 0
    assert (await read(client, patient.gp, patient.id)).json()["entries"] == []


async def test_a_write_built_on_an_old_version_is_refused_with_412_and_the_current_version(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    first = await write(client, patient.gp, patient.id, [entry()], 0)
    await write(client, patient.gp, patient.id, [*first["entries"], entry("Paracet", "N02BE01")], 1)
    response = await put(client, patient.gp, patient.id, [*first["entries"], entry("Ibux", "M01AE01")], 1)
    assert response.status_code == 412
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["currentVersion"] == 2
    assert await _versions(db, patient.id) == (2, 2)


async def test_if_match_star_is_not_accepted(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    headers = {**patient.gp.headers, "If-Match": "*"}
    response = await client.put(list_url(patient.id), json={"entries": [entry()]}, headers=headers)
    assert response.status_code == 400


async def test_leaving_out_entries_of_the_version_read_is_refused_with_their_ids(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    levaxin, paracet, ibux = entry(), entry("Paracet", "N02BE01"), entry("Ibux", "M01AE01")
    await write(client, patient.gp, patient.id, [levaxin, paracet, ibux], 0)
    response = await put(client, patient.gp, patient.id, [paracet, entry("Folsyre", "B03BB01")], 1)
    assert response.status_code == 409
    body = response.json()
    assert sorted(body["missingIds"]) == sorted([levaxin["id"], ibux["id"]])
    assert body["currentVersion"] == 1
    # Nothing of the refused write was stored.
    assert await _versions(db, patient.id) == (1, 3)


async def test_stopping_an_entry_keeps_it_on_the_list_with_its_reason(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    ibux = entry("Ibux", "M01AE01", started_at="2025-01-01")
    await write(client, patient.gp, patient.id, [ibux], 0)
    body = await write(client, patient.gp, patient.id, [stopped(ibux, "2026-11-20", "Gravid")], 1)
    [item] = body["entries"]
    assert (item["stoppedAt"], item["stopReason"]) == ("2026-11-20", "Gravid")


@pytest.mark.parametrize(
    ("atc", "accepted"),
    [
        ("A10BA02", True),  # level 5: the substance
        ("A10BA", True),  # level 4
        ("A10B", True),  # level 3
        ("A10", False),  # level 2: too general for a list entry
        ("A", False),
        ("a10ba02", False),
        ("A10BA2", False),
        ("E10BA02", False),  # E is not an ATC main group
        ("A10BA02X", False),
        ("A1OBA02", False),
    ],
)
async def test_atc_codes_are_checked_for_format_and_level(
    client: httpx.AsyncClient, app: Litestar, atc: str, accepted: bool
) -> None:
    patient = await patient_with_gp(client, app)
    entries = [entry("A"), entry("B", "N02BE01"), entry("C", "B03BB01"), entry("D", atc)]
    response = await put(client, patient.gp, patient.id, entries, 0)
    if accepted:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "entries[3].atc"
    assert "entries[3].atc" in body["detail"]
    assert (await read(client, patient.gp, patient.id)).json()["version"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stoppedAt": "2025-12-31", "stopReason": "Feil"}, "entries[1].stoppedAt"),  # before startedAt
        ({"stoppedAt": "2026-02-01"}, "entries[1].stopReason"),
        ({"stoppedAt": "2026-02-01", "stopReason": "   "}, "entries[1].stopReason"),
        ({"stopReason": "Bivirkning"}, "entries[1].stoppedAt"),
        ({"startedAt": "1850-01-01"}, "entries[1].startedAt"),
        ({"startedAt": "2026-13-01"}, "entries[1].startedAt"),
        ({"kind": "herbal"}, "entries[1].kind"),
        ({"name": "   "}, "entries[1].name"),
        ({"dose": {"quantity": 1, "unit": "tablett"}}, "entries[1].dose.timesPerDay"),
        ({"dose": {"quantity": 0, "unit": "tablett", "timesPerDay": 1}}, "entries[1].dose.quantity"),
        ({"colour": "blue"}, "entries[1]"),
    ],
)
async def test_bad_entries_get_400_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    patient = await patient_with_gp(client, app)
    first = await write(client, patient.gp, patient.id, [entry()], 0)
    response = await put(
        client, patient.gp, patient.id, [*first["entries"], {**entry("Paracet", "N02BE01"), **change}], 1
    )
    assert response.status_code == 400, response.text
    keys = [error["field"] for error in response.json()["errors"]]
    assert any(key.startswith(field) for key in keys), keys
    assert await _versions(db, patient.id) == (1, 1)


async def test_the_same_entry_id_twice_in_one_write_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    levaxin = entry()
    response = await put(client, patient.gp, patient.id, [levaxin, {**levaxin, "dosage": "annen"}], 0)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "entries[1].id"


async def test_every_problem_of_a_write_is_named(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    entries = [entry(atc="X"), entry(), {**entry(), "stoppedAt": "2026-02-01"}]
    response = await put(client, patient.gp, patient.id, entries, 0)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["entries[0].atc", "entries[2].stopReason"]


async def test_duplicate_active_entries_of_the_same_atc_and_strength_are_flagged(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    one = entry("Paracet", "N02BE01", strength="500 mg")
    two = entry("Pinex", "N02BE01", strength="500mg")
    other_strength = entry("Paracet mikstur", "N02BE01", strength="24 mg/ml")
    old = stopped(entry("Panodil", "N02BE01", strength="500 mg"), "2026-11-01")
    body = await write(client, patient.gp, patient.id, [one, two, other_strength, old], 0)
    [warning] = body["warnings"]
    assert warning["code"] == "duplicate-active"
    assert warning["atc"] == "N02BE01"
    assert sorted(warning["entryIds"]) == sorted([one["id"], two["id"]])
    # The warning does not block the write, and reading shows it too.
    assert body["version"] == 1
    assert (await read(client, patient.gp, patient.id)).json()["warnings"] == body["warnings"]


async def test_every_list_change_appends_an_event_without_health_data(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    first = await write(client, patient.gp, patient.id, [entry()], 0)
    await write(client, patient.gp, patient.id, first["entries"], 1)  # unchanged: no event
    await write(client, patient.gp, patient.id, [*first["entries"], entry("Paracet", "N02BE01")], 1)
    rows = await db.fetch(
        "SELECT type, resource_type, resource_id FROM event WHERE patient_id = $1 AND type LIKE 'medications.%'",
        patient.id,
    )
    list_id = await db.fetchval("SELECT id FROM medication_list WHERE patient_id = $1", patient.id)
    assert [tuple(row) for row in rows] == [("medications.updated", "medication-list", str(list_id))] * 2
    feed = await client.get("/citizen/v1/me/changes", headers=patient.citizen.headers)
    assert [item["type"] for item in feed.json()["items"]].count("medications.updated") == 2


async def test_an_existing_entry_keeps_its_prescriber_when_another_clinician_changes_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    from tests.medications.factories import related_clinician

    hospital = await related_clinician(client, app, patient, org_kind="sykehus", authorization="LE")
    body = await write(client, patient.gp, patient.id, [entry()], 0)
    sent = [{key: value for key, value in item.items() if key != "prescriber"} for item in body["entries"]]
    sent[0]["dosage"] = "2 tabletter daglig"
    after = await write(client, hospital, patient.id, sent, 1)
    assert after["entries"][0]["prescriber"]["hpr"] == patient.gp.hpr
    assert after["entries"][0]["dosage"] == "2 tabletter daglig"


async def test_clinician_reads_and_writes_of_the_list_are_in_the_citizens_access_log(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    await read(client, patient.gp, patient.id)
    await write(client, patient.gp, patient.id, [entry()], 0)
    log = await client.get("/citizen/v1/me/access-log", headers=patient.citizen.headers)
    rows = [
        (item["action"], item["resourceType"], item["hpr"], item["basis"])
        for item in log.json()["items"]
        if item["resourceType"] == "medication-list"
    ]
    assert rows == [
        ("write", "medication-list", patient.gp.hpr, "care-relation"),
        ("read", "medication-list", patient.gp.hpr, "care-relation"),
    ]


async def test_a_weak_etag_never_matches_if_match(client: httpx.AsyncClient, app: Litestar) -> None:
    # RFC 9110 §13.1.1: If-Match uses the strong comparison, so W/"0" is not the current version "0" (issue 12).
    patient = await patient_with_gp(client, app)
    headers = {**patient.gp.headers, "If-Match": 'W/"0"'}
    response = await client.put(list_url(patient.id), json={"entries": [entry()]}, headers=headers)
    assert response.status_code == 412, response.text
    assert response.json()["currentVersion"] == 0
    strong = {**patient.gp.headers, "If-Match": '"0"'}
    response = await client.put(list_url(patient.id), json={"entries": [entry()]}, headers=strong)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
