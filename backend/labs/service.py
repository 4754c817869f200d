"""Lab report rules: intake (JSON or FHIR), versions and corrections, release and hold, and what each reader sees.

Who may do what:
- a clinician with access to the patient posts reports and is their requester; an organisation of kind
  `laboratorium` may post for any existing patient and names the requester; laboratories read nothing;
- a resend with the same content is the same report (same answer); another content is a new version
  when it is `corrected` or replaces a `preliminary` one, and 409 otherwise; the category and the
  requester never change, and only the sender's or the requester's organisation sends new versions;
- release and hold are for the requester and the requester's organisation (colleagues cover for each
  other), 403 for other clinicians with access; a hold cannot take back what the citizen already sees;
  a preliminary report cannot be released (409), only held: it is shown with its final version;
- when the citizen sees a report is defined once, in `backend.labs.release` (the delay counts from arrival or
  `issuedAt`, whichever is later); a result is visible when due even before the worker has announced it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.core import events
from backend.core.access import Grant, authorize
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict, Forbidden, NotFound
from backend.core.paging import Instant, Position, clamp_limit, decode_cursor, encode_cursor
from backend.core.settings import Settings
from backend.labs.catalogue import CATALOGUE, validate_report
from backend.labs.fhir import FhirMappingError, from_fhir
from backend.labs.release import PRELIMINARY, citizen_sees, release_columns, release_due_at
from backend.labs.schemas import (
    CitizenLabResult,
    CitizenLabResultPage,
    ClinicianLabReport,
    ClinicianLabReportPage,
    ClinicianObservationOut,
    LabReportIn,
    LabReportOut,
    LabReportReceipt,
    LabReportVersionList,
    LabReportVersionOut,
    LabTrend,
    ObservationOut,
    Panel,
    PerformingLab,
    PreviousResult,
    ReferenceRange,
    ReleaseState,
    ReleaseStateName,
    ReportVersionInfo,
    Requester,
    TrendPoint,
    build_report_out,
)

RESOURCE_TYPE = "lab-report"
JSON_MEDIA_TYPE = "application/json"
FHIR_MEDIA_TYPE = "application/fhir+json"
# Clocks of labs and record systems drift; a result issued further ahead than this is a wrong clock or a typo.
ISSUED_AHEAD_TOLERANCE = timedelta(minutes=5)
PREVIOUS_PER_OBSERVATION = 5
TREND_MAX_POINTS = 1000
RELEASE_BATCH = 200
# One report ($1, of patient $2) with its release state at $3, as backend.labs.release defines it.
_REPORT_WITH_RELEASE_STATE = (
    f"SELECT r.*, {release_columns('r', '$3')} FROM lab_report r WHERE r.id = $1 AND r.patient_id = $2"  # noqa: S608 - fixed fragments only
)
_ERROR_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who posted a version: the clinician's HPR number and organisation, and whether it is a laboratory."""

    hpr: str
    organisation: str
    is_laboratory: bool


# --- intake ------------------------------------------------------------------------------------------------


def parse_report(body: bytes, content_type: str | None) -> LabReportIn:
    """The posted report from JSON (`LabReportIn`) or FHIR R4, checked against the catalogue; 400 naming the field."""
    media_type = (content_type or JSON_MEDIA_TYPE).split(";", 1)[0].strip().lower()
    if media_type == FHIR_MEDIA_TYPE:
        report = _from_fhir_body(body)
    elif media_type == JSON_MEDIA_TYPE:
        report = _from_json_body(body)
    else:
        raise BadRequest(
            f"send the report as {JSON_MEDIA_TYPE} (a lab report) or {FHIR_MEDIA_TYPE} (a FHIR R4 DiagnosticReport"
            f" or Bundle), not {media_type!r}",
            field="Content-Type",
        )
    if (reason := validate_report(report)) is not None:
        field, _, _ = reason.partition(": ")
        raise BadRequest(reason, field=field)
    return report


