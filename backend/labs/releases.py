"""Release and hold, and the announcement that the citizen can see a result (exactly once, by a writer or the job).

Release and hold are for the requester and the requester's organisation (colleagues cover for each other);
another clinician with access to the patient is refused by `refuse` (audited, 403). A hold cannot take back
what the citizen already sees; a preliminary report cannot be released (409), only held: it is shown with
its final version (`backend.labs.release` says why).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from backend.core import events
from backend.core.access import Grant, Need, clinician_of, refuse, write_transaction
from backend.core.change_signals import notify_changed
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import Conflict, NotFound
from backend.core.settings import Settings
from backend.labs import queries
from backend.labs.clinician import clinician_report
from backend.labs.release import PRELIMINARY
from backend.labs.schemas import ClinicianLabReport
from backend.labs.views import RESOURCE_TYPE

RELEASE_OR_HOLD = Need(action="write", resource_type=RESOURCE_TYPE)
NOT_THE_REQUESTER = "only the requester or the requester's organisation may release or hold this result"
RELEASE_BATCH = 200


async def announce_if_visible(
    connection: queries.Connection, grant: Grant, report_id: uuid.UUID, now: datetime
) -> bool:
    """Append `lab-result.released` once, when the citizen can see the report (in the writer's transaction)."""
    return await _announce(connection, grant.patient_id, report_id, now)


async def _announce(connection: queries.Connection, patient_id: uuid.UUID, report_id: uuid.UUID, now: datetime) -> bool:
    # The UPDATE's row lock makes it exactly once, whether a writer or the job gets there first.
    if not await queries.mark_announced_if_visible(connection, patient_id, report_id, now):
        return False
    await events.append_event(patient_id, events.EventType.LAB_RESULT_RELEASED, report_id)
    return True


async def announce_due_releases(settings: Settings) -> int:
    """Worker job: announce every report she sees and has not been told of; safe with many workers.

    Claimed per patient (the shard key): the due patients are read without locks, then each patient's due
    reports are locked (`FOR UPDATE SKIP LOCKED`, that patient's rows only) and announced in her own transaction.
    `_announce` re-checks under the row lock, so a report is announced exactly once.
    """
    now = utcnow()
    announced = 0
    async with DB.connection() as connection:
        patients = await queries.patients_with_due_unannounced(connection, now, RELEASE_BATCH)
    for patient_id in patients:
        async with DB.transaction(), DB.connection() as connection:
            for due in await queries.lock_due_unannounced(connection, patient_id, now, RELEASE_BATCH):
                if await _announce(connection, due.patient_id, due.id, now):
                    announced += 1
    return announced


class _NotTheRequester(Exception):
    """Raised inside the write's transaction, refused (audited) after it has rolled back."""


async def _report_of_requester(
    connection: queries.Connection, grant: Grant, report_id: uuid.UUID, now: datetime
) -> queries.ReportWithRelease:
    report = await queries.lock_report(connection, grant.patient_id, report_id, now)
    if report is None:
        raise NotFound("no such lab report")
    principal = clinician_of(grant)
    if principal.hpr != report.requester_hpr and principal.org_number != report.requester_org:
        raise _NotTheRequester
    return report


async def release_lab_report(grant: Grant, report_id: uuid.UUID) -> ClinicianLabReport:
    """Show the report to the citizen now (lifting a hold) and announce it; releasing again changes nothing."""
    now = utcnow()
    try:
        async with write_transaction(grant) as connection:
            report = await _report_of_requester(connection, grant, report_id, now)
            if not report.citizen_sees:
                if report.status == PRELIMINARY:
                    # CLINICAL.md v1.1: shown only when its final version is; backend.labs.release says why not deferred.
                    raise Conflict(
                        "a preliminary report is shown to the citizen only with its final version: release it when"
                        " the final version has arrived (hold it now to keep the final version back when its window"
                        " ends)"
                    )
                await queries.mark_released(
                    connection, grant.patient_id, report_id, by_hpr=clinician_of(grant).hpr, now=now
                )
            if not await announce_if_visible(connection, grant, report_id, now) and not report.citizen_sees:
                # Released but announced before (not expected: what was announced stays seen): no event was
                # appended, yet the clinician's kept answers (clinician.PAGES) must not outlive the write.
                await notify_changed(connection, grant.patient_id)
    except _NotTheRequester:
        await refuse(grant, NOT_THE_REQUESTER, resource_id=str(report_id))
    return await clinician_report(grant, report_id)


async def hold_lab_report(grant: Grant, report_id: uuid.UUID) -> ClinicianLabReport:
    """Keep the report from the citizen until the requester releases it; 409 when she already sees it.

    No event: the citizen's change feed would reveal that a held result exists. The clinician's kept answers
    (clinician.PAGES, REPORTS) must not outlive it all the same: `notify_changed` drops them, in every process
    on the commit, without an event.
    """
    now = utcnow()
    try:
        async with write_transaction(grant) as connection:
            report = await _report_of_requester(connection, grant, report_id, now)
            if report.citizen_sees:
                raise Conflict(
                    f"the citizen has seen this result since {report.citizen_sees_since}; a hold cannot take it back"
                    " — send a corrected report instead"
                )
            if not report.held:
                await queries.mark_held(
                    connection, grant.patient_id, report_id, by_hpr=clinician_of(grant).hpr, now=now
                )
                await notify_changed(connection, grant.patient_id)
    except _NotTheRequester:
        await refuse(grant, NOT_THE_REQUESTER, resource_id=str(report_id))
    return await clinician_report(grant, report_id)
