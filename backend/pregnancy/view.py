"""The whole card as it is shown: its entries, the due date in force, and where she is in the programme.

`load` and `whole` read the card and every entry on it in one statement (`queries.whole_card`; the schedule is
cached for a minute) and `assemble` builds from them the `PregnancyCard` both the clinicians and the woman see;
the `*_out` functions shape one entry each.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from backend.core.access import Grant
from backend.core.audit import Author
from backend.core.clock import OSLO
from backend.core.db import DB
from backend.core.errors import NotFound
from backend.pregnancy import queries
from backend.pregnancy.dating import (
    DueDateInForce,
    dating_scan,
    due_date_in_force,
    gestational_age_on,
    naegele_due_date,
)
from backend.pregnancy.queries import (
    CardRow,
    ConsultationRow,
    EarlierRow,
    HeaderVersionRow,
    Lock,
    NoteRow,
    SelfRegistrationRow,
    TestRow,
    UltrasoundRow,
    VaccineRow,
    WholeCard,
)
from backend.pregnancy.rules import today, zero
from backend.pregnancy.schedule import (
    ANTI_D_INDICATED,
    GDM_RISK,
    INFLUENZA_SEASON,
    ONGOING,
    RHD_NEGATIVE,
    DueItem,
    ScheduleItem,
    anti_d_indicated,
    schedule_status,
    week_24_rhd_item_done,
)
from backend.pregnancy.schemas import (
    CardHeader,
    CardSummary,
    CitizenAuthor,
    ConsultationOut,
    ConsultationVersionOut,
    EarlierPregnancyOut,
    EntryAuthor,
    GestationalAgeOut,
    HeaderOut,
    HeaderVersionOut,
    NoteOut,
    OutcomeOut,
    PregnancyCard,
    SelfRegistrationOut,
    TestOut,
    UltrasoundOut,
    VaccineOut,
)

# Which schedule item an entry of a kind fulfils (consultations are matched by their window).
VACCINE_FULFILS = {
    "whooping-cough": "whooping-cough-vaccine",
    "influenza": "influenza-vaccine",
    "anti-d": "anti-d-prophylaxis",
}
# The week-24 RhD item needs both a fetal RhD result and a timely screening: see `week_24_rhd_item_done`.
TEST_FULFILS = {"glucose-tolerance": "glucose-tolerance-test"}
WEEK_24_RHD_ITEM = "fetal-rhd-and-antibody-test"
ULTRASOUND_FULFILS = {"early": "early-ultrasound", "routine": "routine-ultrasound"}

# The influenza vaccine is offered in the season (October to March), to women in the 2nd/3rd trimester.
INFLUENZA_MONTHS = frozenset({10, 11, 12, 1, 2, 3})


# --- loading -----------------------------------------------------------------------------------------


async def card_row(connection: Any, grant: Grant, card_id: uuid.UUID, *, lock: Lock = None) -> CardRow:
    """Her card, or 404 (another patient's card is simply not found)."""
    card = await queries.card(connection, grant.patient_id, card_id, lock=lock)
    if card is None:
        raise NotFound("no such pregnancy card")
    return card


async def load(grant: Grant, card_id: uuid.UUID, on: date | None = None) -> PregnancyCard:
    """The whole card, as of `on` (today when not given)."""
    async with DB.connection() as connection:
        return await _read(connection, grant.patient_id, card_id, on or today())


async def whole(connection: Any, card: CardRow, on: date) -> PregnancyCard:
    """The whole card as of `on`, of a card row the caller has read (and locked) under its decision."""
    return await _read(connection, card.patient_id, card.id, on)


async def _read(connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, on: date) -> PregnancyCard:
    """The card and every entry in one statement (the schedule is cached); 404 when she has no such card."""
    found = await queries.whole_card(connection, patient_id, card_id)
    if found is None:
        raise NotFound("no such pregnancy card")
    return assemble(found, await _schedule(connection), on)


def dating(lmp: date, ultrasounds: Sequence[UltrasoundRow]) -> tuple[DueDateInForce, uuid.UUID | None]:
    """The due date in force and the id of the scan that set it (see `dating_scan`), on scans in date order."""
    index = dating_scan(lmp, [(row.date, row.due_date) for row in ultrasounds])
    dating_row = ultrasounds[index] if index is not None else None
    due = due_date_in_force(
        last_menstrual_period=lmp, ultrasound_due_date=dating_row.due_date if dating_row is not None else None
    )
    return due, dating_row.id if dating_row is not None else None


async def due(connection: Any, card: CardRow, lmp: date | None = None) -> DueDateInForce:
    """The card's due date in force (with another LMP, when given: what a header change would make it)."""
    ultrasounds = await queries.ultrasounds(connection, card.patient_id, card.id)
    return dating(lmp or card.last_menstrual_period, ultrasounds)[0]


async def summary(connection: Any, card: CardRow) -> CardSummary:
    in_force = await due(connection, card)
    return CardSummary(
        id=card.id,
        status=card.status,
        last_menstrual_period=card.last_menstrual_period,
        due_date=in_force.due_date,
        due_date_source=in_force.due_date_source,
        outcome_date=card.outcome_date,
        created_at=card.created_at,
    )


# --- one entry each ----------------------------------------------------------------------------------


def age(due: date, on: date) -> GestationalAgeOut | None:
    try:
        found = gestational_age_on(due, on)
    except ValueError:
        return None
    return GestationalAgeOut(weeks=found.weeks, days=found.days)


def entry_author(author: Author, at: datetime) -> EntryAuthor:
    """Core's author of an entry, with the time and the `role` (her authorization) the app reads."""
    return EntryAuthor(**msgspec.structs.asdict(author), role=author.authorization, at=at)


def header_out(header: CardHeader) -> HeaderOut:
    bmi = None
    if header.height_cm and header.pre_pregnancy_weight_kg:
        bmi = round(header.pre_pregnancy_weight_kg / (header.height_cm / 100) ** 2, 1)
    return HeaderOut(**msgspec.structs.asdict(header), bmi=bmi)


def header_version_out(row: HeaderVersionRow) -> HeaderVersionOut:
    return HeaderVersionOut(
        version=row.version,
        last_menstrual_period=row.last_menstrual_period,
        header=row.header,
        author=entry_author(row.author, row.recorded_at),
    )


def _consultation_fields(row: ConsultationRow, due: date) -> dict[str, Any]:
    return {
        "id": row.entry_id,
        "version": row.version,
        "date": row.date,
        "gestational_age": age(due, row.date) or GestationalAgeOut(weeks=0, days=0),
        "gestational_week": row.gestational_week,
        "weight_kg": row.weight_kg,
        "systolic": row.systolic,
        "diastolic": row.diastolic,
        "urine_protein": row.urine_protein,
        "urine_glucose": row.urine_glucose,
        "hb": row.hb,
        "sf_cm": row.sf_cm,
        "fetal_heart": row.fetal_heart,
        "presentation": row.presentation,
        "fetal_movements": row.fetal_movements,
        "oedema": row.oedema,
        "note": row.note,
        "author": entry_author(row.author, row.recorded_at),
        "corrected": row.version > 1,
        "correction_reason": row.correction_reason,
    }


def consultation_out(row: ConsultationRow, due: date) -> ConsultationOut:
    return ConsultationOut(**_consultation_fields(row, due))


def consultation_version_out(row: ConsultationRow, due: date) -> ConsultationVersionOut:
    return ConsultationVersionOut(**_consultation_fields(row, due), superseded_at=row.superseded_at)


def ultrasound_out(row: UltrasoundRow, due: date, dating_id: uuid.UUID | None) -> UltrasoundOut:
    # CLINICAL.md v1.1: the gestational age shown follows the due date in force; the scan's own is kept beside.
    return UltrasoundOut(
        id=row.id,
        date=row.date,
        kind=row.kind,
        gestational_age=age(due, row.date),
        estimated_gestational_age=age(row.due_date, row.date) if row.due_date is not None else None,
        dates_pregnancy=row.id == dating_id,
        due_date=row.due_date,
        fetuses=row.fetuses,
        placenta=row.placenta,
        findings=row.findings,
        author=entry_author(row.author, row.recorded_at),
    )


def vaccine_out(row: VaccineRow) -> VaccineOut:
    return VaccineOut(
        id=row.id,
        vaccine=row.vaccine,
        given_on=row.given_on,
        note=row.note,
        author=entry_author(row.author, row.recorded_at),
    )


def test_out(row: TestRow) -> TestOut:
    return TestOut(
        id=row.id,
        test=row.test,
        taken_on=row.taken_on,
        value=row.value,
        unit=row.unit,
        result=row.result,
        note=row.note,
        author=entry_author(row.author, row.recorded_at),
    )


def earlier_out(row: EarlierRow) -> EarlierPregnancyOut:
    return EarlierPregnancyOut(
        id=row.id,
        year=row.year,
        kind=row.kind,
        week=row.week,
        birth_weight_g=row.birth_weight_g,
        mode=row.mode,
        complications=row.complications,
        author=entry_author(row.author, row.recorded_at),
    )


def note_out(row: NoteRow) -> NoteOut:
    return NoteOut(
        id=row.id, kind=row.kind, text=row.text, created_at=row.created_at, author=CitizenAuthor(at=row.created_at)
    )


def self_registration_out(row: SelfRegistrationRow, due: date) -> SelfRegistrationOut:
    on = row.effective_at.astimezone(OSLO).date()
    return SelfRegistrationOut(
        id=row.id,
        effective_at=row.effective_at,
        date=on,
        gestational_age=age(due, on),
        weight_kg=row.weight_kg,
        systolic=row.systolic,
        diastolic=row.diastolic,
        fetal_movements=row.fetal_movements,
        author=CitizenAuthor(at=row.created_at),
    )


# --- the programme -----------------------------------------------------------------------------------

# The schedule is edited rarely and read on every card view: keep it for a minute per process.
SCHEDULE_TTL_SECONDS = 60.0
_schedule_cache: dict[str, tuple[float, list[ScheduleItem]]] = {}


async def _schedule(connection: Any) -> list[ScheduleItem]:
    cached = _schedule_cache.get("items")
    if cached is not None and time.monotonic() - cached[0] < SCHEDULE_TTL_SECONDS:
        return cached[1]
    items = await queries.schedule_items(connection)
    _schedule_cache["items"] = (time.monotonic(), items)
    return items


def _is_consultation_item(item: ScheduleItem) -> bool:
    return item.key == "first-consultation" or item.key.startswith("consultation-")


def done_keys(
    schedule: Sequence[ScheduleItem],
    due: date,
    *,
    consultation_dates: Iterable[date],
    ultrasounds: Iterable[tuple[date, str]],
    vaccines: Iterable[str],
    tests: Sequence[tuple[str, date, str | None]],
) -> set[str]:
    """The schedule items the card's entries fulfil; `tests` are (test, taken on, result).

    A consultation fulfils the open consultation item whose window holds its date, or else the latest
    open one that has already started (a late visit catches up, an extra early visit fulfils nothing).
    """
    day_zero = zero(due)
    done: set[str] = set()
    consultation_items = sorted((i for i in schedule if _is_consultation_item(i)), key=lambda i: i.window_start_day)
    for on in sorted(consultation_dates):
        day = (on - day_zero).days
        started = [i for i in consultation_items if i.window_start_day <= day and i.key not in done]
        within = [i for i in started if day <= i.window_end_day]
        chosen = within[0] if within else (started[-1] if started else None)
        if chosen is not None:
            done.add(chosen.key)
    for on, kind in ultrasounds:
        key = ULTRASOUND_FULFILS.get(kind)
        if key is None:
            day = (on - day_zero).days
            key = next(
                (
                    i.key
                    for i in schedule
                    if i.key in ULTRASOUND_FULFILS.values() and i.window_start_day <= day <= i.window_end_day
                ),
                None,
            )
        if key is not None:
            done.add(key)
    done.update(VACCINE_FULFILS[v] for v in vaccines if v in VACCINE_FULFILS)
    done.update(TEST_FULFILS[test] for test, _, _ in tests if test in TEST_FULFILS)
    if week_24_rhd_item_done(
        due,
        fetal_rhd_results=[result for test, _, result in tests if test == "fetal-rhd"],
        antibody_screenings=[taken_on for test, taken_on, _ in tests if test == "antibody-screening"],
    ):
        done.add(WEEK_24_RHD_ITEM)
    return done


def latest_fetal_rhd(tests: Sequence[tuple[str, date, str | None]]) -> str | None:
    """The newest fetal RhD result; `tests` in the order taken (and recorded)."""
    return next((result for test, _, result in reversed(tests) if test == "fetal-rhd"), None)


def conditions_of(header: CardHeader, on: date, *, fetal_rhd: str | None = None) -> set[str]:
    conditions: set[str] = set()
    if header.rhd == "negative":
        conditions.add(RHD_NEGATIVE)
    if anti_d_indicated(rhd=header.rhd, immunised=header.rhd_immunised, fetal_rhd=fetal_rhd):
        conditions.add(ANTI_D_INDICATED)
    if header.gdm_risk:
        conditions.add(GDM_RISK)
    if on.month in INFLUENZA_MONTHS:
        conditions.add(INFLUENZA_SEASON)
    return conditions


def _influenza_offered_from(item: DueItem, on: date) -> DueItem:
    """The influenza vaccine is offered from the later of its window (2nd trimester) and this season's 1 October."""
    if item.key != "influenza-vaccine":
        return item
    season_start = date(on.year if on.month >= 10 else on.year - 1, 10, 1)
    return msgspec.structs.replace(item, starts_on=max(item.starts_on, season_start))


def assemble(rows: WholeCard, schedule: Sequence[ScheduleItem], on: date) -> PregnancyCard:
    """The whole card as of `on`, from its entries (most already in their response shape) and the schedule.

    Takes over the consultations of `rows`, setting each one's gestational age from the due date in force."""
    card, consultations, ultrasounds, tests = rows.card, rows.consultations, rows.ultrasounds, rows.tests
    vaccines = rows.vaccines
    card_id = card.id
    in_force, dating_id = dating(card.last_menstrual_period, ultrasounds)
    test_facts = [(row.test, row.taken_on, row.result) for row in tests]
    header = card.header
    due_date = in_force.due_date
    for consultation in consultations:  # decoded at 0+0, which is also what a date before 0+0 shows
        found = age(due_date, consultation.date)
        if found is not None:
            consultation.gestational_age = found
    status = schedule_status(
        schedule,
        due_date,
        on,
        done_keys=done_keys(
            schedule,
            due_date,
            consultation_dates=[row.date for row in consultations],
            ultrasounds=[(row.date, row.kind) for row in ultrasounds],
            vaccines=[row.vaccine for row in vaccines],
            tests=test_facts,
        ),
        conditions=conditions_of(header, on, fetal_rhd=latest_fetal_rhd(test_facts)),
        status=card.status,
    )
    vaccines_due = [_influenza_offered_from(item, on) for item in status.vaccines_due]
    outcome = None
    if card.status != ONGOING and card.outcome_date and card.outcome_by and card.outcome_at:
        outcome = OutcomeOut(
            outcome=card.status,
            date=card.outcome_date,
            note=card.outcome_note,
            author=entry_author(card.outcome_by, card.outcome_at),
        )
    age_on = on if card.status == ONGOING else card.outcome_date
    return PregnancyCard(
        id=card_id,
        status=card.status,
        version=card.version,
        last_menstrual_period=card.last_menstrual_period,
        due_date=due_date,
        due_date_source=in_force.due_date_source,
        lmp_due_date=naegele_due_date(card.last_menstrual_period),
        gestational_age=age(due_date, age_on) if age_on is not None else None,
        header=header_out(header),
        earlier_pregnancies=rows.earlier,
        tests=tests,
        consultations=consultations,
        ultrasounds=[ultrasound_out(row, due_date, dating_id) for row in ultrasounds],
        vaccines=vaccines,
        notes=rows.notes,
        self_registrations=[self_registration_out(row, due_date) for row in rows.self_registrations],
        next_due=status.next_due,
        overdue=status.overdue,
        vaccines_due=vaccines_due,
        outcome=outcome,
        created_by=entry_author(card.created_by, card.created_at),
        created_at=card.created_at,
        updated_at=card.updated_at,
    )
