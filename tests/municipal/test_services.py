"""Municipal services: the municipality's upsert by decision id, versions, staleness, bad input, who may write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import frozen_at
from backend.municipal.catalogue import SERVICES
from tests.factories import new_citizen, new_clinician, relate
from tests.municipal.factories import BAERUM, BODO, put_service, service_body

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


async def _stored(db: asyncpg.Connection, patient_id: uuid.UUID) -> tuple[int, int]:
    services = await db.fetchval("SELECT count(*) FROM municipal_service WHERE patient_id = $1", patient_id)
    versions = await db.fetchval("SELECT count(*) FROM municipal_service_version WHERE patient_id = $1", patient_id)
    return services, versions


async def test_a_decision_is_created_then_changed_by_its_id_and_every_version_is_kept(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await new_citizen(client, app)
    writer = new_clinician(app, org_kind="kommune", authorization="SP", name="Saksbehandler Tone")
    await relate(client, writer, patient.patient_id)
    service_id = uuid.uuid4()

    created = await put_service(client, writer, patient.patient_id, service_body(), service_id)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == str(service_id)
    assert body["serviceLabel"] == "Hjemmesykepleie"
    assert body["municipality"] == "0301"
    assert body["version"] == 1
    assert body["stale"] is False

    again = await put_service(client, writer, patient.patient_id, service_body(), service_id)
    assert again.status_code == 200
    assert again.json()["version"] == 1

    changed = await put_service(
        client, writer, patient.patient_id, service_body(status="paused", frequency="2 ganger daglig"), service_id
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["status"] == "paused"
    assert await _stored(db, patient.patient_id) == (1, 2)

    history = await client.get(
        f"/clinician/v1/patients/{patient.patient_id}/municipal-services/{service_id}/history", headers=writer.headers
    )
    assert history.status_code == 200, history.text
    versions = history.json()["items"]
    assert [version["version"] for version in versions] == [2, 1]
    assert versions[0]["changed"] == ["status", "frequency"]
    assert versions[0]["by"]["hpr"] == writer.hpr
    assert versions[0]["by"]["name"] == "Saksbehandler Tone"
    assert versions[0]["by"]["orgKind"] == "kommune"
    assert versions[1]["service"]["status"] == "active"
    assert "provider" in versions[1]["changed"]

    paged = await client.get(
        f"/clinician/v1/patients/{patient.patient_id}/municipal-services/{service_id}/history?limit=1",
        headers=writer.headers,
    )
    following = await client.get(
        f"/clinician/v1/patients/{patient.patient_id}/municipal-services/{service_id}/history",
        params={"limit": 1, "cursor": paged.json()["next"]},
        headers=writer.headers,
    )
    assert [item["version"] for item in following.json()["items"]] == [1]
    assert following.json()["next"] is None


async def test_a_service_is_stale_after_90_days_without_an_update(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await new_citizen(client, app)
    writer = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP")
    await relate(client, writer, patient.patient_id)
    service_id = uuid.uuid4()
    with frozen_at(T0):
        assert (await put_service(client, writer, patient.patient_id, service_body(), service_id)).status_code == 201
    path = f"/clinician/v1/patients/{patient.patient_id}/municipal-services"
    with frozen_at(T0 + timedelta(days=89)):
        assert (await client.get(path, headers=writer.headers)).json()["items"][0]["stale"] is False
    with frozen_at(T0 + timedelta(days=91)):
        assert (await client.get(path, headers=writer.headers)).json()["items"][0]["stale"] is True
        renewed = await put_service(
            client, writer, patient.patient_id, service_body(frequency="4 ganger daglig"), service_id
        )
        assert renewed.json()["stale"] is False
        assert (await client.get(path, headers=writer.headers)).json()["items"][0]["stale"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (service_body("snow-clearing"), "service"),
        (service_body(from_="2026-06-01", until="2026-05-31"), "until"),
        (
            service_body(provider={"name": "Hjemmesykepleien", "phone": "ring Kari", "hours": "24/7"}),
            "provider.phone",
        ),
        (
            service_body(coordinator={"name": "Anne", "phone": "12"}),
            "coordinator.phone",
        ),
        (service_body(status="maybe"), "status"),
        (service_body(municipality="oslo"), "municipality"),
    ],
    ids=["unknown service", "until before from", "provider phone", "coordinator phone", "status", "municipality"],
)
async def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, body: dict[str, object], field: str
) -> None:
    patient = await new_citizen(client, app)
    writer = new_clinician(app, org_kind="kommune", authorization="SP")
    await relate(client, writer, patient.patient_id)
    response = await put_service(client, writer, patient.patient_id, body)
    assert response.status_code == 400, response.text
    assert field in response.text
    assert await _stored(db, patient.patient_id) == (0, 0)


@pytest.mark.parametrize("org_kind", ["fastlege", "legevakt", "sykehus", "helsestasjon", "laboratorium"])
async def test_only_the_municipality_writes_services_other_kinds_get_403_audited(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, org_kind: str
) -> None:
    patient = await new_citizen(client, app)
    clinician = new_clinician(app, org_kind=org_kind)
    if org_kind != "laboratorium":
        await relate(client, clinician, patient.patient_id)
    response = await put_service(client, clinician, patient.patient_id)
    assert response.status_code == 403, response.text
    assert await _stored(db, patient.patient_id) == (0, 0)
    refusal = await db.fetchrow(
        "SELECT basis, refusal, resource_type FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND action = 'write'",
        patient.patient_id,
        clinician.hpr,
    )
    assert dict(refusal) == {"basis": "denied", "refusal": "role", "resource_type": "municipal-service"}


async def test_a_municipality_writes_only_its_own_services(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await new_citizen(client, app)
    oslo = new_clinician(app, org_kind="kommune", authorization="SP")
    baerum = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=BAERUM)
    nowhere = new_clinician(app, org_kind="kommune", authorization="SP", municipality=None)
    for writer in (oslo, baerum, nowhere):
        await relate(client, writer, patient.patient_id)

    for_bodo = await put_service(client, oslo, patient.patient_id, service_body(municipality=BODO))
    assert for_bodo.status_code == 403, for_bodo.text
    assert (await put_service(client, nowhere, patient.patient_id)).status_code == 403
    assert await _stored(db, patient.patient_id) == (0, 0)

    service_id = uuid.uuid4()
    assert (await put_service(client, oslo, patient.patient_id, service_body(), service_id)).status_code == 201
    taken_over = await put_service(client, baerum, patient.patient_id, service_body(status="ended"), service_id)
    assert taken_over.status_code == 403, taken_over.text
    assert await _stored(db, patient.patient_id) == (1, 1)
    status = await db.fetchval("SELECT status FROM municipal_service WHERE patient_id = $1", patient.patient_id)
    assert status == "active"
    denied = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND basis = 'denied' AND refusal = 'role'",
        patient.patient_id,
        baerum.hpr,
    )
    assert denied == 1


def test_the_catalogue_has_every_code_of_the_contract_in_three_languages() -> None:
    assert set(SERVICES) == {
        "home-nursing", "practical-assistance", "safety-alarm", "short-term-stay", "long-term-stay", "respite-care",
        "day-centre", "personal-assistance", "mental-health", "substance-use", "rehabilitation", "physiotherapy",
        "occupational-therapy", "meals-on-wheels", "municipal-acute-bed", "individual-plan",
    }  # fmt: skip
    assert all(set(labels) == {"nb", "nn", "en"} and all(labels.values()) for labels in SERVICES.values())
