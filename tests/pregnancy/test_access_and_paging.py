"""The card on the core access model: role refusals are 403 with one denied audit row, bad bodies are 400 before
the decision, entry authors are core's Author, and the card's lists page with opaque cursors."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from tests.factories import Clinician, new_clinician
from tests.pregnancy.cards import card_path, create_card, lmp_for_week, team, today


async def _audit_rows(db: Any, clinician: Clinician) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id", clinician.hpr
    )
    return [dict(row) for row in rows]


async def test_a_laboratory_reading_the_card_is_403_and_one_denied_role_row(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    people = await team(client, app)
    card = await create_card(client, people.gp, people.woman.patient_id)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    response = await client.get(card_path(people.woman.patient_id, card["id"]), headers=lab.headers)
    assert response.status_code == 403, response.text
    assert "laboratory" in response.json()["detail"]
    assert await _audit_rows(db, lab) == [
        {"action": "read", "resource_type": "pregnancy", "basis": "denied", "refusal": "role"}
    ]


async def test_a_nurse_recording_a_vaccine_is_refused_by_role_and_nothing_is_written(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    people = await team(client, app)
    card = await create_card(client, people.gp, people.woman.patient_id)
    nurse = new_clinician(app, org_kind="fastlege", authorization="SP", org=people.gp.org)
    response = await client.post(
        f"{card_path(people.woman.patient_id, card['id'])}/vaccines",
        json={"vaccine": "whooping-cough", "givenOn": today().isoformat()},
        headers=nurse.headers,
    )
    assert response.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM pregnancy_vaccine WHERE card = $1", card["id"]) == 0
    assert await _audit_rows(db, nurse) == [
        {"action": "write", "resource_type": "pregnancy", "basis": "denied", "refusal": "role"}
    ]


async def test_a_bad_test_body_is_400_before_the_access_decision(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    people = await team(client, app)
    card = await create_card(client, people.gp, people.woman.patient_id)
    before = await _audit_rows(db, people.gp)
    response = await client.post(
        f"{card_path(people.woman.patient_id, card['id'])}/tests",
        json={"test": "hb", "takenOn": today().isoformat(), "value": 99},
        headers=people.gp.headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "value"
    assert await _audit_rows(db, people.gp) == before  # nothing about the patient was asked


async def test_entry_authors_are_cores_author_with_the_role_the_app_reads(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    people = await team(client, app)
    card = await create_card(client, people.midwife, people.woman.patient_id)
    author = card["createdBy"]
    assert author == {
        "hpr": people.midwife.hpr,
        "name": "Jordmor Kari Nordmann",
        "authorization": "JO",
        "organisation": people.midwife.org,
        "orgKind": "helsestasjon",
        "role": "JO",
        "at": author["at"],
        "kind": "clinician",
    }


async def test_header_history_pages_newest_first(client: httpx.AsyncClient, app: Litestar) -> None:
    people = await team(client, app)
    card = await create_card(client, people.gp, people.woman.patient_id)
    path = card_path(people.woman.patient_id, card["id"])
    for version, weight in ((1, 60), (2, 61), (3, 62)):
        response = await client.patch(
            path,
            json={"prePregnancyWeightKg": weight},
            headers={**people.gp.headers, "If-Match": f'"{version}"'},
        )
        assert response.status_code == 200, response.text
    first = (await client.get(f"{path}/header-history?limit=3", headers=people.gp.headers)).json()
    assert [item["version"] for item in first["items"]] == [4, 3, 2]
    assert first["next"] is not None
    rest = (await client.get(f"{path}/header-history?limit=3&cursor={first['next']}", headers=people.gp.headers)).json()
    assert [item["version"] for item in rest["items"]] == [1]
    assert rest["next"] is None
    forged = await client.get(f"{path}/header-history?cursor=eyJhdCI6MX0", headers=people.gp.headers)
    assert forged.status_code == 400
    assert forged.json()["errors"][0]["field"] == "cursor"


async def test_consultation_history_pages_newest_first(client: httpx.AsyncClient, app: Litestar) -> None:
    people = await team(client, app)
    card = await create_card(client, people.gp, people.woman.patient_id, weeks=20)
    path = card_path(people.woman.patient_id, card["id"])
    added = await client.post(
        f"{path}/consultations", json={"date": today().isoformat(), "weightKg": 70}, headers=people.gp.headers
    )
    entry = f"{path}/consultations/{added.json()['id']}"
    for version, weight in ((1, 71), (2, 72)):
        response = await client.put(
            entry,
            json={"date": today().isoformat(), "weightKg": weight, "reason": "Feil vekt"},
            headers={**people.gp.headers, "If-Match": f'"{version}"'},
        )
        assert response.status_code == 200, response.text
    first = (await client.get(f"{entry}/history?limit=2", headers=people.gp.headers)).json()
    assert [(item["version"], item["weightKg"]) for item in first["items"]] == [(3, 72), (2, 71)]
    rest = (await client.get(f"{entry}/history?limit=2&cursor={first['next']}", headers=people.gp.headers)).json()
    assert [(item["version"], item["weightKg"]) for item in rest["items"]] == [(1, 70)]
    assert rest["next"] is None


async def test_her_cards_page_newest_first_for_her_and_her_clinician(client: httpx.AsyncClient, app: Litestar) -> None:
    people = await team(client, app)
    older = await create_card(client, people.gp, people.woman.patient_id, weeks=30)
    closed = await client.put(
        f"{card_path(people.woman.patient_id, older['id'])}/outcome",
        json={"outcome": "delivered", "date": today().isoformat()},
        headers=people.gp.headers,
    )
    assert closed.status_code == 200, closed.text
    newer = await client.post(
        card_path(people.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(0).isoformat()},
        headers=people.gp.headers,
    )
    assert newer.status_code == 201, newer.text
    for path, headers in (
        (card_path(people.woman.patient_id), people.gp.headers),
        ("/citizen/v1/me/pregnancies", people.woman.headers),
    ):
        first = (await client.get(f"{path}?limit=1", headers=headers)).json()
        assert [item["id"] for item in first["items"]] == [newer.json()["id"]]
        rest = (await client.get(f"{path}?limit=1&cursor={first['next']}", headers=headers)).json()
        assert [item["id"] for item in rest["items"]] == [older["id"]]
        assert rest["next"] is None
        everything = (await client.get(path, headers=headers)).json()
        assert [item["id"] for item in everything["items"]] == [newer.json()["id"], older["id"]]
        assert everything["next"] is None
