"""Prescribing from the medication list: rights per authorization, bad input stores nothing, idempotent by the
prescriber's id, cancelling, stopping the entry, status computed when read, and the list's view of it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import OSLO, frozen_at
from backend.medications.prescriptions import one_year_after
from tests.medications.factories import (
    entry,
    patient_with_gp,
    patient_with_prescription,
    prescribe,
    prescribed,
    prescription_body,
    prescriptions_url,
    put,
    read,
    related_clinician,
    stopped,
    write,
)


def oslo_today() -> date:
    return datetime.now(UTC).astimezone(OSLO).date()


async def prescriptions_stored(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM prescription WHERE patient_id = $1", patient_id)
    return count


async def audit_rows(db: asyncpg.Connection, patient_id: uuid.UUID, hpr: str) -> list[tuple[str, str | None]]:
    rows = await db.fetch(
        "SELECT basis, refusal FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND resource_type = 'prescription'"
        " ORDER BY id",
        patient_id,
        hpr,
    )
    return [(row["basis"], row["refusal"]) for row in rows]


IN_LIST = ("Folsyre", "B03BB01")
OUT_OF_LIST = ("Levaxin", "H03AA01")


@pytest.mark.parametrize(
    ("org_kind", "authorization", "medicine", "status"),
    [
        ("fastlege", "LE", OUT_OF_LIST, 201),
        ("helsestasjon", "JO", IN_LIST, 201),
        ("helsestasjon", "JO", OUT_OF_LIST, 403),
        ("fastlege", "SP", IN_LIST, 403),
        ("apotek", "SP", IN_LIST, 403),
        ("laboratorium", "LE", IN_LIST, 403),
    ],
)
async def test_who_may_prescribe_what(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    org_kind: str,
    authorization: str,
    medicine: tuple[str, str],
    status: int,
) -> None:
    patient = await patient_with_gp(client, app)
    item = entry(*medicine)
    await write(client, patient.gp, patient.id, [item], 0)
    if org_kind in ("apotek", "laboratorium"):
        from tests.factories import new_clinician

        clinician = new_clinician(app, org_kind=org_kind, authorization=authorization)
    else:
        clinician = await related_clinician(client, app, patient, org_kind=org_kind, authorization=authorization)
    response = await prescribe(client, clinician, patient.id, item["id"])
    assert response.status_code == status, response.text
    assert await prescriptions_stored(db, patient.id) == (1 if status == 201 else 0)
    # Allowed or refused, the decision is on record; a refusal by what was written has its own denied row.
    rows = await audit_rows(db, patient.id, clinician.hpr)
    if status == 201:
        assert rows == [("care-relation", None)]
    else:
        assert rows[-1] == ("denied", "role")


async def test_the_prescription_copies_the_entry_and_defaults_to_a_year(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    _, item, made = await patient_with_prescription(client, app, reimbursementCode="-71", note="Kontroll TSH om 6 uker")
    assert made["entryId"] == item["id"]
    assert made["medication"] == {"name": "Levaxin", "atc": "H03AA01", "form": "tablett", "strength": "50 mikrog"}
    assert made["validUntil"] == str(one_year_after(oslo_today()))
    assert made["quantity"] == {"amount": 30.0, "unit": "tablett"}
    assert (made["dispensings"], made["dispensingsLeft"], made["status"]) == (3, 3, "active")
    assert (made["reimbursementCode"], made["note"]) == ("-71", "Kontroll TSH om 6 uker")


def _bad(today: date) -> list[tuple[str, dict[str, Any], str]]:
    return [
        ("validUntil", {"validUntil": str(today - timedelta(days=1))}, "validUntil"),
        ("validUntil", {"validUntil": str(one_year_after(today) + timedelta(days=1))}, "validUntil"),
        ("quantity.amount", {"quantity": {"amount": 0, "unit": "tablett"}}, "quantity.amount"),
        ("quantity.amount", {"quantity": {"amount": -5, "unit": "tablett"}}, "quantity.amount"),
        ("dispensings", {"dispensings": 0}, "dispensings"),
        ("dispensings", {"dispensings": -1}, "dispensings"),
        ("dosageText", {"dosageText": "   "}, "dosageText"),
        ("unknown", {"colour": "blue"}, "colour"),
    ]


@pytest.mark.parametrize("case", range(8))
async def test_bad_input_is_400_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, case: int
) -> None:
    _, fields, field = _bad(oslo_today())[case]
    patient = await patient_with_gp(client, app)
    item = entry()
    await write(client, patient.gp, patient.id, [item], 0)
    response = await prescribe(client, patient.gp, patient.id, item["id"], **fields)
    assert response.status_code == 400, response.text
    assert field in response.text
    assert await prescriptions_stored(db, patient.id) == 0


async def test_an_unknown_entry_is_400_and_a_stopped_entry_409_nothing_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    gone = stopped(entry(started_at="2026-01-01"), oslo_today() - timedelta(days=2))
    await write(client, patient.gp, patient.id, [gone], 0)
    unknown = await prescribe(client, patient.gp, patient.id, str(uuid.uuid4()))
    assert unknown.status_code == 400, unknown.text
    assert "entryId" in unknown.text
    stopped_answer = await prescribe(client, patient.gp, patient.id, gone["id"])
    assert stopped_answer.status_code == 409, stopped_answer.text
    assert await prescriptions_stored(db, patient.id) == 0


async def test_the_prescribers_id_makes_it_idempotent(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    item = entry()
    await write(client, patient.gp, patient.id, [item], 0)
    body = prescription_body(item["id"])
    first = await client.post(prescriptions_url(patient.id), json=body, headers=patient.gp.headers)
    again = await client.post(prescriptions_url(patient.id), json=body, headers=patient.gp.headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    other = await client.post(
        prescriptions_url(patient.id), json={**body, "dispensings": 6}, headers=patient.gp.headers
    )
    assert other.status_code == 409, other.text
    assert await prescriptions_stored(db, patient.id) == 1
    events = await db.fetchval(
        "SELECT count(*) FROM event WHERE patient_id = $1 AND type = 'prescription.created'", patient.id
    )
    assert events == 1


async def test_an_entry_has_one_active_prescription_at_a_time(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, item, _ = await patient_with_prescription(client, app)
    second = await prescribe(client, patient.gp, patient.id, item["id"])
    assert second.status_code == 409, second.text


async def test_cancel_by_the_prescriber_or_an_le_not_by_another_midwife(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    folic = entry(*IN_LIST)
    await write(client, patient.gp, patient.id, [folic], 0)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    other_midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    made = await prescribed(client, midwife, patient.id, folic["id"])
    url = prescriptions_url(patient.id, f"/{made['id']}/cancel")

    refused = await client.post(url, json={"reason": "Feil pasient"}, headers=other_midwife.headers)
    assert refused.status_code == 403, refused.text
    assert (await audit_rows(db, patient.id, other_midwife.hpr))[-1] == ("denied", "role")
    assert (await read(client, patient.gp, patient.id)).json()["entries"][0]["prescription"]["status"] == "active"

    missing = await client.post(url, json={"reason": "  "}, headers=midwife.headers)
    assert missing.status_code == 400, missing.text

    cancelled = await client.post(url, json={"reason": "Byttet preparat"}, headers=patient.gp.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelReason"]) == ("cancelled", "Byttet preparat")
    twice = await client.post(url, json={"reason": "Igjen"}, headers=midwife.headers)
    assert twice.status_code == 409, twice.text
    unknown = await client.post(
        prescriptions_url(patient.id, f"/{uuid.uuid4()}/cancel"), json={"reason": "x"}, headers=patient.gp.headers
    )
    assert unknown.status_code == 404, unknown.text


async def test_stopping_the_entry_cancels_its_active_prescription_in_the_same_write(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, item, made = await patient_with_prescription(client, app)
    response = await put(client, patient.gp, patient.id, [stopped(item, oslo_today(), "Bivirkninger")], 1)
    assert response.status_code == 200, response.text
    assert response.json()["entries"][0]["prescription"] == {
        "id": made["id"],
        "status": "cancelled",
        "validUntil": made["validUntil"],
    }
    row = await db.fetchrow(
        "SELECT cancel_reason, cancelled_by_hpr FROM prescription WHERE id = $1", uuid.UUID(made["id"])
    )
    assert row["cancel_reason"] == "the medication list entry was stopped"
    assert row["cancelled_by_hpr"] == patient.gp.hpr
    types = await db.fetch("SELECT type FROM event WHERE patient_id = $1 ORDER BY seq DESC LIMIT 2", patient.id)
    assert {t["type"] for t in types} == {"prescription.cancelled", "medications.updated"}


async def test_a_put_sending_back_the_prescription_it_read_changes_nothing(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, _, _ = await patient_with_prescription(client, app)
    listed = await read(client, patient.gp, patient.id)
    again = await put(client, patient.gp, patient.id, listed.json()["entries"], 1)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 1  # the read-only prescription is not a change


async def test_status_is_computed_when_read_expired_after_valid_until_without_any_job(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    valid_until = oslo_today() + timedelta(days=10)
    patient, _, made = await patient_with_prescription(client, app, validUntil=str(valid_until))
    later = datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), tzinfo=OSLO) + timedelta(hours=12)
    with frozen_at(later):
        expired = await client.get(prescriptions_url(patient.id, "?status=expired"), headers=patient.gp.headers)
        active = await client.get(prescriptions_url(patient.id, "?status=active"), headers=patient.gp.headers)
    assert [p["id"] for p in expired.json()["items"]] == [made["id"]]
    assert expired.json()["items"][0]["status"] == "expired"
    assert active.json()["items"] == []
    # On its last day it is still active.
    last_day = datetime.combine(valid_until, datetime.min.time(), tzinfo=OSLO) + timedelta(hours=23)
    with frozen_at(last_day):
        still = await client.get(prescriptions_url(patient.id), headers=patient.gp.headers)
    assert still.json()["items"][0]["status"] == "active"


async def test_the_list_and_its_history_show_prescriptions(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, item, made = await patient_with_prescription(client, app)
    mine = await client.get("/citizen/v1/me/medications", headers=patient.citizen.headers)
    assert mine.json()["entries"][0]["prescription"]["id"] == made["id"]
    history = await client.get(f"/clinician/v1/patients/{patient.id}/medications/history", headers=patient.gp.headers)
    assert history.status_code == 200, history.text
    events = history.json()["prescriptionEvents"]
    assert [(e["kind"], e["prescriptionId"], e["entryId"]) for e in events] == [("prescribed", made["id"], item["id"])]


async def test_a_status_filter_outside_the_four_is_400(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, _ = await patient_with_prescription(client, app)
    response = await client.get(prescriptions_url(patient.id, "?status=paused"), headers=patient.gp.headers)
    assert response.status_code == 400, response.text
