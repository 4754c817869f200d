"""Routes of municipal services and the legevakt overview: the municipality writes, clinicians and the citizen read."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.access import Clinician, MeGrant, authorize, authorize_kept_read
from backend.core.encoded import json_response
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.municipal import overview, service
from backend.municipal.schemas import (
    CitizenMunicipalServiceList,
    MunicipalServiceIn,
    MunicipalServiceList,
    MunicipalServiceOut,
    Overview,
    ServiceHistory,
)


class ClinicianMunicipalServicesController(Controller):
    path = "/patients/{patient_id:uuid}/municipal-services"
    tags = ["clinician: municipal services"]

    @put(
        "/{service_id:uuid}",
        operation_id="clinicianPutMunicipalService",
        summary="Write a service by the source system's decision id (201 new, 200 changed or the same)",
        status_code=200,
        responses={201: ResponseSpec(MunicipalServiceOut, description="A new service: its first version")},
    )
    async def put_service(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        service_id: FromPath[uuid.UUID],
        data: JSONBody[MunicipalServiceIn],
    ) -> Response[MunicipalServiceOut]:
        grant = await authorize(clinician, patient_id, service.WRITE_SERVICE, resource_id=str(service_id))
        written, created = await service.put_service(grant, service_id, data)
        return Response(written, status_code=201 if created else 200)

    @get("", operation_id="clinicianListMunicipalServices", summary="The services the caller's municipalities may show")
    async def list_services(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], request: Request[Any, Any, Any]
    ) -> MunicipalServiceList:
        grant = await authorize(clinician, patient_id, service.READ_SERVICES)
        return await service.services_for_clinician(grant, app_settings(request))

    @get(
        "/{service_id:uuid}/history",
        operation_id="clinicianGetMunicipalServiceHistory",
        summary="Versions of one service, newest first: who, when, what changed",
    )
    async def history(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        service_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> ServiceHistory:
        grant = await authorize(clinician, patient_id, service.READ_SERVICES, resource_id=str(service_id))
        return await service.service_history(grant, app_settings(request), service_id, cursor=cursor, limit=limit)


class ClinicianOverviewController(Controller):
    path = "/patients/{patient_id:uuid}/overview"
    tags = ["clinician: legevakt overview"]

    @get("", operation_id="clinicianGetOverview", summary="The one-screen summary for legevakt (one audit row)")
    async def get_overview(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], request: Request[Any, Any, Any]
    ) -> Response[Overview]:
        read = overview.overview_read(clinician, app_settings(request))
        _, kept = await authorize_kept_read(clinician, patient_id, overview.OVERVIEW, read, overview.KEPT)
        return json_response(kept.body)


class CitizenMunicipalServicesController(Controller):
    path = "/me/municipal-services"
    tags = ["citizen: municipal services"]
    opt = act_for("municipal-services")  # what someone acting for her (Helsekort-Act-For) needs

    @get("", operation_id="citizenListMunicipalServices", summary="My municipal services, with whom to call")
    async def list_services(self, me: MeGrant) -> CitizenMunicipalServiceList:
        return CitizenMunicipalServiceList(items=await service.services_for_citizen(me))
