"""`/fhir/R4`: the CapabilityStatement (public), Patient read, searches by type and `Patient/{id}/$everything` for
record systems with a HelseID token; and the citizen's `GET /citizen/v1/me/export`, streamed.

Handlers only parse, ask core/fhir.py (which decides access per domain read, with its audit row) and wrap the
page in a Bundle. Errors leave as OperationOutcome in `application/fhir+json` (the router's exception handlers).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Router, get
from litestar.di import Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from backend.core.access import Clinician, MeGrant, provide_clinician
from backend.core.auth import ClinicianPrincipal, RequirePrincipal
from backend.core.clock import utcnow
from backend.core.errors import BadRequest, NotFound
from backend.core.fhir import (
    FHIR_EXCEPTION_HANDLERS,
    FHIR_JSON,
    FhirPage,
    FhirQuery,
    fhir_sources,
    full_url,
    patient_parameter,
    read_everything,
    read_page,
    resource_types,
    search_query,
    searchset,
)
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.fhir.capability import capability_statement

PREFIX = "/fhir/R4"
FHIR_OPT = {"fhir": True}
SEARCH_PARAMETERS = frozenset({"patient", "code", "date", "_count", "_cursor"})
EVERYTHING_PARAMETERS = frozenset({"_count", "_cursor"})
EXPORT_PAGE = 200

Patient = Annotated[str | None, QueryParameter(name="patient", description="the Patient id", required=True)]
Code = Annotated[str | None, QueryParameter(name="code", description="[system|]code, comma-separated")]
Dates = Annotated[list[str] | None, QueryParameter(name="date", description="eq|ge|le|gt|lt + date or time")]
Count = Annotated[int | None, QueryParameter(name="_count", description="page size, 1 to 200")]
Cursor = Annotated[str | None, QueryParameter(name="_cursor", description="from a `next` link; opaque")]


def _base(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _only(request: Request[Any, Any, Any], allowed: frozenset[str]) -> None:
    # Strict: a parameter this server does not search by would silently widen the answer.
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise BadRequest(f"unsupported search parameter {unknown[0]!r}", field=unknown[0])


def _bundle(request: Request[Any, Any, Any], page: FhirPage) -> dict[str, Any]:
    next_url = None
    if page.next is not None:
        query = [(key, value) for key, value in request.query_params.multi_items() if key != "_cursor"]
        next_url = f"{request.base_url}{request.url.path.lstrip('/')}?{urlencode([*query, ('_cursor', page.next)])}"
    return searchset(_base(request), str(request.url), page, next_url)


@get(
    f"{PREFIX}/metadata",
    operation_id="fhirCapabilityStatement",
    summary="FHIR CapabilityStatement: the resource types and searches served",
    tags=["fhir"],
    security=[{}],
    media_type=FHIR_JSON,
    opt={"database": False, **FHIR_OPT},
    exception_handlers=FHIR_EXCEPTION_HANDLERS,
)
async def metadata(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return capability_statement(_base(request))


class FhirController(Controller):
    path = ""
    tags = ["fhir"]
    opt = FHIR_OPT

    @get(
        "/Patient/{patient_id:uuid}",
        operation_id="fhirReadPatient",
        summary="The Patient, with her fødselsnummer",
        media_type=FHIR_JSON,
        opt=FHIR_OPT,
    )
    async def read_patient(
        self, request: Request[Any, Any, Any], clinician: Clinician, patient_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        _only(request, frozenset())
        page = await read_page(
            clinician, patient_id, fhir_sources("Patient"), FhirQuery(count=1, settings=app_settings(request)), None
        )
        if not page.resources:
            raise NotFound("no such patient")
        return page.resources[0]

    @get(
        "/Patient/{patient_id:uuid}/$everything",
        operation_id="fhirPatientEverything",
        summary="Everything about the patient the caller may see, a searchset Bundle with next links",
        media_type=FHIR_JSON,
        opt=FHIR_OPT,
    )
    async def everything(
        self,
        *,
        request: Request[Any, Any, Any],
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        count: Count = None,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        _only(request, EVERYTHING_PARAMETERS)
        query = search_query(code=None, dates=(), count=count, settings=app_settings(request))
        return _bundle(request, await read_page(clinician, patient_id, fhir_sources(), query, cursor))

    @get(
        "/Patient",
        operation_id="fhirSearchPatient",
        summary="Search Patient by `patient` (her id): a searchset Bundle of her Patient",
        media_type=FHIR_JSON,
        opt=FHIR_OPT,
    )
    async def search_patient(
        self, *, request: Request[Any, Any, Any], clinician: Clinician, patient: Patient = None
    ) -> dict[str, Any]:
        # Its own route: the static `Patient/{id}` segment hides `{resource_type}` from the router here.
        return await _search(request, clinician, "Patient", patient=patient, code=None, dates=None, count=None)

    @get(
        "/{resource_type:str}",
        operation_id="fhirSearch",
        summary="Search one resource type of one patient: patient, code, date, _count; a searchset Bundle",
        media_type=FHIR_JSON,
        opt=FHIR_OPT,
    )
    async def search(
        self,
        *,
        request: Request[Any, Any, Any],
        clinician: Clinician,
        resource_type: FromPath[str],
        patient: Patient = None,
        code: Code = None,
        date: Dates = None,
        count: Count = None,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        del cursor  # read from the query with the others, by `_search`
        return await _search(request, clinician, resource_type, patient=patient, code=code, dates=date, count=count)


async def _search(
    request: Request[Any, Any, Any],
    clinician: ClinicianPrincipal,
    resource_type: str,
    *,
    patient: str | None,
    code: str | None,
    dates: list[str] | None,
    count: int | None,
) -> dict[str, Any]:
    if resource_type not in resource_types():
        raise NotFound(f"this server serves no {resource_type[:40]!r} resources")
    _only(request, SEARCH_PARAMETERS)
    query = search_query(code=code, dates=dates or (), count=count, settings=app_settings(request))
    patient_id = patient_parameter(patient)
    cursor = request.query_params.get("_cursor")
    page = await read_page(clinician, patient_id, fhir_sources(resource_type), query, cursor)
    return _bundle(request, page)


def fhir_router() -> list[Any]:
    """The public CapabilityStatement and the clinicians' router; every error an OperationOutcome."""
    return [
        metadata,
        Router(
            path=PREFIX,
            route_handlers=[FhirController],
            middleware=[RequirePrincipal("clinician")],
            dependencies={"clinician": Provide(provide_clinician, sync_to_thread=False)},
            exception_handlers=FHIR_EXCEPTION_HANDLERS,
            opt=FHIR_OPT,
        ),
    ]


class CitizenExportController(Controller):
    path = "/me/export"
    tags = ["citizen: export"]
    opt = act_for("all")  # everything about her: only for who may see everything

    @get(
        "",
        operation_id="citizenExport",
        summary="Download my data: one FHIR R4 collection Bundle of everything I can see, streamed",
        media_type=FHIR_JSON,
    )
    async def export(self, request: Request[Any, Any, Any], me: MeGrant) -> Stream:
        base = str(request.base_url).rstrip("/") + PREFIX
        settings = app_settings(request)

        async def pieces() -> AsyncIterator[bytes]:
            head = {"resourceType": "Bundle", "type": "collection", "timestamp": utcnow().isoformat()}
            yield msgspec.json.encode(head)[:-1] + b',"entry":['
            separator = b""
            async for resource in read_everything(me, fhir_sources(), EXPORT_PAGE, settings):
                yield separator + msgspec.json.encode({"fullUrl": full_url(base, resource), "resource": resource})
                separator = b","
            yield b"]}"

        return Stream(
            pieces(), media_type=FHIR_JSON, headers={"Content-Disposition": 'attachment; filename="helsekort.json"'}
        )
