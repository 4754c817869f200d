"""The demo citizen is guardian of a 7- and a 13-year-old and holds power of attorney for an 84-year-old."""

from __future__ import annotations

import httpx
from litestar import Litestar

from backend.core.clock import OSLO, utcnow
from backend.core.context import age_on
from backend.core.demo import DEMO_FNR, demo_represented_numbers
from backend.core.identity import parse_identity_number
from backend.settings import Settings
from tests.factories import bearer, citizen_token


async def test_the_demo_citizen_acts_for_her_children_and_an_elder(
    client: httpx.AsyncClient, app: Litestar, settings: Settings
) -> None:
    from backend.demo import load_demo

    await load_demo(settings)
    today = utcnow().astimezone(OSLO).date()
    children, elder = demo_represented_numbers(today)
    ages = [age_on(parse_identity_number(n, allow_synthetic=True).birth_date, today) for n in (*children, elder)]
    assert ages == [7, 13, 84] or today.timetuple().tm_yday == 1  # born 2 January
    headers = bearer(citizen_token(app, DEMO_FNR))
    represented = await client.get("/citizen/v1/me/represented", headers=headers)
    assert represented.status_code == 200, represented.text
    found = sorted((item["basis"], tuple(item["scopes"])) for item in represented.json())
    assert found == [
        ("guardian", ("all",)),
        ("guardian", ("medications", "prescriptions")),
        ("power-of-attorney", ("all",)),
    ]
    elder_id = next(item["patientId"] for item in represented.json() if item["basis"] == "power-of-attorney")
    medications = await client.get("/citizen/v1/me/medications", headers={**headers, "Helsekort-Act-For": elder_id})
    assert medications.status_code == 200, medications.text
