"""Request and response bodies of the medication list (entries, versions, diffs, reconciliations, discrepancies) and
of its prescriptions (SFM: prescriptions, dispensings, renewal requests)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.core.audit import Author

EntryKind = Literal["prescription", "non-prescription", "supplement"]
DiscrepancyKind = Literal["not-taking", "side-effect", "other"]
ReconciliationSource = Literal[
    "patient",
    "next-of-kin",
    "gp-record",
    "hospital-record",
    "discharge-summary",
    "prescription-intermediary",
    "kjernejournal",
    "multidose",
    "pharmacy",
    "other",
]
EntryChangeKind = Literal["added", "changed", "stopped"]

ShortText = Annotated[str, msgspec.Meta(max_length=100)]
LongText = Annotated[str, msgspec.Meta(max_length=1000)]

MAX_ENTRIES = 500


class Dose(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The structured dose beside the dosage text: `quantity` `unit`, `timesPerDay` every `intervalDays`."""

    quantity: Annotated[float, msgspec.Meta(gt=0, le=100_000)]
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    times_per_day: Annotated[int, msgspec.Meta(ge=1, le=24)] | None = None
    interval_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 1
    as_needed: bool = False
    max_per_day: Annotated[float, msgspec.Meta(gt=0, le=100_000)] | None = None