def _from_json_body(body: bytes) -> LabReportIn:
    try:
        return msgspec.json.decode(body, type=LabReportIn)
    except msgspec.ValidationError as error:
        detail = str(error)
        found = _ERROR_PATH.search(detail)
        path = found["path"] if found else ""
        # msgspec names an unknown or missing field in the message and its object in the path.
        if (named := _NAMED_FIELD.search(detail)) is not None:
            path = f"{path}.{named['name']}" if path else named["name"]
        raise BadRequest(detail, field=path or "body") from None
    except msgspec.DecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}", field="body") from None


def _from_fhir_body(body: bytes) -> LabReportIn:
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}", field="body") from None
    if not isinstance(document, Mapping):
        raise BadRequest("expected a FHIR DiagnosticReport or Bundle object", field="$")
    try:
        return from_fhir(document)
    except FhirMappingError as error:
        raise BadRequest(error.message, field=error.path) from None


def _requester_for(sender: Sender, report: LabReportIn) -> Requester:
    """A laboratory names the requester; a clinician who posts is the requester."""
    if sender.is_laboratory:
        if report.requester is None:
            raise BadRequest(
                "a laboratory names the requesting clinician {hpr, organisation} (in FHIR: basedOn → ServiceRequest"
                " → requester PractitionerRole)",
                field="requester",
            )
        return report.requester
    own = Requester(hpr=sender.hpr, organisation=sender.organisation)
    if report.requester is not None and report.requester != own:
        raise BadRequest(
            "a clinician who posts a report is its requester; leave requester out or name yourself",
            field="requester",
        )
    return own


def release_delay(settings: Settings, category: str) -> timedelta | None:
    """The configured delay of a category; None when only the requester's release shows it."""
    days = dict(settings.lab_release_delays).get(category)
    return None if days is None else timedelta(days=days)


def _digest(report: LabReportIn) -> bytes:
    # The mapped report, not the raw body: the same report sent as JSON or as FHIR is one resend.
    return hashlib.sha256(msgspec.json.encode(report)).digest()


async def receive_lab_report(
    settings: Settings, principal: ClinicianPrincipal, patient_id: uuid.UUID, body: bytes, content_type: str | None
) -> LabReportReceipt:
    """POST …/lab-reports: validate, check access (labs may write), store a new report or version, answer it."""
    report = parse_report(body, content_type)
    sender = Sender(
        hpr=principal.hpr, organisation=principal.org_number, is_laboratory=principal.org_kind == "laboratorium"
    )
    requester = _requester_for(sender, report)
    now = utcnow()
    if report.issued_at > now + ISSUED_AHEAD_TOLERANCE:
        raise BadRequest("issuedAt is in the future; check the sender's clock", field="issuedAt")
    await authorize(
        principal,
        patient_id,
        action="write",
        resource_type=RESOURCE_TYPE,
        resource_id=str(report.id),
        laboratory_may_write=True,
    )
    await store_lab_report(settings, patient_id, report, requester=requester, sender=sender, now=now)
    return await _receipt(patient_id, report.id, now)


async def store_lab_report(
    settings: Settings,
    patient_id: uuid.UUID,
    report: LabReportIn,
    *,
    requester: Requester,
    sender: Sender,
    now: datetime,
) -> int:
    """Store a new report, or a new version of it, in one transaction with its events; returns the version shown.

    The caller has checked access. A resend of content already stored changes nothing.
    """
    report = msgspec.structs.replace(report, requester=requester)
    digest = _digest(report)
    shown = build_report_out(report)
    delay = release_delay(settings, report.category)
    due = release_due_at(status=report.status, issued_at=report.issued_at, received_at=now, delay=delay)
    async with DB.transaction(), DB.connection() as connection:
        # The sender names the id, and an id names one report whatever the patient: lab_report_key (keyed by the
        # id) claims it; a post naming a known id waits here for the post that claimed it.
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
            requester.hpr,
            requester.organisation,
            sender.organisation,
            due,
            now,
        )
        if inserted is not None:
            await _insert_version(
                connection, patient_id, report, shown=shown, version=1, digest=digest, sender=sender, now=now
            )
            # Not in the citizen's feed: she learns of the result only when it is released.
            await events.append_event(patient_id, events.EventType.LAB_RESULT_NEW, report.id)
            await _announce_if_visible(connection, patient_id, report.id, now)
            version = 1
        else:
            version = await _store_known_report(
                connection,
                patient_id,
                report,
                shown=shown,
                digest=digest,
                requester=requester,
                sender=sender,
                delay=delay,
                now=now,
            )
    return version


