"""The medications section of the legevakt overview: the entries in use today, from the list's one read."""

from __future__ import annotations

from backend.core.access import Grant
from backend.core.overview import OverviewMedication, overview_source
from backend.medications import service
from backend.medications.entries import is_active, today


@overview_source("medications")
async def current_medications(grant: Grant) -> list[OverviewMedication]:
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
