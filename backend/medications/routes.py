"""Routes of the medication list: clinicians read and write it (ETag / If-Match), citizens read it and report discrepancies."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from backend.core.access import Clinician, MeGrant, authorize, authorize_cached_read
from backend.core.concurrency import ETAG_HEADER, etag
from backend.core.conditional import conditional_read
from backend.core.encoded import encoded_read, json_response
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.medications import discrepancies, history, reconciliations, service
from backend.medications.prescribing import jo_prefixes
from backend.medications.schemas import (
    CitizenMedicationList,
    DiscrepancyIn,
    DiscrepancyOut,
    DiscrepancyPage,
    ListVersionDetail,
    MedicationHistory,
    MedicationListIn,
    MedicationListOut,
    ReconciliationIn,
    ReconciliationOut,
)

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="ETag of the list version you read", required=True)
]
OptionalIfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="ETag of the list version you read, checked when sent")
]
FromVersion = Annotated[int | None, QueryParameter(name="from", description="compare from this version", ge=0)]
ToVersion = Annotated[int | None, QueryParameter(name="to", description="compare to this version", ge=0)]


def _with_etag(body: MedicationListOut) -> Response[MedicationListOut]:
    return Response(body, headers={"ETag": etag(body.version)})


class ClinicianMedicationController(Controller):
    path = "/patients/{patient_id:uuid}/medications"
    tags = ["clinician: medications"]

    @get(
        "",
        operation_id="clinicianGetMedicationList",
        summary="The patient's medication list (ETag = version)",
        response_headers=ETAG_HEADER,
    )
    async def get_list(self, clinician: Clinician, patient_id: FromPath[uuid.UUID]) -> Response[MedicationListOut]:
        _, kept = await authorize_cached_read(
            clinician, patient_id, service.READ_LIST, encoded_read(service.list_read()), service.CLINICIAN_LISTS
        )
        return json_response(kept.body, {"ETag": etag(kept.value.version)})

    @put(
        "",
        operation_id="clinicianReplaceMedicationList",
        summary="Write the whole list read at the If-Match version (LE everything, JO listed ATC codes)",
        response_headers=ETAG_HEADER,
    )
    async def put_list(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        data: JSONBody[MedicationListIn],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
    ) -> Response[MedicationListOut]:
        grant = await authorize(clinician, patient_id, service.WRITE_LIST)
        prefixes = jo_prefixes(app_settings(request))
        return _with_etag(await service.replace_list(grant, if_match, data, jo_prefixes=prefixes))

    @get("/history", operation_id="clinicianGetMedicationHistory", summary="List versions, who and when; ?from&to diff")
    async def get_history(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        from_version: FromVersion = None,
        to_version: ToVersion = None,
    ) -> MedicationHistory:
        grant = await authorize(clinician, patient_id, service.READ_LIST)
        return await history.history(
            grant, cursor=cursor, limit=limit, from_version=from_version, to_version=to_version
        )

    @get(
        "/history/{version:int}",
        operation_id="clinicianGetMedicationListVersion",
        summary="One version of the list, whole, as it was",
    )
    async def get_version(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], version: FromPath[int]
    ) -> ListVersionDetail:
        grant = await authorize(clinician, patient_id, service.READ_LIST)
        return await history.list_version(grant, version)

    @post(
        "/reconciliations",
        operation_id="clinicianReconcileMedicationList",
        summary="Record a samstemming of the current list with its sources",
    )
    async def reconcile(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        data: JSONBody[ReconciliationIn],
        if_match: OptionalIfMatch = None,
    ) -> ReconciliationOut:
        grant = await authorize(clinician, patient_id, reconciliations.RECONCILE)
        return await reconciliations.reconcile(grant, if_match, data)

    @get(
        "/discrepancies",
        operation_id="clinicianListMedicationDiscrepancies",
        summary="The citizen's discrepancy reports, newest first",
    )
    async def list_discrepancies(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> DiscrepancyPage:
        grant = await authorize(clinician, patient_id, discrepancies.READ_DISCREPANCIES)
        return await discrepancies.discrepancies(grant, cursor=cursor, limit=limit)


class CitizenMedicationController(Controller):
    path = "/me/medications"
    tags = ["citizen: medications"]
    opt = act_for("medications")  # what someone acting for her (Helsekort-Act-For) needs

    @get(
        "",
        operation_id="citizenGetMedicationList",
        summary="My medication list, recently stopped entries included; ETag, 304 on If-None-Match",
        **conditional_read(service.citizen_list_state),
    )
    async def get_list(self, me: MeGrant) -> CitizenMedicationList:
        return await service.citizen_list(me)

    @get("/history", operation_id="citizenGetMedicationHistory", summary="Who changed my list, when; ?from&to diff")
    async def get_history(
        self,
        *,
        me: MeGrant,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        from_version: FromVersion = None,
        to_version: ToVersion = None,
    ) -> MedicationHistory:
        return await history.history(me, cursor=cursor, limit=limit, from_version=from_version, to_version=to_version)

    @get(
        "/history/{version:int}",
        operation_id="citizenGetMedicationListVersion",
        summary="One version of my list, whole, as it was",
    )
    async def get_version(self, me: MeGrant, version: FromPath[int]) -> ListVersionDetail:
        return await history.list_version(me, version)

    @post(
        "/{entry_id:uuid}/discrepancies",
        operation_id="citizenReportMedicationDiscrepancy",
        summary="Tell my GP I don't take this or have a side effect (the list is not changed)",
    )
    async def report(self, me: MeGrant, entry_id: FromPath[uuid.UUID], data: JSONBody[DiscrepancyIn]) -> DiscrepancyOut:
        return await discrepancies.report_discrepancy(me, entry_id, data)