async def _store_known_report(
    connection: Any,
    patient_id: uuid.UUID,
    report: LabReportIn,
    *,
    shown: LabReportOut,
    digest: bytes,
    requester: Requester,
    sender: Sender,
    delay: timedelta | None,
    now: datetime,
) -> int:
    """A post naming a stored report id: a resend changes nothing, a correction adds a version, else 409."""
    # The id is known: whose report is it? Then serialise with other writers of this report and decide.
    owner = await connection.fetchval("SELECT patient_id FROM lab_report_key WHERE id = $1", report.id)
    if owner != patient_id:
        raise Conflict("this report id is already used for another report; a new report needs a new id")
    row = await connection.fetchrow(
        "SELECT r.* FROM lab_report r WHERE r.id = $1 AND r.patient_id = $2 FOR UPDATE", report.id, patient_id
    )
    assert row is not None
    same: int | None = await connection.fetchval(
        "SELECT max(version) FROM lab_report_version WHERE report = $1 AND patient_id = $2 AND body_digest = $3",
        report.id,
        patient_id,
        digest,
    )
    if same is not None:
        return int(row["current_version"])
    _check_new_version(row, report, requester, sender)
    version = int(row["current_version"]) + 1
    await connection.execute(
        "UPDATE lab_observation SET current = false WHERE report = $1 AND patient_id = $2 AND current",
        report.id,
        patient_id,
    )
    await _insert_version(
        connection, patient_id, report, shown=shown, version=version, digest=digest, sender=sender, now=now
    )
    # A version arriving before she sees the report starts its own window (a final after a preliminary, a
    # correction within the window): the requester may hold what will be shown. One she already sees stays seen.
    await connection.execute(
        f"""
        UPDATE lab_report r SET current_version = $3, status = $4, specimen_at = $5, issued_at = $6, updated_at = $7,
                                received_at = $7,
                                release_due_at = CASE WHEN {citizen_sees("r", "$7")} THEN r.release_due_at ELSE $8 END
        WHERE r.id = $1 AND r.patient_id = $2
        """,  # noqa: S608 - fixed fragments only
        report.id,
        patient_id,
        version,
        report.status,
        report.specimen_at,
        report.issued_at,
        now,
        release_due_at(status=report.status, issued_at=report.issued_at, received_at=now, delay=delay),
    )
    kind = (
        events.EventType.LAB_RESULT_CORRECTED if report.status == "corrected" else events.EventType.LAB_RESULT_UPDATED
    )
    already_announced = await connection.fetchval(
        "SELECT release_announced_at IS NOT NULL FROM lab_report WHERE id = $1 AND patient_id = $2",
        report.id,
        patient_id,
    )
    # A correction of a result she has seen is news to her; of one she has not, it is not (yet).
    await events.append_event(patient_id, kind, report.id, citizen_visible=bool(already_announced))
    await _announce_if_visible(connection, patient_id, report.id, now)
    return version


def _check_new_version(row: Mapping[str, Any], report: LabReportIn, requester: Requester, sender: Sender) -> None:
    if report.status != "corrected" and row["status"] != "preliminary":
        raise Conflict(
            f"report {report.id} is stored with other content (status {row['status']}); send the new content with"
            " status 'corrected' to correct it, or use a new id for a new report"
        )
    if sender.organisation not in (row["sender_org"], row["requester_org"]):
        raise Conflict("only the organisation that sent the report or the requester's may send a new version of it")
    if report.category != row["category"]:
        raise Conflict(f"a new version cannot change the category (stored: {row['category']})")
    if (requester.hpr, requester.organisation) != (row["requester_hpr"], row["requester_org"]):
        raise Conflict("a new version cannot change the requester")


async def _insert_version(
    connection: Any,
    patient_id: uuid.UUID,
    report: LabReportIn,
    *,
    shown: LabReportOut,
    version: int,
    digest: bytes,
    sender: Sender,
    now: datetime,
) -> None:
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
        sender.hpr,
        sender.organisation,
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
            _observation_row(patient_id, report, version, position, obs)
            for position, obs in enumerate(shown.observations)
        ],
    )