class Prescriber(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    hpr: Annotated[str, msgspec.Meta(min_length=1, max_length=12, pattern=r"^[0-9]+$")]
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None


PrescriptionStatus = Literal["active", "completed", "expired", "cancelled"]
RenewalStatus = Literal["pending", "approved", "declined"]


class PrescriptionSummary(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The entry's current prescription as the list shows it (read-only: ignored when a PUT sends it back)."""

    id: uuid.UUID
    status: PrescriptionStatus
    valid_until: date


class MedicationEntry(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One entry, exactly as read and as sent back: GET → edit → PUT round-trips without reshaping.

    `id` is made by whoever creates the entry and never changes. `prescriber` defaults to the writing
    clinician for a new entry and to the stored one for an existing entry.
    """

    id: uuid.UUID
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    atc: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    kind: EntryKind
    started_at: date
    form: ShortText | None = None
    strength: ShortText | None = None
    dosage: LongText | None = None
    dose: Dose | None = None
    reason: LongText | None = None
    stopped_at: date | None = None
    stop_reason: LongText | None = None
    prescriber: Prescriber | None = None
    prescription: PrescriptionSummary | None = None


class MedicationListIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The whole list as read at the version named in If-Match, with the caller's changes."""

    entries: Annotated[list[MedicationEntry], msgspec.Meta(max_length=MAX_ENTRIES)]


class ListWarning(msgspec.Struct, kw_only=True, rename="camel"):
    code: Literal["duplicate-active"]
    message: str
    atc: str
    strength: str | None
    entry_ids: list[uuid.UUID]


class ReconciliationIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    sources: Annotated[list[ReconciliationSource], msgspec.Meta(min_length=1, max_length=10)]
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ReconciliationOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    version: int
    reconciled_at: datetime
    by: Author
    sources: list[str]
    note: str | None


class MedicationListOut(msgspec.Struct, kw_only=True, rename="camel"):
    """The clinician's view: every entry that is active or stopped within the last 90 days."""

    version: int
    updated_at: datetime | None
    entries: list[MedicationEntry]
    warnings: list[ListWarning]
    last_reconciled: ReconciliationOut | None


class CitizenMedicationList(msgspec.Struct, kw_only=True, rename="camel"):
    """The citizen's view: current entries, those stopped within 90 days (with why), and the last samstemming."""

    version: int
    updated_at: datetime | None
    entries: list[MedicationEntry]
    recently_stopped: list[MedicationEntry]
    last_reconciled: ReconciliationOut | None


class VersionChange(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    name: str
    change: EntryChangeKind


class ListVersionOut(msgspec.Struct, kw_only=True, rename="camel"):
    version: int
    at: datetime
    by: Author
    changes: list[VersionChange]


class ListVersionDetail(msgspec.Struct, kw_only=True, rename="camel"):
    """One past (or the current) version of the list, whole: every entry as it was then, stopped ones included."""

    version: int
    at: datetime | None
    by: Author | None
    entries: list[MedicationEntry]


class FieldChange(msgspec.Struct, kw_only=True, rename="camel"):
    field: str
    from_: Any = msgspec.field(name="from")
    to: Any


class EntryDiff(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    name: str
    fields: list[FieldChange]


class ListDiff(msgspec.Struct, kw_only=True, rename="camel"):
    from_: int = msgspec.field(name="from")
    to: int
    added: list[MedicationEntry]
    removed: list[MedicationEntry]
    changed: list[EntryDiff]


class PrescriptionEvent(msgspec.Struct, kw_only=True, rename="camel"):
    """Something that happened to a prescription of the list: prescribed, cancelled (or replaced), dispensed."""

    at: datetime
    kind: Literal["prescribed", "cancelled", "replaced", "dispensed"]
    prescription_id: uuid.UUID
    entry_id: uuid.UUID
    name: str
    by_hpr: str | None
    by_name: str | None


class MedicationHistory(msgspec.Struct, kw_only=True, rename="camel"):
    """Versions newest first (cursor-paged); `diff` when `from` and `to` are asked for; the prescription events
    from the time this page's versions cover."""

    current_version: int
    items: list[ListVersionOut]
    next: str | None
    diff: ListDiff | None = None
    prescription_events: list[PrescriptionEvent] = []


class DiscrepancyIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    kind: DiscrepancyKind
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class DiscrepancyOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    entry_id: uuid.UUID
    entry_name: str | None
    atc: str | None
    kind: str
    note: str | None
    reported_at: datetime
    list_version: int


class DiscrepancyPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[DiscrepancyOut]
    next: str | None


# --- prescriptions (SFM) -------------------------------------------------------------------------------

Amount = Annotated[float, msgspec.Meta(gt=0, le=100_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class Quantity(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    amount: Amount
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class PrescriptionIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    id: uuid.UUID
    entry_id: uuid.UUID
    dosage_text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    quantity: Quantity
    dispensings: Annotated[int, msgspec.Meta(ge=1, le=99)]
    valid_until: date | None = None
    reimbursement_code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] | None = None
    note: LongText | None = None


class PrescribedMedication(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    atc: str
    form: str | None
    strength: str | None


class PrescriberOut(msgspec.Struct, kw_only=True, rename="camel"):
    hpr: str
    name: str | None
    organisation: str


class PrescriptionWarning(msgspec.Struct, kw_only=True, rename="camel"):
    code: Literal["pregnancy", "interaction"]
    atc: str
    message: str


class PrescriptionOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    entry_id: uuid.UUID
    medication: PrescribedMedication
    dosage_text: str
    quantity: Quantity
    dispensings: int
    dispensings_left: int
    valid_until: date
    status: PrescriptionStatus
    prescriber: PrescriberOut
    created_at: datetime
    reimbursement_code: str | None
    note: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    replaced_by: uuid.UUID | None
    replaces: uuid.UUID | None
    warnings: list[PrescriptionWarning] = []


class PrescriptionPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[PrescriptionOut]
    next: str | None


class CancelPrescriptionIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    reason: Reason


class DispensingIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    quantity: Quantity
    at: datetime


class DispensingOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    prescription_id: uuid.UUID
    quantity: Quantity
    at: datetime
    pharmacy: PrescriberOut
    dispensings_left: int


class RenewalRequestIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class RenewalRequestOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    patient_id: uuid.UUID
    prescription_id: uuid.UUID
    medication: PrescribedMedication
    status: RenewalStatus
    note: str | None
    requested_at: datetime
    answered_at: datetime | None
    answered_by: Prescriber | None
    decline_reason: str | None
    new_prescription_id: uuid.UUID | None


class RenewalRequestPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[RenewalRequestOut]
    next: str | None


class ApproveRenewalIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    valid_until: date | None = None
    dispensings: Annotated[int, msgspec.Meta(ge=1, le=99)] | None = None


class DeclineRenewalIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    reason: Reason


class CatalogueItem(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One row of a catalogue file (`helsekort catalogue load`)."""

    atc: Annotated[str, msgspec.Meta(min_length=3, max_length=7)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    pregnancy_warning: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    interacts_with: list[Annotated[str, msgspec.Meta(min_length=3, max_length=7)]] = []


class CatalogueFile(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    items: Annotated[list[CatalogueItem], msgspec.Meta(max_length=100_000)]
