"""The labs section of the legevakt overview: flagged results of the last 14 days, as a clinician sees them."""

from __future__ import annotations

from backend.core.access import Grant
from backend.core.db import DB
from backend.core.overview import OverviewLabResult, lab_results_since, overview_source
from backend.core.settings import Settings
from backend.labs import queries

OVERVIEW_RESULTS = 50


@overview_source("labResults")
async def flagged_lab_results(grant: Grant, _settings: Settings) -> list[OverviewLabResult]:
    """Results flagged low, high or abnormal, issued in the window; the overview's decision was the audit row."""
    async with DB.connection() as connection:
        rows = await queries.flagged_results_since(connection, grant.patient_id, lab_results_since(), OVERVIEW_RESULTS)
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
