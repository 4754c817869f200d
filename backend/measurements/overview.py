"""The vitals section of the legevakt overview: the newest NEWS2 score and vital signs of the last 72 hours."""

from __future__ import annotations

from backend.core.auth import ClinicianPrincipal
from backend.core.overview import (
    PATIENT,
    VITALS_WINDOW,
    OverviewNews2,
    OverviewReading,
    OverviewVitals,
    SectionQuery,
    oldest_plus,
    overview_source,
)
from backend.core.settings import Settings
from backend.measurements import queries
from backend.measurements.codes import BLOOD_PRESSURE_PANEL

HEART_RATE = "8867-4"
BODY_TEMPERATURE = "8310-5"
# Oxygen saturation: a NEWS2 set records pulse oximetry, a home device may upload either code; the newest counts.
OXYGEN_SATURATION = ("59408-5", "2708-6")
_CODES = (BLOOD_PRESSURE_PANEL, HEART_RATE, BODY_TEMPERATURE, *OXYGEN_SATURATION)
_CODES_LIST = list(_CODES)


def _reading(row: queries.LatestVital | None) -> OverviewReading | None:
    if row is None:
        return None
    return OverviewReading(
        value=row.value, unit=row.unit, systolic=row.systolic, diastolic=row.diastolic, at=row.effective_at
    )


@overview_source("vitals")
def latest_vitals(_clinician: ClinicianPrincipal, _settings: Settings) -> SectionQuery | None:
    """The newest reading of each code and the newest NEWS2 score of the window; the decision was the audit row."""
    return SectionQuery(
        sql=queries.LATEST_VITALS,
        args=(PATIENT, VITALS_WINDOW, _CODES_LIST),
        row=queries.LatestVital,
        build=_vitals,
        expires=lambda rows: oldest_plus(VITALS_WINDOW, [row.effective_at for row in rows]),
    )


def _vitals(rows: list[queries.LatestVital]) -> OverviewVitals:
    newest = {row.code: row for row in rows}
    saturations = [newest[code] for code in OXYGEN_SATURATION if code in newest]
    score = newest.get("news2")
    return OverviewVitals(
        news2=(
            OverviewNews2(
                total=score.total,
                risk=score.risk,
                at=score.effective_at,
                valid_for_patient=bool(score.valid_for_patient),
            )
            if score is not None and score.total is not None and score.risk is not None
            else None
        ),
        blood_pressure=_reading(newest.get(BLOOD_PRESSURE_PANEL)),
        pulse=_reading(newest.get(HEART_RATE)),
        spo2=_reading(max(saturations, key=lambda row: row.effective_at) if saturations else None),
        temperature=_reading(newest.get(BODY_TEMPERATURE)),
    )
