"""Factories for medication-list tests: entries, a patient with her GP, and the list calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from litestar import Litestar

from tests.factories import Citizen, Clinician, new_citizen, new_clinician, relate


def entry(
    name: str = "Levaxin",
    atc: str = "H03AA01",
    *,
    strength: str | None = "50 mikrog",
    kind: str = "prescription",
    started_at: str = "2026-01-05",
    **fields: Any,
) -> dict[str, Any]:
    """One entry as a record system would send it (a fresh client-made id unless `id` is given)."""
    return {
        "id": str(fields.pop("id", uuid.uuid4())),
        "name": name,
        "atc": atc,
        "kind": kind,
        "startedAt": started_at,
        "form": fields.pop("form", "tablett"),
        "strength": strength,
        "dosage": fields.pop("dosage", "1 tablett daglig"),
        **fields,
    }


def stopped(item: dict[str, Any], on: date | str, reason: str = "Bivirkninger") -> dict[str, Any]:
    return {**item, "stoppedAt": str(on), "stopReason": reason}


@dataclass
class Patient:
    citizen: Citizen
    gp: Clinician

    @property
    def id(self) -> uuid.UUID:
        return self.citizen.patient_id


async def patient_with_gp(client: httpx.AsyncClient, app: Litestar, *, authorization: str = "LE") -> Patient:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app, org_kind="fastlege", authorization=authorization, name="Fastlege Test")
    await relate(client, gp, citizen.patient_id)
    return Patient(citizen=citizen, gp=gp)


async def related_clinician(
    client: httpx.AsyncClient, app: Litestar, patient: Patient, *, org_kind: str, authorization: str
) -> Clinician:
    clinician = new_clinician(app, org_kind=org_kind, authorization=authorization)
    await relate(client, clinician, patient.id)
    return clinician


def list_url(patient_id: uuid.UUID, suffix: str = "") -> str:
    return f"/clinician/v1/patients/{patient_id}/medications{suffix}"


async def read(client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID) -> httpx.Response:
    response = await client.get(list_url(patient_id), headers=clinician.headers)
    assert response.status_code == 200, response.text
    return response


async def put(
    client: httpx.AsyncClient,
    clinician: Clinician,
    patient_id: uuid.UUID,
    entries: list[dict[str, Any]],
    version: int | str | None,
) -> httpx.Response:
    headers = dict(clinician.headers)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return await client.put(list_url(patient_id), json={"entries": entries}, headers=headers)


async def write(
    client: httpx.AsyncClient,
    clinician: Clinician,
    patient_id: uuid.UUID,
    entries: list[dict[str, Any]],
    version: int,
) -> dict[str, Any]:
    response = await put(client, clinician, patient_id, entries, version)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- prescriptions -------------------------------------------------------------------------------------


def prescription_body(entry_id: str, **fields: Any) -> dict[str, Any]:
    """A prescription as a record system sends it: 30 tablets a dispensing, three dispensings."""
    return {
        "id": str(fields.pop("id", uuid.uuid4())),
        "entryId": entry_id,
        "dosageText": fields.pop("dosageText", "1 tablett morgen"),
        "quantity": fields.pop("quantity", {"amount": 30, "unit": "tablett"}),
        "dispensings": fields.pop("dispensings", 3),
        **fields,
    }


def prescriptions_url(patient_id: uuid.UUID, suffix: str = "") -> str:
    return f"/clinician/v1/patients/{patient_id}/prescriptions{suffix}"


async def prescribe(
    client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID, entry_id: str, **fields: Any
) -> httpx.Response:
    return await client.post(
        prescriptions_url(patient_id), json=prescription_body(entry_id, **fields), headers=clinician.headers
    )


async def prescribed(
    client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID, entry_id: str, **fields: Any
) -> dict[str, Any]:
    response = await prescribe(client, clinician, patient_id, entry_id, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def patient_with_prescription(
    client: httpx.AsyncClient, app: Litestar, **fields: Any
) -> tuple[Patient, dict[str, Any], dict[str, Any]]:
    """A patient, her GP, one entry on her list and an active prescription of it."""
    patient = await patient_with_gp(client, app)
    item = entry()
    await write(client, patient.gp, patient.id, [item], 0)
    return patient, item, await prescribed(client, patient.gp, patient.id, item["id"], **fields)


def pharmacy(app: Litestar) -> Clinician:
    """A pharmacist of an apotek: no care relation with anyone."""
    return new_clinician(app, org_kind="apotek", authorization="SP", name="Farmasøyt Test")


async def dispense(
    client: httpx.AsyncClient,
    chemist: Clinician,
    patient_id: uuid.UUID,
    prescription_id: str,
    *,
    amount: float = 30,
    unit: str = "tablett",
    at: str | None = None,
) -> httpx.Response:
    return await client.post(
        prescriptions_url(patient_id, f"/{prescription_id}/dispensings"),
        json={"quantity": {"amount": amount, "unit": unit}, "at": at or datetime.now(UTC).isoformat()},
        headers=chemist.headers,
    )


async def my_prescriptions(client: httpx.AsyncClient, citizen: Citizen) -> list[dict[str, Any]]:
    response = await client.get("/citizen/v1/me/prescriptions", headers=citizen.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
