"""When NEWS2 is valid for the patient (RCP NEWS2 2017: not validated under 16 years or in pregnancy;
CLINICAL.md v1.1: not valid under 16 from the fødselsnummer, in an ongoing pregnancy, or within 6 weeks
(42 days) after a pregnancy ended). A score that is not valid is still computed and stored, and raises no alert.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from backend.core.context import PREGNANCY, PregnancyFacts, birth_date, set_context
from backend.measurements.service import news2_not_valid_reason
from tests.factories import Clinician, consent, fnr_born_on, new_citizen, new_clinician, relate
from tests.pregnancy.cards import card_path, create_card, team, today

HIGH: dict[str, Any] = {
    "respirationRate": 26, "spo2": 91, "onOxygen": True, "systolic": 125, "pulse": 70, "consciousness": "A",
    "temperature": 37.0,
}  # fmt: skip
NOT_PREGNANT = PregnancyFacts(ongoing=False, ended_on=None)
DAY = date(2026, 6, 15)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@pytest.mark.parametrize(
    ("born", "pregnancy", "on", "reason"),
    [
        pytest.param(date(2010, 6, 16), NOT_PREGNANT, DAY, "under-16", id="15, the day before her 16th birthday"),
        pytest.param(date(2010, 6, 15), NOT_PREGNANT, DAY, None, id="16 on the birthday"),
        pytest.param(date(2010, 6, 14), NOT_PREGNANT, DAY, None, id="16 and a day"),
        pytest.param(date(2016, 1, 1), NOT_PREGNANT, DAY, "under-16", id="a child of 10"),
        pytest.param(date(2008, 2, 29), NOT_PREGNANT, date(2024, 2, 28), "under-16", id="29 Feb birth, day before 16"),
        pytest.param(date(2008, 2, 29), NOT_PREGNANT, date(2024, 2, 29), None, id="29 Feb birth, 16th birthday"),
        pytest.param(
            date(2008, 2, 29), NOT_PREGNANT, date(2025, 2, 28), None, id="29 Feb birth, a year after turning 16"
        ),
        pytest.param(date(1990, 1, 1), PregnancyFacts(ongoing=True, ended_on=None), DAY, "pregnancy", id="pregnant"),
        pytest.param(
            date(1990, 1, 1),
            PregnancyFacts(ongoing=False, ended_on=DAY),
            DAY,
            "after-pregnancy",
            id="the day the pregnancy ends",
        ),
        pytest.param(
            date(1990, 1, 1),
            PregnancyFacts(ongoing=False, ended_on=DAY - timedelta(days=42)),
            DAY,
            "after-pregnancy",
            id="day 42 after the end",
        ),
        pytest.param(
            date(1990, 1, 1),
            PregnancyFacts(ongoing=False, ended_on=DAY - timedelta(days=43)),
            DAY,
            None,
            id="day 43 after the end",
        ),
        pytest.param(
            date(2010, 7, 1),
            PregnancyFacts(ongoing=True, ended_on=None),
            DAY,
            "under-16",
            id="15 and pregnant: age is the reason given",
        ),
        pytest.param(None, NOT_PREGNANT, DAY, None, id="unknown birth date never silences alerts"),
    ],
)
def test_validity_rule_rcp_news2_2017_clinical_v1_1(
    born: date | None, pregnancy: PregnancyFacts, on: date, reason: str | None
) -> None:
    """RCP NEWS2 2017; CLINICAL.md v1.1 "NEWS2 validity"."""
    assert news2_not_valid_reason(born, pregnancy, on) == reason


async def record(client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID) -> dict[str, Any]:
    response = await client.post(f"/clinician/v1/patients/{patient_id}/news2", json=HIGH, headers=clinician.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("d_number", [False, True], ids=["fødselsnummer", "D-nummer"])
async def test_news2_for_ages_15_and_16_from_the_identity_number_rcp_news2_2017_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar, d_number: bool
) -> None:
    """RCP NEWS2 2017 (not for under 16s); CLINICAL.md v1.1: age from the fødselsnummer or D-nummer."""
    on = today()
    sixteen_today = years_before(on, 16)
    sixteen_tomorrow = sixteen_today + timedelta(days=1)
    for born, valid in ((sixteen_tomorrow, False), (sixteen_today, True)):
        citizen = await new_citizen(client, app, fnr_born_on(born, d_number=d_number))
        assert await birth_date(citizen.patient_id) == born
        legevakt = new_clinician(app, org_kind="legevakt")
        await relate(client, legevakt, citizen.patient_id)
        recorded = await record(client, legevakt, citizen.patient_id)
        assert (recorded["total"], recorded["risk"]) == (8, "high"), "computed whatever its validity"
        assert recorded["validForPatient"] is valid, born
        assert recorded["notValidReason"] == (None if valid else "under-16")
        assert (recorded["alertId"] is not None) is valid


async def closed_card(
    client: httpx.AsyncClient, app: Litestar, *, weeks: int, ended_days_ago: int, outcome: str
) -> Any:
    """A consenting woman whose card (made by her midwife) closed `ended_days_ago`, and her hospital doctor."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=weeks)
    ended = (today() - timedelta(days=ended_days_ago)).isoformat()
    response = await client.put(
        f"{card_path(t.woman.patient_id, card['id'])}/outcome",
        json={"outcome": outcome, "date": ended},
        headers=t.midwife.headers,
    )
    assert response.status_code == 200, response.text
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, t.woman.patient_id)
    return t, hospital


