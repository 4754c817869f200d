"""Demo medication list for the demo citizen, written by the demo GP: two versions (one entry stopped) and a samstemming;
and her prescriptions: two active ones, one expiring in 20 days with her pending renewal request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import msgspec

from backend.core import events
from backend.core.audit import Author
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.demo import DEMO_GP, demo_loader, demo_patient_id
from backend.core.settings import Settings
from backend.medications import queries, queries_prescriptions
from backend.medications.entries import today
from backend.medications.queries_prescriptions import NewPrescription
from backend.medications.schemas import Dose, MedicationEntry, Prescriber, Quantity

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


async def seed_list(
    patient_id: uuid.UUID,
    author: ClinicianPrincipal,
    versions: Sequence[tuple[datetime, Sequence[MedicationEntry]]],
    reconciliation: tuple[datetime, Sequence[str], str | None] | None = None,
) -> int | None:
    """Demo data: write whole-list versions as `author` without a request's decision (so only here, not a service).

    Does nothing and answers None when the patient already has a list; otherwise the last version.
    """
    by = Author.of(author)
    async with DB.transaction(), DB.connection() as connection:
        list_id, version = await queries.lock_list(connection, patient_id)
        if version > 0:
            return None
        current: dict[uuid.UUID, MedicationEntry] = {}
        for at, entries in versions:
            written = [entry for entry in entries if current.get(entry.id) != entry]
            if not written:
                continue
            version += 1
            closed = [entry.id for entry in written if entry.id in current]
            await queries.store_version(
                connection, patient_id=patient_id, version=version, author=by, closed=closed, written=written, at=at
            )
            await events.append_event(patient_id, events.EventType.MEDICATIONS_UPDATED, list_id)
            current.update((entry.id, entry) for entry in written)
        if reconciliation is not None:
            at, sources, note = reconciliation
            reconciled = await queries.insert_reconciliation(
                connection, patient_id=patient_id, version=version, author=by, sources=sources, note=note, at=at
            )
            await events.append_event(patient_id, events.EventType.MEDICATIONS_RECONCILED, reconciled.id)
    return version


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
    listed = (
        "medications: the demo citizen already has a medication list; unchanged"
        if version is None
        else f"medications: demo list at version {version} (one entry stopped) with one reconciliation by the GP"
    )
    return f"{listed}; {await seed_prescriptions(patient_id)}"


# --- prescriptions ----------------------------------------------------------------------------------------

RX_LEVAXIN = uuid.uuid5(_NAMESPACE, "prescription-levaxin")
RX_DUROFERON = uuid.uuid5(_NAMESPACE, "prescription-duroferon")
RENEWAL_LEVAXIN = uuid.uuid5(_NAMESPACE, "renewal-levaxin")


async def seed_prescriptions(patient_id: uuid.UUID) -> str:
    """Two active prescriptions by the demo GP (Levaxin expiring in 20 days, with her pending renewal request;
    Duroferon for ten months), once: nothing is written when the demo citizen already has them."""
    on = today()
    now = utcnow()
    by = Author(
        hpr=DEMO_GP.hpr,
        name=DEMO_GP.name,
        authorization=DEMO_GP.authorization,
        organisation=DEMO_GP.org_number,
        org_kind=DEMO_GP.org_kind,
    )
    plans = (
        # A year's prescription written 345 days ago, and one of ten months written two months ago.
        (RX_LEVAXIN, _entry_id("levothyroxine"), "1 tablett om morgenen", 100, 4, 345, 365, "-71"),
        (RX_DUROFERON, _entry_id("iron"), "1 tablett daglig", 50, 2, 60, 360, None),
    )
    async with DB.transaction(), DB.connection() as connection:
        await queries.lock_list(connection, patient_id)
        if await queries_prescriptions.prescription(connection, patient_id, on, RX_LEVAXIN) is not None:
            return "prescriptions: the demo citizen already has her prescriptions; unchanged"
        for prescription_id, entry_id, dosage, amount, dispensings, days_ago, valid_days, code in plans:
            entry = await queries_prescriptions.current_entry(connection, patient_id, entry_id)
            if entry is None:
                return "prescriptions: the demo list has no entry to prescribe from; unchanged"
            await queries_prescriptions.insert_prescription(
                connection,
                patient_id,
                on,
                NewPrescription(
                    id=prescription_id,
                    entry_id=entry_id,
                    entry=entry,
                    dosage_text=dosage,
                    quantity=Quantity(amount=amount, unit="tablett"),
                    dispensings=dispensings,
                    valid_until=on - timedelta(days=days_ago) + timedelta(days=valid_days),
                    reimbursement_code=code,
                    note=None,
                    prescriber=by,
                ),
                now - timedelta(days=days_ago),
            )
            await events.append_event(patient_id, events.EventType.PRESCRIPTION_CREATED, prescription_id)
        await queries_prescriptions.insert_renewal(
            connection,
            patient_id=patient_id,
            request_id=RENEWAL_LEVAXIN,
            prescription_id=RX_LEVAXIN,
            note="Har tabletter igjen til om tre uker",
            at=now - timedelta(days=1),
        )
        await events.append_event(patient_id, events.EventType.RENEWAL_REQUEST_CREATED, RENEWAL_LEVAXIN)
    return "prescriptions: two active prescriptions (one expiring in 20 days) and a pending renewal request"
