"""Every SQL statement of the lab results domain: functions of a connection and plain values, typed results.

Reached only with `grant.patient_id` (the services take the `Grant`); every statement but the release job's
selection of due patients and the report-id lookup names the patient. When the citizen sees a report is
written once, in `backend.labs.release`, and spliced into the statements here (`citizen_sees`,
`release_columns`). A report id names one report across all patients: `insert_report` claims it in
`lab_report_key` (keyed by the id) and `report_owner` reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from backend.core.rows import typed_row, typed_row_or_none, typed_rows
from backend.labs.release import citizen_sees, citizen_sees_since, release_columns
from backend.labs.schemas import (
    Category,
    CodeSystem,
    Comparator,
    Flag,
    LabReportIn,
    LabReportOut,
    ObservationOut,
    ReportStatus,
    ValueType,
)

Connection = Any  # an asyncpg connection (or the transaction's)


class Report(msgspec.Struct, kw_only=True):
    """A `lab_report` row: the report as its sender names it, pointing at the version shown, with its release state."""

    id: uuid.UUID
    patient_id: uuid.UUID
    category: Category
    current_version: int
    status: ReportStatus
    specimen_at: datetime
    issued_at: datetime
    requester_hpr: str
    requester_org: str
    sender_org: str
    release_due_at: datetime | None
    released_at: datetime | None
    held: bool
    held_at: datetime | None
    release_announced_at: datetime | None


class ReportWithRelease(Report, kw_only=True):
    """A report with `release_columns` at the time asked: whether (NULL: not) and since when the citizen sees it."""

    citizen_sees: bool | None
    citizen_sees_since: datetime | None


class Version(msgspec.Struct, kw_only=True):
    """A `lab_report_version` row as shown; `shown` is whether it is the report's current version (when asked)."""

    report: uuid.UUID
    version: int
    status: ReportStatus
    specimen_at: datetime
    issued_at: datetime
    lab_name: str
    lab_org: str
    requester_hpr: str
    requester_org: str
    panels: str | None
    received_at: datetime
    shown: bool = False


class Observation(msgspec.Struct, kw_only=True):
    """A `lab_observation` row: one result of one version."""

    id: int
    report: uuid.UUID
    version: int
    code: str
    system: CodeSystem
    display: str
    value_type: ValueType
    value_quantity: float | None
    value_comparator: Comparator | None
    value_string: str | None
    value_code: str | None
    value_display: str | None
    unit: str | None
    reference_low: float | None
    reference_high: float | None
    reference_text: str | None
    flag: Flag | None
    comment: str | None
    panel: str | None
    specimen_at: datetime
    issued_at: datetime