@pytest.mark.parametrize(
    ("weeks", "ended_days_ago", "outcome", "valid"),
    [
        pytest.param(40, 0, "delivered", False, id="the day of delivery"),
        pytest.param(44, 20, "delivered", False, id="20 days after delivery"),
        pytest.param(44, 42, "delivered", False, id="42 days after delivery"),
        pytest.param(44, 43, "delivered", True, id="43 days after delivery"),
        pytest.param(14, 10, "miscarriage", False, id="10 days after a miscarriage"),
    ],
)
async def test_news2_in_the_six_weeks_after_a_pregnancy_ends_rcp_news2_2017_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar, weeks: int, ended_days_ago: int, outcome: str, valid: bool
) -> None:
    """CLINICAL.md v1.1: not valid within 6 weeks (42 days) after the outcome date, the day itself included."""
    t, hospital = await closed_card(client, app, weeks=weeks, ended_days_ago=ended_days_ago, outcome=outcome)
    recorded = await record(client, hospital, t.woman.patient_id)
    assert recorded["validForPatient"] is valid
    # She consents to her card, so her clinicians may be told why.
    assert recorded["notValidReason"] == (None if valid else "after-pregnancy")
    assert (recorded["alertId"] is not None) is valid


async def test_without_her_consent_the_reason_does_not_tell_of_a_pregnancy_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """CLINICAL.md v1.1 "Pregnancy is private": the not-valid reason is neutral without pregnancy-card consent."""
    t, hospital = await closed_card(client, app, weeks=40, ended_days_ago=3, outcome="delivered")
    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert withdrawn.status_code == 204
    response = await client.post(
        f"/clinician/v1/patients/{t.woman.patient_id}/news2", json=HIGH, headers=hospital.headers
    )
    recorded = response.json()
    assert (recorded["validForPatient"], recorded["alertId"]) == (False, None)
    assert recorded["notValidReason"] == "not-validated-for-this-patient"
    assert "pregnan" not in response.text.lower()


async def test_an_outcome_published_without_its_date_counts_from_the_day_it_was_published_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """CLINICAL.md v1.1: a writer that publishes only `pregnancy: <outcome>` still starts the 6 weeks."""
    citizen = await new_citizen(client, app)
    await consent(client, citizen)
    await set_context(citizen.patient_id, PREGNANCY, "delivered")
    legevakt = new_clinician(app, org_kind="legevakt")
    await relate(client, legevakt, citizen.patient_id)
    recorded = await record(client, legevakt, citizen.patient_id)
    assert (recorded["validForPatient"], recorded["notValidReason"], recorded["alertId"]) == (
        False,
        "after-pregnancy",
        None,
    )
