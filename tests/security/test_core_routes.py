"""The core's patient-data routes, walked by the scope helper."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.security.helper import PatientRoute, assert_route_scoped

CORE_ROUTES = [
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/care-relations", "clinician"),
    PatientRoute("GET", "/citizen/v1/me", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/access-log", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/blocks", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/changes", "citizen"),
    PatientRoute("PUT", "/citizen/v1/me/blocks/12345", "citizen", ok=(204,)),
    PatientRoute("DELETE", "/citizen/v1/me/blocks/12345", "citizen", ok=(204,)),
    PatientRoute("PUT", "/citizen/v1/me/consents/pregnancy-card", "citizen", ok=(204,)),
    PatientRoute("DELETE", "/citizen/v1/me/consents/pregnancy-card", "citizen", ok=(204,)),
]


@pytest.mark.parametrize("route", CORE_ROUTES, ids=lambda route: route.id)
async def test_core_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