def _observation_row(
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


# --- release -------------------------------------------------------------------------------------------------


async def _announce_if_visible(connection: Any, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime) -> bool:
    """Append `lab-result.released` once, when the citizen can see the report; the row lock makes it exactly once."""
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
    if announced is None:
        return False
    await events.append_event(patient_id, events.EventType.LAB_RESULT_RELEASED, report_id)
    return True


async def announce_due_releases(settings: Settings) -> int:
    """Worker job: announce every report she sees and has not been told of; safe with many workers.

    Claimed per patient (the shard key): the due patients are read without locks, then each patient's due
    reports are locked (`FOR UPDATE SKIP LOCKED`, that patient's rows only) and announced in her own transaction.
    `_announce_if_visible` re-checks under the row lock, so a report is announced exactly once.
    """
    now = utcnow()
    async with DB.connection() as connection:
        candidates = await connection.fetch(
            f"""
            SELECT r.patient_id FROM lab_report r
            WHERE r.release_announced_at IS NULL AND {citizen_sees("r", "$1")}
            ORDER BY r.release_due_at, r.id
            LIMIT $2
            """,  # noqa: S608 - fixed fragments only
            now,
            RELEASE_BATCH,
        )
    announced = 0
    for patient_id in dict.fromkeys(row["patient_id"] for row in candidates):
        async with DB.transaction(), DB.connection() as connection:
            reports = await connection.fetch(
                f"""
                SELECT r.id FROM lab_report r
                WHERE r.patient_id = $3 AND r.release_announced_at IS NULL AND {citizen_sees("r", "$1")}
                ORDER BY r.release_due_at, r.id
                LIMIT $2
                FOR UPDATE SKIP LOCKED
                """,  # noqa: S608 - fixed fragments only
                now,
                RELEASE_BATCH,
                patient_id,
            )
            for report in reports:
                if await _announce_if_visible(connection, patient_id, report["id"], now):
                    announced += 1
    return announced


def _release_state(row: Mapping[str, Any]) -> ReleaseState:
    """The release state of a row selected with `release_columns` (the one definition of what she sees)."""
    visible = bool(row["citizen_sees"])
    state: ReleaseStateName
    if visible:
        state = "released"
    elif row["held"]:
        state = "held"
    elif row["release_due_at"] is not None:
        state = "scheduled"
    elif row["status"] == PRELIMINARY:
        state = "awaiting-final"
    else:
        state = "awaiting-release"
    return ReleaseState(
        state=state,
        visible_to_citizen=visible,
        visible_from=row["citizen_sees_since"],
        release_due_at=row["release_due_at"],
        released_at=row["released_at"],
        held_at=row["held_at"],
        announced_at=row["release_announced_at"],
    )


async def _report_for_requester(
    connection: Any, principal: ClinicianPrincipal, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime
) -> Mapping[str, Any]:
    row: Mapping[str, Any] | None = await connection.fetchrow(
        _REPORT_WITH_RELEASE_STATE + " FOR UPDATE",
        report_id,
        patient_id,
        now,
    )
    if row is None:
        raise NotFound("no such lab report")
    if principal.hpr != row["requester_hpr"] and principal.org_number != row["requester_org"]:
        raise Forbidden("only the requester or the requester's organisation may release or hold this result")
    return row


async def release_lab_report(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, report_id: uuid.UUID
) -> ClinicianLabReport:
    """Show the report to the citizen now (lifting a hold) and announce it; releasing again changes nothing."""
    grant = await authorize(
        principal, patient_id, action="write", resource_type=RESOURCE_TYPE, resource_id=str(report_id)
    )
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        row = await _report_for_requester(connection, principal, patient_id, report_id, now)
        await _release(connection, row, released_by_hpr=principal.hpr, now=now)
    return await clinician_report(grant, report_id)


async def release_stored_report(
    patient_id: uuid.UUID, report_id: uuid.UUID, *, released_by_hpr: str, now: datetime
) -> None:
    """Release on the requester's behalf without a principal (the demo loader); the caller has decided."""
    async with DB.transaction(), DB.connection() as connection:
        row = await connection.fetchrow(
            _REPORT_WITH_RELEASE_STATE + " FOR UPDATE",
            report_id,
            patient_id,
            now,
        )
        if row is None:
            raise NotFound("no such lab report")
        await _release(connection, row, released_by_hpr=released_by_hpr, now=now)


async def _release(connection: Any, row: Mapping[str, Any], *, released_by_hpr: str, now: datetime) -> None:
    """`row` is selected FOR UPDATE with `release_columns`; a preliminary report waits for its final version."""
    if not row["citizen_sees"]:
        if row["status"] == PRELIMINARY:
            # CLINICAL.md v1.1: shown only when its final version is; see backend.labs.release for why not deferred.
            raise Conflict(
                "a preliminary report is shown to the citizen only with its final version: release it when the"
                " final version has arrived (hold it now to keep the final version back when its window ends)"
            )
        await connection.execute(
            """
            UPDATE lab_report SET released_at = $3, released_by_hpr = $4, held = false, held_at = NULL,
                                  held_by_hpr = NULL, updated_at = $3
            WHERE id = $1 AND patient_id = $2
            """,
            row["id"],
            row["patient_id"],
            now,
            released_by_hpr,
        )
    await _announce_if_visible(connection, row["patient_id"], row["id"], now)


async def hold_lab_report(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, report_id: uuid.UUID
) -> ClinicianLabReport:
    """Keep the report from the citizen until the requester releases it; 409 when she already sees it.

    No event: the citizen's change feed would reveal that a held result exists.
    """
    grant = await authorize(
        principal, patient_id, action="write", resource_type=RESOURCE_TYPE, resource_id=str(report_id)
    )
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        row = await _report_for_requester(connection, principal, patient_id, report_id, now)
        if row["citizen_sees"]:
            raise Conflict(
                f"the citizen has seen this result since {row['citizen_sees_since']}; a hold cannot take it back —"
                " send a corrected report instead"
            )
        if not row["held"]:
            await connection.execute(
                """
                UPDATE lab_report SET held = true, held_at = $3, held_by_hpr = $4, released_at = NULL,
                                      released_by_hpr = NULL, updated_at = $3
                WHERE id = $1 AND patient_id = $2
                """,
                report_id,
                patient_id,
                now,
                principal.hpr,
            )
    return await clinician_report(grant, report_id)


# --- reading -------------------------------------------------------------------------------------------------


def _observation_out(row: Mapping[str, Any]) -> ObservationOut:
    low, high, text = row["reference_low"], row["reference_high"], row["reference_text"]
    reference = None if low is None and high is None and text is None else ReferenceRange(low=low, high=high, text=text)
    return ObservationOut(
        code=row["code"],
        system=row["system"],
        display=row["display"],
        value=_value(row),
        value_type=row["value_type"],
        value_comparator=row["value_comparator"],
        value_display=row["value_display"],
        unit=row["unit"],
        reference_range=reference,
        flag=row["flag"],
        comment=row["comment"],
        panel=row["panel"],
    )


def _value(row: Mapping[str, Any]) -> float | str:
    value_type = row["value_type"]
    if value_type == "quantity":
        return float(row["value_quantity"])
    return str(row["value_string"] if value_type == "string" else row["value_code"])


def _panels(raw: str | None) -> list[Panel]:
    return msgspec.json.decode(raw or "[]", type=list[Panel])


def _report_out(version_row: Mapping[str, Any], category: str, observations: list[ObservationOut]) -> LabReportOut:
    status = version_row["status"]
    return LabReportOut(
        id=version_row["report"],
        category=category,  # type: ignore[arg-type]
        status=status,
        corrected=status == "corrected",
        specimen_at=version_row["specimen_at"],
        issued_at=version_row["issued_at"],
        performing_lab=PerformingLab(name=version_row["lab_name"], organisation=version_row["lab_org"]),
        requester=Requester(hpr=version_row["requester_hpr"], organisation=version_row["requester_org"]),
        observations=observations,
        panels=_panels(version_row["panels"]),
    )


async def _current_versions(
    connection: Any, patient_id: uuid.UUID, report_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, Mapping[str, Any]], dict[uuid.UUID, list[Mapping[str, Any]]], dict[uuid.UUID, list[Any]]]:
    """The shown version of each report, every report's version list, and the shown observation rows."""
    versions = await connection.fetch(
        """
        SELECT v.*, v.version = r.current_version AS shown
        FROM lab_report_version v JOIN lab_report r ON r.id = v.report AND r.patient_id = v.patient_id
        WHERE v.patient_id = $1 AND v.report = ANY($2::uuid[])
        ORDER BY v.report, v.version
        """,
        patient_id,
        list(report_ids),
    )
    observations = await connection.fetch(
        """
        SELECT * FROM lab_observation
        WHERE patient_id = $1 AND report = ANY($2::uuid[]) AND current
        ORDER BY report, position
        """,
        patient_id,
        list(report_ids),
    )
    shown = {row["report"]: row for row in versions if row["shown"]}
    history: dict[uuid.UUID, list[Mapping[str, Any]]] = {}
    for row in versions:
        history.setdefault(row["report"], []).append(row)
    by_report: dict[uuid.UUID, list[Any]] = {}
    for row in observations:
        by_report.setdefault(row["report"], []).append(row)
    return shown, history, by_report


