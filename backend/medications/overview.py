"""The medications and prescriptions sections of the legevakt overview: the list's entries in use today, and the
active prescriptions, each one SELECT of the overview's one composed statement."""

from __future__ import annotations

from backend.core.auth import ClinicianPrincipal
from backend.core.overview import PATIENT, OverviewMedication, OverviewPrescription, SectionQuery, overview_source
from backend.core.settings import Settings
from backend.medications.entries import display_order, is_active, today
from backend.medications.prescription_status import status_sql
from backend.medications.schemas import MedicationEntry

# The entries of the list's current version not stopped by $2 (a planned stop still counts), as `MedicationEntry`
# (its JSON names): the same rows `queries.read_list` reads, without what the overview does not show.
_CURRENT_ENTRIES = """
SELECT e.entry_id AS id, e.name, e.atc, e.kind, e.started_at AS "startedAt", e.form, e.strength, e.dosage,
       e.reason, e.stopped_at AS "stoppedAt"
FROM medication_list l
JOIN medication_entry_version e
  ON e.patient_id = l.patient_id AND e.from_version <= l.version AND (e.to_version IS NULL OR e.to_version > l.version)
WHERE l.patient_id = $1 AND (e.stopped_at IS NULL OR e.stopped_at > $2::date)
"""


def _in_use(entries: list[MedicationEntry]) -> list[OverviewMedication]:
    """In the list's display order; `is_active` again, so the rule stays the list's own."""
    on = today()
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
        for entry in sorted(entries, key=display_order)
        if is_active(entry, on)
    ]


@overview_source("medications")
def current_medications(_clinician: ClinicianPrincipal, _settings: Settings) -> SectionQuery | None:
    """Entries not stopped (a planned stop still counts), in the list's display order."""
    return SectionQuery(sql=_CURRENT_ENTRIES, args=(PATIENT, today()), row=MedicationEntry, build=_in_use)


OVERVIEW_PRESCRIPTIONS = 50

# Active prescriptions on $2, newest first, as `OverviewPrescription` (its JSON names).
_ACTIVE_PRESCRIPTIONS = f"""
SELECT p.id, p.name, p.atc, p.dosage_text AS "dosageText", p.dispensings - p.dispensed AS "dispensingsLeft",
       p.valid_until AS "validUntil", {status_sql("p", "$2::date")} AS status
FROM prescription p
WHERE p.patient_id = $1 AND {status_sql("p", "$2::date")} = 'active'
ORDER BY p.created_at DESC, p.id DESC
LIMIT $3
"""  # noqa: S608 - constant fragments


def _prescriptions(rows: list[OverviewPrescription]) -> list[OverviewPrescription]:
    return rows


@overview_source("prescriptions")
def active_prescriptions(_clinician: ClinicianPrincipal, _settings: Settings) -> SectionQuery | None:
    """Active prescriptions, newest first."""
    return SectionQuery(
        sql=_ACTIVE_PRESCRIPTIONS,
        args=(PATIENT, today(), OVERVIEW_PRESCRIPTIONS),
        row=OverviewPrescription,
        build=_prescriptions,
    )
