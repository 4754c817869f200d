"""The citizen's own results: only reports she sees (`backend.labs.release`), her list, one result and a trend.

A result is visible when due even before the worker has announced it; held and unreleased reports are absent
(404, never 403: their existence is not hers to learn yet).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from backend.core.access import Grant
from backend.core.change_signals import PatientCache
from backend.core.clock import utcnow
from backend.core.conditional import State
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.labs import queries
from backend.labs.catalogue import CATALOGUE
from backend.labs.schemas import CitizenLabResult, CitizenLabResultPage, LabTrend, Requester, TrendPoint
from backend.labs.views import Paging, observation_out, report_page, shown

TREND_MAX_POINTS = 1000


# Her pages of results (and her trends, below), kept per patient until she changes (every report stored, corrected or released appends an
# event) or the next release time of a report not held passes (core/change_signals.py).
_PAGES: PatientCache[CitizenLabResultPage] = PatientCache()


async def list_for_citizen(me: Grant, page: Paging) -> CitizenLabResultPage:
    """My released results, newest specimen first; held and unreleased reports are not there."""

    async def read() -> tuple[CitizenLabResultPage, datetime | None]:
        now = utcnow()
        async with DB.connection() as connection:
            kept, next_cursor = await report_page(connection, me, page, now, citizen_only=True)
            items = await _citizen_results(connection, me, kept)
            state = await queries.citizen_results_state(connection, me.patient_id, now)
        return CitizenLabResultPage(items=items, next=next_cursor), state.next_release

    return await _PAGES.get(me.patient_id, (page.before_at, page.before_id, page.size), read)


async def list_state(connection: queries.Connection, me: Grant) -> State:
    """What her list's ETag is derived from (core/conditional.py): the reports she sees now and their versions,
    unchanged until the next release time of a report not held (or a write)."""
    found = await queries.citizen_results_state(connection, me.patient_id, utcnow())
    return State(value=found.shown, until=found.next_release)


async def get_for_citizen(me: Grant, report_id: uuid.UUID) -> CitizenLabResult:
    now = utcnow()
    async with DB.connection() as connection:
        report = await queries.citizen_report(connection, me.patient_id, report_id, now)
        if report is None:
            raise NotFound("no such lab result")
        [result] = await _citizen_results(connection, me, [report])
    return result


async def trend_for_citizen(me: Grant, code: str) -> LabTrend:
    """One test across my released reports, oldest specimen first (at most the newest TREND_MAX_POINTS)."""
    if not code or len(code) > 64 or any(char.isspace() for char in code):
        raise BadRequest("a test code is 1 to 64 characters without spaces", field="code")

    async def read() -> tuple[LabTrend, datetime | None]:
        now = utcnow()
        async with DB.connection() as connection:
            rows = await queries.citizen_trend(connection, me.patient_id, code, now, TREND_MAX_POINTS)
            state = await queries.citizen_results_state(connection, me.patient_id, now)
        points = [_trend_point(row) for row in reversed(rows)]
        known = CATALOGUE.get(code)
        display = rows[0].display if rows else (known.display if known else None)
        return LabTrend(code=code, display=display, points=points), state.next_release

    return await _TRENDS.get(me.patient_id, ("trend", code), read)


_TRENDS: PatientCache[LabTrend] = PatientCache()


async def _citizen_results(
    connection: queries.Connection, me: Grant, reports: Sequence[queries.ReportWithRelease]
) -> list[CitizenLabResult]:
    if not reports:
        return []
    seen = await shown(connection, me, [report.id for report in reports])
    results = []
    for report in reports:
        out = seen.report_out(report)
        released_at = report.citizen_sees_since
        assert released_at is not None
        results.append(
            CitizenLabResult(
                id=out.id,
                category=out.category,
                status=out.status,
                corrected=out.corrected,
                specimen_at=out.specimen_at,
                issued_at=out.issued_at,
                released_at=released_at,
                performing_lab=out.performing_lab,
                requester=Requester(hpr=report.requester_hpr, organisation=report.requester_org),
                observations=out.observations,
                panels=out.panels,
            )
        )
    return results


def _trend_point(row: queries.Observation) -> TrendPoint:
    obs = observation_out(row)
    return TrendPoint(
        report_id=row.report,
        value=obs.value,
        value_type=obs.value_type,
        value_comparator=obs.value_comparator,
        value_display=obs.value_display,
        unit=obs.unit,
        reference_range=obs.reference_range,
        flag=obs.flag,
        specimen_at=row.specimen_at,
        issued_at=row.issued_at,
    )
