"""Posting lab reports (JSON or FHIR R4): the report read and checked, then stored as a new report or version.

- a clinician with access to the patient posts reports and is their requester; an organisation of kind
  `laboratorium` may post for any existing patient (`POST_REPORT`) and names the requester;
- a resend with the same content is the same report (same answer); another content is a new version when it
  is `corrected` or replaces a `preliminary` one, and 409 otherwise; the category and the requester never
  change, and only the sender's or the requester's organisation sends new versions;
- a version's release window is `backend.labs.release.release_due_at`; a new report appends `lab-result.new`
  (clinicians only), a new version `lab-result.updated`/`.corrected` (hers once she has been told of it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from backend.core import events
from backend.core.access import Grant, Need, clinician_of, write_transaction
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.errors import BadRequest, Conflict, summary
from backend.core.fields import field_errors
from backend.core.settings import Settings
from backend.labs import queries
from backend.labs.catalogue import validate_report
from backend.labs.fhir import FhirMappingError, from_fhir
from backend.labs.release import release_due_at
from backend.labs.releases import announce_if_visible
from backend.labs.schemas import LabReportIn, LabReportOut, LabReportReceipt, Requester, build_report_out
from backend.labs.views import RESOURCE_TYPE, receipt

POST_REPORT = Need(action="write", resource_type=RESOURCE_TYPE, laboratory_may_write=True)
LABORATORY = "laboratorium"
JSON_MEDIA_TYPE = "application/json"
FHIR_MEDIA_TYPE = "application/fhir+json"
# Clocks of labs and record systems drift; a result issued further ahead than this is a wrong clock or a typo.
ISSUED_AHEAD_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who posted a version: the clinician's HPR number and organisation, and whether it is a laboratory."""

    hpr: str
    organisation: str
    is_laboratory: bool

    @classmethod
    def of(cls, principal: ClinicianPrincipal) -> Sender:
        return cls(hpr=principal.hpr, organisation=principal.org_number, is_laboratory=principal.org_kind == LABORATORY)


@dataclass(frozen=True, slots=True)
class Intake:
    """A posted report as read before the access decision: checked, its requester settled, its arrival time."""

    report: LabReportIn
    requester: Requester
    received_at: datetime


# --- reading the post ------------------------------------------------------------------------------------------


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
    except msgspec.ValidationError:
        # Not the fast path: decode once more to name every field at fault, as every other route does.
        errors = field_errors(msgspec.json.decode(body), LabReportIn)
        raise BadRequest(summary(errors), field=errors[0]["field"], errors=errors) from None
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


def read_lab_report(principal: ClinicianPrincipal, body: bytes, content_type: str | None) -> Intake:
    """The posted report, checked before anything about the patient is asked: 400 naming the field at fault."""
    report = parse_report(body, content_type)
    requester = _requester_for(Sender.of(principal), report)
    now = utcnow()
    if report.issued_at > now + ISSUED_AHEAD_TOLERANCE:
        raise BadRequest("issuedAt is in the future; check the sender's clock", field="issuedAt")
    return Intake(report=report, requester=requester, received_at=now)


# --- storing it ------------------------------------------------------------------------------------------------


def release_delay(settings: Settings, category: str) -> timedelta | None:
    """The configured delay of a category; None when only the requester's release shows it."""
    days = dict(settings.lab_release_delays).get(category)
    return None if days is None else timedelta(days=days)


def _digest(report: LabReportIn) -> bytes:
    # The mapped report, not the raw body: the same report sent as JSON or as FHIR is one resend.
    return hashlib.sha256(msgspec.json.encode(report)).digest()


async def receive_lab_report(settings: Settings, grant: Grant, intake: Intake) -> LabReportReceipt:
    """POST …/lab-reports after `POST_REPORT` was granted: store a new report or version, answer it."""
    await store_lab_report(settings, grant, intake.report, requester=intake.requester, now=intake.received_at)
    return await receipt(grant, intake.report.id, intake.received_at)


