"""A stopped entry stays in the current view 90 days after its stop date, then only in history (controllable clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.medications.factories import entry, list_url, patient_with_gp, put, read, stopped, write

STOP = date(2026, 3, 1)


def noon_in_oslo(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


async def _citizen_view(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, list[str]]:
    response = await client.get("/citizen/v1/me/medications", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return {
        "entries": [item["name"] for item in body["entries"]],
        "recentlyStopped": [item["name"] for item in body["recentlyStopped"]],
    }


async def test_a_stopped_entry_is_visible_for_90_days_then_only_in_history(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    ibux = entry("Ibux", "M01AE01", started_at="2025-06-01")
    levaxin = entry()
    with frozen_at(noon_in_oslo(STOP)):
        await write(client, patient.gp, patient.id, [levaxin, stopped(ibux, STOP, "Gravid")], 0)
        assert await _citizen_view(client, patient.citizen.headers) == {
            "entries": ["Levaxin"],
            "recentlyStopped": ["Ibux"],
        }

    with frozen_at(noon_in_oslo(STOP + timedelta(days=90))):
        clinician_view = (await read(client, patient.gp, patient.id)).json()
        assert [item["name"] for item in clinician_view["entries"]] == ["Levaxin", "Ibux"]
        citizen = await client.get("/citizen/v1/me/medications", headers=patient.citizen.headers)
        [recent] = citizen.json()["recentlyStopped"]
        assert (recent["name"], recent["stoppedAt"], recent["stopReason"]) == ("Ibux", "2026-03-01", "Gravid")

    with frozen_at(noon_in_oslo(STOP + timedelta(days=91))):
        clinician_view = (await read(client, patient.gp, patient.id)).json()
        assert [item["name"] for item in clinician_view["entries"]] == ["Levaxin"]
        assert await _citizen_view(client, patient.citizen.headers) == {"entries": ["Levaxin"], "recentlyStopped": []}
        # A write built on this view need not (cannot) send the hidden entry back.
        body = await write(client, patient.gp, patient.id, [*clinician_view["entries"], entry("Paracet", "N02BE01")], 1)
        assert body["version"] == 2
        # The hidden entry is still in every version of the history.
        history = await client.get(list_url(patient.id, "/history?from=0&to=2"), headers=patient.gp.headers)
        assert sorted(item["name"] for item in history.json()["diff"]["added"]) == ["Ibux", "Levaxin", "Paracet"]


async def test_the_90_days_are_counted_in_norwegian_dates(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    ibux = stopped(entry("Ibux", "M01AE01", started_at="2025-06-01"), STOP)
    await write(client, patient.gp, patient.id, [ibux], 0)
    last_day = STOP + timedelta(days=90)
    # 23:30 UTC on the 90th day is already the 91st day in Oslo (UTC+1 in winter, +2 in summer).
    late_evening = datetime(last_day.year, last_day.month, last_day.day, 23, 30, tzinfo=UTC)
    with frozen_at(late_evening):
        assert (await read(client, patient.gp, patient.id)).json()["entries"] == []


async def test_a_planned_stop_in_the_future_is_still_a_current_medicine(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    course = stopped(entry("Selexid", "J01CA08", started_at="2026-03-01"), date(2026, 3, 6), "Kur avsluttet")
    with frozen_at(noon_in_oslo(date(2026, 3, 2))):
        await write(client, patient.gp, patient.id, [course], 0)
        assert await _citizen_view(client, patient.citizen.headers) == {"entries": ["Selexid"], "recentlyStopped": []}
    with frozen_at(noon_in_oslo(date(2026, 3, 6))):
        assert await _citizen_view(client, patient.citizen.headers) == {"entries": [], "recentlyStopped": ["Selexid"]}


async def test_a_write_still_must_return_entries_that_are_stopped_but_visible(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    ibux = stopped(entry("Ibux", "M01AE01", started_at="2025-06-01"), STOP)
    with frozen_at(noon_in_oslo(STOP + timedelta(days=10))):
        await write(client, patient.gp, patient.id, [ibux], 0)
        response = await put(client, patient.gp, patient.id, [entry()], 1)
        assert response.status_code == 409
        assert response.json()["missingIds"] == [ibux["id"]]