async def _clinician_reports(
    connection: Any, patient_id: uuid.UUID, rows: Sequence[Mapping[str, Any]]
) -> list[ClinicianLabReport]:
    report_ids = [row["id"] for row in rows]
    if not report_ids:
        return []
    shown, history, observations = await _current_versions(connection, patient_id, report_ids)
    # Earlier results of the same test, from the shown versions of other reports taken before this specimen.
    previous_rows = await connection.fetch(
        """
        SELECT o.report AS for_report, o.code AS for_code, p.report, p.value_type, p.value_quantity, p.value_string,
               p.value_code, p.value_comparator, p.unit, p.flag, p.specimen_at, p.issued_at
        FROM lab_observation o
        CROSS JOIN LATERAL (
            SELECT * FROM lab_observation p
            WHERE p.patient_id = $1 AND p.code = o.code AND p.current AND p.specimen_at < o.specimen_at
              AND p.report <> o.report
            ORDER BY p.specimen_at DESC, p.id DESC
            LIMIT $3
        ) p
        WHERE o.patient_id = $1 AND o.report = ANY($2::uuid[]) AND o.current
        ORDER BY o.report, o.code, p.specimen_at DESC, p.id DESC
        """,
        patient_id,
        report_ids,
        PREVIOUS_PER_OBSERVATION,
    )
    previous: dict[tuple[uuid.UUID, str], list[PreviousResult]] = {}
    for row in previous_rows:
        previous.setdefault((row["for_report"], row["for_code"]), []).append(
            PreviousResult(
                report_id=row["report"],
                value=_value(row),
                value_type=row["value_type"],
                value_comparator=row["value_comparator"],
                unit=row["unit"],
                flag=row["flag"],
                specimen_at=row["specimen_at"],
                issued_at=row["issued_at"],
            )
        )
    reports = []
    for row in rows:
        version = shown[row["id"]]
        out = _report_out(version, row["category"], [_observation_out(obs) for obs in observations[row["id"]]])
        reports.append(
            ClinicianLabReport(
                id=row["id"],
                version=row["current_version"],
                category=out.category,
                status=out.status,
                corrected=out.corrected,
                specimen_at=out.specimen_at,
                issued_at=out.issued_at,
                received_at=version["received_at"],
                performing_lab=out.performing_lab,
                requester=Requester(hpr=row["requester_hpr"], organisation=row["requester_org"]),
                release=_release_state(row),
                observations=[
                    ClinicianObservationOut(
                        **msgspec.structs.asdict(obs), previous=previous.get((row["id"], obs.code), [])
                    )
                    for obs in out.observations
                ],
                panels=out.panels,
                versions=[
                    ReportVersionInfo(
                        version=item["version"],
                        status=item["status"],
                        issued_at=item["issued_at"],
                        received_at=item["received_at"],
                    )
                    for item in history[row["id"]]
                ],
            )
        )
    return reports


