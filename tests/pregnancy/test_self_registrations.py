"""The woman's own structured registrations on her card: weight, home blood pressure, fetal movements felt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.factories import new_citizen
from tests.pregnancy.cards import Team, card_path, create_card, lmp_for_week, team, today


def mine(card_id: str) -> str:
    return f"/citizen/v1/me/pregnancies/{card_id}"


def now_iso(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def register(client: httpx.AsyncClient, t: Team, card_id: str, **fields: Any) -> httpx.Response:
    body = {"effectiveAt": now_iso(minutes=-10), **fields}
    return await client.post(f"{mine(card_id)}/self-registrations", json=body, headers=t.woman.headers)


async def alerts_for(client: httpx.AsyncClient, t: Team) -> list[dict[str, Any]]:
    response = await client.get("/clinician/v1/alerts", headers=t.midwife.headers)
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["patientId"] == str(t.woman.patient_id)]


async def test_her_registrations_appear_on_the_card_for_her_and_her_clinicians_with_her_as_author(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30)
    first = await register(client, t, card["id"], weightKg=71.4, systolic=118, diastolic=74, fetalMovements=True)
    assert first.status_code == 201, first.text
    second = await register(client, t, card["id"], effectiveAt=now_iso(minutes=-5), fetalMovements=False)
    assert second.status_code == 201, second.text
    created = first.json()
    assert created["author"]["kind"] == "citizen"
    assert created["gestationalAge"]["weeks"] in (29, 30)  # Oslo date of a time ten minutes ago
    assert created["date"] in {today().isoformat(), (today() - timedelta(days=1)).isoformat()}

    hers = (await client.get(mine(card["id"]), headers=t.woman.headers)).json()
    theirs = (await client.get(card_path(t.woman.patient_id, card["id"]), headers=t.gp.headers)).json()
    for seen in (hers, theirs):
        rows = seen["selfRegistrations"]
        assert [(r["weightKg"], r["systolic"], r["diastolic"], r["fetalMovements"]) for r in rows] == [
            (71.4, 118, 74, True),
            (None, None, None, False),
        ]
        assert {r["author"]["kind"] for r in rows} == {"citizen"}
        assert rows[0]["id"] == created["id"]
        assert seen["consultations"] == []  # her values sit beside the clinicians' rows, not among them
    assert await alerts_for(client, t) == []  # 118/74 is below 140/90


async def test_free_text_notes_still_work_and_name_her_as_author(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    note = await client.post(f"{mine(card['id'])}/notes", json={"text": "Litt hodepine"}, headers=t.woman.headers)
    assert note.status_code == 201, note.text
    assert note.json()["author"]["kind"] == "citizen"


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("weight below 1 kg", {"weightKg": 0.9}, "weightKg"),
    ("weight above 400 kg", {"weightKg": 400.5}, "weightKg"),
    ("systolic below 40", {"systolic": 39, "diastolic": 20}, "systolic"),
    ("systolic above 300", {"systolic": 301, "diastolic": 100}, "systolic"),
    ("diastolic below 20", {"systolic": 120, "diastolic": 19}, "diastolic"),
    ("diastolic above 200", {"systolic": 250, "diastolic": 201}, "diastolic"),
    ("systolic not above diastolic", {"systolic": 90, "diastolic": 90}, "systolic"),
    ("systolic without diastolic", {"systolic": 120}, "diastolic"),
    ("diastolic without systolic", {"diastolic": 80}, "systolic"),
    ("nothing recorded", {}, "body"),
    ("more than five minutes in the future", {"weightKg": 70, "effectiveAt": "FUTURE"}, "effectiveAt"),
    ("before the pregnancy began", {"weightKg": 70, "effectiveAt": "BEFORE"}, "effectiveAt"),
    ("a time without its offset", {"weightKg": 70, "effectiveAt": "NAIVE"}, "effectiveAt"),
    ("fetal movements as text", {"fetalMovements": "yes"}, "fetalMovements"),
    ("an unknown field", {"weightKg": 70, "pulse": 80}, "pulse"),
]


@pytest.mark.parametrize(("case", "fields", "field"), BAD, ids=[case for case, _, _ in BAD])
async def test_implausible_registration_is_400_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, case: str, fields: dict[str, Any], field: str
) -> None:
    """Ranges of home measurements (CLINICAL.md, måledata): weight 1-400 kg, systolic 40-300 > diastolic 20-200."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    times = {
        "FUTURE": now_iso(minutes=6),
        "BEFORE": datetime.combine(lmp_for_week(20) - timedelta(days=1), datetime.min.time(), UTC).isoformat(),
        "NAIVE": datetime.now(UTC).replace(tzinfo=None).isoformat(),
    }
    if fields.get("effectiveAt") in times:
        fields = {**fields, "effectiveAt": times[fields["effectiveAt"]]}
    response = await register(client, t, card["id"], **fields)
    assert response.status_code == 400, f"{case}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in {error["field"] for error in problem["errors"]} or field in problem["detail"], problem
    assert await db.fetchval("SELECT count(*) FROM pregnancy_self_registration WHERE card = $1", card["id"]) == 0
    types = {row["type"] for row in await db.fetch("SELECT type FROM event WHERE patient_id = $1", t.woman.patient_id)}
    assert "pregnancy.self-registration.added" not in types


