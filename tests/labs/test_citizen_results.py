"""The citizen's released results: what a result shows, corrections, trends per test, paging and the demo data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar

from backend.core.demo import DEMO_FNR
from backend.labs.demo import load_labs_demo
from backend.settings import Settings
from tests.factories import bearer, citizen_token, new_citizen, new_clinician, relate
from tests.labs.reports import ferritin, hb, lab_report, post_report, released

LONG_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=200)


async def test_a_released_result_shows_ranges_flags_and_who_requested_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    report_id = await released(client, gp, citizen.patient_id, lab_report(hb(11.2), ferritin(40), issued_at=LONG_AGO))

    result = (await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=citizen.headers)).json()

    assert result["corrected"] is False
    assert result["requester"] == {"hpr": gp.hpr, "organisation": gp.org}
    hb_result, ferritin_result = result["observations"]
    assert hb_result["referenceRange"] == {"low": 11.7, "high": 15.3, "text": "11,7-15,3 g/dL"}
    assert (hb_result["value"], hb_result["unit"], hb_result["flag"]) == (11.2, "g/dL", "low")
    assert ferritin_result["flag"] == "normal"


async def test_another_citizen_never_sees_my_results(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen, other = await new_citizen(client, app), await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    report_id = await released(client, gp, citizen.patient_id, lab_report(issued_at=LONG_AGO))

    assert (await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=other.headers)).status_code == 404
    assert (await client.get("/citizen/v1/me/lab-results", headers=other.headers)).json()["items"] == []
    trend = await client.get("/citizen/v1/me/lab-results/trends/718-7", headers=other.headers)
    assert trend.json()["points"] == []


async def test_citizen_sees_the_corrected_values_marked_as_corrected(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report(hb(9.1), issued_at=LONG_AGO)
    report_id = await released(client, gp, citizen.patient_id, body)

    response = await post_report(
        client, gp, citizen.patient_id, {**body, "status": "corrected", "observations": [hb(12.1)]}
    )
    assert response.status_code == 201, response.text

    result = (await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=citizen.headers)).json()
    assert result["corrected"] is True
    assert result["status"] == "corrected"
    assert [obs["value"] for obs in result["observations"]] == [12.1]
    # The trend shows the shown version only, never the replaced value.
    trend = (await client.get("/citizen/v1/me/lab-results/trends/718-7", headers=citizen.headers)).json()
    assert [point["value"] for point in trend["points"]] == [12.1]


async def test_trend_is_ordered_by_specimen_time_across_reports(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    # Posted out of order; a report without haemoglobin does not add a point.
    for days, value in ((30, 11.9), (0, 13.0), (60, 11.1), (15, 12.4)):
        await released(
            client, gp, citizen.patient_id, lab_report(hb(value), specimen_at=LONG_AGO + timedelta(days=days))
        )
    await released(client, gp, citizen.patient_id, lab_report(ferritin(20), specimen_at=LONG_AGO + timedelta(days=45)))

    trend = (await client.get("/citizen/v1/me/lab-results/trends/718-7", headers=citizen.headers)).json()

    assert trend["code"] == "718-7"
    assert [point["value"] for point in trend["points"]] == [13.0, 12.4, 11.9, 11.1]
    times = [point["specimenAt"] for point in trend["points"]]
    assert times == sorted(times)
    assert [point["flag"] for point in trend["points"]] == ["normal", "normal", "normal", "low"]
    assert trend["points"][0]["referenceRange"]["low"] == 11.7


async def test_results_are_listed_newest_first_in_pages(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    ids = [
        await released(client, gp, citizen.patient_id, lab_report(specimen_at=LONG_AGO + timedelta(days=days)))
        for days in range(5)
    ]

    seen: list[str] = []
    url = "/citizen/v1/me/lab-results?limit=2"
    while url:
        page = (await client.get(url, headers=citizen.headers)).json()
        seen += [item["id"] for item in page["items"]]
        url = f"/citizen/v1/me/lab-results?limit=2&cursor={page['next']}" if page["next"] else ""

    assert seen == list(reversed(ids))
    bad = await client.get("/citizen/v1/me/lab-results?cursor=nonsense", headers=citizen.headers)
    assert bad.status_code == 400


async def test_demo_citizen_has_months_of_released_results_and_loading_twice_adds_nothing(
    client: httpx.AsyncClient, app: Litestar, settings: Settings
) -> None:
    from backend.demo import load_core_demo

    await load_core_demo(settings)
    first = await load_labs_demo(settings)
    second = await load_labs_demo(settings)
    assert "10 demo lab reports added" in first or "0 demo lab reports added" in first
    assert "0 demo lab reports added" in second

    headers = bearer(citizen_token(app, DEMO_FNR))
    results = (await client.get("/citizen/v1/me/lab-results", headers=headers)).json()["items"]
    assert len(results) == 10
    codes = {obs["code"] for result in results for obs in result["observations"]}
    assert {"718-7", "2276-4", "1988-5", "59261-8", "14749-6"} <= codes
    hb_trend = (await client.get("/citizen/v1/me/lab-results/trends/718-7", headers=headers)).json()["points"]
    assert len(hb_trend) == 5
    assert (
        datetime.fromisoformat(hb_trend[-1]["specimenAt"]) - datetime.fromisoformat(hb_trend[0]["specimenAt"])
    ).days >= 90
