"""Lab results: clinicians and laboratories post reports (JSON or FHIR R4), requesters release or hold them, citizens read released ones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody
from litestar.params import FromPath, FromQuery, RawBody
from litestar.serialization import encode_json

from backend.core.access import Clinician, Grant, MeGrant, authorize, authorize_cached
from backend.core.conditional import conditional_read
from backend.core.contract import raw_body_types
from backend.core.encoded import json_response
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.labs import service
from backend.labs.schemas import (
    CitizenLabResult,
    CitizenLabResultPage,
    ClinicianLabReport,
    ClinicianLabReportPage,
    LabReportIn,
    LabReportReceipt,
    LabReportVersionList,
    LabTrend,
)

POST_DESCRIPTION = """
Body: a lab report (`application/json`, the `LabReportIn` schema) or a FHIR R4 `DiagnosticReport` or
collection/transaction `Bundle` with its `Observation`s (`application/fhir+json`). A clinician with access to
the patient is the requester; an organisation of kind `laboratorium` may post for any existing patient and names
the requester `{hpr, organisation}`. The same report id with the same content answers as before; with other
content and status `corrected` (or replacing a `preliminary` version) it becomes a new version; otherwise 409.
"""


(_REPORT_SCHEMA,) = raw_body_types(LabReportIn)
_FHIR_SCHEMA = {
    "type": "object",
    "description": "FHIR R4 DiagnosticReport with contained Observations, or a collection/transaction Bundle",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string", "enum": ["DiagnosticReport", "Bundle"]}},
}


@dataclass
class _PostLabReportOperation(Operation):
    """The raw body is read by the service, so the two accepted media types are documented here."""

    def __post_init__(self) -> None:
        # Litestar writes plain dicts through unchanged; the Schema type is only what it builds itself.
        schemas: dict[str, Any] = {
            service.JSON_MEDIA_TYPE: {"$ref": _REPORT_SCHEMA},
            service.FHIR_MEDIA_TYPE: _FHIR_SCHEMA,
        }
        self.request_body = RequestBody(
            required=True,
            content={media: OpenAPIMediaType(schema=schema) for media, schema in schemas.items()},
        )


class ClinicianLabReportController(Controller):
    path = "/patients"
    tags = ["clinician: lab results"]

    @post(
        "/{patient_id:uuid}/lab-reports",
        operation_id="clinicianPostLabReport",
        summary="Post a lab report (JSON or FHIR R4)",
        description=POST_DESCRIPTION,
        operation_class=_PostLabReportOperation,
    )
    async def post_report(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], body: RawBody, request: Request[Any, Any, Any]
    ) -> LabReportReceipt:
        intake = service.read_lab_report(clinician, body, request.headers.get("content-type"))
        grant = await authorize(clinician, patient_id, service.POST_REPORT, resource_id=str(intake.report.id))
        return await service.receive_lab_report(app_settings(request), grant, intake)

    @get(
        "/{patient_id:uuid}/lab-reports",
        operation_id="clinicianListLabReports",
        summary="The patient's lab reports, newest first, with earlier results of each test beside it",
    )
    async def list_reports(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Response[ClinicianLabReportPage]:
        page = service.paging(cursor, limit)

        async def read(grant: Grant) -> tuple[bytes, datetime | None]:
            answer, until = await service.read_page(grant, page)
            return encode_json(answer), until

        _, body = await authorize_cached(
            clinician, patient_id, service.READ_REPORTS, cache=service.CLINICIAN_PAGES, key=page, read=read
        )
        return json_response(body)

    @get(
        "/{patient_id:uuid}/lab-reports/{report_id:uuid}",
        operation_id="clinicianGetLabReport",
        summary="One lab report with its release state and versions",
    )
    async def get_report(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], report_id: FromPath[uuid.UUID]
    ) -> Response[ClinicianLabReport]:
        async def read(grant: Grant) -> tuple[bytes, datetime | None]:
            answer, until = await service.read_report(grant, report_id)
            return encode_json(answer), until

        _, body = await authorize_cached(
            clinician,
            patient_id,
            service.READ_REPORTS,
            cache=service.CLINICIAN_REPORTS,
            key=report_id,
            read=read,
            resource_id=str(report_id),
        )
        return json_response(body)

    @get(
        "/{patient_id:uuid}/lab-reports/{report_id:uuid}/versions",
        operation_id="clinicianListLabReportVersions",
        summary="Every version of a lab report, oldest first",
    )
    async def list_versions(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], report_id: FromPath[uuid.UUID]
    ) -> LabReportVersionList:
        grant = await authorize(clinician, patient_id, service.READ_REPORTS, resource_id=str(report_id))
        return await service.versions_for_clinician(grant, report_id)

    @post(
        "/{patient_id:uuid}/lab-reports/{report_id:uuid}/release",
        operation_id="clinicianReleaseLabReport",
        status_code=200,
        summary="Release the result to the citizen now (the requester or the requester's organisation)",
        description=(
            "A preliminary report is shown to the citizen only with its final version: releasing it answers 409"
            " (it may be held; the hold stays on when the final version arrives)."
        ),
    )
    async def release(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], report_id: FromPath[uuid.UUID]
    ) -> ClinicianLabReport:
        grant = await authorize(clinician, patient_id, service.RELEASE_OR_HOLD, resource_id=str(report_id))
        return await service.release_lab_report(grant, report_id)

    @post(
        "/{patient_id:uuid}/lab-reports/{report_id:uuid}/hold",
        operation_id="clinicianHoldLabReport",
        status_code=200,
        summary="Hold the result from the citizen until released (the requester or the requester's organisation)",
    )
    async def hold(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], report_id: FromPath[uuid.UUID]
    ) -> ClinicianLabReport:
        grant = await authorize(clinician, patient_id, service.RELEASE_OR_HOLD, resource_id=str(report_id))
        return await service.hold_lab_report(grant, report_id)


class CitizenLabResultController(Controller):
    path = "/me/lab-results"
    tags = ["citizen: lab results"]
    opt = act_for("lab-results")  # what someone acting for her (Helsekort-Act-For) needs

    @get(
        "",
        operation_id="citizenListLabResults",
        summary="My released lab results, newest first; ETag, 304 on If-None-Match",
        **conditional_read(service.citizen_list_state),
    )
    async def list_results(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> CitizenLabResultPage:
        return await service.list_for_citizen(me, service.paging(cursor, limit))

    @get("/{report_id:uuid}", operation_id="citizenGetLabResult", summary="One released lab result")
    async def get_result(self, me: MeGrant, report_id: FromPath[uuid.UUID]) -> CitizenLabResult:
        return await service.get_for_citizen(me, report_id)

    @get("/trends/{code:str}", operation_id="citizenGetLabTrend", summary="One test over time, oldest first")
    async def get_trend(self, me: MeGrant, code: FromPath[str]) -> LabTrend:
        return await service.trend_for_citizen(me, code)