class _BeforeSpecimen(Position):
    s: Instant
    id: uuid.UUID


def _page_position(cursor: str | None) -> tuple[datetime | None, uuid.UUID | None]:
    position = decode_cursor(cursor, _BeforeSpecimen)
    if position is None:
        return None, None
    return position.s, position.id


def _next_cursor(rows: Sequence[Mapping[str, Any]], size: int) -> str | None:
    if len(rows) <= size:
        return None
    last = rows[size - 1]
    return encode_cursor(_BeforeSpecimen(s=last["specimen_at"], id=last["id"]))


async def list_for_clinician(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, cursor: str | None, limit: int | None
) -> ClinicianLabReportPage:
    """Every report of the patient, newest specimen first, whatever its release state."""
    size = clamp_limit(limit)
    before_at, before_id = _page_position(cursor)
    grant = await authorize(principal, patient_id, action="read", resource_type=RESOURCE_TYPE)
    now = utcnow()
    async with DB.connection() as connection:
        rows = await connection.fetch(
            f"""
            SELECT r.*, {release_columns("r", "$5")} FROM lab_report r
            WHERE r.patient_id = $1 AND ($2::timestamptz IS NULL OR (r.specimen_at, r.id) < ($2, $3))
            ORDER BY r.specimen_at DESC, r.id DESC
            LIMIT $4
            """,  # noqa: S608 - fixed fragments only
            grant.patient_id,
            before_at,
            before_id,
            size + 1,
            now,
        )
        items = await _clinician_reports(connection, grant.patient_id, rows[:size])
    return ClinicianLabReportPage(items=items, next=_next_cursor(rows, size))


