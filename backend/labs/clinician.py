"""The clinician's view of a patient's lab reports: every report at once, whatever its release state.

Each result is shown with earlier results of the same test (from the shown versions of other reports with an
earlier specimen), and each report with its release state and its versions. A page or a report is one statement
(`queries.clinician_reports_page`): PostgreSQL builds each report as JSON, decoded here once into the answer's
types; only the release state is Python's, from the release columns (`views.release_state`, one definition).

The routes keep what they read per patient (`PAGES`, `REPORTS`: core.access.authorize_cached, the decision and its
audit row still made on every request): an answer is the same for every reader the decision allows (nothing here
reads the grant but its patient), every write that changes it appends an event for her or notifies (new report,
new version, release and its announcement: events; a hold: `notify_changed`, no event), and the only clock it reads
is the release columns', so it is kept until the next release time ahead of a report shown (`release.next_change`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import msgspec

from backend.core.access import Grant
from backend.core.change_signals import PatientCache
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import NotFound
from backend.core.paging import keyset_page
from backend.labs import queries
from backend.labs.release import next_change
from backend.labs.schemas import (
    ClinicianLabReport,
    ClinicianLabReportPage,
    LabReportVersionList,
    LabReportVersionOut,
    ObservationOut,
)
from backend.labs.views import Paging, observation_out, position_of, release_state, report_out

PREVIOUS_PER_OBSERVATION = 5


# Kept per patient until she changes or a release time on them passes, as the routes send them (JSON, encoded
# once); the key is the page asked for (or the report id), never the time. Bounded by memory: a page of ten
# reports with their earlier results is ~80 kB, so at most ~80 MB of pages and ~20 MB of reports per process.
PAGES: PatientCache[bytes] = PatientCache(limit=250, per_patient=4)
REPORTS: PatientCache[bytes] = PatientCache(limit=500, per_patient=4)


async def list_for_clinician(grant: Grant, page: Paging) -> ClinicianLabReportPage:
    """Every report of the patient, newest specimen first, whatever its release state (one statement)."""
    answer, _ = await read_page(grant, page)
    return answer


async def read_page(grant: Grant, page: Paging) -> tuple[ClinicianLabReportPage, datetime | None]:
    """`list_for_clinician`, and until when time alone leaves it unchanged (for `PAGES`)."""
    now = utcnow()
    async with DB.connection() as connection:
        rows = await queries.clinician_reports_page(
            connection,
            grant.patient_id,
            before_at=page.before_at,
            before_id=page.before_id,
            limit=page.size + 1,
            now=now,
            per_observation=PREVIOUS_PER_OBSERVATION,
        )
    kept, next_cursor = keyset_page(rows, page.size, position_of)
    answer = ClinicianLabReportPage(items=[_clinician_report(row) for row in kept], next=next_cursor)
    return answer, _until(kept, now)


async def clinician_report(grant: Grant, report_id: uuid.UUID) -> ClinicianLabReport:
    """One report with its release state and versions."""
    answer, _ = await read_report(grant, report_id)
    return answer


async def read_report(grant: Grant, report_id: uuid.UUID) -> tuple[ClinicianLabReport, datetime | None]:
    """`clinician_report`, and until when time alone leaves it unchanged (for `REPORTS`); 404 is not kept."""
    now = utcnow()
    async with DB.connection() as connection:
        row = await queries.clinician_report(
            connection, grant.patient_id, report_id, now=now, per_observation=PREVIOUS_PER_OBSERVATION
        )
    if row is None:
        raise NotFound("no such lab report")
    return _clinician_report(row), _until([row], now)


def _until(shown: Iterable[queries.ReportWithRelease], now: datetime) -> datetime | None:
    """The first moment after `now` at which the release state of a shown report changes by time alone: nothing
    else in an answer reads the clock (the page's order, cursor, versions and earlier results are stored values;
    the row past the page is read only for its position)."""
    ahead = [
        moment
        for report in shown
        if (
            moment := next_change(
                held=report.held, released_at=report.released_at, release_due_at=report.release_due_at, now=now
            )
        )
        is not None
    ]
    return min(ahead, default=None)


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


_decode_report = msgspec.json.Decoder(ClinicianLabReport).decode
_encode = msgspec.json.Encoder().encode


def _clinician_report(row: queries.ClinicianReport) -> ClinicianLabReport:
    """The report's JSON decoded once (and so checked against the answer's types). PostgreSQL writes all of it but
    the release state, which is Python's (`release_state`, one definition): it goes in first, the object's other
    members after it."""
    assert row.body is not None, "a report past the page is never shown"
    return _decode_report(b'{"release":' + _encode(release_state(row)) + b"," + row.body.encode()[1:])