async def store_lab_report(
    settings: Settings, grant: Grant, report: LabReportIn, *, requester: Requester, now: datetime
) -> int:
    """Store a new report, or a new version of it, in one transaction with its events; returns the version shown.

    The grant's clinician is the sender. A resend of content already stored changes nothing.
    """
    sender = Sender.of(clinician_of(grant))
    report = msgspec.structs.replace(report, requester=requester)
    digest = _digest(report)
    shown = build_report_out(report)
    delay = release_delay(settings, report.category)
    due = release_due_at(status=report.status, issued_at=report.issued_at, received_at=now, delay=delay)
    async with write_transaction(grant) as connection:
        inserted = await queries.insert_report(
            connection,
            grant.patient_id,
            report,
            requester_hpr=requester.hpr,
            requester_org=requester.organisation,
            sender_org=sender.organisation,
            release_due_at=due,
            now=now,
        )
        if not inserted:
            return await _store_known_report(
                connection, grant, report, shown=shown, digest=digest, sender=sender, delay=delay, now=now
            )
        await queries.insert_version(
            connection,
            grant.patient_id,
            report,
            shown=shown,
            version=1,
            digest=digest,
            sent_by_hpr=sender.hpr,
            sent_by_org=sender.organisation,
            now=now,
        )
        # Not in the citizen's feed: she learns of the result only when it is released.
        await events.append_event(grant.patient_id, events.EventType.LAB_RESULT_NEW, report.id)
        await announce_if_visible(connection, grant, report.id, now)
    return 1


async def _store_known_report(
    connection: queries.Connection,
    grant: Grant,
    report: LabReportIn,
    *,
    shown: LabReportOut,
    digest: bytes,
    sender: Sender,
    delay: timedelta | None,
    now: datetime,
) -> int:
    """A post naming a stored report id: a resend changes nothing, a correction adds a version, else 409."""
    # The id is known: whose report is it? Then serialise with other writers of this report and decide.
    if await queries.report_owner(connection, report.id) != grant.patient_id:
        raise Conflict("this report id is already used for another report; a new report needs a new id")
    stored = await queries.lock_report_id(connection, grant.patient_id, report.id)
    assert stored is not None
    if await queries.version_with_digest(connection, grant.patient_id, report.id, digest) is not None:
        return stored.current_version
    _check_new_version(stored, report, sender)
    version = stored.current_version + 1
    await queries.retire_shown_observations(connection, grant.patient_id, report.id)
    await queries.insert_version(
        connection,
        grant.patient_id,
        report,
        shown=shown,
        version=version,
        digest=digest,
        sent_by_hpr=sender.hpr,
        sent_by_org=sender.organisation,
        now=now,
    )
    # A version arriving before she sees the report starts its own window (a final after a preliminary, a
    # correction within the window): the requester may hold what will be shown. One she already sees stays seen.
    already_announced = await queries.show_version(
        connection,
        grant.patient_id,
        report,
        version=version,
        release_due_at=release_due_at(status=report.status, issued_at=report.issued_at, received_at=now, delay=delay),
        now=now,
    )
    kind = (
        events.EventType.LAB_RESULT_CORRECTED if report.status == "corrected" else events.EventType.LAB_RESULT_UPDATED
    )
    # A correction of a result she has seen is news to her; of one she has not, it is not (yet).
    await events.append_event(grant.patient_id, kind, report.id, citizen_visible=already_announced)
    await announce_if_visible(connection, grant, report.id, now)
    return version


def _check_new_version(stored: queries.Report, report: LabReportIn, sender: Sender) -> None:
    """Whether this content may become the report's next version; 409 naming why not."""
    assert report.requester is not None
    if report.status != "corrected" and stored.status != "preliminary":
        raise Conflict(
            f"report {report.id} is stored with other content (status {stored.status}); send the new content with"
            " status 'corrected' to correct it, or use a new id for a new report"
        )
    if sender.organisation not in (stored.sender_org, stored.requester_org):
        raise Conflict("only the organisation that sent the report or the requester's may send a new version of it")
    if report.category != stored.category:
        raise Conflict(f"a new version cannot change the category (stored: {stored.category})")
    if (report.requester.hpr, report.requester.organisation) != (stored.requester_hpr, stored.requester_org):
        raise Conflict("a new version cannot change the requester")