async def clinician_report(grant: Grant, report_id: uuid.UUID) -> ClinicianLabReport:
    now = utcnow()
    async with DB.connection() as connection:
        row = await connection.fetchrow(
            _REPORT_WITH_RELEASE_STATE,
            report_id,
            grant.patient_id,
            now,
        )
        if row is None:
            raise NotFound("no such lab report")
        [report] = await _clinician_reports(connection, grant.patient_id, [row])
    return report


async def get_for_clinician(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, report_id: uuid.UUID
) -> ClinicianLabReport:
    grant = await authorize(
        principal, patient_id, action="read", resource_type=RESOURCE_TYPE, resource_id=str(report_id)
    )
    return await clinician_report(grant, report_id)


async def versions_for_clinician(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, report_id: uuid.UUID
) -> LabReportVersionList:
    """Every version of a report, oldest first, each as it was shown."""
    grant = await authorize(
        principal, patient_id, action="read", resource_type=RESOURCE_TYPE, resource_id=str(report_id)
    )
    async with DB.connection() as connection:
        category = await connection.fetchval(
            "SELECT category FROM lab_report WHERE id = $1 AND patient_id = $2", report_id, grant.patient_id
        )
        if category is None:
            raise NotFound("no such lab report")
        versions = await connection.fetch(
            "SELECT v.* FROM lab_report_version v WHERE v.patient_id = $1 AND v.report = $2 ORDER BY v.version",
            grant.patient_id,
            report_id,
        )
        observations = await connection.fetch(
            "SELECT * FROM lab_observation WHERE patient_id = $1 AND report = $2 ORDER BY version, position",
            grant.patient_id,
            report_id,
        )
    by_version: dict[int, list[ObservationOut]] = {}
    for row in observations:
        by_version.setdefault(row["version"], []).append(_observation_out(row))
    return LabReportVersionList(
        items=[
            LabReportVersionOut(
                version=row["version"],
                received_at=row["received_at"],
                report=_report_out(row, category, by_version.get(row["version"], [])),
            )
            for row in versions
        ]
    )


async def _receipt(patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime) -> LabReportReceipt:
    """The answer to a post: the stored report and its release state, without other reports (labs read nothing)."""
    async with DB.connection() as connection:
        row = await connection.fetchrow(
            _REPORT_WITH_RELEASE_STATE,
            report_id,
            patient_id,
            now,
        )
        assert row is not None
        shown, _, observations = await _current_versions(connection, patient_id, [report_id])
    report = _report_out(shown[report_id], row["category"], [_observation_out(obs) for obs in observations[report_id]])
    return LabReportReceipt(id=report_id, version=row["current_version"], release=_release_state(row), report=report)


