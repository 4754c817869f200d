"""Factories for medication-list tests: entries, a patient with her GP, and the list calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
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
