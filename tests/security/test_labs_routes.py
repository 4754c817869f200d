"""The lab results routes, walked by the scope helper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from tests.labs.reports import lab_report, posted, released
from tests.security.helper import PatientRoute, World, assert_route_scoped

REPORTS = "/clinician/v1/patients/{patientId}/lab-reports"


async def _pending_report(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """A report the related clinician requested, not yet shown to the citizen."""
    return {"reportId": await posted(client, world.related, world.owner.patient_id, lab_report())}


async def _released_report(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """A report its requester has released, so the owner sees it."""
    issued = datetime.now(UTC) - timedelta(days=30)
    body = lab_report(issued_at=issued)
    return {"reportId": await released(client, world.related, world.owner.patient_id, body)}


LAB_ROUTES = [
    PatientRoute("POST", REPORTS, "clinician", ok=(201,), body=lambda world, params: lab_report()),
    PatientRoute("GET", REPORTS, "clinician", setup=_pending_report),
    PatientRoute("GET", REPORTS + "/{reportId}", "clinician", setup=_pending_report),
    PatientRoute("GET", REPORTS + "/{reportId}/versions", "clinician", setup=_pending_report),
    PatientRoute("POST", REPORTS + "/{reportId}/release", "clinician", setup=_pending_report),
    PatientRoute("POST", REPORTS + "/{reportId}/hold", "clinician", setup=_pending_report),
    PatientRoute("GET", "/citizen/v1/me/lab-results", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/lab-results/{reportId}", "citizen", setup=_released_report),
    # A trend names a test, not a resource: another citizen gets her own (empty) trend, tested in tests/labs.
    PatientRoute("GET", "/citizen/v1/me/lab-results/trends/718-7", "citizen"),
]


@pytest.mark.parametrize("route", LAB_ROUTES, ids=lambda route: route.id)
async def test_lab_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
