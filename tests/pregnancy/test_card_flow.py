"""A pregnancy from first consultation to delivery through the API: midwife, GP and the woman."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.factories import new_clinician, relate
from tests.pregnancy.cards import add_consultation, card_path, create_card, lmp_for_week, on_week, team, today


@pytest.fixture
def summer() -> Iterator[None]:
    """Outside the influenza season, so the influenza vaccine is not what comes next."""
    with frozen_at(datetime(2026, 6, 15, 10, 0, tzinfo=UTC)):
        yield


async def test_midwife_creates_card_gp_adds_consultation_and_the_woman_sees_both_with_authors(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=10, bloodType="0", rhd="positive")
    lmp = lmp_for_week(10)
    first = await add_consultation(
        client, t.midwife, t.woman.patient_id, card["id"], date=on_week(lmp, 9).isoformat(), weightKg=64.5,
        systolic=112, diastolic=70, urineProtein="neg", urineGlucose="neg", hb=12.4, note="Første besøk",
    )  # fmt: skip
    second = await add_consultation(
        client, t.gp, t.woman.patient_id, card["id"], gestationalWeek=10, weightKg=65.0, systolic=118, diastolic=74
    )
    assert first["author"]["role"] == "JO"
    assert second["author"]["role"] == "LE"

    response = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=t.woman.headers)
    assert response.status_code == 200, response.text
    mine = response.json()
    assert mine["status"] == "ongoing"
    assert mine["lastMenstrualPeriod"] == lmp.isoformat()
    assert mine["dueDateSource"] == "lmp"
    assert mine["dueDate"] == on_week(lmp, 40).isoformat()
    assert mine["gestationalAge"] == {"weeks": 10, "days": 0}
    authors = [(row["author"]["name"], row["author"]["hpr"], row["author"]["role"], row["author"]["organisation"])
               for row in mine["consultations"]]  # fmt: skip
    assert authors == [
        ("Jordmor Kari Nordmann", t.midwife.hpr, "JO", t.midwife.org),
        ("Fastlege Ola Hansen", t.gp.hpr, "LE", t.gp.org),
    ]
    assert mine["consultations"][0]["gestationalAge"] == {"weeks": 9, "days": 0}
    assert mine["consultations"][0]["hb"] == 12.4
    assert mine["createdBy"]["hpr"] == t.midwife.hpr
    # The first consultation is done; the early ultrasound (11+0) is next.
    assert mine["nextDue"]["key"] == "early-ultrasound"
    assert mine["overdue"] == []

    listing = await client.get("/citizen/v1/me/pregnancies", headers=t.woman.headers)
    assert [item["id"] for item in listing.json()["items"]] == [card["id"]]


async def test_creating_the_card_as_a_midwife_attests_her_organisations_midwife_relation(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    await create_card(client, t.midwife, t.woman.patient_id)
    relations = await client.get(
        f"/clinician/v1/patients/{t.woman.patient_id}/care-relations", headers=t.midwife.headers
    )
    assert relations.status_code == 200
    kinds = [(item["kind"], item["attestedBy"]["organisation"]) for item in relations.json()["items"]]
    assert kinds.count(("midwife", t.midwife.org)) == 1
    changes = await client.get("/citizen/v1/me/changes", headers=t.woman.headers)
    types = [item["type"] for item in changes.json()["items"]]
    assert "care-relation.attested" in types
    assert "pregnancy.card.created" in types


async def test_without_consent_creating_a_card_is_404_and_leaves_no_relation_or_card(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app, with_consent=False)
    for clinician in (t.midwife, t.gp):
        response = await client.post(
            card_path(t.woman.patient_id),
            json={"lastMenstrualPeriod": lmp_for_week(8).isoformat()},
            headers=clinician.headers,
        )
        assert response.status_code == 404, response.text
    assert await db.fetchval("SELECT count(*) FROM pregnancy_card WHERE patient_id = $1", t.woman.patient_id) == 0
    assert (
        await db.fetchval(
            "SELECT count(*) FROM care_relation WHERE patient_id = $1 AND kind = 'midwife'", t.woman.patient_id
        )
        == 0
    )


async def test_withdrawn_consent_hides_the_card_from_clinicians_but_not_from_the_woman(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    assert (await client.get(card_path(t.woman.patient_id, card["id"]), headers=t.gp.headers)).status_code == 200
    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert withdrawn.status_code == 204
    for clinician in (t.gp, t.midwife):
        response = await client.get(card_path(t.woman.patient_id, card["id"]), headers=clinician.headers)
        assert response.status_code == 404
        assert "consultations" not in response.text
        written = await client.post(
            f"{card_path(t.woman.patient_id, card['id'])}/consultations",
            json={"date": today().isoformat()},
            headers=clinician.headers,
        )
        assert written.status_code == 404
    own = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=t.woman.headers)
    assert own.status_code == 200


async def test_emergency_access_reads_the_card_without_consent(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    doctor = new_clinician(app, org_kind="sykehus", authorization="LE")
    opened = await client.post(
        f"/clinician/v1/patients/{t.woman.patient_id}/emergency-access",
        json={"reason": "Bevisstløs gravid innlagt akuttmottak"},
        headers=doctor.headers,
    )
    assert opened.status_code == 201
    response = await client.get(card_path(t.woman.patient_id, card["id"]), headers=doctor.headers)
    assert response.status_code == 200
    assert response.json()["id"] == card["id"]


async def test_only_midwives_and_doctors_at_care_organisations_write_cards(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    nurse = new_clinician(app, org_kind="fastlege", authorization="SP", org=t.gp.org)
    lab = new_clinician(app, org_kind="laboratorium", authorization="LE")
    for clinician in (nurse, lab):
        response = await client.post(
            card_path(t.woman.patient_id),
            json={"lastMenstrualPeriod": lmp_for_week(8).isoformat()},
            headers=clinician.headers,
        )
        assert response.status_code == 403, response.text
    # The nurse may still read it through her GP office's relation.
    card = await create_card(client, t.gp, t.woman.patient_id)
    assert (await client.get(card_path(t.woman.patient_id, card["id"]), headers=nurse.headers)).status_code == 200


async def test_a_second_ongoing_card_is_409_and_a_new_one_is_allowed_after_the_outcome(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    first = await create_card(client, t.midwife, t.woman.patient_id, weeks=12)
    again = await client.post(
        card_path(t.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(8).isoformat()},
        headers=t.gp.headers,
    )
    assert again.status_code == 409
    assert "ongoing" in again.json()["detail"]
    closed = await client.put(
        f"{card_path(t.woman.patient_id, first['id'])}/outcome",
        json={"outcome": "miscarriage", "date": today().isoformat()},
        headers=t.gp.headers,
    )
    assert closed.status_code == 200
    second = await create_card(client, t.gp, t.woman.patient_id, weeks=6)
    listing = await client.get(card_path(t.woman.patient_id), headers=t.gp.headers)
    statuses = {item["id"]: item["status"] for item in listing.json()["items"]}
    assert statuses == {first["id"]: "miscarriage", second["id"]: "ongoing"}


async def test_outcome_closes_the_card_publishes_the_context_and_refuses_new_entries(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=40)
    path = card_path(t.woman.patient_id, card["id"])
    context = "SELECT value FROM patient_context WHERE patient_id = $1 AND key = 'pregnancy'"
    assert await db.fetchval(context, t.woman.patient_id) == "ongoing"

    delivered_on = today()
    response = await client.put(
        f"{path}/outcome", json={"outcome": "delivered", "date": delivered_on.isoformat()}, headers=t.midwife.headers
    )
    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "delivered"
    assert closed["outcome"]["date"] == delivered_on.isoformat()
    assert closed["outcome"]["author"]["hpr"] == t.midwife.hpr
    assert closed["nextDue"] is None
    assert closed["overdue"] == []
    assert closed["gestationalAge"] == {"weeks": 40, "days": 0}
    assert await db.fetchval(context, t.woman.patient_id) == "delivered"

    consultation = await client.post(
        f"{path}/consultations", json={"date": today().isoformat(), "weightKg": 70}, headers=t.gp.headers
    )
    assert consultation.status_code == 409
    assert "closed" in consultation.json()["detail"]
    for suffix, body in (
        ("/ultrasounds", {"date": today().isoformat(), "kind": "other"}),
        ("/vaccines", {"vaccine": "influenza", "givenOn": today().isoformat()}),
    ):
        assert (await client.post(path + suffix, json=body, headers=t.gp.headers)).status_code == 409
    note = await client.post(
        f"/citizen/v1/me/pregnancies/{card['id']}/notes", json={"text": "Takk for alt"}, headers=t.woman.headers
    )
    assert note.status_code == 409
    # The same outcome again is a no-op; another one is refused: a closed card is not reopened.
    same = await client.put(
        f"{path}/outcome", json={"outcome": "delivered", "date": delivered_on.isoformat()}, headers=t.midwife.headers
    )
    assert same.status_code == 200
    other = await client.put(
        f"{path}/outcome", json={"outcome": "stillbirth", "date": delivered_on.isoformat()}, headers=t.midwife.headers
    )
    assert other.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM pregnancy_consultation WHERE card = $1", closed["id"]) == 0

    changes = await client.get("/citizen/v1/me/changes", headers=t.woman.headers)
    types = [item["type"] for item in changes.json()["items"]]
    assert types.count("pregnancy.card.closed") == 1


async def test_outcome_dated_before_the_pregnancy_or_in_the_future_is_400(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    path = card_path(t.woman.patient_id, card["id"])
    for when in (lmp_for_week(21), today() + timedelta(days=1)):
        response = await client.put(
            f"{path}/outcome", json={"outcome": "delivered", "date": when.isoformat()}, headers=t.midwife.headers
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "date"
    unknown = await client.put(
        f"{path}/outcome", json={"outcome": "abortion", "date": today().isoformat()}, headers=t.midwife.headers
    )
    assert unknown.status_code == 400
    still = await client.get(path, headers=t.midwife.headers)
    assert still.json()["status"] == "ongoing"


async def test_concurrent_header_edits_with_the_same_if_match_give_exactly_one_412(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    path = card_path(t.woman.patient_id, card["id"])
    read = await client.get(path, headers=t.gp.headers)
    tag = read.headers["ETag"]
    assert tag == '"1"'

    async def edit(clinician_headers: dict[str, str], body: dict[str, object]) -> httpx.Response:
        return await client.patch(path, json=body, headers={**clinician_headers, "If-Match": tag})

    results = await asyncio.gather(
        edit(t.gp.headers, {"bloodType": "A", "rhd": "negative"}),
        edit(t.midwife.headers, {"gravida": 2, "para": 1}),
    )
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200, 412]
    winner = next(response for response in results if response.status_code == 200)
    assert winner.headers["ETag"] == '"2"'
    loser = next(response for response in results if response.status_code == 412)
    assert loser.json()["currentVersion"] == 2

    missing = await client.patch(path, json={"gravida": 3}, headers=t.gp.headers)
    assert missing.status_code == 428
    history = await client.get(f"{path}/header-history", headers=t.gp.headers)
    assert [item["version"] for item in history.json()["items"]] == [2, 1]
    assert history.json()["items"][1]["header"]["bloodType"] is None


async def test_header_patch_changes_only_what_is_sent_and_keeps_every_version(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(
        client, t.midwife, t.woman.patient_id, bloodType="0", rhd="positive", heightCm=168, prePregnancyWeightKg=63
    )
    path = card_path(t.woman.patient_id, card["id"])
    response = await client.patch(
        path,
        json={"rhd": "negative", "allergies": "Penicillin", "lifestyle": {"folate": True, "snus": "stopped"}},
        headers={**t.gp.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    header = response.json()["header"]
    assert header["bloodType"] == "0"
    assert header["rhd"] == "negative"
    assert header["allergies"] == "Penicillin"
    assert header["bmi"] == 22.3
    # RhD negative brings the fetal RhD test (week 24) and anti-D (week 28) into the schedule.
    history = (await client.get(f"{path}/header-history", headers=t.gp.headers)).json()["items"]
    assert [(item["version"], item["author"]["hpr"]) for item in history] == [(2, t.gp.hpr), (1, t.midwife.hpr)]
    bad = await client.patch(path, json={"gravida": 1, "para": 1}, headers={**t.gp.headers, "If-Match": '"2"'})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "para"
    empty = await client.patch(path, json={}, headers={**t.gp.headers, "If-Match": '"2"'})
    assert empty.status_code == 400
    unchanged = await client.get(path, headers=t.gp.headers)
    assert unchanged.headers["ETag"] == '"2"'


async def test_a_correction_is_a_new_version_and_the_old_one_stays_in_the_clinicians_history(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=26)
    row = await add_consultation(
        client, t.midwife, t.woman.patient_id, card["id"], weightKg=71.0, systolic=150, diastolic=80
    )
    path = f"{card_path(t.woman.patient_id, card['id'])}/consultations/{row['id']}"
    body = {"date": row["date"], "weightKg": 71.0, "systolic": 115, "diastolic": 80, "reason": "Skrivefeil i BT"}
    missing = await client.put(path, json=body, headers=t.gp.headers)
    assert missing.status_code == 428
    corrected = await client.put(path, json=body, headers={**t.gp.headers, "If-Match": '"1"'})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["version"] == 2
    assert corrected.json()["id"] == row["id"]
    assert corrected.json()["author"]["hpr"] == t.gp.hpr
    stale = await client.put(path, json=body, headers={**t.gp.headers, "If-Match": '"1"'})
    assert stale.status_code == 412

    history = await client.get(f"{path}/history", headers=t.midwife.headers)
    assert history.status_code == 200
    versions = [(item["version"], item["systolic"], item["author"]["hpr"]) for item in history.json()["items"]]
    assert versions == [(2, 115, t.gp.hpr), (1, 150, t.midwife.hpr)]
    assert history.json()["items"][1]["supersededAt"] is not None

    mine = (await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=t.woman.headers)).json()
    assert len(mine["consultations"]) == 1
    assert mine["consultations"][0]["systolic"] == 115
    assert mine["consultations"][0]["corrected"] is True


@pytest.mark.usefixtures("summer")
async def test_the_dating_ultrasound_sets_the_due_date_and_a_later_scan_does_not_move_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    hospital = new_clinician(app, org_kind="sykehus", authorization="LE")
    await relate(client, hospital, t.woman.patient_id)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=19)
    lmp = lmp_for_week(19)
    path = card_path(t.woman.patient_id, card["id"])
    early_due = on_week(lmp, 40, 4)  # the scan dates the pregnancy four days later than the LMP
    early = await client.post(
        f"{path}/ultrasounds",
        json={"date": on_week(lmp, 12).isoformat(), "kind": "early", "dueDate": early_due.isoformat(), "fetuses": 1},
        headers=hospital.headers,
    )
    assert early.status_code == 201, early.text
    routine = await client.post(
        f"{path}/ultrasounds",
        json={"date": on_week(lmp, 18).isoformat(), "kind": "routine", "dueDate": on_week(lmp, 41).isoformat()},
        headers=hospital.headers,
    )
    assert routine.status_code == 201
    mine = (await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=t.woman.headers)).json()
    assert mine["dueDate"] == early_due.isoformat()
    assert mine["dueDateSource"] == "ultrasound"
    assert mine["lmpDueDate"] == on_week(lmp, 40).isoformat()
    assert mine["gestationalAge"] == {"weeks": 18, "days": 3}
    assert [u["kind"] for u in mine["ultrasounds"]] == ["early", "routine"]
    assert mine["ultrasounds"][0]["author"]["organisation"] == hospital.org
    assert mine["nextDue"]["key"] == "consultation-24"


@pytest.mark.usefixtures("summer")
async def test_next_due_and_overdue_follow_the_schedule_and_its_conditions(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=30, rhd="negative")
    lmp = lmp_for_week(30)
    path = card_path(t.woman.patient_id, card["id"])
    await add_consultation(client, t.midwife, t.woman.patient_id, card["id"], date=on_week(lmp, 8).isoformat())
    await add_consultation(client, t.midwife, t.woman.patient_id, card["id"], date=on_week(lmp, 25, 2).isoformat())
    vaccine = await client.post(
        f"{path}/vaccines",
        json={"vaccine": "whooping-cough", "givenOn": on_week(lmp, 24, 3).isoformat()},
        headers=t.midwife.headers,
    )
    assert vaccine.status_code == 201
    rhd_test = await client.post(
        f"{path}/tests",
        json={"test": "fetal-rhd", "takenOn": on_week(lmp, 24, 3).isoformat(), "result": "rhd-positive"},
        headers=t.midwife.headers,
    )
    assert rhd_test.status_code == 201, rhd_test.text
    screening = await client.post(
        f"{path}/tests",
        json={"test": "antibody-screening", "takenOn": on_week(lmp, 24, 3).isoformat(), "result": "negative"},
        headers=t.midwife.headers,
    )
    assert screening.status_code == 201, screening.text
    card_now = (await client.get(path, headers=t.gp.headers)).json()
    overdue = [item["key"] for item in card_now["overdue"]]
    # A late week-24 visit (25+2) fulfils the week-24 consultation; week 28 and anti-D (RhD-positive fetus) remain.
    assert "consultation-24" not in overdue
    assert "first-consultation" not in overdue
    assert "whooping-cough-vaccine" not in overdue
    assert "fetal-rhd-and-antibody-test" not in overdue
    assert {"early-ultrasound", "routine-ultrasound", "consultation-28", "anti-d-prophylaxis"} <= set(overdue)
    assert "glucose-tolerance-test" not in overdue  # no risk criteria on this card
    assert card_now["nextDue"]["key"] == "consultation-32"


async def test_in_the_influenza_season_the_vaccine_is_due_from_the_second_trimester(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    with frozen_at(datetime(2026, 12, 2, 10, 0, tzinfo=UTC)):
        # 24+0 on 2 December: the second trimester began in September, before the season opened on 1 October.
        earlier = await create_card(client, t.midwife, t.woman.patient_id, weeks=24)
        offered = {item["key"]: item["startsOn"] for item in earlier["vaccinesDue"]}
        assert offered["influenza-vaccine"] == "2026-10-01"
        closed = await client.put(
            f"{card_path(t.woman.patient_id, earlier['id'])}/outcome",
            json={"outcome": "stillbirth", "date": today().isoformat()},
            headers=t.midwife.headers,
        )
        assert closed.status_code == 200, closed.text
    with frozen_at(datetime(2026, 11, 2, 10, 0, tzinfo=UTC)):
        card = await create_card(client, t.midwife, t.woman.patient_id, weeks=14)
        # CLINICAL.md v1.1: the vaccine is listed beside the next examination, not instead of it.
        assert card["nextDue"]["key"] == "routine-ultrasound"
        assert [item["key"] for item in card["vaccinesDue"]] == ["influenza-vaccine"]
        # Offered from the later of the season's start and 13+0, here 13+0 on 26 October.
        assert card["vaccinesDue"][0]["startsOn"] == "2026-10-26"
        given = await client.post(
            f"{card_path(t.woman.patient_id, card['id'])}/vaccines",
            json={"vaccine": "influenza", "givenOn": today().isoformat()},
            headers=t.midwife.headers,
        )
        assert given.status_code == 201
        after = (await client.get(card_path(t.woman.patient_id, card["id"]), headers=t.midwife.headers)).json()
        assert after["nextDue"]["key"] == "routine-ultrasound"
        assert after["vaccinesDue"] == []
        assert [item["key"] for item in after["overdue"]] == ["first-consultation", "early-ultrasound"]


async def test_home_blood_pressure_alerts_the_midwife_while_the_card_is_ongoing_and_not_after_the_outcome(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """The card publishes `pregnancy` in the patient context; the measurements capability raises the alert."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=34)

    async def upload(systolic: int, diastolic: int) -> None:
        reading = {
            "id": str(uuid.uuid4()),
            "code": "85354-9",
            "effectiveAt": datetime.now(UTC).isoformat(),
            "components": [
                {"code": "8480-6", "value": systolic, "unit": "mm[Hg]"},
                {"code": "8462-4", "value": diastolic, "unit": "mm[Hg]"},
            ],
        }
        response = await client.post("/citizen/v1/me/measurements", json={"items": [reading]}, headers=t.woman.headers)
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["status"] == "created", response.text

    async def alerts() -> list[dict[str, object]]:
        response = await client.get("/clinician/v1/alerts", headers=t.midwife.headers)
        assert response.status_code == 200
        return [item for item in response.json()["items"] if item["patientId"] == str(t.woman.patient_id)]

    await upload(165, 112)
    raised = await alerts()
    assert [item["severity"] for item in raised] == ["urgent"]

    closed = await client.put(
        f"{card_path(t.woman.patient_id, card['id'])}/outcome",
        json={"outcome": "delivered", "date": today().isoformat()},
        headers=t.midwife.headers,
    )
    assert closed.status_code == 200
    await upload(170, 115)
    assert len(await alerts()) == 1


async def test_a_midwife_of_another_organisation_cannot_reach_an_existing_card_by_creating_one(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    await create_card(client, t.midwife, t.woman.patient_id)
    stranger = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    response = await client.post(
        card_path(t.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(8).isoformat()},
        headers=stranger.headers,
    )
    assert response.status_code == 404
    relations = await db.fetchval(
        "SELECT count(*) FROM care_relation WHERE patient_id = $1 AND org_number = $2", t.woman.patient_id, stranger.org
    )
    assert relations == 0
    assert (await client.get(card_path(t.woman.patient_id), headers=stranger.headers)).status_code == 404


async def test_a_blocked_midwife_neither_creates_a_card_nor_gains_a_relation(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    assert (await client.put(f"/citizen/v1/me/blocks/{t.midwife.hpr}", headers=t.woman.headers)).status_code == 204
    response = await client.post(
        card_path(t.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(8).isoformat()},
        headers=t.midwife.headers,
    )
    assert response.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE org_number = $1", t.midwife.org) == 0
    assert await db.fetchval("SELECT count(*) FROM pregnancy_card WHERE patient_id = $1", t.woman.patient_id) == 0
