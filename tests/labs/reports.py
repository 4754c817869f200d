"""Builders for lab reports as senders post them, and the calls tests make with them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import Clinician


def hb(value: float = 11.2, **fields: Any) -> dict[str, Any]:
    return {
        "code": "718-7",
        "system": "loinc",
        "display": "Hemoglobin",
        "valueQuantity": value,
        "unit": "g/dL",
        "referenceRange": {"low": 11.7, "high": 15.3, "text": "11,7-15,3 g/dL"},
        **fields,
    }


def ferritin(value: float = 9, **fields: Any) -> dict[str, Any]:
    return {
        "code": "2276-4",
        "system": "loinc",
        "display": "Ferritin",
        "valueQuantity": value,
        "unit": "ug/L",
        "referenceRange": {"low": 10, "high": 167},
        **fields,
    }


def lab_report(
    *observations: dict[str, Any],
    report_id: uuid.UUID | None = None,
    category: str = "clinical-chemistry",
    status: str = "final",
    specimen_at: datetime | None = None,
    issued_at: datetime | None = None,
    requester: Clinician | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A lab report body; issued an hour after the specimen, by default an hour ago."""
    issued = issued_at or (specimen_at + timedelta(hours=1) if specimen_at else datetime.now(UTC) - timedelta(hours=1))
    specimen = specimen_at or issued - timedelta(hours=1)
    body: dict[str, Any] = {
        "id": str(report_id or uuid.uuid4()),
        "category": category,
        "status": status,
        "specimenAt": specimen.isoformat(),
        "issuedAt": issued.isoformat(),
        "performingLab": {"name": "Fürst Medisinsk Laboratorium", "organisation": "974749025"},
        "observations": list(observations) or [hb(), ferritin()],
        **fields,
    }
    if requester is not None:
        body["requester"] = {"hpr": requester.hpr, "organisation": requester.org}
    return body


async def post_report(
    client: httpx.AsyncClient,
    sender: Clinician,
    patient_id: uuid.UUID,
    body: dict[str, Any],
    *,
    content_type: str = "application/json",
) -> httpx.Response:
    return await client.post(
        f"/clinician/v1/patients/{patient_id}/lab-reports",
        content=json.dumps(body).encode(),
        headers={**sender.headers, "Content-Type": content_type},
    )


async def posted(client: httpx.AsyncClient, sender: Clinician, patient_id: uuid.UUID, body: dict[str, Any]) -> str:
    """Post a report that must be accepted; its id."""
    response = await post_report(client, sender, patient_id, body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def release(client: httpx.AsyncClient, requester: Clinician, patient_id: uuid.UUID, report_id: str) -> None:
    """The requester shows the report to the citizen now."""
    response = await client.post(
        f"/clinician/v1/patients/{patient_id}/lab-reports/{report_id}/release", headers=requester.headers
    )
    assert response.status_code == 200, response.text


async def released(client: httpx.AsyncClient, requester: Clinician, patient_id: uuid.UUID, body: dict[str, Any]) -> str:
    """Post a report and have its requester release it (a late report is hidden for its whole window otherwise)."""
    report_id = await posted(client, requester, patient_id, body)
    await release(client, requester, patient_id, report_id)
    return report_id
