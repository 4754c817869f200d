"""Lab reports for FHIR reads: each report as `fhir.to_fhir` maps it (DiagnosticReport with contained Observations),
read through the clinician's or the citizen's own view with `READ_REPORTS`. The citizen's view is her released
reports only (`backend.labs.release`, the one definition); a clinician sees every report, as in the API.

`date` searches the specimen time, newest first: the upper bound is where the list starts, the lower bound where
it ends, so paging stays the domain's own keyset paging.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.core.access import Grant
from backend.core.fhir import FhirPage, FhirQuery, fhir_search, is_citizen, patient_reference
from backend.labs.citizen import list_for_citizen
from backend.labs.clinician import list_for_clinician
from backend.labs.fhir import LABORATORY_REPORT, to_fhir
from backend.labs.schemas import CitizenLabResult, ClinicianLabReport, LabReportOut, ObservationOut
from backend.labs.views import READ_REPORTS, Paging, paging

LAST_ID = uuid.UUID(int=(1 << 128) - 1)


def report_of(shown: ClinicianLabReport | CitizenLabResult) -> LabReportOut:
    """The report as its reader is shown it, in the shape `to_fhir` maps (a clinician's earlier results left out)."""
    return LabReportOut(
        id=shown.id,
        category=shown.category,
        status=shown.status,
        corrected=shown.corrected,
        specimen_at=shown.specimen_at,
        issued_at=shown.issued_at,
        performing_lab=shown.performing_lab,
        requester=shown.requester,
        observations=[
            ObservationOut(
                code=obs.code,
                system=obs.system,
                display=obs.display,
                value=obs.value,
                value_type=obs.value_type,
                value_comparator=obs.value_comparator,
                value_display=obs.value_display,
                unit=obs.unit,
                reference_range=obs.reference_range,
                flag=obs.flag,
                comment=obs.comment,
                panel=obs.panel,
            )
            for obs in shown.observations
        ],
        panels=shown.panels,
    )


def _first_page(query: FhirQuery) -> Paging:
    page = paging(query.cursor, query.count)
    if query.cursor is None and query.end is not None:
        return Paging(size=page.size, before_at=query.end, before_id=LAST_ID)
    return page


@fhir_search("DiagnosticReport", "lab-reports", need=READ_REPORTS)
async def search_lab_reports(grant: Grant, query: FhirQuery) -> FhirPage:
    if not query.wants_code(LABORATORY_REPORT):
        return FhirPage([])
    page = _first_page(query)
    shown: list[ClinicianLabReport] | list[CitizenLabResult]
    if is_citizen(grant):
        citizen_page = await list_for_citizen(grant, page)
        shown, following = citizen_page.items, citizen_page.next
    else:
        clinician_page = await list_for_clinician(grant, page)
        shown, following = clinician_page.items, clinician_page.next
    start: datetime | None = query.start
    kept: list[dict[str, Any]] = []
    for report in shown:
        if start is not None and report.specimen_at < start:
            following = None  # newest first: nothing after this one is inside the period
            break
        kept.append(to_fhir(report_of(report), subject=patient_reference(grant)))
    return FhirPage(kept, following)
