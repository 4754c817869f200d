"""A patient with something in every domain FHIR reads, the FHIR calls tests make, and the R4B validation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class
from litestar import Litestar

from tests.documents.helpers import upload
from tests.factories import Citizen, Clinician, consent, new_citizen, new_clinician, relate
from tests.labs.reports import ferritin, hb, lab_report, posted, released
from tests.medications.factories import entry, prescribed
from tests.pregnancy.cards import create_card

FHIR_JSON = "application/fhir+json"
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
HPR = "urn:oid:2.16.578.1.12.4.1.4.4"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after the fhir.resources R4B model of its type accepted it (raises otherwise)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle.get("entry", [])]


def of_type(found: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [resource for resource in found if resource["resourceType"] == resource_type]


def codes(found: list[dict[str, Any]]) -> set[str]:
    return {coding["code"] for resource in found for coding in resource.get("code", {}).get("coding", [])}


@dataclass
class Record:
    woman: Citizen
    gp: Clinician
    midwife: Clinician
    released_report: str
    held_report: str
    card_id: str
    medication_id: str
    prescription_id: str
    document_id: str
    hidden_document_id: str


async def fhir_get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], params: Any = None, status: int = 200
) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body: dict[str, Any] = valid(response.json())
    return body


async def every_page(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], params: Any
) -> list[dict[str, Any]]:
    """Every resource of a search, following the `next` links; each page a valid searchset Bundle."""
    found: list[dict[str, Any]] = []
    bundle = await fhir_get(client, path, headers, params)
    while True:
        assert bundle["type"] == "searchset"
        found += [valid(resource) for resource in resources(bundle)]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return found
        bundle = await fhir_get(client, following[0], headers)


async def record(client: httpx.AsyncClient, app: Litestar, *, with_consent: bool = True) -> Record:
    """A woman with a GP and a midwife: two lab reports (one released), measurements, a medication and its
    prescription, two documents (one the author hid from her) and, with her consent, a pregnancy card."""
    woman = await new_citizen(client, app)
    if with_consent:
        await consent(client, woman)
    gp = new_clinician(app, name="Fastlege Ola Hansen")
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO", name="Jordmor Kari Nordmann")
    await relate(client, gp, woman.patient_id)
    await relate(client, midwife, woman.patient_id)
    specimen = datetime.now(UTC) - timedelta(days=2)
    shown = await released(
        client, gp, woman.patient_id, lab_report(hb(), ferritin(), requester=gp, specimen_at=specimen)
    )
    held = await posted(
        client,
        gp,
        woman.patient_id,
        lab_report(hb(10.1), requester=gp, category="pathology", specimen_at=specimen + timedelta(hours=5)),
    )
    now = datetime.now(UTC).replace(microsecond=0)
    uploaded = await client.post(
        "/citizen/v1/me/measurements",
        json={
            "items": [
                {
                    "id": str(uuid.uuid4()),
                    "code": "85354-9",
                    "effectiveAt": (now - timedelta(days=3)).isoformat(),
                    "components": [
                        {"code": "8480-6", "value": 128, "unit": "mm[Hg]"},
                        {"code": "8462-4", "value": 82, "unit": "mm[Hg]"},
                    ],
                },
                {
                    "id": str(uuid.uuid4()),
                    "code": "29463-7",
                    "value": 68.5,
                    "unit": "kg",
                    "effectiveAt": (now - timedelta(days=1)).isoformat(),
                },
                {
                    "id": str(uuid.uuid4()),
                    "code": "8867-4",
                    "value": 72,
                    "unit": "/min",
                    "effectiveAt": now.isoformat(),
                },
            ]
        },
        headers=woman.headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert {item["status"] for item in uploaded.json()["results"]} == {"created"}
    medicine = entry()
    listed = await client.put(
        f"/clinician/v1/patients/{woman.patient_id}/medications",
        json={"entries": [medicine]},
        headers={**gp.headers, "If-Match": '"0"'},
    )
    assert listed.status_code == 200, listed.text
    prescription = await prescribed(client, gp, woman.patient_id, medicine["id"])
    document = await upload(client, gp, woman.patient_id)
    hidden = await upload(
        client, gp, woman.patient_id, type="outpatient-note", visibleToPatient=False, hiddenReason="Vurderes først"
    )
    card_id = ""
    if with_consent:
        card_id = str((await create_card(client, midwife, woman.patient_id, weeks=12))["id"])
    return Record(
        woman,
        gp,
        midwife,
        shown,
        held,
        card_id,
        str(medicine["id"]),
        str(prescription["id"]),
        str(document["id"]),
        str(hidden["id"]),
    )
