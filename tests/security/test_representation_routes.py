"""The representation routes, walked by the scope helper: the citizen's powers of attorney and whom she represents
(a power of attorney of another citizen is 404), and the register's feed (system tokens only)."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.factories import fnr_born_on
from tests.representation.helpers import born_years_ago, person_aged, system_headers
from tests.security.helper import PatientRoute, World, assert_route_scoped


async def owner_gave_power_of_attorney(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    response = await client.post(
        "/citizen/v1/me/representatives",
        json={"fnr": fnr_born_on(born_years_ago(45)), "scopes": ["medications"]},
        headers=world.owner.headers,
    )
    assert response.status_code == 201, response.text
    return {"id": response.json()["id"]}


REPRESENTATION_ROUTES = [
    PatientRoute("GET", "/citizen/v1/me/representatives", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/represented", "citizen"),
    PatientRoute(
        "POST",
        "/citizen/v1/me/representatives",
        "citizen",
        ok=(201,),
        body=lambda world, params: {"fnr": fnr_born_on(born_years_ago(33)), "scopes": ["lab-results"]},
    ),
    PatientRoute(
        "DELETE", "/citizen/v1/me/representatives/{id}", "citizen", ok=(204,), setup=owner_gave_power_of_attorney
    ),
]


@pytest.mark.parametrize("route", REPRESENTATION_ROUTES, ids=lambda route: route.id)
async def test_representation_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)


async def test_the_register_feed_takes_system_tokens_only(client: httpx.AsyncClient, app: Litestar) -> None:
    parent, child = await person_aged(client, app, 40), await person_aged(client, app, 5)
    body = {"guardianFnr": parent.fnr, "childFnr": child.fnr, "active": True}
    url = "/system/v1/guardianships"
    forged = system_headers(app)["Authorization"][:-4] + "AAAA"
    assert (await client.put(url, json=body, headers={"Authorization": forged})).status_code == 401
    assert (await client.put(url, json=body, headers=child.headers)).status_code == 403
    assert (await client.put(url, json=body, headers=system_headers(app))).status_code == 204
