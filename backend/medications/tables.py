"""Tables of the shared medication list (PLL): the list head, its versions, entry versions, reconciliations, discrepancies.

Versioning design: every change of an entry closes its current row (`to_version`) and adds a new row
valid from the new list version (`from_version`). Version N of a list is therefore the rows with
`from_version <= N AND (to_version IS NULL OR to_version > N)`, the current list is `to_version IS NULL`
(one partial unique index keeps one current row per entry), and a diff between two versions is a
comparison of two such sets. Compared with whole-list JSONB snapshots this stores only what changed
(a 30-entry list where one dose changes costs one row, not thirty), keeps every field a typed, checked
column, and lets the current list be read through an index instead of unpacking the newest snapshot.
Entries never leave the list: they are stopped (seponert), so a PUT must send back every entry it read.

Columns and nullability here match the database (tests/core/test_schema_catalogue.py). Keys do not: every
patient table's primary key is (patient_id, id) and its links to other patient tables are composite, which
Piccolo cannot declare; they, and the global lookup tables, live in the hand-written migrations of issue 13.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigSerial,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB
from backend.core.tables import Patient


class MedicationList(Table, tablename="medication_list", db=DB):
    """One row per patient: the current version, locked (FOR UPDATE) by every writer."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, unique=True, null=False)
    version = Integer(default=0)
    updated_at = Timestamptz(null=True, default=None)


class MedicationListVersion(Table, tablename="medication_list_version", db=DB):
    """Who made list version N of a patient, and when (version 0 is the empty list and has no row)."""

    id = BigSerial(primary_key=True)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    version = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    hpr = Varchar(length=12)
    name = Varchar(length=200, null=True, default=None)
    profession = Varchar(length=8)  # HPR authorization: LE, JO, SP, ...
    org_number = Varchar(length=9)
    org_kind = Varchar(length=32)


class MedicationEntryVersion(Table, tablename="medication_entry_version", db=DB):
    """One entry as it was from list version `from_version` until (not including) `to_version`."""

    id = BigSerial(primary_key=True)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    entry_id = UUID()
    from_version = Integer()
    to_version = Integer(null=True, default=None)
    name = Varchar(length=200)
    atc = Varchar(length=7)
    form = Varchar(length=100, null=True, default=None)
    strength = Varchar(length=100, null=True, default=None)
    dosage = Text(null=True, default=None)
    dose = JSONB(null=True, default=None)
    reason = Text(null=True, default=None)
    kind = Varchar(length=20)
    started_at = Date()
    stopped_at = Date(null=True, default=None)
    stop_reason = Text(null=True, default=None)
    prescriber_hpr = Varchar(length=12, null=True, default=None)
    prescriber_name = Varchar(length=200, null=True, default=None)


class MedicationReconciliation(Table, tablename="medication_reconciliation", db=DB):
    """A samstemming: who compared the list with which sources, and which list version they confirmed."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    list_version = Integer()
    reconciled_at = Timestamptz(default=TimestamptzNow())
    hpr = Varchar(length=12)
    name = Varchar(length=200, null=True, default=None)
    profession = Varchar(length=8)  # HPR authorization: LE, JO, SP, ...
    org_number = Varchar(length=9)
    org_kind = Varchar(length=32)
    sources = Array(Varchar(length=40))
    note = Text(null=True, default=None)


class MedicationDiscrepancy(Table, tablename="medication_discrepancy", db=DB):
    """A citizen's report on one entry ("I don't take this", a side effect); it never changes the list."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    entry_id = UUID()
    list_version = Integer()
    kind = Varchar(length=16)
    note = Text(null=True, default=None)
    reported_at = Timestamptz(default=TimestamptzNow())
    alert_id = UUID(null=True, default=None)


class Prescription(Table, tablename="prescription", db=DB):
    """An e-prescription (SFM) of one list entry: the medicine as prescribed, how much, how often, until when.

    Its status is never stored: `prescriptions.status_sql` computes it from `dispensed`, `valid_until` and
    `cancelled_at` at read time. `id` is the prescriber's (idempotent); `replaced_by` names the approved renewal.
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    entry_id = UUID()
    name = Varchar(length=200)
    atc = Varchar(length=7)
    form = Varchar(length=100, null=True, default=None)
    strength = Varchar(length=100, null=True, default=None)
    dosage_text = Text()
    quantity_amount = DoublePrecision()
    quantity_unit = Varchar(length=32)
    dispensings = Integer()
    dispensed = Integer(default=0)
    valid_until = Date()
    reimbursement_code = Varchar(length=16, null=True, default=None)
    note = Text(null=True, default=None)
    prescriber_hpr = Varchar(length=12)
    prescriber_name = Varchar(length=200, null=True, default=None)
    prescriber_authorization = Varchar(length=8)
    prescriber_org = Varchar(length=9)
    prescriber_org_kind = Varchar(length=32)
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Text(null=True, default=None)
    cancelled_by_hpr = Varchar(length=12, null=True, default=None)
    replaces = UUID(null=True, default=None)
    replaced_by = UUID(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)


class PrescriptionDispensing(Table, tablename="prescription_dispensing", db=DB):
    """One dispensing at a pharmacy (utlevering): how much, when, by which pharmacy."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    prescription_id = UUID()
    quantity_amount = DoublePrecision()
    quantity_unit = Varchar(length=32)
    dispensed_at = Timestamptz()
    recorded_at = Timestamptz(default=TimestamptzNow())
    pharmacy_org = Varchar(length=9)
    pharmacist_hpr = Varchar(length=12)
    pharmacist_name = Varchar(length=200, null=True, default=None)


class RenewalRequest(Table, tablename="renewal_request", db=DB):
    """The citizen's request to renew a prescription ("forny resept") and her GP's answer."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    prescription_id = UUID()
    note = Text(null=True, default=None)
    status = Varchar(length=16)
    requested_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None)
    answered_by_hpr = Varchar(length=12, null=True, default=None)
    answered_by_name = Varchar(length=200, null=True, default=None)
    decline_reason = Text(null=True, default=None)
    new_prescription_id = UUID(null=True, default=None)


class RenewalRequestKey(Table, tablename="renewal_request_key", db=DB):
    """A renewal request's id → its patient: the GP's approve and decline routes name the request only."""

    id = UUID(primary_key=True)
    patient_id = UUID()


class DrugCatalogue(Table, tablename="drug_catalogue", db=DB):
    """The drug catalogue (FEST) by ATC code or group: name, pregnancy warning, interacting ATC groups."""

    atc = Varchar(length=7, primary_key=True)
    name = Varchar(length=200)
    pregnancy_warning = Text(null=True, default=None)
    interacts_with = Array(Varchar(length=7))
    source = Text()
    loaded_at = Timestamptz(default=TimestamptzNow())


MEDICATION_TABLES: tuple[type[Table], ...] = (
    MedicationList,
    MedicationListVersion,
    MedicationEntryVersion,
    MedicationReconciliation,
    MedicationDiscrepancy,
    Prescription,
    PrescriptionDispensing,
    RenewalRequest,
    RenewalRequestKey,
    DrugCatalogue,
)
