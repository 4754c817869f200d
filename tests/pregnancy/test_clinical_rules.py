"""Held-out cases for the pregnancy rules of CLINICAL.md v1.1 ("Rules made precise"), driven through the API.

Sources: Helsedirektoratet, national guideline for antenatal care (svangerskapsomsorgen) and its paper
pregnancy card, as made precise in CLINICAL.md v1.1: anti-D/RhD, the week-24 RhD item, dating scans,
symphysis-fundus height, earlier pregnancies and the outcome against gestational age.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.pregnancy.cards import card_path, create_card, lmp_for_week, on_week, team, today

ANTI_D = "anti-d-prophylaxis"
WEEK_24_RHD = "fetal-rhd-and-antibody-test"


def scheduled(card: dict[str, Any]) -> set[str]:
    """Every programme item the card still asks for: overdue or next due."""
    keys = {item["key"] for item in card["overdue"]}
    if card["nextDue"] is not None:
        keys.add(card["nextDue"]["key"])
    return keys


async def post_test(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], test: str, taken_on: str, result: str
) -> None:
    response = await client.post(
        f"{path}/tests", json={"test": test, "takenOn": taken_on, "result": result}, headers=headers
    )
    assert response.status_code == 201, response.text


# --- anti-D (week 28) ---------------------------------------------------------------------------------

# (case, header fields, fetal RhD results in the order taken, anti-D due at week 28)
ANTI_D_CASES: list[tuple[str, dict[str, Any], list[str], bool]] = [
    ("RhD-positive woman", {"rhd": "positive"}, [], False),
    ("RhD not recorded", {}, [], False),
    ("RhD-negative woman, fetus not typed", {"rhd": "negative"}, [], True),
    ("RhD-negative woman, fetus RhD positive", {"rhd": "negative"}, ["rhd-positive"], True),
    ("RhD-negative woman, fetus RhD negative", {"rhd": "negative"}, ["rhd-negative"], False),
    (
        "RhD-negative woman, not immunised, fetus RhD positive",
        {"rhd": "negative", "rhdImmunised": False},
        ["rhd-positive"],
        True,
    ),
    ("RhD-negative woman already immunised, fetus not typed", {"rhd": "negative", "rhdImmunised": True}, [], False),
    (
        "RhD-negative woman already immunised, fetus RhD positive",
        {"rhd": "negative", "rhdImmunised": True},
        ["rhd-positive"],
        False,
    ),
    (
        "a repeated fetal RhD test: the newest (RhD negative) counts",
        {"rhd": "negative"},
        ["rhd-positive", "rhd-negative"],
        False,
    ),
]


@pytest.mark.parametrize(("case", "header", "fetal", "due"), ANTI_D_CASES, ids=[c for c, _, _, _ in ANTI_D_CASES])
async def test_anti_d_at_week_28_only_for_a_non_immunised_rhd_negative_woman_with_an_rhd_positive_or_untyped_fetus(
    client: httpx.AsyncClient, app: Litestar, case: str, header: dict[str, Any], fetal: list[str], due: bool
) -> None:
    """Helsedirektoratet (routine fetal RhD typing, anti-D only for an RhD-positive fetus); CLINICAL.md v1.1."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30, **header)
    path = card_path(t.woman.patient_id, card["id"])
    lmp = lmp_for_week(30)
    for days, result in enumerate(fetal):
        await post_test(client, path, t.midwife.headers, "fetal-rhd", on_week(lmp, 24, days).isoformat(), result)
    for reader in (t.midwife.headers, t.woman.headers):
        url = path if reader is t.midwife.headers else f"/citizen/v1/me/pregnancies/{card['id']}"
        now = (await client.get(url, headers=reader)).json()
        assert (ANTI_D in scheduled(now)) is due, case


