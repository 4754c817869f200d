"""The medications and prescriptions sections of the legevakt overview: the entries in use today, from the list's
one read, and the active prescriptions."""

from __future__ import annotations

from backend.core.access import Grant
from backend.core.db import DB
from backend.core.overview import OverviewMedication, OverviewPrescription, overview_source
from backend.core.settings import Settings
from backend.medications import queries_prescriptions, service
from backend.medications.entries import is_active, today


@overview_source("medications")
async def current_medications(grant: Grant, _settings: Settings) -> list[OverviewMedication]:
    """Entries not stopped (a planned stop still counts), in the list's display order."""
    on = today()
    listed = await service.read_list(grant)
    return [
        OverviewMedication(
            id=entry.id,
            name=entry.name,
            atc=entry.atc,
            form=entry.form,
            strength=entry.strength,
            dosage=entry.dosage,
            reason=entry.reason,
            kind=entry.kind,
            started_at=entry.started_at,
        )
        for entry in listed.entries
        if is_active(entry, on)
    ]


OVERVIEW_PRESCRIPTIONS = 50


@overview_source("prescriptions")
async def active_prescriptions(grant: Grant, _settings: Settings) -> list[OverviewPrescription]:
    """Active prescriptions, newest first (one statement)."""
    async with DB.connection() as connection:
        rows = await queries_prescriptions.prescriptions(
            connection, grant.patient_id, today(), status="active", before=None, limit=OVERVIEW_PRESCRIPTIONS
        )
    return [
        OverviewPrescription(
            id=row.id,
            name=row.medication.name,
            atc=row.medication.atc,
            dosage_text=row.dosage_text,
            dispensings_left=row.dispensings_left,
            valid_until=row.valid_until,
            status=row.status,
        )
        for row in rows
    ]
