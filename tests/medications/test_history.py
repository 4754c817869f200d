"""Every version is kept: who changed the list and when, and a diff between any two versions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.medications.factories import Patient, entry, list_url, patient_with_gp, related_clinician, stopped, write


async def _three_versions(client: httpx.AsyncClient, app: Litestar) -> tuple[Patient, Any, dict[str, Any]]:
    patient = await patient_with_gp(client, app)
    hospital = await related_clinician(client, app, patient, org_kind="sykehus", authorization="LE")
    levaxin = entry("Levaxin", "H03AA01", started_at="2024-01-01")
    ibux = entry("Ibux", "M01AE01", strength="400 mg", started_at="2025-01-01")
    await write(client, patient.gp, patient.id, [levaxin, ibux], 0)  # v1
    paracet = entry("Paracet", "N02BE01", strength="500 mg")
    await write(client, hospital, patient.id, [levaxin, stopped(ibux, "2026-11-01", "Gravid"), paracet], 1)  # v2
    more = {**levaxin, "strength": "75 mikrog", "dosage": "1 tablett om morgenen"}
    await write(client, patient.gp, patient.id, [more, stopped(ibux, "2026-11-01", "Gravid"), paracet], 2)  # v3
    return patient, hospital, {"levaxin": levaxin, "ibux": ibux, "paracet": paracet}


async def test_history_lists_versions_newest_first_with_author_and_what_each_touched(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, hospital, _ = await _three_versions(client, app)
    response = await client.get(list_url(patient.id, "/history"), headers=patient.gp.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currentVersion"] == 3
    assert [item["version"] for item in body["items"]] == [3, 2, 1]
    assert [item["by"]["hpr"] for item in body["items"]] == [patient.gp.hpr, hospital.hpr, patient.gp.hpr]
    assert body["items"][1]["by"]["orgKind"] == "sykehus"
    assert body["items"][1]["by"]["authorization"] == "LE"
    changes = {item["version"]: [(c["name"], c["change"]) for c in item["changes"]] for item in body["items"]}
    assert changes == {
        1: [("Ibux", "added"), ("Levaxin", "added")],
        2: [("Ibux", "stopped"), ("Paracet", "added")],
        3: [("Levaxin", "changed")],
    }
    assert body["diff"] is None


async def test_the_diff_between_two_versions_names_added_and_changed_entries_with_their_fields(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, _, entries = await _three_versions(client, app)
    response = await client.get(list_url(patient.id, "/history?from=1&to=3"), headers=patient.gp.headers)
    diff = response.json()["diff"]
    assert (diff["from"], diff["to"]) == (1, 3)
    assert [item["id"] for item in diff["added"]] == [entries["paracet"]["id"]]
    assert diff["removed"] == []
    changed = {item["name"]: {f["field"]: (f["from"], f["to"]) for f in item["fields"]} for item in diff["changed"]}
    assert changed == {
        "Ibux": {"stoppedAt": (None, "2026-11-01"), "stopReason": (None, "Gravid")},
        "Levaxin": {"strength": ("50 mikrog", "75 mikrog"), "dosage": ("1 tablett daglig", "1 tablett om morgenen")},
    }


async def test_a_diff_backwards_names_removed_entries(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, entries = await _three_versions(client, app)
    response = await client.get(list_url(patient.id, "/history?from=3&to=1"), headers=patient.gp.headers)
    diff = response.json()["diff"]
    assert [item["id"] for item in diff["removed"]] == [entries["paracet"]["id"]]
    assert diff["added"] == []


async def test_history_pages_with_a_cursor(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, _ = await _three_versions(client, app)
    first = (await client.get(list_url(patient.id, "/history?limit=2"), headers=patient.gp.headers)).json()
    assert [item["version"] for item in first["items"]] == [3, 2]
    second = await client.get(
        list_url(patient.id, "/history"), params={"limit": 2, "cursor": first["next"]}, headers=patient.gp.headers
    )
    assert [item["version"] for item in second.json()["items"]] == [1]
    assert second.json()["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=1", "to"), ("to=2", "from"), ("from=0&to=4", "to"), ("from=-1&to=2", "from"), ("from=x&to=2", "from")],
)
async def test_bad_diff_versions_are_400_naming_the_parameter(
    client: httpx.AsyncClient, app: Litestar, query: str, field: str
) -> None:
    patient, _, _ = await _three_versions(client, app)
    response = await client.get(list_url(patient.id, f"/history?{query}"), headers=patient.gp.headers)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


async def test_the_citizen_sees_the_same_history_and_diff(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, hospital, _ = await _three_versions(client, app)
    clinician = (await client.get(list_url(patient.id, "/history?from=0&to=3"), headers=patient.gp.headers)).json()
    citizen = await client.get("/citizen/v1/me/medications/history?from=0&to=3", headers=patient.citizen.headers)
    assert citizen.status_code == 200
    assert citizen.json() == clinician
    assert citizen.json()["items"][1]["by"]["hpr"] == hospital.hpr


async def test_any_past_version_can_be_read_whole(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, hospital, entries = await _three_versions(client, app)
    response = await client.get(list_url(patient.id, "/history/2"), headers=patient.gp.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["by"]["hpr"]) == (2, hospital.hpr)
    by_name = {item["name"]: item for item in body["entries"]}
    assert sorted(by_name) == ["Ibux", "Levaxin", "Paracet"]
    # As it was then: Levaxin still at the old strength, Ibux just stopped.
    assert by_name["Levaxin"]["strength"] == "50 mikrog"
    assert by_name["Ibux"]["stoppedAt"] == "2026-11-01"
    first = (await client.get(list_url(patient.id, "/history/1"), headers=patient.gp.headers)).json()
    assert sorted(item["id"] for item in first["entries"]) == sorted([entries["levaxin"]["id"], entries["ibux"]["id"]])
    empty = (await client.get(list_url(patient.id, "/history/0"), headers=patient.gp.headers)).json()
    assert empty == {"version": 0, "at": None, "by": None, "entries": []}
    citizen = await client.get("/citizen/v1/me/medications/history/2", headers=patient.citizen.headers)
    assert citizen.json() == body


async def test_a_version_beyond_the_current_one_is_404(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, _ = await _three_versions(client, app)
    response = await client.get(list_url(patient.id, "/history/4"), headers=patient.gp.headers)
    assert response.status_code == 404