# --- the citizen's view ------------------------------------------------------------------------------------


async def _citizen_results(
    connection: Any, patient_id: uuid.UUID, rows: Sequence[Mapping[str, Any]]
) -> list[CitizenLabResult]:
    if not rows:
        return []
    shown, _, observations = await _current_versions(connection, patient_id, [row["id"] for row in rows])
    results = []
    for row in rows:
        out = _report_out(shown[row["id"]], row["category"], [_observation_out(obs) for obs in observations[row["id"]]])
        released_at = row["citizen_sees_since"]
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
                requester=Requester(hpr=row["requester_hpr"], organisation=row["requester_org"]),
                observations=out.observations,
                panels=out.panels,
            )
        )
    return results


async def list_for_citizen(me: Grant, cursor: str | None, limit: int | None) -> CitizenLabResultPage:
    """My released results, newest specimen first; held and unreleased reports are not there."""
    size = clamp_limit(limit)
    before_at, before_id = _page_position(cursor)
    now = utcnow()
    async with DB.connection() as connection:
        rows = await connection.fetch(
            f"""
            SELECT r.*, {release_columns("r", "$2")} FROM lab_report r
            WHERE r.patient_id = $1 AND {citizen_sees("r", "$2")}
              AND ($3::timestamptz IS NULL OR (r.specimen_at, r.id) < ($3, $4))
            ORDER BY r.specimen_at DESC, r.id DESC
            LIMIT $5
            """,  # noqa: S608 - fixed fragments only
            me.patient_id,
            now,
            before_at,
            before_id,
            size + 1,
        )
        items = await _citizen_results(connection, me.patient_id, rows[:size])
    return CitizenLabResultPage(items=items, next=_next_cursor(rows, size))


async def get_for_citizen(me: Grant, report_id: uuid.UUID) -> CitizenLabResult:
    now = utcnow()
    async with DB.connection() as connection:
        row = await connection.fetchrow(
            f"SELECT r.*, {release_columns('r', '$2')} FROM lab_report r"  # noqa: S608 - fixed fragments only
            f" WHERE r.patient_id = $1 AND {citizen_sees('r', '$2')} AND r.id = $3",
            me.patient_id,
            now,
            report_id,
        )
        if row is None:
            raise NotFound("no such lab result")
        [result] = await _citizen_results(connection, me.patient_id, [row])
    return result


async def trend_for_citizen(me: Grant, code: str) -> LabTrend:
    """One test across my released reports, oldest specimen first (at most the newest TREND_MAX_POINTS)."""
    if not code or len(code) > 64 or any(char.isspace() for char in code):
        raise BadRequest("a test code is 1 to 64 characters without spaces", field="code")
    now = utcnow()
    async with DB.connection() as connection:
        rows = await connection.fetch(
            f"""
            SELECT o.* FROM lab_observation o
            JOIN lab_report r ON r.id = o.report AND r.patient_id = o.patient_id
            WHERE o.patient_id = $1 AND o.code = $3 AND o.current AND {citizen_sees("r", "$2")}
            ORDER BY o.specimen_at DESC, o.id DESC
            LIMIT $4
            """,  # noqa: S608 - fixed fragments only
            me.patient_id,
            now,
            code,
            TREND_MAX_POINTS,
        )
    points = [_trend_point(row) for row in reversed(rows)]
    known = CATALOGUE.get(code)
    display = rows[0]["display"] if rows else (known.display if known else None)
    return LabTrend(code=code, display=display, points=points)


def _trend_point(row: Mapping[str, Any]) -> TrendPoint:
    obs = _observation_out(row)
    return TrendPoint(
        report_id=row["report"],
        value=obs.value,
        value_type=obs.value_type,
        value_comparator=obs.value_comparator,
        value_display=obs.value_display,
        unit=obs.unit,
        reference_range=obs.reference_range,
        flag=obs.flag,
        specimen_at=row["specimen_at"],
        issued_at=row["issued_at"],
    )
