"""Release to the citizen: after the category's delay, at once by the requester, never while held; announced once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import frozen_at
from backend.labs.service import announce_due_releases, release_delay
from backend.settings import Settings, SettingsError, load_settings
from tests.factories import Citizen, Clinician, new_citizen, new_clinician, relate
from tests.labs.reports import lab_report, posted

# CLINICAL.md v1.1: the delay counts from arrival (or issuedAt, if later); reports here arrive an hour after issue.
ARRIVED = datetime.now(UTC).replace(microsecond=0)
ISSUED = ARRIVED - timedelta(hours=1)
DUE = ARRIVED + timedelta(days=7)
BEFORE_DUE = DUE - timedelta(minutes=1)
AFTER_DUE = DUE + timedelta(minutes=1)


async def _world(client: httpx.AsyncClient, app: Litestar) -> tuple[Citizen, Clinician]:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    return citizen, gp


async def _arrived(client: httpx.AsyncClient, sender: Clinician, patient_id: uuid.UUID, body: dict[str, Any]) -> str:
    """Post a report that reaches Helsekort at ARRIVED."""
    with frozen_at(ARRIVED):
        return await posted(client, sender, patient_id, body)


async def _citizen_sees(client: httpx.AsyncClient, citizen: Citizen, report_id: str) -> bool:
    listed = await client.get("/citizen/v1/me/lab-results", headers=citizen.headers)
    single = await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=citizen.headers)
    assert listed.status_code == 200
    in_list = report_id in [item["id"] for item in listed.json()["items"]]
    # The list and the single result agree: absent is 404, never 403.
    assert single.status_code == (200 if in_list else 404), single.text
    return in_list


async def _released_events(db: asyncpg.Connection, patient_id: uuid.UUID) -> list[str]:
    rows = await db.fetch(
        "SELECT resource_id FROM event WHERE patient_id = $1 AND type = 'lab-result.released' ORDER BY seq", patient_id
    )
    return [row["resource_id"] for row in rows]


async def test_result_is_hidden_from_citizen_until_the_delay_has_passed(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, gp = await _world(client, app)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))

    assert not await _citizen_sees(client, citizen, report_id)
    with frozen_at(BEFORE_DUE):
        assert not await _citizen_sees(client, citizen, report_id)
    with frozen_at(AFTER_DUE):
        # Visible by the time rule even before the worker has announced it.
        assert await _citizen_sees(client, citizen, report_id)
        shown = (await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=citizen.headers)).json()
    assert shown["releasedAt"] == DUE.isoformat().replace("+00:00", "Z")
    assert await _released_events(db, citizen.patient_id) == []


async def test_worker_announces_a_due_result_exactly_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    citizen, gp = await _world(client, app)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))

    with frozen_at(BEFORE_DUE):
        await announce_due_releases(settings)
    assert await _released_events(db, citizen.patient_id) == []
    with frozen_at(AFTER_DUE):
        # Several workers at once, and again later: one event.
        await asyncio.gather(*(announce_due_releases(settings) for _ in range(4)))
        await announce_due_releases(settings)
    assert await _released_events(db, citizen.patient_id) == [report_id]
    announced = await db.fetchval("SELECT release_announced_at FROM lab_report WHERE id = $1", uuid.UUID(report_id))
    assert announced == AFTER_DUE


async def test_requester_release_shows_the_result_at_once_and_announces_it_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    citizen, gp = await _world(client, app)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))
    url = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}/release"

    first = await client.post(url, headers=gp.headers)
    again = await client.post(url, headers=gp.headers)

    assert first.status_code == again.status_code == 200
    assert first.json()["release"]["state"] == "released"
    assert first.json()["release"]["visibleToCitizen"] is True
    assert await _citizen_sees(client, citizen, report_id)
    with frozen_at(AFTER_DUE):
        await announce_due_releases(settings)
    assert await _released_events(db, citizen.patient_id) == [report_id]


async def test_a_held_result_stays_hidden_past_its_delay_until_released(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    citizen, gp = await _world(client, app)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))
    base = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}"

    held = await client.post(f"{base}/hold", headers=gp.headers)
    assert held.status_code == 200, held.text
    assert held.json()["release"]["state"] == "held"

    with frozen_at(AFTER_DUE + timedelta(days=30)):
        assert not await _citizen_sees(client, citizen, report_id)
        await announce_due_releases(settings)
        assert await _released_events(db, citizen.patient_id) == []
        trend = await client.get("/citizen/v1/me/lab-results/trends/718-7", headers=citizen.headers)
        assert trend.json()["points"] == []

        released = await client.post(f"{base}/release", headers=gp.headers)
        assert released.status_code == 200
        assert await _citizen_sees(client, citizen, report_id)
    assert await _released_events(db, citizen.patient_id) == [report_id]


async def test_a_hold_cannot_take_back_what_the_citizen_already_sees(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, gp = await _world(client, app)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))
    with frozen_at(AFTER_DUE):
        response = await client.post(
            f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}/hold", headers=gp.headers
        )
        assert response.status_code == 409
        assert await _citizen_sees(client, citizen, report_id)


async def test_only_the_requester_or_the_requesters_organisation_may_release_or_hold(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen, gp = await _world(client, app)
    colleague = new_clinician(app, org=gp.org)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))
    base = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}"

    assert (await client.post(f"{base}/hold", headers=hospital.headers)).status_code == 403
    assert (await client.post(f"{base}/release", headers=hospital.headers)).status_code == 403
    assert not await _citizen_sees(client, citizen, report_id)
    assert (await client.post(f"{base}/hold", headers=colleague.headers)).status_code == 200
    assert (await client.post(f"{base}/release", headers=colleague.headers)).status_code == 200


async def test_pathology_is_shown_only_when_the_requester_releases_it(
    client: httpx.AsyncClient, app: Litestar, settings: Settings
) -> None:
    citizen, gp = await _world(client, app)
    observation = {"code": "PAT-1", "system": "local", "display": "Histologi", "valueString": "Benign nevus."}
    report_id = await _arrived(
        client, gp, citizen.patient_id, lab_report(observation, category="pathology", issued_at=ISSUED)
    )
    with frozen_at(ISSUED + timedelta(days=365)):
        await announce_due_releases(settings)
        assert not await _citizen_sees(client, citizen, report_id)
        shown = await client.get(
            f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}", headers=gp.headers
        )
        assert shown.json()["release"]["state"] == "awaiting-release"
    await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}/release", headers=gp.headers
    )
    assert await _citizen_sees(client, citizen, report_id)


def test_release_delays_default_to_the_contract_and_are_configurable() -> None:
    defaults = Settings()
    assert release_delay(defaults, "clinical-chemistry") == timedelta(days=7)
    assert release_delay(defaults, "microbiology") == timedelta(days=7)
    assert release_delay(defaults, "pathology") is None
    assert release_delay(defaults, "genetics") is None

    configured = load_settings(
        {"HELSEKORT_LAB_RELEASE_DELAYS": '{"clinical-chemistry": 0, "genetics": 14, "haematology": 1.5}'}
    )
    assert release_delay(configured, "clinical-chemistry") == timedelta(0)
    assert release_delay(configured, "genetics") == timedelta(days=14)
    assert release_delay(configured, "haematology") == timedelta(days=1.5)
    assert release_delay(configured, "pathology") is None


@pytest.mark.parametrize(
    "raw", ['{"radiology": 3}', '{"pathology": -1}', '{"pathology": "7"}', "[7]", "{", '{"genetics": true}']
)
def test_bad_release_delays_refuse_to_start(raw: str) -> None:
    with pytest.raises(SettingsError, match="HELSEKORT_LAB_RELEASE_DELAYS"):
        load_settings({"HELSEKORT_LAB_RELEASE_DELAYS": raw})


async def test_her_change_feed_says_nothing_until_the_result_is_released(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen, gp = await _world(client, app)
    report_id = await _arrived(client, gp, citizen.patient_id, lab_report(issued_at=ISSUED))

    async def feed() -> list[tuple[str, str]]:
        items = (await client.get("/citizen/v1/me/changes", headers=citizen.headers)).json()["items"]
        return [(item["type"], item["resourceId"]) for item in items if item["type"].startswith("lab-result")]

    assert await feed() == []
    corrected = lab_report(report_id=uuid.UUID(report_id), status="corrected", issued_at=ISSUED)
    await posted(client, gp, citizen.patient_id, corrected)
    assert await feed() == []
    assert (
        await client.post(
            f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}/release", headers=gp.headers
        )
    ).status_code == 200
    assert await feed() == [("lab-result.released", report_id)]
