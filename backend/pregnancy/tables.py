"""Tables of the pregnancy card: header (with its versions), entries by clinicians, the woman's own registrations, the schedule.

Columns and nullability here match the database (tests/core/test_schema_catalogue.py). Keys do not: every
patient table's primary key is (patient_id, id) and its links to other patient tables are composite, which
Piccolo cannot declare; they, and the global lookup tables, live in the hand-written migrations of issue 13.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB
from backend.core.tables import Patient


class _Authored:
    """Who wrote an entry, copied from the clinician's token at the time (names and roles change later)."""

    author_hpr = Varchar(length=12)
    author_name = Varchar(length=200, null=True, default=None)
    author_role = Varchar(length=8)
    author_org = Varchar(length=9)
    author_org_kind = Varchar(length=32)
    recorded_at = Timestamptz(default=TimestamptzNow())


class PregnancyCard(Table, tablename="pregnancy_card", db=DB):
    """The card header in force; every version of it is kept in `pregnancy_card_version`."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    status = Varchar(length=16, default="ongoing")
    version = Integer(default=1)
    last_menstrual_period = Date()
    # The header facts (blood type, gravida/para, lifestyle, contacts …) as one validated document.
    header = JSONB(default="{}")
    outcome_date = Date(null=True, default=None)
    outcome_note = Text(null=True, default=None)
    outcome_by_hpr = Varchar(length=12, null=True, default=None)
    outcome_by_name = Varchar(length=200, null=True, default=None)
    outcome_by_role = Varchar(length=8, null=True, default=None)
    outcome_by_org = Varchar(length=9, null=True, default=None)
    outcome_by_org_kind = Varchar(length=32, null=True, default=None)
    outcome_at = Timestamptz(null=True, default=None)
    created_by_hpr = Varchar(length=12)
    created_by_name = Varchar(length=200, null=True, default=None)
    created_by_role = Varchar(length=8)
    created_by_org = Varchar(length=9)
    created_by_org_kind = Varchar(length=32)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PregnancyCardVersion(_Authored, Table, tablename="pregnancy_card_version", db=DB):
    """One version of the header as it was written: the header history clinicians see."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    version = Integer()
    last_menstrual_period = Date()
    header = JSONB(default="{}")


class PregnancyEarlier(_Authored, Table, tablename="pregnancy_earlier", db=DB):
    """An earlier birth or spontaneous miscarriage. There is deliberately no kind for induced abortions."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    year = SmallInt()
    kind = Varchar(length=16)
    week = SmallInt(null=True, default=None)
    birth_weight_g = Integer(null=True, default=None)
    mode = Varchar(length=32, null=True, default=None)
    complications = Text(null=True, default=None)


class PregnancyTest(_Authored, Table, tablename="pregnancy_test", db=DB):
    """A test on the card: the first-trimester tests and the conditional ones (fetal RhD, glucose tolerance)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    test = Varchar(length=32)
    taken_on = Date()
    value = DoublePrecision(null=True, default=None)
    unit = Varchar(length=16, null=True, default=None)
    result = Varchar(length=32, null=True, default=None)
    note = Text(null=True, default=None)


class PregnancyConsultation(_Authored, Table, tablename="pregnancy_consultation", db=DB):
    """One version of one consultation row; a correction adds a version and marks the old one superseded."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    entry_id = UUID(index=True)
    version = Integer(default=1)
    superseded_at = Timestamptz(null=True, default=None)
    correction_reason = Text(null=True, default=None)
    date = Date()
    gestational_week = SmallInt(null=True, default=None)
    weight_kg = DoublePrecision(null=True, default=None)
    systolic = SmallInt(null=True, default=None)
    diastolic = SmallInt(null=True, default=None)
    urine_protein = Varchar(length=8, null=True, default=None)
    urine_glucose = Varchar(length=8, null=True, default=None)
    hb = DoublePrecision(null=True, default=None)
    sf_cm = DoublePrecision(null=True, default=None)
    fetal_heart = Boolean(null=True, default=None)
    presentation = Varchar(length=16, null=True, default=None)
    fetal_movements = Boolean(null=True, default=None)
    oedema = Boolean(null=True, default=None)
    note = Text(null=True, default=None)


class PregnancyUltrasound(_Authored, Table, tablename="pregnancy_ultrasound", db=DB):
    """An ultrasound; the earliest one with a due date dates the pregnancy."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    date = Date()
    kind = Varchar(length=16)
    due_date = Date(null=True, default=None)
    fetuses = SmallInt(null=True, default=None)
    placenta = Varchar(length=200, null=True, default=None)
    findings = Text(null=True, default=None)


class PregnancyVaccine(_Authored, Table, tablename="pregnancy_vaccine", db=DB):
    """A vaccine or prophylaxis given in pregnancy (whooping cough, influenza, anti-D …)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    vaccine = Varchar(length=32)
    given_on = Date()
    note = Text(null=True, default=None)


class PregnancyNote(Table, tablename="pregnancy_note", db=DB):
    """The woman's own registrations on her card: questions, symptoms, notes."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=16)
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class PregnancySelfRegistration(Table, tablename="pregnancy_self_registration", db=DB):
    """The woman's own structured registrations: weight, home blood pressure, fetal movements felt."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, index=True, null=False)
    effective_at = Timestamptz()
    weight_kg = DoublePrecision(null=True, default=None)
    systolic = SmallInt(null=True, default=None)
    diastolic = SmallInt(null=True, default=None)
    fetal_movements = Boolean(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PregnancyScheduleItem(Table, tablename="pregnancy_schedule_item", db=DB):
    """The basic antenatal programme as editable data (not patient data); seeded from `default_schedule()`."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    key = Varchar(length=64, unique=True)
    position = SmallInt()
    label_nb = Varchar(length=200)
    label_en = Varchar(length=200)
    window_start_day = SmallInt()
    window_end_day = SmallInt()
    condition = Varchar(length=64, null=True, default=None)
    kind = Varchar(length=16, default="programme")  # "programme" or "vaccine" (see schedule.ItemKind)


class PregnancyReminder(Table, tablename="pregnancy_reminder", db=DB):
    """A reminder of the programme told to the woman, once per card and item (the worker's exactly-once ledger)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    card = ForeignKey(PregnancyCard, on_delete=OnDelete.restrict, null=False)
    item_key = Varchar(length=64)
    starts_on = Date()  # the item's window opens (a consultation: its first day; a vaccine: its offer)
    created_at = Timestamptz(default=TimestamptzNow())


PREGNANCY_TABLES: tuple[type[Table], ...] = (
    PregnancyCard,
    PregnancyCardVersion,
    PregnancyEarlier,
    PregnancyTest,
    PregnancyConsultation,
    PregnancyUltrasound,
    PregnancyVaccine,
    PregnancyNote,
    PregnancySelfRegistration,
    PregnancyScheduleItem,
    PregnancyReminder,
)
