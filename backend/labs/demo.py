"""Demo lab results: four months of Hb, ferritin, CRP, HbA1c and glucose for the demo citizen, all released."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from backend.core.clock import OSLO, utcnow
from backend.core.db import DB
from backend.core.demo import DEMO_GP, DEMO_LAB, demo_loader, demo_patient_id
from backend.core.settings import Settings
from backend.labs import service
from backend.labs.schemas import LabReportIn, ObservationIn, PerformingLab, ReferenceRange, Requester

# Fixed ids make the loader idempotent: a report already there is left as it is.
DEMO_NAMESPACE = uuid.UUID("5b0c3a52-8a3e-4c7e-9a4f-2f1d6c0b7e11")
LAB_NAME = "Helsekort demolaboratorium"

# (days before the first load, Hb g/dL, ferritin ug/L, CRP mg/L or None for "<5", HbA1c mmol/mol or None, glucose)
VISITS: tuple[tuple[int, float, float, float | None, float | None, float], ...] = (
    (118, 13.1, 38.0, None, 34.0, 5.1),
    (90, 12.4, 24.0, None, None, 4.8),
    (61, 11.9, 14.0, 12.0, None, 5.4),
    (33, 11.3, 9.0, None, 36.0, 5.0),
    (4, 11.8, 22.0, None, None, 4.9),
)


def _quantity(
    code: str, display: str, value: float, unit: str, *, low: float | None, high: float | None
) -> ObservationIn:
    text = f"{low:g} - {high:g} {unit}" if low is not None and high is not None else f"< {high:g} {unit}"
    return ObservationIn(
        code=code,
        system="loinc",
        display=display,
        value_quantity=value,
        unit=unit,
        reference_range=ReferenceRange(low=low, high=high, text=text),
    )


def _reports(first_load: datetime, requester: Requester, lab: PerformingLab) -> list[LabReportIn]:
    reports = []
    for index, (days_ago, hb, ferritin, crp, hba1c, glucose) in enumerate(VISITS):
        day = (first_load - timedelta(days=days_ago)).astimezone(OSLO).date()
        specimen_at = datetime.combine(day, time(8, 20), tzinfo=OSLO)
        issued_at = datetime.combine(day, time(14, 5), tzinfo=OSLO)
        chemistry = [
            _quantity("2276-4", "Ferritin", ferritin, "ug/L", low=10, high=167),
            _quantity("14749-6", "Glukose", glucose, "mmol/L", low=4.0, high=6.0),
        ]
        if crp is None:
            chemistry.append(
                ObservationIn(
                    code="1988-5",
                    system="loinc",
                    display="CRP",
                    value_quantity=5,
                    value_comparator="<",
                    unit="mg/L",
                    reference_range=ReferenceRange(high=5, text="< 5 mg/L"),
                    flag="normal",
                )
            )
        else:
            chemistry.append(_quantity("1988-5", "CRP", crp, "mg/L", low=None, high=5))
        if hba1c is not None:
            chemistry.append(_quantity("59261-8", "HbA1c", hba1c, "mmol/mol", low=20, high=42))
        common = {
            "status": "final",
            "specimen_at": specimen_at,
            "issued_at": issued_at,
            "performing_lab": lab,
            "requester": requester,
        }
        reports.append(
            LabReportIn(
                id=uuid.uuid5(DEMO_NAMESPACE, f"haematology-{index}"),
                category="haematology",
                observations=[_quantity("718-7", "Hemoglobin", hb, "g/dL", low=11.7, high=15.3)],
                **common,  # type: ignore[arg-type]
            )
        )
        reports.append(
            LabReportIn(
                id=uuid.uuid5(DEMO_NAMESPACE, f"chemistry-{index}"),
                category="clinical-chemistry",
                observations=chemistry,
                **common,  # type: ignore[arg-type]
            )
        )
    return reports


@demo_loader("labs", after=("core",))
async def load_labs_demo(settings: Settings) -> str:
    """Posted by the demo laboratory for the demo GP, and released (by the GP where the delay has not passed)."""
    patient_id = await demo_patient_id()
    now = utcnow()
    requester = Requester(hpr=DEMO_GP.hpr, organisation=DEMO_GP.org_number)
    lab = PerformingLab(name=LAB_NAME, organisation=DEMO_LAB.org_number)
    sender = service.Sender(hpr=DEMO_LAB.hpr, organisation=DEMO_LAB.org_number, is_laboratory=True)
    added = 0
    for report in _reports(now, requester, lab):
        async with DB.connection() as connection:
            exists = await connection.fetchval(
                "SELECT 1 FROM lab_report WHERE id = $1 AND patient_id = $2", report.id, patient_id
            )
        if exists:
            continue
        await service.store_lab_report(settings, patient_id, report, requester=requester, sender=sender, now=now)
        await service.release_stored_report(patient_id, report.id, released_by_hpr=DEMO_GP.hpr, now=now)
        added += 1
    return f"labs: {added} demo lab reports added for the demo citizen ({len(VISITS) * 2} in all)"
