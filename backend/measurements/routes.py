"""Routes of måledata: the citizen's uploads and series, clinicians' readings, series and NEWS2."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody

from backend.core.access import Clinician, MeGrant, authorize, authorize_cached_read
from backend.core.encoded import encoded_read, json_response
from backend.core.representation import act_for
from backend.measurements import service
from backend.measurements.news2 import News2Result, VitalSigns, score_news2
from backend.measurements.openapi import UploadOperation
from backend.measurements.schemas import (
    MeasurementCodes,
    MeasurementPage,
    News2Recorded,
    News2RecordIn,
    Series,
    Spo2TargetIn,
    Spo2TargetOut,
    UploadOut,
)

# `from` is a Python keyword: the query parameter is named by alias.
# Times are parsed by the service, so that a bad one is reported as `from` / `to`, the names the client sent.
PeriodFrom = Annotated[
    str | None, QueryParameter(name="from", format="date-time", description="from this time (inclusive, RFC 3339)")
]
PeriodTo = Annotated[
    str | None, QueryParameter(name="to", format="date-time", description="up to this time (inclusive, RFC 3339)")
]
CodeFilter = Annotated[str | None, QueryParameter(name="code", description="LOINC code, e.g. 85354-9")]
SeriesCode = Annotated[str | None, QueryParameter(name="code", description="LOINC code, e.g. 85354-9", required=True)]


class CitizenMeasurementsController(Controller):
    path = "/me/measurements"
    tags = ["citizen: measurements"]
    opt = act_for("measurements")  # what someone acting for her (Helsekort-Act-For) needs

    @post(
        "",
        operation_id="citizenUploadMeasurements",
        status_code=200,
        summary="Upload a batch of home measurements (at most 1,000); one result per item, in order",
        operation_class=UploadOperation,
    )
    async def upload(self, me: MeGrant, body: RawBody) -> UploadOut:
        return await service.upload_measurements(me, body)

    @get("", operation_id="citizenListMeasurements", summary="My measurements, newest first")
    async def list_measurements(
        self,
        *,
        me: MeGrant,
        code: CodeFilter = None,
        start: PeriodFrom = None,
        end: PeriodTo = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> MeasurementPage:
        return await service.list_measurements(me, code=code, start=start, end=end, cursor=cursor, limit=limit)

    @get("/series", operation_id="citizenMeasurementSeries", summary="One code's values in a period, for charts")
    async def series(
        self,
        me: MeGrant,
        code: SeriesCode = None,
        start: PeriodFrom = None,
        end: PeriodTo = None,
    ) -> Series:
        return await service.measurement_series(me, code=code, start=start, end=end)


class CitizenMeasurementCodesController(Controller):
    path = "/measurement-codes"
    tags = ["citizen: measurements"]

    @get(
        "",
        operation_id="citizenListMeasurementCodes",
        summary="The measurement codes an upload accepts: LOINC code, names (nb, en), UCUM unit, plausible range",
    )
    async def list_codes(self) -> MeasurementCodes:
        # Catalogue data, not patient data; behind the citizen token like the rest of /citizen/v1.
        return service.measurement_codes()


class ClinicianMeasurementsController(Controller):
    path = "/patients/{patient_id:uuid}"
    tags = ["clinician: measurements"]

    @get("/measurements", operation_id="clinicianListMeasurements", summary="The patient's measurements, newest first")
    async def list_measurements(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        code: CodeFilter = None,
        start: PeriodFrom = None,
        end: PeriodTo = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Response[MeasurementPage]:
        read = service.measurements_read(code=code, start=start, end=end, cursor=cursor, limit=limit)
        _, kept = await authorize_cached_read(
            clinician, patient_id, service.READ, encoded_read(read), service.CLINICIAN_PAGES
        )
        return json_response(kept.body)

    @get(
        "/measurements/series",
        operation_id="clinicianMeasurementSeries",
        summary="One code's values in a period, for charts",
    )
    async def series(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        code: SeriesCode = None,
        start: PeriodFrom = None,
        end: PeriodTo = None,
    ) -> Series:
        grant = await authorize(clinician, patient_id, service.READ)
        return await service.measurement_series(grant, code=code, start=start, end=end)

    @post(
        "/measurements",
        operation_id="clinicianRecordMeasurements",
        status_code=200,
        summary="Record readings (same format as the citizen's upload); one result per item, in order",
        operation_class=UploadOperation,
    )
    async def record(self, clinician: Clinician, patient_id: FromPath[uuid.UUID], body: RawBody) -> UploadOut:
        grant = await authorize(clinician, patient_id, service.WRITE)
        return await service.upload_measurements(grant, body)

    @post(
        "/news2",
        operation_id="clinicianRecordNews2",
        summary="Record a vital-sign set with its NEWS2 score (scale 2 only under a recorded SpO2 target; "
        "not valid, and no alert, under 16 or around a pregnancy)",
    )
    async def record_news2(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], data: JSONBody[News2RecordIn]
    ) -> News2Recorded:
        grant = await authorize(clinician, patient_id, service.RECORD_NEWS2)
        return await service.record_news2(grant, data)

    @get(
        "/spo2-target",
        operation_id="clinicianGetSpo2Target",
        summary="The prescribed SpO2 target in force (all fields null when none): it puts NEWS2 on scale 2",
    )
    async def get_spo2_target(self, clinician: Clinician, patient_id: FromPath[uuid.UUID]) -> Spo2TargetOut:
        grant = await authorize(clinician, patient_id, service.READ_SPO2_TARGET)
        return await service.spo2_target(grant)

    @put(
        "/spo2-target",
        operation_id="clinicianPrescribeSpo2Target",
        status_code=200,
        summary="Prescribe an SpO2 target of 88-92 % (doctors, LE, only; others 403): NEWS2 then uses scale 2",
    )
    async def prescribe_spo2_target(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], data: JSONBody[Spo2TargetIn]
    ) -> Spo2TargetOut:
        grant = await authorize(clinician, patient_id, service.PRESCRIBE_SPO2_TARGET)
        return await service.prescribe_spo2_target(grant, data)

    @delete(
        "/spo2-target",
        operation_id="clinicianClearSpo2Target",
        summary="Clear the SpO2 target (doctors, LE, only; kept with who and when): NEWS2 then uses scale 1",
    )
    async def clear_spo2_target(self, clinician: Clinician, patient_id: FromPath[uuid.UUID]) -> None:
        grant = await authorize(clinician, patient_id, service.PRESCRIBE_SPO2_TARGET)
        await service.clear_spo2_target(grant)


class ClinicianNews2Controller(Controller):
    path = "/news2"
    tags = ["clinician: measurements"]

    @post(
        "/score",
        operation_id="clinicianScoreNews2",
        status_code=200,
        summary="Stateless NEWS2 calculation; it has no patient, so it takes spo2Scale as given "
        "(recorded NEWS2 use the patient's prescribed target instead)",
    )
    async def score(self, clinician: Clinician, data: JSONBody[VitalSigns]) -> News2Result:
        return score_news2(data)
