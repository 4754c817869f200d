"""Implausible or inconsistent entries get a 400 naming the field, and nothing is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.pregnancy.cards import card_path, create_card, lmp_for_week, on_week, team, today

# Today is 26+0: late enough for symphysis-fundus height (from 24+0, CLINICAL.md v1.1).
LMP_WEEKS = 26


def _day(weeks: int, days: int = 0) -> str:
    return on_week(lmp_for_week(LMP_WEEKS), weeks, days).isoformat()


BAD_CONSULTATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("weight below 30 kg", {"weightKg": 29.9}, "weightKg"),
    ("weight above 250 kg", {"weightKg": 250.5}, "weightKg"),
    ("systolic below 50", {"systolic": 49, "diastolic": 30}, "systolic"),
    ("systolic above 260", {"systolic": 261, "diastolic": 100}, "systolic"),
    ("diastolic below 30", {"systolic": 120, "diastolic": 29}, "diastolic"),
    ("diastolic above 160", {"systolic": 200, "diastolic": 161}, "diastolic"),
    ("systolic not above diastolic", {"systolic": 90, "diastolic": 90}, "systolic"),
    ("systolic without diastolic", {"systolic": 120}, "diastolic"),
    ("Hb below 5 g/dL", {"hb": 4.9}, "hb"),
    ("Hb above 20 g/dL", {"hb": 20.1}, "hb"),
    ("SF below 10 cm", {"sfCm": 9.5}, "sfCm"),
    ("SF above 50 cm", {"sfCm": 50.5}, "sfCm"),
    ("SF before week 24 (CLINICAL.md v1.1)", {"date": "WEEK23", "sfCm": 22}, "sfCm"),
    ("urine protein '4+'", {"urineProtein": "4+"}, "urineProtein"),
    ("urine protein '++' (paper shorthand, not the API's value)", {"urineProtein": "++"}, "urineProtein"),
    ("urine glucose 'positive'", {"urineGlucose": "positive"}, "urineGlucose"),
    ("date before the pregnancy", {"date": "BEFORE"}, "date"),
    ("date in the future", {"date": "TOMORROW"}, "date"),
    ("stated week two weeks off", {"gestationalWeek": LMP_WEEKS - 2}, "gestationalWeek"),
    ("stated week three weeks ahead", {"gestationalWeek": LMP_WEEKS + 3}, "gestationalWeek"),
    ("presentation unknown to the API", {"presentation": "sideways"}, "presentation"),
    ("an unknown field", {"bloodPressure": "120/80"}, "bloodPressure"),
]


def _resolve(fields: dict[str, Any]) -> dict[str, Any]:
    dates = {
        "WEEK23": _day(23, 6),
        "BEFORE": (lmp_for_week(LMP_WEEKS) - timedelta(days=1)).isoformat(),
        "TOMORROW": (today() + timedelta(days=1)).isoformat(),
    }
    body = {"date": today().isoformat(), **fields}
    body["date"] = dates.get(body["date"], body["date"])
    return body


@pytest.mark.parametrize(("case", "fields", "field"), BAD_CONSULTATIONS, ids=[case for case, _, _ in BAD_CONSULTATIONS])
async def test_implausible_consultation_is_400_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, case: str, fields: dict[str, Any], field: str
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=LMP_WEEKS)
    response = await client.post(
        f"{card_path(t.woman.patient_id, card['id'])}/consultations", json=_resolve(fields), headers=t.gp.headers
    )
    assert response.status_code == 400, f"{case}: {response.text}"
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {error["field"] for error in problem["errors"]} or field in problem["detail"], problem
    assert await db.fetchval("SELECT count(*) FROM pregnancy_consultation WHERE card = $1", card["id"]) == 0
    types = await db.fetch("SELECT type FROM event WHERE patient_id = $1", t.woman.patient_id)
    assert "pregnancy.consultation.added" not in {row["type"] for row in types}


async def test_values_at_the_edges_of_the_ranges_are_accepted(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=LMP_WEEKS)
    path = f"{card_path(t.woman.patient_id, card['id'])}/consultations"
    for body in (
        {"weightKg": 30, "systolic": 51, "diastolic": 50, "hb": 5, "sfCm": 10, "urineProtein": "trace"},
        {"weightKg": 250, "systolic": 260, "diastolic": 160, "hb": 20, "sfCm": 50, "urineGlucose": "3+"},
        {"gestationalWeek": LMP_WEEKS + 1, "urineProtein": "1+", "urineGlucose": "2+"},
        {"gestationalWeek": 24, "date": _day(24), "sfCm": 23.5},
    ):
        response = await client.post(path, json={"date": today().isoformat(), **body}, headers=t.gp.headers)
        assert response.status_code == 201, f"{body}: {response.text}"


BAD_CARDS: list[tuple[str, dict[str, Any], str]] = [
    ("LMP in the future", {"lastMenstrualPeriod": "TOMORROW"}, "lastMenstrualPeriod"),
    ("LMP a year ago", {"lastMenstrualPeriod": "LAST_YEAR"}, "lastMenstrualPeriod"),
    ("LMP missing", {"lastMenstrualPeriod": None}, "lastMenstrualPeriod"),
    ("para not below gravida", {"gravida": 2, "para": 2}, "para"),
    ("unknown blood type", {"bloodType": "C"}, "bloodType"),
    (
        "an induced abortion among earlier pregnancies",
        {"earlierPregnancies": [{"year": 2020, "kind": "abortion"}]},
        "earlierPregnancies[0].kind",
    ),
    (
        "a miscarriage with a birth weight",
        {"earlierPregnancies": [{"year": 2020, "kind": "miscarriage", "birthWeightG": 500}]},
        "earlierPregnancies[0].birthWeightG",
    ),
    ("an unknown header field", {"terminations": 1}, "terminations"),
]


@pytest.mark.parametrize(("case", "fields", "field"), BAD_CARDS, ids=[case for case, _, _ in BAD_CARDS])
async def test_implausible_card_is_400_and_no_card_exists(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, case: str, fields: dict[str, Any], field: str
) -> None:
    t = await team(client, app)
    body: dict[str, Any] = {"lastMenstrualPeriod": lmp_for_week(8).isoformat(), **fields}
    lmp = {"TOMORROW": today() + timedelta(days=1), "LAST_YEAR": today() - timedelta(days=365)}
    if body["lastMenstrualPeriod"] in lmp:
        body["lastMenstrualPeriod"] = lmp[body["lastMenstrualPeriod"]].isoformat()
    if body["lastMenstrualPeriod"] is None:
        del body["lastMenstrualPeriod"]
    response = await client.post(card_path(t.woman.patient_id), json=body, headers=t.gp.headers)
    assert response.status_code == 400, f"{case}: {response.text}"
    problem = response.json()
    assert field in {error["field"] for error in problem["errors"]} or field in problem["detail"], problem
    assert await db.fetchval("SELECT count(*) FROM pregnancy_card WHERE patient_id = $1", t.woman.patient_id) == 0
    assert await db.fetchval("SELECT count(*) FROM pregnancy_earlier WHERE patient_id = $1", t.woman.patient_id) == 0


async def test_the_database_itself_has_no_place_for_an_induced_abortion(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(
        client, t.midwife, t.woman.patient_id,
        earlierPregnancies=[{"year": 2021, "kind": "birth", "week": 39, "birthWeightG": 3400, "mode": "vaginal"}],
    )  # fmt: skip
    assert [p["kind"] for p in card["earlierPregnancies"]] == ["birth"]
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE pregnancy_earlier SET kind = 'abortion' WHERE card = $1", card["id"])


BAD_TESTS: list[tuple[dict[str, Any], str]] = [
    ({"test": "hb", "value": 25}, "value"),
    ({"test": "hb", "result": "low"}, "result"),
    ({"test": "hiv", "result": "maybe"}, "result"),
    ({"test": "hiv", "value": 1}, "value"),
    ({"test": "rubella", "result": "positive"}, "result"),
    ({"test": "cholesterol", "value": 5}, "test"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_TESTS, ids=[str(f) for f, _ in BAD_TESTS])
async def test_implausible_test_result_is_400(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, fields: dict[str, Any], field: str
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    response = await client.post(
        f"{card_path(t.woman.patient_id, card['id'])}/tests",
        json={"takenOn": today().isoformat(), **fields},
        headers=t.midwife.headers,
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert field in {error["field"] for error in problem["errors"]} or field in problem["detail"], problem
    assert await db.fetchval("SELECT count(*) FROM pregnancy_test WHERE card = $1", card["id"]) == 0


async def test_first_trimester_tests_are_stored_with_their_units(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=11)
    path = f"{card_path(t.woman.patient_id, card['id'])}/tests"
    for body in (
        {"test": "hb", "value": 12.6},
        {"test": "ferritin", "value": 35},
        {"test": "hepatitis-b", "result": "negative"},
        {"test": "hiv", "result": "negative"},
        {"test": "syphilis", "result": "negative"},
    ):
        response = await client.post(path, json={"takenOn": today().isoformat(), **body}, headers=t.midwife.headers)
        assert response.status_code == 201, response.text
    mine = (await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=t.woman.headers)).json()
    assert [(x["test"], x["value"], x["unit"], x["result"]) for x in mine["tests"]] == [
        ("hb", 12.6, "g/dL", None),
        ("ferritin", 35, "ug/L", None),
        ("hepatitis-b", None, None, "negative"),
        ("hiv", None, None, "negative"),
        ("syphilis", None, None, "negative"),
    ]
    assert {x["author"]["hpr"] for x in mine["tests"]} == {t.midwife.hpr}


async def test_ultrasound_with_an_implausible_due_date_or_date_is_400(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=12)
    path = f"{card_path(t.woman.patient_id, card['id'])}/ultrasounds"
    for body, field in (
        ({"date": today().isoformat(), "kind": "early", "dueDate": (today() + timedelta(days=400)).isoformat()}, "dueDate"),
        ({"date": (today() + timedelta(days=2)).isoformat(), "kind": "early"}, "date"),
        ({"date": today().isoformat(), "kind": "early", "fetuses": 0}, "fetuses"),
    ):  # fmt: skip
        response = await client.post(path, json=body, headers=t.midwife.headers)
        assert response.status_code == 400, response.text
        problem = response.json()
        assert field in {error["field"] for error in problem["errors"]} or field in problem["detail"], problem
    assert await db.fetchval("SELECT count(*) FROM pregnancy_ultrasound WHERE card = $1", card["id"]) == 0


async def test_a_new_dating_that_would_leave_entries_before_the_pregnancy_is_400(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=12)
    lmp = lmp_for_week(12)
    path = card_path(t.woman.patient_id, card["id"])
    await client.post(
        f"{path}/consultations", json={"date": on_week(lmp, 1).isoformat()}, headers=t.midwife.headers
    )  # a very early visit, at 1+0
    later_due = on_week(lmp, 42).isoformat()  # would make 0+0 two weeks after the LMP
    scan = await client.post(
        f"{path}/ultrasounds", json={"date": today().isoformat(), "kind": "early", "dueDate": later_due},
        headers=t.midwife.headers,
    )  # fmt: skip
    assert scan.status_code == 400, scan.text
    assert scan.json()["errors"][0]["field"] == "dueDate"
    assert await db.fetchval("SELECT count(*) FROM pregnancy_ultrasound WHERE card = $1", card["id"]) == 0
    moved = await client.patch(
        path, json={"lastMenstrualPeriod": on_week(lmp, 2).isoformat()}, headers={**t.gp.headers, "If-Match": '"1"'}
    )
    assert moved.status_code == 400
    assert moved.json()["errors"][0]["field"] == "lastMenstrualPeriod"
    unchanged = (await client.get(path, headers=t.gp.headers)).json()
    assert (unchanged["version"], unchanged["lastMenstrualPeriod"]) == (1, lmp.isoformat())
