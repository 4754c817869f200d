"""The rules around acting for someone: the child's birthdays (12 and 16) on the frozen clock, bad input refused with
nothing stored, the register's system token, revoking at once and both sides seeing it, the followed change feed,
and a child's own access log from 16."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import httpx
from litestar import Litestar

from backend.core.clock import OSLO, frozen_at, utcnow
from backend.dev.tokens import mint, system_claims
from tests.factories import bearer, new_clinician, relate, signing_key
from tests.labs.reports import lab_report, released
from tests.medications.factories import entry, write
from tests.representation.helpers import (
    acting,
    audit_rows,
    born_years_ago,
    give_power,
    person_aged,
    person_born,
    register_guardian,
    system_headers,
)

ME = "/citizen/v1/me"


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=OSLO).astimezone(UTC)


async def test_the_guardians_scopes_change_on_the_childs_12th_and_16th_birthday(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    today = utcnow().astimezone(OSLO).date()
    birthday = today + timedelta(days=10)
    mother = await person_aged(client, app, 41)
    turning_12 = await person_born(client, app, birthday.replace(year=birthday.year - 12))
    turning_16 = await person_born(client, app, birthday.replace(year=birthday.year - 16))
    for child in (turning_12, turning_16):
        await register_guardian(client, app, mother, child)

    async def status(child_id: uuid.UUID, route: str, on: date) -> int:
        with frozen_at(noon(on)):
            response = await client.get(f"{ME}/{route}", headers=acting(mother, child_id))
        return response.status_code

    eve = birthday - timedelta(days=1)
    assert await status(turning_12.patient_id, "lab-results", eve) == 200
    assert await status(turning_12.patient_id, "lab-results", birthday) == 404
    assert await status(turning_12.patient_id, "medications", birthday) == 200
    assert await status(turning_16.patient_id, "medications", eve) == 200
    assert await status(turning_16.patient_id, "lab-results", eve) == 404
    assert await status(turning_16.patient_id, "medications", birthday) == 404
    with frozen_at(noon(birthday)):
        represented = await client.get(f"{ME}/represented", headers=mother.headers)
    assert represented.status_code == 200, represented.text
    assert represented.json() == [
        {
            "patientId": str(turning_12.patient_id),
            "basis": "guardian",
            "scopes": ["medications", "prescriptions"],
            "until": None,
        }
    ]


async def test_bad_power_of_attorney_is_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    grantor = await person_aged(client, app, 70)
    adult = await person_aged(client, app, 30)
    minor = await person_aged(client, app, 17)
    fifteen = await person_aged(client, app, 15)
    url = f"{ME}/representatives"
    cases = [
        (grantor, {"fnr": grantor.fnr, "scopes": ["all"]}, 400, "fnr"),
        (grantor, {"fnr": minor.fnr, "scopes": ["all"]}, 400, "fnr"),
        (grantor, {"fnr": "12345678901", "scopes": ["all"]}, 400, "fnr"),
        (grantor, {"fnr": adult.fnr, "scopes": ["all"], "until": "2020-01-01T00:00:00+01:00"}, 400, "until"),
        (grantor, {"fnr": adult.fnr, "scopes": ["everything"]}, 400, "scopes"),
        (grantor, {"fnr": adult.fnr, "scopes": []}, 400, "scopes"),
        (fifteen, {"fnr": adult.fnr, "scopes": ["medications"]}, 403, None),
    ]
    for who, body, expected, field in cases:
        response = await client.post(url, json=body, headers=who.headers)
        assert response.status_code == expected, (body, response.text)
        if field is not None:
            assert field in response.text, response.text
        for number in (who.fnr, adult.fnr, minor.fnr):
            assert number not in response.text
    stored = await db.fetchval(
        "SELECT count(*) FROM power_of_attorney WHERE patient_id = ANY($1::uuid[])",
        [grantor.patient_id, fifteen.patient_id],
    )
    assert stored == 0


async def test_the_register_feed_needs_a_system_token_with_scope_registry_and_refuses_adults(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    parent = await person_aged(client, app, 45)
    adult_child = await person_aged(client, app, 19)
    child = await person_aged(client, app, 9)
    url = "/system/v1/guardianships"
    body = {"guardianFnr": parent.fnr, "childFnr": child.fnr, "active": True}
    assert (await client.put(url, json=body)).status_code == 401
    assert (await client.put(url, json=body, headers=parent.headers)).status_code == 403
    assert (await client.put(url, json=body, headers=new_clinician(app).headers)).status_code == 403
    unknown_scope = bearer(mint(signing_key(app), "system", system_claims("payments")))
    assert (await client.put(url, json=body, headers=unknown_scope)).status_code == 401
    # A system token is no citizen: refused on the citizen routes.
    assert (await client.get(f"{ME}", headers=system_headers(app))).status_code == 403
    for bad, field in (
        ({**body, "childFnr": adult_child.fnr}, "childFnr"),
        ({**body, "childFnr": parent.fnr}, "childFnr"),
        ({**body, "guardianFnr": "01010112345"}, "guardianFnr"),
        ({**body, "extra": 1}, "extra"),
    ):
        response = await client.put(url, json=bad, headers=system_headers(app))
        assert response.status_code == 400, response.text
        assert field in response.text
        for number in (adult_child.fnr, parent.fnr):
            assert number not in response.text
    stored = await db.fetchval(
        "SELECT count(*) FROM guardianship WHERE patient_id = ANY($1::uuid[])",
        [adult_child.patient_id, parent.patient_id],
    )
    assert stored == 0
    await register_guardian(client, app, parent, child)
    assert (await client.get(f"{ME}/lab-results", headers=acting(parent, child))).status_code == 200
    # The register ends it: refused at once.
    await register_guardian(client, app, parent, child, active=False)
    assert (await client.get(f"{ME}/lab-results", headers=acting(parent, child))).status_code == 404
    registry = [row for row in await audit_rows(db, child.patient_id) if row["actor_kind"] == "system"]
    assert [(row["basis"], row["resource_type"]) for row in registry] == [("registry", "guardianship")] * 2


async def test_power_of_attorney_both_sides_see_it_and_revoking_ends_it_at_once(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    grantor = await person_aged(client, app, 80)
    attorney = await person_aged(client, app, 55)
    until = utcnow() + timedelta(days=30)
    given = await give_power(client, grantor, attorney, ["medications", "lab-results", "medications"], until=until)
    mine = await client.get(f"{ME}/representatives", headers=grantor.headers)
    assert mine.status_code == 200, mine.text
    [item] = mine.json()["items"]
    assert (item["id"], item["patientId"], item["scopes"]) == (
        given,
        str(attorney.patient_id),
        ["lab-results", "medications"],
    )
    theirs = await client.get(f"{ME}/represented", headers=attorney.headers)
    assert theirs.json() == [
        {
            "patientId": str(grantor.patient_id),
            "basis": "power-of-attorney",
            "scopes": ["lab-results", "medications"],
            "until": theirs.json()[0]["until"],
        }
    ]
    assert datetime.fromisoformat(theirs.json()[0]["until"]) == until.replace(microsecond=until.microsecond)
    assert (await client.get(f"{ME}/medications", headers=acting(attorney, grantor))).status_code == 200
    # The attorney may not manage the grantor's representatives, consents or blocks.
    for method, path in (
        ("GET", "/representatives"),
        ("DELETE", f"/representatives/{given}"),
        ("PUT", "/consents/pregnancy-card"),
        ("PUT", "/blocks/1234567"),
    ):
        refused = await client.request(method, f"{ME}{path}", headers=acting(attorney, grantor))
        assert refused.status_code == 403, (path, refused.text)
    assert (await client.delete(f"{ME}/representatives/{given}", headers=grantor.headers)).status_code == 204
    assert (await client.get(f"{ME}/medications", headers=acting(attorney, grantor))).status_code == 404
    assert (await client.get(f"{ME}/representatives", headers=grantor.headers)).json()["items"] == []
    assert (await client.get(f"{ME}/represented", headers=attorney.headers)).json() == []
    again = await client.delete(f"{ME}/representatives/{given}", headers=grantor.headers)
    assert again.status_code == 404


async def test_act_for_that_is_not_a_uuid_is_400_naming_the_header(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await person_aged(client, app, 30)
    response = await client.get(f"{ME}/medications", headers={**citizen.headers, "Helsekort-Act-For": "mother"})
    assert response.status_code == 400, response.text
    assert "Helsekort-Act-For" in response.text
    nobody = await client.get(f"{ME}/medications", headers=acting(citizen, uuid.uuid4()))
    assert nobody.status_code == 404


async def test_a_representative_follows_the_feed_of_what_her_scopes_cover(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    mother = await person_aged(client, app, 44)
    child = await person_aged(client, app, 14)
    await register_guardian(client, app, mother, child)
    gp = new_clinician(app)
    await relate(client, gp, child.patient_id)
    await released(client, gp, child.patient_id, lab_report(requester=gp))
    await write(client, gp, child.patient_id, [entry()], 0)
    own = await client.get(f"{ME}/changes", headers=child.headers)
    assert {"lab-result", "medication-list"} <= {item["resourceType"] for item in own.json()["items"]}
    followed = await client.get(f"{ME}/changes", headers=acting(mother, child))
    assert followed.status_code == 200, followed.text
    assert [item["resourceType"] for item in followed.json()["items"]] == ["medication-list"]
    # Her cursor for this child is her own: polling from it gives nothing new.
    again = await client.get(f"{ME}/changes", params={"since": followed.json()["next"]}, headers=acting(mother, child))
    assert again.json()["items"] == []


async def test_a_child_reads_her_own_log_from_16_with_the_guardians_earlier_reads(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    today = utcnow().astimezone(OSLO).date()
    father = await person_aged(client, app, 50)
    child = await person_born(client, app, born_years_ago(16, days_after_birthday=-5, on=today))  # 16 in five days
    await register_guardian(client, app, father, child)
    assert (await client.get(f"{ME}/medications", headers=acting(father, child))).status_code == 200
    # At 15 her log is not yet hers to read (her guardian reads it for her, with everything it says).
    young = await client.get(f"{ME}/access-log", headers=child.headers)
    assert young.status_code == 403, young.text
    assert "16" in young.json()["detail"]
    with frozen_at(noon(today + timedelta(days=6))):
        assert (await client.get(f"{ME}/medications", headers=acting(father, child))).status_code == 404
        log = await client.get(f"{ME}/access-log", headers=child.headers)
    assert log.status_code == 200, log.text
    assert [(e["actorKind"], e["basis"]) for e in log.json()["items"]] == [
        ("citizen", "denied"),
        ("citizen", "representative"),
        ("system", "registry"),
    ]
