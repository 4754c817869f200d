"""The clinician's view of a patient's lab reports: every report at once, whatever its release state.

Each result is shown with earlier results of the same test (from the shown versions of other reports with an
earlier specimen), and each report with its release state and its versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec

from backend.core.access import Grant
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import NotFound
from backend.labs import queries
from backend.labs.schemas import (
    ClinicianLabReport,
    ClinicianLabReportPage,
    ClinicianObservationOut,
    LabReportVersionList,
    LabReportVersionOut,
    ObservationOut,
    PreviousResult,
    ReportVersionInfo,
    Requester,
)
from backend.labs.views import Paging, observation_out, release_state, report_out, report_page, shown, value_of

PREVIOUS_PER_OBSERVATION = 5


async def list_for_clinician(grant: Grant, page: Paging) -> ClinicianLabReportPage:
    """Every report of the patient, newest specimen first, whatever its release state."""
    now = utcnow()
    async with DB.connection() as connection:
        kept, next_cursor = await report_page(connection, grant, page, now, citizen_only=False)
        items = await _clinician_reports(connection, grant, kept)
    return ClinicianLabReportPage(items=items, next=next_cursor)


async def clinician_report(grant: Grant, report_id: uuid.UUID) -> ClinicianLabReport:
    """One report with its release state and versions."""
    now = utcnow()
    async with DB.connection() as connection:
        report = await queries.report(connection, grant.patient_id, report_id, now)
        if report is None:
            raise NotFound("no such lab report")
        [answer] = await _clinician_reports(connection, grant, [report])
    return answer


async def versions_for_clinician(grant: Grant, report_id: uuid.UUID) -> LabReportVersionList:
    """Every version of a report, oldest first, each as it was shown."""
    async with DB.connection() as connection:
        category = await queries.report_category(connection, grant.patient_id, report_id)
        if category is None:
            raise NotFound("no such lab report")
        versions, observations = await queries.every_version(connection, grant.patient_id, report_id)
    by_version: dict[int, list[ObservationOut]] = {}
    for row in observations:
        by_version.setdefault(row.version, []).append(observation_out(row))
    return LabReportVersionList(
        items=[
            LabReportVersionOut(
                version=version.version,
                received_at=version.received_at,
                report=report_out(version, category, by_version.get(version.version, [])),
            )
            for version in versions
        ]
    )


async def _clinician_reports(
    connection: queries.Connection, grant: Grant, reports: Sequence[queries.ReportWithRelease]
) -> list[ClinicianLabReport]:
    report_ids = [report.id for report in reports]
    if not report_ids:
        return []
    seen = await shown(connection, grant, report_ids)
    previous: dict[tuple[uuid.UUID, str], list[PreviousResult]] = {}
    for row in await queries.previous_results(connection, grant.patient_id, report_ids, PREVIOUS_PER_OBSERVATION):
        previous.setdefault((row.for_report, row.for_code), []).append(
            PreviousResult(
                report_id=row.report,
                value=value_of(row),
                value_type=row.value_type,
                value_comparator=row.value_comparator,
                unit=row.unit,
                flag=row.flag,
                specimen_at=row.specimen_at,
                issued_at=row.issued_at,
            )
        )
    answers = []
    for report in reports:
        out = seen.report_out(report)
        answers.append(
            ClinicianLabReport(
                id=report.id,
                version=report.current_version,
                category=out.category,
                status=out.status,
                corrected=out.corrected,
                specimen_at=out.specimen_at,
                issued_at=out.issued_at,
                received_at=seen.version[report.id].received_at,
                performing_lab=out.performing_lab,
                requester=Requester(hpr=report.requester_hpr, organisation=report.requester_org),
                release=release_state(report),
                observations=[
                    ClinicianObservationOut(
                        **msgspec.structs.asdict(obs), previous=previous.get((report.id, obs.code), [])
                    )
                    for obs in out.observations
                ],
                panels=out.panels,
                versions=[
                    ReportVersionInfo(
                        version=item.version,
                        status=item.status,
                        issued_at=item.issued_at,
                        received_at=item.received_at,
                    )
                    for item in seen.history[report.id]
                ],
            )
        )
    return answers