class Due(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    patient_id: uuid.UUID


_REPORT = (
    "r.id, r.patient_id, r.category, r.current_version, r.status, r.specimen_at, r.issued_at, r.requester_hpr,"
    " r.requester_org, r.sender_org, r.release_due_at, r.released_at, r.held, r.held_at, r.release_announced_at"
)
_VERSION = (
    "v.report, v.version, v.status, v.specimen_at, v.issued_at, v.lab_name, v.lab_org, v.requester_hpr,"
    " v.requester_org, v.panels, v.received_at"
)
_OBSERVATION = (
    "o.id, o.report, o.version, o.code, o.system, o.display, o.value_type, o.value_quantity, o.value_comparator,"
    " o.value_string, o.value_code, o.value_display, o.unit, o.reference_low, o.reference_high, o.reference_text,"
    " o.flag, o.comment, o.panel, o.specimen_at, o.issued_at"
)
# One report ($1, of patient $2) with its release state at $3, as backend.labs.release defines it.
_REPORT_WITH_RELEASE = (
    f"SELECT {_REPORT}, {release_columns('r', '$3')} FROM lab_report r WHERE r.id = $1 AND r.patient_id = $2"  # noqa: S608 - fixed fragments only
)


# --- intake ----------------------------------------------------------------------------------------------------


async def report_exists(connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT 1 FROM lab_report WHERE id = $1 AND patient_id = $2", report_id, patient_id
    )
    return found is not None


async def insert_report(
    connection: Connection,
    patient_id: uuid.UUID,
    report: LabReportIn,
    *,
    requester_hpr: str,
    requester_org: str,
    sender_org: str,
    release_due_at: datetime | None,
    now: datetime,
) -> bool:
    """Insert the report pointing at version 1; False when its id is already stored (then nothing changes).

    The sender names the id, and an id names one report whatever the patient: lab_report_key (keyed by the
    id) claims it; a post naming a known id waits here for the post that claimed it.
    """
    inserted = await connection.fetchval(
        """
        WITH claimed AS (
            INSERT INTO lab_report_key (id, patient_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id
        )
        INSERT INTO lab_report (id, patient_id, category, current_version, status, specimen_at, issued_at,
                                requester_hpr, requester_org, sender_org, release_due_at, held,
                                received_at, created_at, updated_at)
        SELECT $1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, false, $11, $11, $11 FROM claimed
        RETURNING id
        """,
        report.id,
        patient_id,
        report.category,
        report.status,
        report.specimen_at,
        report.issued_at,
        requester_hpr,
        requester_org,
        sender_org,
        release_due_at,
        now,
    )
    return inserted is not None


async def report_owner(connection: Connection, report_id: uuid.UUID) -> uuid.UUID | None:
    """Whose report this id names (lab_report_key: one report per id across all patients), or None."""
    owner: uuid.UUID | None = await connection.fetchval(
        "SELECT patient_id FROM lab_report_key WHERE id = $1", report_id
    )
    return owner


async def lock_report_id(connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID) -> Report | None:
    """The patient's stored report of this id, locked against other writers of it."""
    row = await connection.fetchrow(
        f"SELECT {_REPORT} FROM lab_report r WHERE r.id = $1 AND r.patient_id = $2 FOR UPDATE",  # noqa: S608 - fixed fragments only
        report_id,
        patient_id,
    )
    return typed_row_or_none(Report, row)


async def version_with_digest(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, digest: bytes
) -> int | None:
    """The newest version stored with exactly this content, or None."""
    version: int | None = await connection.fetchval(
        "SELECT max(version) FROM lab_report_version WHERE report = $1 AND patient_id = $2 AND body_digest = $3",
        report_id,
        patient_id,
        digest,
    )
    return version


async def retire_shown_observations(connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE lab_observation SET current = false WHERE report = $1 AND patient_id = $2 AND current",
        report_id,
        patient_id,
    )


async def insert_version(
    connection: Connection,
    patient_id: uuid.UUID,
    report: LabReportIn,
    *,
    shown: LabReportOut,
    version: int,
    digest: bytes,
    sent_by_hpr: str,
    sent_by_org: str,
    now: datetime,
) -> None:
    """The version and its observations (marked current); `report.requester` is settled."""
    assert report.requester is not None
    await connection.execute(
        """
        INSERT INTO lab_report_version (id, report, patient_id, version, status, specimen_at, issued_at, lab_name,
                                        lab_org, requester_hpr, requester_org, panels, body_digest, sent_by_hpr,
                                        sent_by_org, received_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16)
        """,
        uuid.uuid4(),
        report.id,
        patient_id,
        version,
        report.status,
        report.specimen_at,
        report.issued_at,
        report.performing_lab.name,
        report.performing_lab.organisation,
        report.requester.hpr,
        report.requester.organisation,
        msgspec.json.encode(shown.panels).decode(),
        digest,
        sent_by_hpr,
        sent_by_org,
        now,
    )
    await connection.executemany(
        """
        INSERT INTO lab_observation (patient_id, report, version, position, current, code, system, display, value_type,
                                     value_quantity, value_comparator, value_string, value_code, value_display, unit,
                                     reference_low, reference_high, reference_text, flag, comment, panel,
                                     specimen_at, issued_at)
        VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                $21, $22)
        """,
        [
            _observation_values(patient_id, report, version, position, obs)
            for position, obs in enumerate(shown.observations)
        ],
    )


def _observation_values(
    patient_id: uuid.UUID, report: LabReportIn, version: int, position: int, obs: ObservationOut
) -> tuple[Any, ...]:
    reference = obs.reference_range
    return (
        patient_id,
        report.id,
        version,
        position,
        obs.code,
        obs.system,
        obs.display,
        obs.value_type,
        obs.value if obs.value_type == "quantity" else None,
        obs.value_comparator,
        obs.value if obs.value_type == "string" else None,
        obs.value if obs.value_type == "code" else None,
        obs.value_display,
        obs.unit,
        reference.low if reference else None,
        reference.high if reference else None,
        reference.text if reference else None,
        obs.flag,
        obs.comment,
        obs.panel,
        report.specimen_at,
        report.issued_at,
    )


async def show_version(
    connection: Connection,
    patient_id: uuid.UUID,
    report: LabReportIn,
    *,
    version: int,
    release_due_at: datetime | None,
    now: datetime,
) -> bool:
    """Point the report at `version`, arrived `now`; the version's `release_due_at` applies only while she does not
    yet see the report (one she sees stays seen). Whether the release was announced before."""
    announced: bool = await connection.fetchval(
        f"""
        UPDATE lab_report r SET current_version = $3, status = $4, specimen_at = $5, issued_at = $6, updated_at = $7,
                                received_at = $7,
                                release_due_at = CASE WHEN {citizen_sees("r", "$7")} THEN r.release_due_at ELSE $8 END
        WHERE r.id = $1 AND r.patient_id = $2
        RETURNING r.release_announced_at IS NOT NULL
        """,  # noqa: S608 - fixed fragments only
        report.id,
        patient_id,
        version,
        report.status,
        report.specimen_at,
        report.issued_at,
        now,
        release_due_at,
    )
    return announced


# --- release ---------------------------------------------------------------------------------------------------


async def mark_announced_if_visible(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime
) -> bool:
    """Record the announcement when she sees the report and it was not announced; whether this call recorded it."""
    announced = await connection.fetchval(
        f"""
        UPDATE lab_report r SET release_announced_at = $2
        WHERE r.id = $1 AND r.patient_id = $3 AND r.release_announced_at IS NULL AND {citizen_sees("r", "$2")}
        RETURNING r.id
        """,  # noqa: S608 - fixed fragments only
        report_id,
        now,
        patient_id,
    )
    return announced is not None


async def patients_with_due_unannounced(connection: Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    """Patients with a report she sees at `now` whose release was not announced, oldest due first; no locks."""
    rows = await connection.fetch(
        f"""
        SELECT r.patient_id FROM lab_report r
        WHERE r.release_announced_at IS NULL AND {citizen_sees("r", "$1")}
        ORDER BY r.release_due_at, r.id
        LIMIT $2
        """,  # noqa: S608 - fixed fragments only
        now,
        limit,
    )
    return list(dict.fromkeys(row["patient_id"] for row in rows))


async def lock_due_unannounced(connection: Connection, patient_id: uuid.UUID, now: datetime, limit: int) -> list[Due]:
    """One patient's reports she sees at `now` whose release was not announced, locked (others skip them): a
    claim never locks rows of several patients (the shard key)."""
    rows = await connection.fetch(
        f"""
        SELECT r.id, r.patient_id FROM lab_report r
        WHERE r.patient_id = $3 AND r.release_announced_at IS NULL AND {citizen_sees("r", "$1")}
        ORDER BY r.release_due_at, r.id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,  # noqa: S608 - fixed fragments only
        now,
        limit,
        patient_id,
    )
    return typed_rows(Due, rows)


async def lock_report(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime
) -> ReportWithRelease | None:
    row = await connection.fetchrow(_REPORT_WITH_RELEASE + " FOR UPDATE", report_id, patient_id, now)
    return typed_row_or_none(ReportWithRelease, row)


async def mark_released(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, *, by_hpr: str, now: datetime
) -> None:
    await connection.execute(
        """
        UPDATE lab_report SET released_at = $3, released_by_hpr = $4, held = false, held_at = NULL,
                              held_by_hpr = NULL, updated_at = $3
        WHERE id = $1 AND patient_id = $2
        """,
        report_id,
        patient_id,
        now,
        by_hpr,
    )


async def mark_held(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, *, by_hpr: str, now: datetime
) -> None:
    await connection.execute(
        """
        UPDATE lab_report SET held = true, held_at = $3, held_by_hpr = $4, released_at = NULL,
                              released_by_hpr = NULL, updated_at = $3
        WHERE id = $1 AND patient_id = $2
        """,
        report_id,
        patient_id,
        now,
        by_hpr,
    )


# --- reading ---------------------------------------------------------------------------------------------------


async def report(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime
) -> ReportWithRelease | None:
    return typed_row_or_none(
        ReportWithRelease, await connection.fetchrow(_REPORT_WITH_RELEASE, report_id, patient_id, now)
    )


async def reports_page(
    connection: Connection,
    patient_id: uuid.UUID,
    *,
    before_at: datetime | None,
    before_id: uuid.UUID | None,
    limit: int,
    now: datetime,
    citizen_only: bool,
) -> list[ReportWithRelease]:
    """The patient's reports before the position, newest specimen first; with `citizen_only` those she sees."""
    seen = f"AND {citizen_sees('r', '$5')}" if citizen_only else ""
    rows = await connection.fetch(
        f"""
        SELECT {_REPORT}, {release_columns("r", "$5")} FROM lab_report r
        WHERE r.patient_id = $1 {seen} AND ($2::timestamptz IS NULL OR (r.specimen_at, r.id) < ($2, $3))
        ORDER BY r.specimen_at DESC, r.id DESC
        LIMIT $4
        """,  # noqa: S608 - fixed fragments only
        patient_id,
        before_at,
        before_id,
        limit,
        now,
    )
    return typed_rows(ReportWithRelease, rows)


class ResultsState(msgspec.Struct, kw_only=True):
    shown: str  # the reports she sees, each one's shown version, last update and since when she sees it
    next_release: datetime | None  # the earliest release time still ahead of a report not held


async def citizen_results_state(connection: Connection, patient_id: uuid.UUID, now: datetime) -> ResultsState:
    """What her result list shows changes with: the reports she sees at `now` (a release time passing adds one),
    and when time alone next changes it. Held and unreleased reports are not in `shown`."""
    row = await connection.fetchrow(
        f"""
        SELECT count(*) FILTER (WHERE {citizen_sees("r", "$2")}) || ':' || COALESCE(md5(string_agg(
                   r.id::text || '.' || r.current_version || '.' || r.updated_at::text || '.'
                   || COALESCE(s.since::text, ''), ',' ORDER BY r.id) FILTER (WHERE {citizen_sees("r", "$2")})), '')
                   AS shown,
               min(r.release_due_at) FILTER (WHERE NOT r.held AND r.release_due_at > $2) AS next_release
        FROM lab_report r, LATERAL (SELECT {citizen_sees_since("r", "$2")} AS since) s
        WHERE r.patient_id = $1
        """,  # noqa: S608 - fixed fragments only
        patient_id,
        now,
    )
    return typed_row(ResultsState, row)


async def citizen_report(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime
) -> ReportWithRelease | None:
    """The report when she sees it at `now`, else None."""
    row = await connection.fetchrow(
        f"SELECT {_REPORT}, {release_columns('r', '$2')} FROM lab_report r"  # noqa: S608 - fixed fragments only
        f" WHERE r.patient_id = $1 AND {citizen_sees('r', '$2')} AND r.id = $3",
        patient_id,
        now,
        report_id,
    )
    return typed_row_or_none(ReportWithRelease, row)


async def shown_versions(
    connection: Connection, patient_id: uuid.UUID, report_ids: Sequence[uuid.UUID]
) -> tuple[list[Version], list[Observation]]:
    """Every version of the reports (oldest first, `shown` marking the current one) and the shown observations."""
    versions = await connection.fetch(
        f"""
        SELECT {_VERSION}, v.version = r.current_version AS shown
        FROM lab_report_version v JOIN lab_report r ON r.id = v.report AND r.patient_id = v.patient_id
        WHERE v.patient_id = $1 AND v.report = ANY($2::uuid[])
        ORDER BY v.report, v.version
        """,  # noqa: S608 - fixed fragments only
        patient_id,
        list(report_ids),
    )
    observations = await connection.fetch(
        f"""
        SELECT {_OBSERVATION} FROM lab_observation o
        WHERE o.patient_id = $1 AND o.report = ANY($2::uuid[]) AND o.current
        ORDER BY o.report, o.position
        """,  # noqa: S608 - fixed fragments only
        patient_id,
        list(report_ids),
    )
    return typed_rows(Version, versions), typed_rows(Observation, observations)


def _value(row: str) -> str:
    """SQL: the one value of a `lab_observation` row as JSON (as `views.value_of` reads it)."""
    return (
        f"CASE {row}.value_type WHEN 'quantity' THEN to_json({row}.value_quantity)"
        f" WHEN 'string' THEN to_json({row}.value_string) ELSE to_json({row}.value_code) END"
    )


# The clinician's report ($1 patient) as JSON in `ClinicianLabReport`'s names, but for `release` (built in Python
# from the release columns, the one definition): the shown version, its observations each with up to $3 earlier
# results of the same test (the shown versions of other reports with an earlier specimen, newest first, read
# from lab_observation_newest in its order, each row as JSON by its column names: cheaper than an object built
# per row), and every version. `page` is the reports' CTE; $2 is now. Times are written by PostgreSQL in the
# session's time zone (UTC: backend/db/engine.py) and decoded as aware datetimes, so the answer writes them as
# every other answer does.
_CLINICIAN_REPORT_JSON = f"""
json_build_object(
    'id', r.id, 'version', r.current_version, 'category', r.category, 'status', v.status,
    'corrected', v.status = 'corrected', 'specimenAt', v.specimen_at, 'issuedAt', v.issued_at,
    'receivedAt', v.received_at,
    'performingLab', json_build_object('name', v.lab_name, 'organisation', v.lab_org),
    'requester', json_build_object('hpr', r.requester_hpr, 'organisation', r.requester_org),
    'observations', COALESCE((
        SELECT json_agg(json_build_object(
            'code', o.code, 'system', o.system, 'display', o.display, 'value', {_value("o")},
            'valueType', o.value_type, 'valueComparator', o.value_comparator, 'valueDisplay', o.value_display,
            'unit', o.unit,
            'referenceRange', CASE WHEN o.reference_low IS NULL AND o.reference_high IS NULL
                                        AND o.reference_text IS NULL THEN NULL
                              ELSE json_build_object('low', o.reference_low, 'high', o.reference_high,
                                                     'text', o.reference_text) END,
            'flag', o.flag, 'comment', o.comment, 'panel', o.panel,
            'previous', COALESCE((
                SELECT json_agg(p) FROM (
                    SELECT p.report AS "reportId", {_value("p")} AS value, p.value_type AS "valueType",
                           p.value_comparator AS "valueComparator", p.unit, p.flag, p.specimen_at AS "specimenAt",
                           p.issued_at AS "issuedAt"
                    FROM lab_observation p
                    WHERE p.patient_id = $1 AND p.code = o.code AND p.current AND p.specimen_at < o.specimen_at
                      AND p.report <> o.report
                    ORDER BY p.specimen_at DESC, p.id DESC
                    LIMIT $3
                ) p
            ), '[]')
        ) ORDER BY o.position)
        FROM lab_observation o
        WHERE o.patient_id = $1 AND o.report = r.id AND o.version = r.current_version AND o.current
    ), '[]'),
    'panels', COALESCE(v.panels, '[]'),
    'versions', (
        SELECT json_agg(json_build_object(
            'version', h.version, 'status', h.status, 'issuedAt', h.issued_at,
            'receivedAt', h.received_at
        ) ORDER BY h.version)
        FROM lab_report_version h WHERE h.patient_id = $1 AND h.report = r.id
    )
)
"""  # noqa: S608 - fixed fragments only


def _clinician_reports(page: str) -> str:
    """The reports `page` selects (with `shown`: false for the row read only to know that a next page exists),
    each with its release columns and, when shown, its view as JSON."""
    return f"""
    WITH page AS ({page})
    SELECT {_REPORT}, {release_columns("r", "$2")}, CASE WHEN r.shown THEN {_CLINICIAN_REPORT_JSON} END AS body
    FROM page r
    JOIN lab_report_version v ON v.patient_id = $1 AND v.report = r.id AND v.version = r.current_version
    ORDER BY r.specimen_at DESC, r.id DESC
    """  # noqa: S608 - fixed fragments only


_CLINICIAN_PAGE = _clinician_reports(
    """
    SELECT r.*, row_number() OVER (ORDER BY r.specimen_at DESC, r.id DESC) < $6 AS shown FROM lab_report r
    WHERE r.patient_id = $1 AND ($4::timestamptz IS NULL OR (r.specimen_at, r.id) < ($4, $5))
    ORDER BY r.specimen_at DESC, r.id DESC
    LIMIT $6
    """
)
_CLINICIAN_ONE = _clinician_reports("SELECT r.*, true AS shown FROM lab_report r WHERE r.patient_id = $1 AND r.id = $4")


class ClinicianReport(ReportWithRelease, kw_only=True):
    """A report with its release columns and `body`: the rest of the clinician's view as JSON text (None for the
    row past the page, read only to know that there is a next page)."""

    body: str | None


async def clinician_reports_page(
    connection: Connection,
    patient_id: uuid.UUID,
    *,
    before_at: datetime | None,
    before_id: uuid.UUID | None,
    limit: int,
    now: datetime,
    per_observation: int,
) -> list[ClinicianReport]:
    """The patient's reports before the position, newest specimen first, whatever their release state: one
    statement, each report's view built as JSON by PostgreSQL (but the last's, when `limit` rows were found: the
    caller asks for one more than it shows)."""
    rows = await connection.fetch(_CLINICIAN_PAGE, patient_id, now, per_observation, before_at, before_id, limit)
    return typed_rows(ClinicianReport, rows)


async def clinician_report(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID, *, now: datetime, per_observation: int
) -> ClinicianReport | None:
    """One report as `clinician_reports_page` shows it, or None."""
    row = await connection.fetchrow(_CLINICIAN_ONE, patient_id, now, per_observation, report_id)
    return typed_row_or_none(ClinicianReport, row)


async def report_category(connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID) -> Category | None:
    category: Category | None = await connection.fetchval(
        "SELECT category FROM lab_report WHERE id = $1 AND patient_id = $2", report_id, patient_id
    )
    return category


async def every_version(
    connection: Connection, patient_id: uuid.UUID, report_id: uuid.UUID
) -> tuple[list[Version], list[Observation]]:
    """Every version of the report and every observation of each, oldest version first."""
    versions = await connection.fetch(
        f"SELECT {_VERSION} FROM lab_report_version v WHERE v.patient_id = $1 AND v.report = $2 ORDER BY v.version",  # noqa: S608 - fixed fragments only
        patient_id,
        report_id,
    )
    observations = await connection.fetch(
        f"SELECT {_OBSERVATION} FROM lab_observation o WHERE o.patient_id = $1 AND o.report = $2"  # noqa: S608 - fixed fragments only
        " ORDER BY o.version, o.position",
        patient_id,
        report_id,
    )
    return typed_rows(Version, versions), typed_rows(Observation, observations)


async def citizen_trend(
    connection: Connection, patient_id: uuid.UUID, code: str, now: datetime, limit: int
) -> list[Observation]:
    """The shown results of one test in the reports she sees, newest specimen first."""
    rows = await connection.fetch(
        f"""
        SELECT {_OBSERVATION} FROM lab_observation o
        JOIN lab_report r ON r.id = o.report AND r.patient_id = o.patient_id
        WHERE o.patient_id = $1 AND o.code = $3 AND o.current AND {citizen_sees("r", "$2")}
        ORDER BY o.specimen_at DESC, o.id DESC
        LIMIT $4
        """,  # noqa: S608 - fixed fragments only
        patient_id,
        now,
        code,
        limit,
    )
    return typed_rows(Observation, rows)


# --- the legevakt overview ----------------------------------------------------------------------------------------


class FlaggedResult(msgspec.Struct, kw_only=True):
    report_id: uuid.UUID
    code: str
    display: str
    value_type: str
    value_quantity: float | None
    value_string: str | None
    value_code: str | None
    unit: str | None
    flag: str
    issued_at: datetime


async def flagged_results_since(
    connection: Connection, patient_id: uuid.UUID, since: datetime, limit: int
) -> list[FlaggedResult]:
    """The shown results flagged other than normal, issued since `since`, newest first (the clinician's view)."""
    rows = await connection.fetch(
        """
        SELECT o.report AS report_id, o.code, o.display, o.value_type, o.value_quantity, o.value_string,
               o.value_code, o.unit, o.flag, o.issued_at
        FROM lab_observation o
        WHERE o.patient_id = $1 AND o.current AND o.flag IS NOT NULL AND o.flag <> 'normal' AND o.issued_at >= $2
        ORDER BY o.issued_at DESC, o.report, o.position
        LIMIT $3
        """,
        patient_id,
        since,
        limit,
    )
    return typed_rows(FlaggedResult, rows)
