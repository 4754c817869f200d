"""The labs section of the legevakt overview: flagged results of the last 14 days, as a clinician sees them."""

from __future__ import annotations

from backend.core.auth import ClinicianPrincipal
from backend.core.overview import (
    LAB_RESULTS_WINDOW,
    PATIENT,
    OverviewLabResult,
    SectionQuery,
    oldest_plus,
    overview_source,
)
from backend.core.settings import Settings
from backend.labs.queries import FlaggedResult

OVERVIEW_RESULTS = 50

# The shown results flagged other than normal, issued since $2, newest first (`queries.flagged_results_since`'s
# statement, for the overview's one composed statement).
_FLAGGED_SINCE = """
SELECT o.report AS report_id, o.code, o.display, o.value_type, o.value_quantity, o.value_string,
       o.value_code, o.unit, o.flag, o.issued_at
FROM lab_observation o
WHERE o.patient_id = $1 AND o.current AND o.flag IS NOT NULL AND o.flag <> 'normal' AND o.issued_at >= $2
ORDER BY o.issued_at DESC, o.report, o.position
LIMIT $3
"""


def _results(rows: list[FlaggedResult]) -> list[OverviewLabResult]:
    return [
        OverviewLabResult(
            report_id=row.report_id,
            code=row.code,
            display=row.display,
            value=row.value_quantity
            if row.value_type == "quantity" and row.value_quantity is not None
            else str(row.value_string if row.value_type == "string" else row.value_code),
            unit=row.unit,
            flag=row.flag,
            issued_at=row.issued_at,
        )
        for row in rows
    ]


@overview_source("labResults")
def flagged_lab_results(_clinician: ClinicianPrincipal, _settings: Settings) -> SectionQuery | None:
    """Results flagged low, high or abnormal, issued in the window; the overview's decision was the audit row."""
    return SectionQuery(
        sql=_FLAGGED_SINCE,
        args=(PATIENT, LAB_RESULTS_WINDOW, OVERVIEW_RESULTS),
        row=FlaggedResult,
        build=_results,
        expires=lambda rows: oldest_plus(LAB_RESULTS_WINDOW, [row.issued_at for row in rows]),
    )
