"""Demo medication list for the demo citizen, written by the demo GP: two versions (one entry stopped) and a samstemming."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import msgspec

from backend.core.auth import ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.demo import DEMO_GP, demo_loader, demo_patient_id
from backend.core.settings import Settings
from backend.medications.schemas import Dose, MedicationEntry, Prescriber
from backend.medications.service import seed_list, today

# Stable entry ids, so that loading twice is recognisably the same list.
_NAMESPACE = uuid.UUID("5b1f3f52-7c0e-4f57-9a53-2f0d5c1e6a10")


def _entry_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)


def demo_entries(on: date, prescriber: Prescriber) -> list[MedicationEntry]:
    """The list as the GP first wrote it: pregnancy supplements, a thyroid hormone, pain relief, ibuprofen."""
    return [
        MedicationEntry(
            id=_entry_id("folic-acid"),
            name="Folsyre Orifarm",
            atc="B03BB01",
            kind="supplement",
            form="tablett",
            strength="0,4 mg",
            dosage="1 tablett daglig",
            dose=Dose(quantity=1, unit="tablett", times_per_day=1),
            reason="Graviditet: forebygging av nevralrørsdefekt",
            started_at=on - timedelta(days=120),
            prescriber=prescriber,
        ),
        MedicationEntry(
            id=_entry_id("iron"),
            name="Duroferon",
            atc="B03AA07",
            kind="non-prescription",
            form="depottablett",
            strength="100 mg Fe2+",
            dosage="1 tablett daglig, ikke sammen med levotyroksin",
            dose=Dose(quantity=1, unit="tablett", times_per_day=1),
            reason="Lav ferritin i svangerskapet",
            started_at=on - timedelta(days=60),
            prescriber=prescriber,
        ),
        MedicationEntry(
            id=_entry_id("levothyroxine"),
            name="Levaxin",
            atc="H03AA01",
            kind="prescription",
            form="tablett",
            strength="50 mikrog",
            dosage="1 tablett om morgenen, 30 minutter før frokost",
            dose=Dose(quantity=1, unit="tablett", times_per_day=1),
            reason="Hypotyreose",
            started_at=on - timedelta(days=800),
            prescriber=prescriber,
        ),
        MedicationEntry(
            id=_entry_id("paracetamol"),
            name="Paracet",
            atc="N02BE01",
            kind="non-prescription",
            form="tablett",
            strength="500 mg",
            dosage="1 til 2 tabletter ved behov, høyst 6 tabletter per døgn",
            dose=Dose(quantity=2, unit="tablett", as_needed=True, max_per_day=6),
            reason="Hodepine",
            started_at=on - timedelta(days=300),
            prescriber=prescriber,
        ),
        MedicationEntry(
            id=_entry_id("ibuprofen"),
            name="Ibux",
            atc="M01AE01",
            kind="non-prescription",
            form="tablett",
            strength="400 mg",
            dosage="1 tablett ved behov, høyst 3 per døgn",
            dose=Dose(quantity=1, unit="tablett", as_needed=True, max_per_day=3),
            reason="Ryggsmerter",
            started_at=on - timedelta(days=400),
            prescriber=prescriber,
        ),
    ]


@demo_loader("medications", after=("core",))
async def load_medications_demo(settings: Settings) -> str:
    """Idempotent: writes nothing when the demo citizen already has a medication list."""
    patient_id = await demo_patient_id()
    gp = ClinicianPrincipal(
        hpr=DEMO_GP.hpr,
        pid="",
        authorization=DEMO_GP.authorization,
        org_number=DEMO_GP.org_number,
        org_kind=DEMO_GP.org_kind,
        name=DEMO_GP.name,
        caller_id=f"hpr-{DEMO_GP.hpr}",
    )
    on = today()
    now = utcnow()
    first = demo_entries(on, Prescriber(hpr=gp.hpr, name=gp.name))
    # Version 2: ibuprofen stopped when the pregnancy was known.
    second = [
        msgspec.structs.replace(
            entry,
            stopped_at=on - timedelta(days=30),
            stop_reason="Gravid: NSAID frarådes i svangerskapet; bruk paracetamol ved behov",
        )
        if entry.id == _entry_id("ibuprofen")
        else entry
        for entry in first
    ]
    version = await seed_list(
        patient_id,
        gp,
        [(now - timedelta(days=40), first), (now - timedelta(days=30), second)],
        reconciliation=(
            now - timedelta(days=30),
            ["patient", "prescription-intermediary", "gp-record"],
            "Gjennomgått med pasienten ved svangerskapskontroll",
        ),
    )
    if version is None:
        return "medications: the demo citizen already has a medication list; unchanged"
    return f"medications: demo list at version {version} (one entry stopped) with one reconciliation by the GP"
