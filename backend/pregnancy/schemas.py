"""Request and response bodies of the pregnancy card routes (clinician and citizen)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.audit import Author
from backend.pregnancy.dating import DueDateSource
from backend.pregnancy.schedule import DueItem

Status = Literal["ongoing", "delivered", "miscarriage", "termination", "stillbirth"]
Outcome = Literal["delivered", "miscarriage", "termination", "stillbirth"]
UrineValue = Literal["neg", "trace", "1+", "2+", "3+"]
Presentation = Literal["cephalic", "breech", "transverse", "oblique", "unknown"]
Habit = Literal["never", "stopped", "current"]
UltrasoundKind = Literal["early", "routine", "other"]
VaccineKind = Literal["whooping-cough", "influenza", "covid-19", "anti-d", "other"]
TestKind = Literal[
    "hb",
    "ferritin",
    "hepatitis-b",
    "hiv",
    "syphilis",
    "rubella",
    "hba1c",
    "fetal-rhd",
    "antibody-screening",
    "glucose-tolerance",
]
# Only what CLINICAL.md names: births and spontaneous miscarriages. Induced abortions have no kind.
EarlierKind = Literal["birth", "miscarriage"]
BirthMode = Literal["vaginal", "assisted-vaginal", "caesarean"]
NoteKind = Literal["question", "symptom", "note"]

ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ]{3,20}$")]

# Plausible ranges (issue 4, "Bad input"): out of range is a 400 naming the field, nothing stored.
WeightKg = Annotated[float, msgspec.Meta(ge=30, le=250)]
Systolic = Annotated[int, msgspec.Meta(ge=50, le=260)]
Diastolic = Annotated[int, msgspec.Meta(ge=30, le=160)]
HbGdl = Annotated[float, msgspec.Meta(ge=5, le=20)]
SfCm = Annotated[float, msgspec.Meta(ge=10, le=50)]
StatedWeek = Annotated[int, msgspec.Meta(ge=0, le=45)]
HeightCm = Annotated[float, msgspec.Meta(ge=120, le=220)]

# The woman's own registrations take the plausible ranges of home measurements (CLINICAL.md, måledata).
SelfWeightKg = Annotated[float, msgspec.Meta(ge=1, le=400)]
SelfSystolic = Annotated[int, msgspec.Meta(ge=40, le=300)]
SelfDiastolic = Annotated[int, msgspec.Meta(ge=20, le=200)]
AwareDateTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]


# --- header ------------------------------------------------------------------------------------------


class Illness(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: ShortText
    needs_extra_follow_up: bool = False


class Lifestyle(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    folate: bool | None = None
    tobacco: Habit | None = None
    snus: Habit | None = None
    alcohol: Habit | None = None
    other_substances: Habit | None = None


class Contact(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: ShortText
    organisation: ShortText | None = None
    phone: Phone | None = None


class CardHeader(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The header facts of the paper card besides the dates; stored as one document, versioned as a whole."""

    blood_type: Literal["A", "B", "AB", "0"] | None = None
    rhd: Literal["positive", "negative"] | None = None
    antibodies: ShortText | None = None
    # Anti-D antibodies found: she is already immunised, so anti-D prophylaxis is not given (CLINICAL.md v1.1).
    rhd_immunised: bool | None = None
    gravida: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    para: Annotated[int, msgspec.Meta(ge=0, le=19)] | None = None
    illnesses: Annotated[list[Illness], msgspec.Meta(max_length=30)] = msgspec.field(default_factory=list)
    medicines: LongText | None = None
    allergies: LongText | None = None  # CAVE
    lifestyle: Lifestyle | None = None
    height_cm: HeightCm | None = None
    pre_pregnancy_weight_kg: WeightKg | None = None
    gp: Contact | None = None
    midwife: Contact | None = None
    planned_place_of_birth: ShortText | None = None
    # The risk criteria for gestational diabetes are met: the glucose tolerance test is scheduled.
    gdm_risk: bool = False


class HeaderOut(CardHeader, kw_only=True, rename="camel"):
    bmi: float | None = None


