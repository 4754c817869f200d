"""The whole card as read: a rich card (every section filled) is, field by field, what its writes answered.

Pins the card's JSON across changes to how it is read (issue 21: one statement instead of eight). Every entry
list must equal the answers of the writes that made its rows (those are shaped from the inserted rows, not by
the card read); the header is what was sent, with its BMI; the schedule is pinned at a frozen date. The
clinician (with her consent), the woman and someone holding her power of attorney read the same card.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.factories import new_citizen, new_clinician, relate
from tests.pregnancy.cards import add_consultation, card_path, create_card, lmp_for_week, on_week, team, today
from tests.representation.helpers import acting, give_power

HEADER: dict[str, Any] = {
    "bloodType": "A",
    "rhd": "negative",
    "antibodies": "Ingen",
    "rhdImmunised": False,
    "gravida": 3,
    "para": 1,
    "illnesses": [
        {"name": "Hypotyreose", "needsExtraFollowUp": True},
        {"name": "Astma", "needsExtraFollowUp": False},
    ],
    "medicines": "Levaxin 50 µg",
    "allergies": "Penicillin",
    "lifestyle": {"folate": True, "tobacco": "never", "snus": "stopped", "alcohol": "stopped", "otherSubstances": None},
    "heightCm": 168.0,
    "prePregnancyWeightKg": 64.5,
    "gp": {"name": "Ola Hansen", "organisation": "Sentrum legekontor", "phone": "+47 22 00 00 00"},
    "midwife": {"name": "Kari Jordmor", "organisation": "Helsestasjonen", "phone": "+47 55 00 00 00"},
    "plannedPlaceOfBirth": "Haukeland universitetssjukehus",
    "gdmRisk": True,
}


@pytest.fixture
def december() -> Iterator[None]:
    """In the influenza season, so that every part of the schedule status has something in it."""
    with frozen_at(datetime(2026, 12, 2, 10, 0, tzinfo=UTC)):
        yield


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.usefixtures("december")
async def test_a_rich_card_reads_back_as_its_writes_answered_for_clinician_woman_and_representative(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    hospital = new_clinician(app, org_kind="sykehus", authorization="LE", name="Overlege Siri Berg")
    await relate(client, hospital, t.woman.patient_id)
    lmp = lmp_for_week(30)
    earlier_in = {"year": 2019, "kind": "birth", "week": 40, "birthWeightG": 3650, "mode": "vaginal"}
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30, earlierPregnancies=[earlier_in], **HEADER)
    path = card_path(t.woman.patient_id, card["id"])
    pid, cid = t.woman.patient_id, card["id"]

    # The dating scan first, so that every later answer is computed on the due date in force at the end.
    dating_due = on_week(lmp, 40, 3)
    early = _created(await client.post(
        f"{path}/ultrasounds", headers=hospital.headers,
        json={"date": on_week(lmp, 12).isoformat(), "kind": "early", "dueDate": dating_due.isoformat(),
              "fetuses": 1, "placenta": "Fremre vegg", "findings": "Normale funn"},
    ))  # fmt: skip
    routine = _created(await client.post(
        f"{path}/ultrasounds", headers=hospital.headers,
        json={"date": on_week(lmp, 18, 2).isoformat(), "kind": "routine", "dueDate": on_week(lmp, 41).isoformat(),
              "fetuses": 1},
    ))  # fmt: skip
    other_scan = _created(await client.post(
        f"{path}/ultrasounds", headers=hospital.headers,
        json={"date": on_week(lmp, 26).isoformat(), "kind": "other", "findings": "Vekst følger kurven"},
    ))  # fmt: skip
    tests = [
        _created(await client.post(f"{path}/tests", json=body, headers=t.midwife.headers))
        for body in (
            {"test": "hb", "takenOn": on_week(lmp, 8, 1).isoformat(), "value": 12.8},
            {"test": "ferritin", "takenOn": on_week(lmp, 8, 1).isoformat(), "value": 42, "note": "Normal"},
            {"test": "hiv", "takenOn": on_week(lmp, 8, 1).isoformat(), "result": "negative"},
            {"test": "fetal-rhd", "takenOn": on_week(lmp, 24, 3).isoformat(), "result": "rhd-positive"},
            {"test": "antibody-screening", "takenOn": on_week(lmp, 24, 3).isoformat(), "result": "negative"},
            {"test": "glucose-tolerance", "takenOn": on_week(lmp, 26).isoformat(), "value": 6.1},
        )
    ]
    consultations = [
        await add_consultation(client, t.midwife, pid, cid, date=on_week(lmp, 8).isoformat(), weightKg=64.9,
                               systolic=112, diastolic=70, urineProtein="neg", urineGlucose="trace", hb=12.4,
                               gestationalWeek=8, fetalHeart=None, note="Første besøk"),
        await add_consultation(client, t.gp, pid, cid, date=on_week(lmp, 16, 2).isoformat(), weightKg=66.0,
                               systolic=118, diastolic=74, fetalHeart=True, oedema=False),
        await add_consultation(client, t.midwife, pid, cid, date=on_week(lmp, 24, 3).isoformat(), weightKg=69.1,
                               systolic=121, diastolic=77, urineProtein="1+", sfCm=23.5, fetalHeart=True,
                               presentation="cephalic", fetalMovements=True, oedema=True, note="Litt ødem"),
        await add_consultation(client, t.midwife, pid, cid, date=on_week(lmp, 28, 1).isoformat(), weightKg=71.0,
                               systolic=150, diastolic=80, sfCm=27.0),
    ]  # fmt: skip
    correction = {"date": consultations[3]["date"], "weightKg": 71.0, "systolic": 115, "diastolic": 80,
                  "sfCm": 27.0, "reason": "Skrivefeil i BT"}  # fmt: skip
    consultations[3] = _created(
        await client.put(
            f"{path}/consultations/{consultations[3]['id']}",
            json=correction,
            headers={**t.gp.headers, "If-Match": '"1"'},
        )
    )
    vaccine = _created(await client.post(
        f"{path}/vaccines", headers=t.midwife.headers,
        json={"vaccine": "whooping-cough", "givenOn": on_week(lmp, 24, 3).isoformat(), "note": "Venstre arm"},
    ))  # fmt: skip
    miscarriage = _created(await client.post(
        f"{path}/earlier-pregnancies", headers=t.gp.headers,
        json={"year": 2021, "kind": "miscarriage", "week": 9, "complications": "Ingen"},
    ))  # fmt: skip
    mine = f"/citizen/v1/me/pregnancies/{cid}"
    note = _created(await client.post(f"{mine}/notes", json={"kind": "question", "text": "Er det normalt å være så trøtt?"},
                                      headers=t.woman.headers))  # fmt: skip
    registration = _created(await client.post(
        f"{mine}/self-registrations", headers=t.woman.headers,
        json={"effectiveAt": (datetime(2026, 12, 1, 23, 30, tzinfo=UTC)).isoformat(), "weightKg": 72.4,
              "systolic": 124, "diastolic": 79, "fetalMovements": True},
    ))  # fmt: skip

    attorney = await new_citizen(client, app)
    await give_power(client, t.woman, attorney, ["pregnancy"])
    clinicians = await client.get(path, headers=t.gp.headers)
    hers = await client.get(mine, headers=t.woman.headers)
    represented = await client.get(mine, headers=acting(attorney, t.woman))
    for response in (clinicians, hers, represented):
        assert response.status_code == 200, response.text
    assert clinicians.json() == hers.json() == represented.json()
    assert clinicians.headers["etag"] == '"1"'
    read = hers.json()

    assert {k: read[k] for k in ("id", "status", "version", "lastMenstrualPeriod", "outcome")} == {
        "id": cid, "status": "ongoing", "version": 1, "lastMenstrualPeriod": lmp.isoformat(), "outcome": None,
    }  # fmt: skip
    assert read["dueDate"] == dating_due.isoformat()
    assert read["dueDateSource"] == "ultrasound"
    assert read["lmpDueDate"] == on_week(lmp, 40).isoformat()
    assert read["gestationalAge"] == {"weeks": 29, "days": 4}  # 30+0 by the LMP, the scan moved it three days
    assert read["header"] == {**HEADER, "bmi": 22.9}
    assert read["createdBy"] == card["createdBy"]
    assert read["createdBy"]["hpr"] == t.midwife.hpr
    assert read["createdBy"]["kind"] == "clinician"
    assert read["createdAt"] == read["updatedAt"] == card["createdAt"]

    assert read["ultrasounds"] == [early, routine, other_scan]
    assert [u["datesPregnancy"] for u in read["ultrasounds"]] == [True, False, False]
    assert read["ultrasounds"][1]["gestationalAge"] == {"weeks": 17, "days": 6}
    assert read["ultrasounds"][1]["estimatedGestationalAge"] == {"weeks": 17, "days": 2}
    assert read["ultrasounds"][2]["estimatedGestationalAge"] is None
    # In the order taken; the frozen clock records them all at one instant, so the id breaks the tie.
    assert read["tests"] == sorted(tests, key=lambda row: (row["takenOn"], row["id"]))
    assert read["consultations"] == consultations
    assert [c["corrected"] for c in read["consultations"]] == [False, False, False, True]
    assert read["consultations"][3]["correctionReason"] == "Skrivefeil i BT"
    assert read["consultations"][3]["author"]["hpr"] == t.gp.hpr
    assert read["vaccines"] == [vaccine]
    assert read["notes"] == [note]
    assert read["selfRegistrations"] == [registration]
    assert read["selfRegistrations"][0]["date"] == "2026-12-02"  # 00:30 in Oslo
    first_earlier, second_earlier = read["earlierPregnancies"]
    assert second_earlier == miscarriage
    assert first_earlier == {
        **{key: first_earlier[key] for key in ("id", "author")},
        "year": 2019, "kind": "birth", "week": 40, "birthWeightG": 3650, "mode": "vaginal", "complications": None,
    }  # fmt: skip
    assert first_earlier["author"] == {**card["createdBy"], "at": card["createdAt"]}

    # The programme at 29+4 on 2 December (RhD negative, fetus RhD positive, risk of gestational diabetes): the
    # visit at 28+1 by the LMP is 27+5 by the scan, too early for week 28; the glucose test and the week-24
    # item are done; whooping cough is given; influenza is offered from the season's start.
    def item(key: str, nb: str, en: str, starts: str, ends: str) -> dict[str, str]:
        return {"key": key, "labelNb": nb, "labelEn": en, "startsOn": starts, "endsOn": ends}

    assert read["nextDue"] == item(
        "consultation-32", "Konsultasjon uke 32", "Consultation week 32", "2026-12-19", "2026-12-25"
    )
    assert read["overdue"] == [
        item("consultation-28", "Konsultasjon uke 28", "Consultation week 28", "2026-11-21", "2026-11-27"),
        item("anti-d-prophylaxis", "Anti-D-profylakse", "Anti-D prophylaxis", "2026-11-21", "2026-11-27"),
    ]
    assert read["vaccinesDue"] == [
        item("influenza-vaccine", "Influensavaksine", "Influenza vaccine", "2026-10-01", "2027-03-05")
    ]

    # Closed: the outcome is on the card, the age stops at the outcome date, the entries are unchanged.
    outcome_on = today() - timedelta(days=1)
    closed = _created(
        await client.put(
            f"{path}/outcome", json={"outcome": "delivered", "date": outcome_on.isoformat()}, headers=t.midwife.headers
        )
    )
    after = (await client.get(mine, headers=t.woman.headers)).json()
    assert after == closed == (await client.get(path, headers=t.gp.headers)).json()
    assert after["status"] == "delivered"
    assert after["gestationalAge"] == {"weeks": 29, "days": 3}
    assert after["outcome"] == {
        "outcome": "delivered", "date": outcome_on.isoformat(), "note": None,
        "author": {**card["createdBy"], "at": after["updatedAt"]},
    }  # fmt: skip
    unchanged = ("header", "earlierPregnancies", "tests", "consultations", "ultrasounds", "vaccines", "notes",
                 "selfRegistrations", "createdBy", "createdAt", "dueDate", "lmpDueDate")  # fmt: skip
    assert {k: after[k] for k in unchanged} == {k: read[k] for k in unchanged}