async def test_values_at_the_edges_of_the_ranges_are_accepted(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    for fields in (
        {"weightKg": 1, "systolic": 40, "diastolic": 20},
        {"weightKg": 400, "systolic": 300, "diastolic": 200},
        {"fetalMovements": True, "effectiveAt": now_iso(minutes=4)},
    ):
        response = await register(client, t, card["id"], **fields)
        assert response.status_code == 201, f"{fields}: {response.text}"


async def test_a_replayed_idempotency_key_stores_once_and_another_body_is_422(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    headers = {**t.woman.headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"effectiveAt": now_iso(minutes=-1), "weightKg": 68.2}
    path = f"{mine(card['id'])}/self-registrations"
    first = await client.post(path, json=body, headers=headers)
    again = await client.post(path, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    other = await client.post(path, json={**body, "weightKg": 69.0}, headers=headers)
    assert other.status_code == 422, other.text
    assert await db.fetchval("SELECT count(*) FROM pregnancy_self_registration WHERE card = $1", card["id"]) == 1
    types = [row["type"] for row in await db.fetch("SELECT type FROM event WHERE patient_id = $1", t.woman.patient_id)]
    assert types.count("pregnancy.self-registration.added") == 1


async def test_the_registration_is_in_her_change_feed(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    assert (await register(client, t, card["id"], weightKg=66)).status_code == 201
    feed = (await client.get("/citizen/v1/me/changes", headers=t.woman.headers)).json()
    added = [item for item in feed["items"] if item["type"] == "pregnancy.self-registration.added"]
    assert [(item["resourceType"], item["resourceId"]) for item in added] == [("pregnancy-card", card["id"])]


async def test_a_closed_card_takes_no_registrations(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=39)
    closed = await client.put(
        f"{card_path(t.woman.patient_id, card['id'])}/outcome",
        json={"outcome": "delivered", "date": today().isoformat()},
        headers=t.midwife.headers,
    )
    assert closed.status_code == 200, closed.text
    response = await register(client, t, card["id"], weightKg=70)
    assert response.status_code == 409, response.text
    assert await db.fetchval("SELECT count(*) FROM pregnancy_self_registration WHERE card = $1", card["id"]) == 0


async def test_another_citizen_cannot_register_on_her_card(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    stranger = await new_citizen(client, app)
    response = await client.post(
        f"{mine(card['id'])}/self-registrations",
        json={"effectiveAt": now_iso(minutes=-1), "weightKg": 70},
        headers=stranger.headers,
    )
    assert response.status_code == 404, response.text
    assert await db.fetchval("SELECT count(*) FROM pregnancy_self_registration WHERE card = $1", card["id"]) == 0


@pytest.mark.parametrize(
    ("systolic", "diastolic", "severity"),
    [(139, 89, None), (140, 80, "warning"), (130, 90, "warning"), (160, 100, "urgent"), (150, 110, "urgent")],
    ids=["139/89", "140/80", "130/90", "160/100", "150/110"],
)
async def test_home_blood_pressure_on_the_card_raises_the_pregnancy_alert_like_a_measurement(
    client: httpx.AsyncClient, app: Litestar, systolic: int, diastolic: int, severity: str | None
) -> None:
    """CLINICAL.md: home blood pressure in pregnancy ≥140/90 → alert to midwife and GP; ≥160/110 → urgent."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=34)
    response = await register(client, t, card["id"], systolic=systolic, diastolic=diastolic)
    assert response.status_code == 201, response.text
    raised = await alerts_for(client, t)
    if severity is None:
        assert raised == []
        return
    assert [(a["kind"], a["severity"]) for a in raised] == [("pregnancy-blood-pressure", severity)]
    assert raised[0]["resourceId"] == response.json()["id"]
    gp_alerts = (await client.get("/clinician/v1/alerts", headers=t.gp.headers)).json()["items"]
    assert any(a["resourceId"] == response.json()["id"] for a in gp_alerts)


async def test_a_home_reading_typed_on_the_card_alerts_only_while_she_consents_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """CLINICAL.md v1.1, "Pregnancy is private": the alert tells she is pregnant, so it needs her consent."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=34)
    response = await register(client, t, card["id"], systolic=165, diastolic=112)
    assert response.status_code == 201, response.text
    assert len(await alerts_for(client, t)) == 1

    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert withdrawn.status_code == 204
    for clinician in (t.midwife, t.gp):
        listed = (await client.get("/clinician/v1/alerts", headers=clinician.headers)).json()["items"]
        assert all(a["patientId"] != str(t.woman.patient_id) for a in listed)