class CardHeaderPatch(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """PATCH: only the fields sent change; null clears a field."""

    last_menstrual_period: dt.date | msgspec.UnsetType = msgspec.UNSET
    blood_type: Literal["A", "B", "AB", "0"] | msgspec.UnsetType | None = msgspec.UNSET
    rhd: Literal["positive", "negative"] | msgspec.UnsetType | None = msgspec.UNSET
    antibodies: ShortText | msgspec.UnsetType | None = msgspec.UNSET
    rhd_immunised: bool | msgspec.UnsetType | None = msgspec.UNSET
    gravida: Annotated[int, msgspec.Meta(ge=1, le=20)] | msgspec.UnsetType | None = msgspec.UNSET
    para: Annotated[int, msgspec.Meta(ge=0, le=19)] | msgspec.UnsetType | None = msgspec.UNSET
    illnesses: Annotated[list[Illness], msgspec.Meta(max_length=30)] | msgspec.UnsetType = msgspec.UNSET
    medicines: LongText | msgspec.UnsetType | None = msgspec.UNSET
    allergies: LongText | msgspec.UnsetType | None = msgspec.UNSET
    lifestyle: Lifestyle | msgspec.UnsetType | None = msgspec.UNSET
    height_cm: HeightCm | msgspec.UnsetType | None = msgspec.UNSET
    pre_pregnancy_weight_kg: WeightKg | msgspec.UnsetType | None = msgspec.UNSET
    gp: Contact | msgspec.UnsetType | None = msgspec.UNSET
    midwife: Contact | msgspec.UnsetType | None = msgspec.UNSET
    planned_place_of_birth: ShortText | msgspec.UnsetType | None = msgspec.UNSET
    gdm_risk: bool | msgspec.UnsetType = msgspec.UNSET


# --- inputs ------------------------------------------------------------------------------------------


class EarlierPregnancyIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    year: Annotated[int, msgspec.Meta(ge=1950, le=2100)]
    kind: EarlierKind
    week: Annotated[int, msgspec.Meta(ge=4, le=45)] | None = None
    birth_weight_g: Annotated[int, msgspec.Meta(ge=200, le=7000)] | None = None
    mode: BirthMode | None = None
    complications: LongText | None = None


class CardIn(CardHeader, kw_only=True, rename="camel", forbid_unknown_fields=True):
    last_menstrual_period: dt.date
    earlier_pregnancies: Annotated[list[EarlierPregnancyIn], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


class ConsultationIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    date: dt.date
    gestational_week: StatedWeek | None = None
    weight_kg: WeightKg | None = None
    systolic: Systolic | None = None
    diastolic: Diastolic | None = None
    urine_protein: UrineValue | None = None
    urine_glucose: UrineValue | None = None
    hb: HbGdl | None = None
    sf_cm: SfCm | None = None
    fetal_heart: bool | None = None
    presentation: Presentation | None = None
    fetal_movements: bool | None = None
    oedema: bool | None = None
    note: LongText | None = None


class ConsultationCorrectionIn(ConsultationIn, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The whole corrected row, and why it was corrected."""

    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class UltrasoundIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    date: dt.date
    kind: UltrasoundKind
    due_date: dt.date | None = None
    fetuses: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    placenta: ShortText | None = None
    findings: LongText | None = None


class VaccineIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    vaccine: VaccineKind
    given_on: dt.date
    note: LongText | None = None


class TestIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A test result: numeric tests send `value` (unit fixed per test), the others `result`."""

    __test__ = False  # not a pytest class

    test: TestKind
    taken_on: dt.date
    value: float | None = None
    result: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    note: LongText | None = None


class OutcomeIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    outcome: Outcome
    date: dt.date
    note: LongText | None = None


class NoteIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    kind: NoteKind = "note"
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class SelfRegistrationIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """What the woman measured or felt herself: at least one of weight, blood pressure and fetal movements."""

    effective_at: AwareDateTime
    weight_kg: SelfWeightKg | None = None
    systolic: SelfSystolic | None = None
    diastolic: SelfDiastolic | None = None
    fetal_movements: bool | None = None


# --- outputs -----------------------------------------------------------------------------------------


class EntryAuthor(Author, kw_only=True, rename="camel"):
    """Who wrote an entry: core's author (HPR number, name, authorization, organisation) and when.

    `role` is the HPR authorization again (LE, JO, SP), under the name the app has always read.
    """

    role: str
    at: dt.datetime
    kind: Literal["clinician"] = "clinician"


class CitizenAuthor(msgspec.Struct, kw_only=True, rename="camel"):
    """The woman herself, as author of her own registrations on the card."""

    kind: Literal["citizen"] = "citizen"
    at: dt.datetime


class GestationalAgeOut(msgspec.Struct, kw_only=True, rename="camel"):
    weeks: int
    days: int


class EarlierPregnancyOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    year: int
    kind: str
    week: int | None
    birth_weight_g: int | None
    mode: str | None
    complications: str | None
    author: EntryAuthor


class TestOut(msgspec.Struct, kw_only=True, rename="camel"):
    __test__ = False

    id: uuid.UUID
    test: str
    taken_on: dt.date
    value: float | None
    unit: str | None
    result: str | None
    note: str | None
    author: EntryAuthor


class ConsultationOut(msgspec.Struct, kw_only=True, rename="camel"):
    """The current version of a consultation row; `id` stays the same across corrections."""

    id: uuid.UUID
    version: int
    date: dt.date
    gestational_age: GestationalAgeOut
    gestational_week: int | None
    weight_kg: float | None
    systolic: int | None
    diastolic: int | None
    urine_protein: str | None
    urine_glucose: str | None
    hb: float | None
    sf_cm: float | None
    fetal_heart: bool | None
    presentation: str | None
    fetal_movements: bool | None
    oedema: bool | None
    note: str | None
    author: EntryAuthor
    corrected: bool
    correction_reason: str | None = None


class ConsultationVersionOut(ConsultationOut, kw_only=True, rename="camel"):
    superseded_at: dt.datetime | None = None


class ConsultationHistory(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[ConsultationVersionOut]
    next: str | None = None


class UltrasoundOut(msgspec.Struct, kw_only=True, rename="camel"):
    """`gestationalAge` follows the card's due date in force; `estimatedGestationalAge` is the scan's own, from
    its `dueDate`; `datesPregnancy` marks the one scan that set the due date in force (at or before 22+6)."""

    id: uuid.UUID
    date: dt.date
    kind: str
    gestational_age: GestationalAgeOut | None
    estimated_gestational_age: GestationalAgeOut | None
    dates_pregnancy: bool
    due_date: dt.date | None
    fetuses: int | None
    placenta: str | None
    findings: str | None
    author: EntryAuthor


class VaccineOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    vaccine: str
    given_on: dt.date
    note: str | None
    author: EntryAuthor


class NoteOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    kind: str
    text: str
    created_at: dt.datetime
    author: CitizenAuthor


class SelfRegistrationOut(msgspec.Struct, kw_only=True, rename="camel"):
    """One of the woman's own registrations; `date` and `gestationalAge` are of `effectiveAt` (Europe/Oslo)."""

    id: uuid.UUID
    effective_at: dt.datetime
    date: dt.date
    gestational_age: GestationalAgeOut | None
    weight_kg: float | None
    systolic: int | None
    diastolic: int | None
    fetal_movements: bool | None
    author: CitizenAuthor


class OutcomeOut(msgspec.Struct, kw_only=True, rename="camel"):
    outcome: str
    date: dt.date
    note: str | None
    author: EntryAuthor


class PregnancyCard(msgspec.Struct, kw_only=True, rename="camel"):
    """The whole card. `gestationalAge` is today's (Europe/Oslo) on an ongoing card, at the outcome on a closed one."""

    id: uuid.UUID
    status: Status
    version: int
    last_menstrual_period: dt.date
    due_date: dt.date
    due_date_source: DueDateSource
    lmp_due_date: dt.date
    gestational_age: GestationalAgeOut | None
    header: HeaderOut
    earlier_pregnancies: list[EarlierPregnancyOut]
    tests: list[TestOut]
    consultations: list[ConsultationOut]
    ultrasounds: list[UltrasoundOut]
    vaccines: list[VaccineOut]
    notes: list[NoteOut]
    self_registrations: list[SelfRegistrationOut]
    # The next consultation or examination of the basic programme; vaccines offered now are in `vaccinesDue`.
    next_due: DueItem | None
    overdue: list[DueItem]
    vaccines_due: list[DueItem]
    outcome: OutcomeOut | None
    created_by: EntryAuthor
    created_at: dt.datetime
    updated_at: dt.datetime


class CardSummary(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    status: Status
    last_menstrual_period: dt.date
    due_date: dt.date
    due_date_source: DueDateSource
    outcome_date: dt.date | None
    created_at: dt.datetime


class CardList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[CardSummary]
    next: str | None = None


class HeaderVersionOut(msgspec.Struct, kw_only=True, rename="camel"):
    version: int
    last_menstrual_period: dt.date
    header: CardHeader
    author: EntryAuthor


class HeaderHistory(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[HeaderVersionOut]
    next: str | None = None
