"""What a stored report looks like to its readers: the shared builders of the clinician's and the citizen's views.

`READ_REPORTS` is what a clinician's read needs (a laboratory reads nothing: core refuses it by role). The
release state a reader is shown comes from `citizen_sees` as `backend.labs.release` defines it, selected with
the report; nothing here decides visibility again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from backend.core.access import Grant, Need
from backend.core.db import DB
from backend.core.paging import Instant, Position, clamp_limit, decode_cursor, keyset_page
from backend.labs import queries
from backend.labs.release import PRELIMINARY
from backend.labs.schemas import (
    Category,
    LabReportOut,
    LabReportReceipt,
    ObservationOut,
    Panel,
    PerformingLab,
    ReferenceRange,
    ReleaseState,
    ReleaseStateName,
    Requester,
)

RESOURCE_TYPE = "lab-report"
READ_REPORTS = Need(action="read", resource_type=RESOURCE_TYPE)


# --- paging ----------------------------------------------------------------------------------------------------


class BeforeSpecimen(Position):
    """Where a report list resumes: before this specimen time and report id (newest first)."""

    s: Instant
    id: uuid.UUID


def position_of(report: queries.Report) -> BeforeSpecimen:
    return BeforeSpecimen(s=report.specimen_at, id=report.id)


async def report_page(
    connection: queries.Connection, grant: Grant, page: Paging, now: datetime, *, citizen_only: bool
) -> tuple[list[queries.ReportWithRelease], str | None]:
    """One page of the patient's reports, newest specimen first (only those she sees at `now` when `citizen_only`),
    and the cursor of the next."""
    rows = await queries.reports_page(
        connection,
        grant.patient_id,
        before_at=page.before_at,
        before_id=page.before_id,
        limit=page.size + 1,
        now=now,
        citizen_only=citizen_only,
    )
    return keyset_page(rows, page.size, position_of)


@dataclass(frozen=True, slots=True)
class Paging:
    """A list's page request, checked before the access decision (a bad cursor is 400 whoever asks)."""

    size: int
    before_at: datetime | None
    before_id: uuid.UUID | None


def paging(cursor: str | None, limit: int | None) -> Paging:
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeSpecimen)
    if position is None:
        return Paging(size=size, before_at=None, before_id=None)
    return Paging(size=size, before_at=position.s, before_id=position.id)


# --- rows to answers -------------------------------------------------------------------------------------------


def value_of(row: queries.Observation) -> float | str:
    if row.value_type == "quantity":
        assert row.value_quantity is not None
        return float(row.value_quantity)
    return str(row.value_string if row.value_type == "string" else row.value_code)


def observation_out(row: queries.Observation) -> ObservationOut:
    low, high, text = row.reference_low, row.reference_high, row.reference_text
    reference = None if low is None and high is None and text is None else ReferenceRange(low=low, high=high, text=text)
    return ObservationOut(
        code=row.code,
        system=row.system,
        display=row.display,
        value=value_of(row),
        value_type=row.value_type,
        value_comparator=row.value_comparator,
        value_display=row.value_display,
        unit=row.unit,
        reference_range=reference,
        flag=row.flag,
        comment=row.comment,
        panel=row.panel,
    )


def report_out(version: queries.Version, category: Category, observations: list[ObservationOut]) -> LabReportOut:
    """One version of a report (of `category`) as it was shown."""
    return LabReportOut(
        id=version.report,
        category=category,
        status=version.status,
        corrected=version.status == "corrected",
        specimen_at=version.specimen_at,
        issued_at=version.issued_at,
        performing_lab=PerformingLab(name=version.lab_name, organisation=version.lab_org),
        requester=Requester(hpr=version.requester_hpr, organisation=version.requester_org),
        observations=observations,
        panels=msgspec.json.decode(version.panels or "[]", type=list[Panel]),
    )


def release_state(report: queries.ReportWithRelease) -> ReleaseState:
    """The release state of a report selected with `release_columns` (the one definition of what she sees)."""
    visible = bool(report.citizen_sees)
    state: ReleaseStateName
    if visible:
        state = "released"
    elif report.held:
        state = "held"
    elif report.release_due_at is not None:
        state = "scheduled"
    elif report.status == PRELIMINARY:
        state = "awaiting-final"
    else:
        state = "awaiting-release"
    return ReleaseState(
        state=state,
        visible_to_citizen=visible,
        visible_from=report.citizen_sees_since,
        release_due_at=report.release_due_at,
        released_at=report.released_at,
        held_at=report.held_at,
        announced_at=report.release_announced_at,
    )


@dataclass(frozen=True, slots=True)
class Shown:
    """The shown version of each report, every version of each (oldest first), and the shown observations."""

    version: dict[uuid.UUID, queries.Version]
    history: dict[uuid.UUID, list[queries.Version]]
    observations: dict[uuid.UUID, list[ObservationOut]]

    def report_out(self, report: queries.Report) -> LabReportOut:
        return report_out(self.version[report.id], report.category, self.observations.get(report.id, []))


async def shown(connection: queries.Connection, grant: Grant, report_ids: Sequence[uuid.UUID]) -> Shown:
    versions, observations = await queries.shown_versions(connection, grant.patient_id, report_ids)
    history: dict[uuid.UUID, list[queries.Version]] = {}
    for version in versions:
        history.setdefault(version.report, []).append(version)
    by_report: dict[uuid.UUID, list[ObservationOut]] = {}
    for observation in observations:
        by_report.setdefault(observation.report, []).append(observation_out(observation))
    return Shown(
        version={version.report: version for version in versions if version.shown},
        history=history,
        observations=by_report,
    )


async def receipt(grant: Grant, report_id: uuid.UUID, now: datetime) -> LabReportReceipt:
    """The answer to a post: the stored report and its release state, without other reports (labs read nothing)."""
    async with DB.connection() as connection:
        report = await queries.report(connection, grant.patient_id, report_id, now)
        assert report is not None
        seen = await shown(connection, grant, [report_id])
    return LabReportReceipt(
        id=report_id, version=report.current_version, release=release_state(report), report=seen.report_out(report)
    )