async def test_a_fetal_rhd_negative_result_removes_anti_d_that_was_overdue_at_week_30(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """The issue's case: a fetal RhD-negative result still showed anti-D "overdue" at week 30."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30, rhd="negative")
    path = card_path(t.woman.patient_id, card["id"])
    assert ANTI_D in {item["key"] for item in card["overdue"]}
    await post_test(client, path, t.midwife.headers, "fetal-rhd", on_week(lmp_for_week(30), 24).isoformat(),
                    "rhd-negative")  # fmt: skip
    after = (await client.get(path, headers=t.midwife.headers)).json()
    assert ANTI_D not in scheduled(after)


async def test_recording_immunisation_in_the_header_removes_anti_d_and_needs_an_rhd_negative_woman(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30, rhd="negative")
    path = card_path(t.woman.patient_id, card["id"])
    patched = await client.patch(
        path, json={"rhdImmunised": True, "antibodies": "Anti-D"}, headers={**t.midwife.headers, "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["header"]["rhdImmunised"] is True
    assert ANTI_D not in scheduled(patched.json())
    assert WEEK_24_RHD in scheduled(patched.json())  # the fetal RhD and antibody checks still apply

    positive = await client.post(
        card_path(t.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(8).isoformat(), "rhd": "positive", "rhdImmunised": True},
        headers=t.gp.headers,
    )
    assert positive.status_code == 400
    assert positive.json()["errors"][0]["field"] == "rhdImmunised"


# --- week 24: fetal RhD typing and antibody screening ----------------------------------------------------

# (case, fetal RhD result taken at 24+1 or None, antibody screenings at (weeks, days), item done)
WEEK_24_CASES: list[tuple[str, str | None, list[tuple[int, int]], bool]] = [
    ("first-trimester screening only", "rhd-positive", [(8, 0)], False),
    ("screening at 21+6, before the window", "rhd-positive", [(21, 6)], False),
    ("screening at 22+0, the window opens", "rhd-positive", [(22, 0)], True),
    ("screening at 24+3", "rhd-positive", [(24, 3)], True),
    ("screening at 26+6, the window closes", "rhd-negative", [(26, 6)], True),
    ("screening at 27+0, after the window", "rhd-positive", [(27, 0)], False),
    ("first trimester and week 24 screenings", "rhd-positive", [(8, 0), (24, 3)], True),
    ("a screening at 24+3 but no fetal RhD result", None, [(24, 3)], False),
    ("a fetal RhD result but no screening", "rhd-positive", [], False),
]


@pytest.mark.parametrize(
    ("case", "fetal", "screenings", "done"), WEEK_24_CASES, ids=[c for c, _, _, _ in WEEK_24_CASES]
)
async def test_week_24_rhd_item_is_done_only_by_a_fetal_rhd_result_and_a_screening_in_22_to_26_weeks(
    client: httpx.AsyncClient,
    app: Litestar,
    case: str,
    fetal: str | None,
    screenings: list[tuple[int, int]],
    done: bool,
) -> None:
    """CLINICAL.md v1.1 (Helsedirektoratet): the first-trimester antibody screening does not count."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30, rhd="negative")
    path = card_path(t.woman.patient_id, card["id"])
    lmp = lmp_for_week(30)
    if fetal is not None:
        await post_test(client, path, t.midwife.headers, "fetal-rhd", on_week(lmp, 24, 1).isoformat(), fetal)
    for weeks, days in screenings:
        taken_on = on_week(lmp, weeks, days).isoformat()
        await post_test(client, path, t.midwife.headers, "antibody-screening", taken_on, "negative")
    now = (await client.get(path, headers=t.midwife.headers)).json()
    assert (WEEK_24_RHD not in scheduled(now)) is done, case


# --- dating scans -----------------------------------------------------------------------------------------

# (case, scan at (weeks, days) by the LMP, days the scan's due date lies after the LMP's, dates the pregnancy)
DATING_CASES: list[tuple[str, tuple[int, int], int, bool]] = [
    ("early scan at 12 weeks", (12, 0), 7, True),
    ("routine scan at 20 weeks", (20, 0), -5, True),
    ("scan at 22+6, the last dating day", (22, 6), 0, True),
    ("scan at 23+0", (23, 0), 0, False),
    ("scan at 30 weeks", (30, 0), 7, False),
    ("scan at 30 weeks estimating 21 weeks (a small fetus, not a dating scan)", (30, 0), 63, False),
]


@pytest.mark.parametrize(("case", "at", "shift", "dates"), DATING_CASES, ids=[c for c, _, _, _ in DATING_CASES])
async def test_only_a_scan_at_or_before_22_6_sets_the_due_date_and_rows_follow_the_due_date_in_force(
    client: httpx.AsyncClient, app: Litestar, case: str, at: tuple[int, int], shift: int, dates: bool
) -> None:
    """CLINICAL.md v1.1 (Helsedirektoratet: due date by ultrasound at the routine scan): a later scan records its
    estimate but does not move the due date; every gestational age shown follows the due date in force."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=32)
    path = card_path(t.woman.patient_id, card["id"])
    lmp = lmp_for_week(32)
    lmp_due = on_week(lmp, 40)
    scan_on = on_week(lmp, *at)
    scan_due = lmp_due + timedelta(days=shift)
    response = await client.post(
        f"{path}/ultrasounds",
        json={"date": scan_on.isoformat(), "kind": "other", "dueDate": scan_due.isoformat()},
        headers=t.midwife.headers,
    )
    assert response.status_code == 201, response.text

    mine = (await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=t.woman.headers)).json()
    due_in_force = scan_due if dates else lmp_due
    assert mine["dueDate"] == due_in_force.isoformat(), case
    assert mine["dueDateSource"] == ("ultrasound" if dates else "lmp"), case
    (row,) = mine["ultrasounds"]
    assert row == {**row, "datesPregnancy": dates, "dueDate": scan_due.isoformat()}
    zero = due_in_force - timedelta(days=280)
    shown = divmod((scan_on - zero).days, 7)
    assert row["gestationalAge"] == {"weeks": shown[0], "days": shown[1]}, case
    own = divmod((scan_on - (scan_due - timedelta(days=280))).days, 7)
    assert row["estimatedGestationalAge"] == {"weeks": own[0], "days": own[1]}, case
    assert response.json()["gestationalAge"] == row["gestationalAge"]
    today_by_force = divmod((today() - zero).days, 7)
    assert mine["gestationalAge"] == {"weeks": today_by_force[0], "days": today_by_force[1]}


async def test_a_late_scan_after_the_dating_scan_neither_moves_the_due_date_nor_its_own_row(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=32)
    path = card_path(t.woman.patient_id, card["id"])
    lmp = lmp_for_week(32)
    routine_due = on_week(lmp, 40, 3)
    for weeks, due in ((18, routine_due), (30, on_week(lmp, 42))):
        response = await client.post(
            f"{path}/ultrasounds",
            json={"date": on_week(lmp, weeks).isoformat(), "kind": "other", "dueDate": due.isoformat()},
            headers=t.midwife.headers,
        )
        assert response.status_code == 201, response.text
    now = (await client.get(path, headers=t.midwife.headers)).json()
    assert now["dueDate"] == routine_due.isoformat()
    assert [(u["datesPregnancy"], u["gestationalAge"]) for u in now["ultrasounds"]] == [
        (True, {"weeks": 17, "days": 4}),
        (False, {"weeks": 29, "days": 4}),
    ]


# --- symphysis-fundus height ------------------------------------------------------------------------------


@pytest.mark.parametrize(("at", "status"), [((23, 6), 400), ((24, 0), 201)], ids=["23+6", "24+0"])
async def test_sf_height_is_accepted_from_week_24(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, at: tuple[int, int], status: int
) -> None:
    """CLINICAL.md v1.1 (Helsedirektoratet's card): symphysis-fundus height from week 24."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=26)
    response = await client.post(
        f"{card_path(t.woman.patient_id, card['id'])}/consultations",
        json={"date": on_week(lmp_for_week(26), *at).isoformat(), "sfCm": 23.0},
        headers=t.midwife.headers,
    )
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["errors"][0]["field"] == "sfCm"
        assert await db.fetchval("SELECT count(*) FROM pregnancy_consultation WHERE card = $1", card["id"]) == 0


# --- earlier pregnancies and the outcome ------------------------------------------------------------------

# (case, earlier pregnancy, status, field named)
EARLIER_CASES: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("miscarriage at week 12", {"kind": "miscarriage", "week": 12}, 201, None),
    ("miscarriage at week 21", {"kind": "miscarriage", "week": 21}, 201, None),
    ("a loss at week 22 is not a miscarriage", {"kind": "miscarriage", "week": 22}, 400, "week"),
    ("a loss at week 30 is not a miscarriage", {"kind": "miscarriage", "week": 30}, 400, "week"),
    ("a stillbirth at week 22 is a birth", {"kind": "birth", "week": 22, "complications": "Dødfødt"}, 201, None),
    ("a birth at week 39", {"kind": "birth", "week": 39, "birthWeightG": 3400, "mode": "vaginal"}, 201, None),
    ("a birth at week 21 is a miscarriage", {"kind": "birth", "week": 21}, 400, "week"),
]


@pytest.mark.parametrize(("case", "earlier", "status", "field"), EARLIER_CASES, ids=[c for c, _, _, _ in EARLIER_CASES])
async def test_an_earlier_pregnancy_ending_at_22_0_or_later_is_a_birth_not_a_miscarriage(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    case: str,
    earlier: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    """CLINICAL.md v1.1 (Helsedirektoratet: a loss from 22+0 is a birth, stillbirth)."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    added = await client.post(
        f"{card_path(t.woman.patient_id, card['id'])}/earlier-pregnancies",
        json={"year": 2021, **earlier},
        headers=t.midwife.headers,
    )
    assert added.status_code == status, f"{case}: {added.text}"
    with_card = await client.post(
        card_path(t.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(8).isoformat(), "earlierPregnancies": [{"year": 2021, **earlier}]},
        headers=t.gp.headers,
    )
    # The woman already has an ongoing card: a valid list gets 409, an invalid one is refused first.
    assert with_card.status_code == (409 if status == 201 else 400), with_card.text
    if field is not None:
        assert added.json()["errors"][0]["field"] == field
        assert with_card.json()["errors"][0]["field"] == f"earlierPregnancies[0].{field}"
        assert await db.fetchval("SELECT count(*) FROM pregnancy_earlier WHERE card = $1", card["id"]) == 0


# (case, outcome, gestational age on the outcome date, status)
OUTCOME_CASES: list[tuple[str, str, tuple[int, int], int]] = [
    ("miscarriage at 21+6", "miscarriage", (21, 6), 200),
    ("miscarriage at 22+0 is a stillbirth", "miscarriage", (22, 0), 400),
    ("stillbirth at 22+0", "stillbirth", (22, 0), 200),
    ("stillbirth at 21+6 is a miscarriage", "stillbirth", (21, 6), 400),
    ("delivery at 21+6 is a miscarriage", "delivered", (21, 6), 400),
    ("delivery at 22+0", "delivered", (22, 0), 200),
    ("delivery at 39+3", "delivered", (39, 3), 200),
    ("termination at 11+2", "termination", (11, 2), 200),
]


@pytest.mark.parametrize(("case", "outcome", "age", "status"), OUTCOME_CASES, ids=[c for c, _, _, _ in OUTCOME_CASES])
async def test_the_outcome_must_fit_the_gestational_age_by_the_due_date_in_force(
    client: httpx.AsyncClient, app: Litestar, case: str, outcome: str, age: tuple[int, int], status: int
) -> None:
    """CLINICAL.md v1.1: a miscarriage after 22+0 or a delivery before 22+0 → 400; the card stays open."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=40)
    path = card_path(t.woman.patient_id, card["id"])
    lmp = lmp_for_week(40)
    # A dating scan two days "older" than the LMP: the gestational age must come from the scan's due date.
    scan = await client.post(
        f"{path}/ultrasounds",
        json={"date": on_week(lmp, 12).isoformat(), "kind": "early", "dueDate": on_week(lmp, 40, -2).isoformat()},
        headers=t.midwife.headers,
    )
    assert scan.status_code == 201, scan.text
    outcome_on = on_week(lmp, *age) - timedelta(days=2)
    response = await client.put(
        f"{path}/outcome", json={"outcome": outcome, "date": outcome_on.isoformat()}, headers=t.midwife.headers
    )
    assert response.status_code == status, f"{case}: {response.text}"
    now = (await client.get(path, headers=t.midwife.headers)).json()
    if status == 400:
        assert response.json()["errors"][0]["field"] == "outcome"
        assert now["status"] == "ongoing"
    else:
        assert now["status"] == outcome
        assert now["gestationalAge"] == {"weeks": age[0], "days": age[1]}
