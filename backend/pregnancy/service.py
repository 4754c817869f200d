"""Rules of the pregnancy card: who may create and write it, what is plausible, and how the whole card is assembled.

Access: a clinician reaches a card through `authorize(..., resource_type="pregnancy", consent="pregnancy-card")`;
without the woman's consent she gets 404 exactly as without a care relation (emergency access excepted, in
the core). Creating a card is the same: a card is the woman's, and without her consent no clinician may even
learn whether she is pregnant, so a missing consent is indistinguishable from no access at all.

A card is written by midwives (JO) and doctors (LE) at a helsestasjon, a hospital or a GP office; a midwife
who creates the card attests her organisation's `midwife` care relation through the core if it has none.
A closed card (any outcome) is read-only: every write answers 409 with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from backend.core import events
from backend.core.access import Grant, Need, Role, authorize, may_attest, write_transaction
from backend.core.alerts import raise_pregnancy_blood_pressure_alert
from backend.core.auth import CitizenPrincipal, ClinicianPrincipal
from backend.core.clock import OSLO, oslo_now, utcnow
from backend.core.concurrency import require_if_match
from backend.core.context import PREGNANCY, record_pregnancy_outcome, set_context
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.pregnancy import pdf
from backend.pregnancy.dating import (
    PREGNANCY_DAYS,
    DueDateInForce,
    GestationalAge,
    check_stated_week,
    dating_scan,
    due_date_in_force,
    gestational_age_on,
    naegele_due_date,
)
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
    CardHeaderPatch,
    CardIn,
    CardList,
    CardSummary,
    CitizenAuthor,
    ConsultationCorrectionIn,
    ConsultationHistory,
    ConsultationIn,
    ConsultationOut,
    ConsultationVersionOut,
    EarlierPregnancyIn,
    EarlierPregnancyOut,
    EntryAuthor,
    GestationalAgeOut,
    HeaderHistory,
    HeaderOut,
    HeaderVersionOut,
    NoteIn,
    NoteOut,
    OutcomeIn,
    OutcomeOut,
    PregnancyCard,
    SelfRegistrationIn,
    SelfRegistrationOut,
    TestIn,
    TestOut,
    UltrasoundIn,
    UltrasoundOut,
    VaccineIn,
    VaccineOut,
)

RESOURCE = "pregnancy"
CONSENT = "pregnancy-card"

# Who may create and write a card (issue 4): midwives and doctors at these kinds of organisation.
WRITING_AUTHORIZATIONS = frozenset({"JO", "LE"})
WRITING_ORG_KINDS = frozenset({"helsestasjon", "sykehus", "fastlege"})
CARD_WRITER = Role(
    "pregnancy cards are written by midwives (JO) and doctors (LE) at a helsestasjon, hospital or GP office",
    authorizations=WRITING_AUTHORIZATIONS,
    org_kinds=WRITING_ORG_KINDS,
)
READ = Need(action="read", resource_type=RESOURCE, consent=CONSENT)
WRITE = Need(action="write", resource_type=RESOURCE, consent=CONSENT, role=CARD_WRITER)
# A midwife creating the card attests her organisation's midwife relation in the same transaction.
CREATE_AS_MIDWIFE = Need(
    action="write",
    resource_type=RESOURCE,
    consent=CONSENT,
    role=CARD_WRITER,
    attests="midwife",
    attest_unless="pregnancy_card WHERE status = 'ongoing'",
)

# A card is started in the first trimester; an LMP older than this is a typo or the wrong woman.
MAX_LMP_AGE_DAYS = 44 * 7

# Unit and plausible range of the numeric tests, and the allowed results of the others.
NUMERIC_TESTS: dict[str, tuple[str, float, float]] = {
    "hb": ("g/dL", 5, 20),
    "ferritin": ("ug/L", 1, 2000),
    "hba1c": ("mmol/mol", 15, 200),
    "glucose-tolerance": ("mmol/L", 1, 40),  # the 2-hour value
}
RESULT_TESTS: dict[str, tuple[str, ...]] = {
    "hepatitis-b": ("negative", "positive"),
    "hiv": ("negative", "positive"),
    "syphilis": ("negative", "positive"),
    "rubella": ("immune", "not-immune"),
    "fetal-rhd": ("rhd-positive", "rhd-negative"),
    "antibody-screening": ("negative", "positive"),
}

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

# CLINICAL.md v1.1: symphysis-fundus height is accepted and plotted from week 24.
SF_FROM_WEEK = 24
# CLINICAL.md v1.1: a pregnancy ending at 22+0 or later is a birth (delivered or stillbirth); before, a miscarriage.
VIABILITY_WEEK = 22

# The influenza vaccine is offered in the season (October to March), to women in the 2nd/3rd trimester.
INFLUENZA_MONTHS = frozenset({10, 11, 12, 1, 2, 3})


@dataclass(frozen=True, slots=True)
class Writer:
    """The clinician behind an entry, as her token named her when she wrote it."""

    hpr: str
    name: str | None
    role: str
    org: str
    org_kind: str

    @classmethod
    def of(cls, principal: ClinicianPrincipal) -> Writer:
        return cls(principal.hpr, principal.name, principal.authorization, principal.org_number, principal.org_kind)

    def values(self, at: datetime) -> tuple[str, str | None, str, str, str, datetime]:
        return (self.hpr, self.name, self.role, self.org, self.org_kind, at)


def today() -> date:
    """The date on the card: Europe/Oslo."""
    return oslo_now().date()


# --- access ------------------------------------------------------------------------------------------


async def _grant(principal: ClinicianPrincipal, patient_id: uuid.UUID, action: str, card_id: uuid.UUID | None) -> Grant:
    return await authorize(
        principal, patient_id, WRITE if action == "write" else READ, resource_id=str(card_id) if card_id else None
    )


# --- loading -----------------------------------------------------------------------------------------


_CARD_QUERIES = {
    None: "SELECT * FROM pregnancy_card WHERE id = $1 AND patient_id = $2",
    "share": "SELECT * FROM pregnancy_card WHERE id = $1 AND patient_id = $2 FOR SHARE",
    "update": "SELECT * FROM pregnancy_card WHERE id = $1 AND patient_id = $2 FOR UPDATE",
}


async def _card_row(
    connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, *, lock: str | None = None
) -> asyncpg.Record:
    row: asyncpg.Record | None = await connection.fetchrow(_CARD_QUERIES[lock], card_id, patient_id)
    if row is None:
        raise NotFound("no such pregnancy card")
    return row


_ULTRASOUNDS = "SELECT * FROM pregnancy_ultrasound WHERE patient_id = $1 AND card = $2 ORDER BY date, recorded_at, id"


def _dating(lmp: date, ultrasounds: Sequence[asyncpg.Record]) -> tuple[DueDateInForce, uuid.UUID | None]:
    """The due date in force and the id of the scan that set it (see `dating_scan`), on rows in `_ULTRASOUNDS` order."""
    index = dating_scan(lmp, [(row["date"], row["due_date"]) for row in ultrasounds])
    dating_row = ultrasounds[index] if index is not None else None
    due = due_date_in_force(
        last_menstrual_period=lmp, ultrasound_due_date=dating_row["due_date"] if dating_row is not None else None
    )
    return due, dating_row["id"] if dating_row is not None else None


async def _due_for(connection: Any, card: asyncpg.Record, lmp: date) -> DueDateInForce:
    ultrasounds = await connection.fetch(_ULTRASOUNDS, card["patient_id"], card["id"])
    return _dating(lmp, ultrasounds)[0]


async def _due(connection: Any, card: asyncpg.Record) -> DueDateInForce:
    return await _due_for(connection, card, card["last_menstrual_period"])


def _zero(due: date) -> date:
    return due - timedelta(days=PREGNANCY_DAYS)


def _age(due: date, on: date) -> GestationalAgeOut | None:
    try:
        age = gestational_age_on(due, on)
    except ValueError:
        return None
    return GestationalAgeOut(weeks=age.weeks, days=age.days)


def _author(row: asyncpg.Record, prefix: str = "author_", at: str = "recorded_at") -> EntryAuthor:
    return EntryAuthor(
        name=row[f"{prefix}name"],
        hpr=row[f"{prefix}hpr"],
        role=row[f"{prefix}role"],
        organisation=row[f"{prefix}org"],
        org_kind=row[f"{prefix}org_kind"],
        at=row[at],
    )


def _header(raw: str) -> CardHeader:
    return msgspec.json.decode(raw, type=CardHeader)


def _header_out(header: CardHeader) -> HeaderOut:
    bmi = None
    if header.height_cm and header.pre_pregnancy_weight_kg:
        bmi = round(header.pre_pregnancy_weight_kg / (header.height_cm / 100) ** 2, 1)
    return HeaderOut(**msgspec.structs.asdict(header), bmi=bmi)


def _consultation_out(row: asyncpg.Record, due: date) -> ConsultationOut:
    return ConsultationOut(**_consultation_fields(row, due))


def _consultation_fields(row: asyncpg.Record, due: date) -> dict[str, Any]:
    return {
        "id": row["entry_id"],
        "version": row["version"],
        "date": row["date"],
        "gestational_age": _age(due, row["date"]) or GestationalAgeOut(weeks=0, days=0),
        "gestational_week": row["gestational_week"],
        "weight_kg": row["weight_kg"],
        "systolic": row["systolic"],
        "diastolic": row["diastolic"],
        "urine_protein": row["urine_protein"],
        "urine_glucose": row["urine_glucose"],
        "hb": row["hb"],
        "sf_cm": row["sf_cm"],
        "fetal_heart": row["fetal_heart"],
        "presentation": row["presentation"],
        "fetal_movements": row["fetal_movements"],
        "oedema": row["oedema"],
        "note": row["note"],
        "author": _author(row),
        "corrected": row["version"] > 1,
        "correction_reason": row["correction_reason"],
    }


def _ultrasound_out(row: asyncpg.Record, due: date, dating_id: uuid.UUID | None) -> UltrasoundOut:
    # CLINICAL.md v1.1: the gestational age shown follows the due date in force; the scan's own is kept beside.
    return UltrasoundOut(
        id=row["id"],
        date=row["date"],
        kind=row["kind"],
        gestational_age=_age(due, row["date"]),
        estimated_gestational_age=_age(row["due_date"], row["date"]) if row["due_date"] is not None else None,
        dates_pregnancy=row["id"] == dating_id,
        due_date=row["due_date"],
        fetuses=row["fetuses"],
        placenta=row["placenta"],
        findings=row["findings"],
        author=_author(row),
    )


def _vaccine_out(row: asyncpg.Record) -> VaccineOut:
    return VaccineOut(
        id=row["id"], vaccine=row["vaccine"], given_on=row["given_on"], note=row["note"], author=_author(row)
    )


def _test_out(row: asyncpg.Record) -> TestOut:
    return TestOut(
        id=row["id"],
        test=row["test"],
        taken_on=row["taken_on"],
        value=row["value"],
        unit=row["unit"],
        result=row["result"],
        note=row["note"],
        author=_author(row),
    )


def _earlier_out(row: asyncpg.Record) -> EarlierPregnancyOut:
    return EarlierPregnancyOut(
        id=row["id"],
        year=row["year"],
        kind=row["kind"],
        week=row["week"],
        birth_weight_g=row["birth_weight_g"],
        mode=row["mode"],
        complications=row["complications"],
        author=_author(row),
    )


def _note_out(row: asyncpg.Record) -> NoteOut:
    return NoteOut(
        id=row["id"],
        kind=row["kind"],
        text=row["text"],
        created_at=row["created_at"],
        author=CitizenAuthor(at=row["created_at"]),
    )


def _self_registration_out(row: asyncpg.Record, due: date) -> SelfRegistrationOut:
    on = row["effective_at"].astimezone(OSLO).date()
    return SelfRegistrationOut(
        id=row["id"],
        effective_at=row["effective_at"],
        date=on,
        gestational_age=_age(due, on),
        weight_kg=row["weight_kg"],
        systolic=row["systolic"],
        diastolic=row["diastolic"],
        fetal_movements=row["fetal_movements"],
        author=CitizenAuthor(at=row["created_at"]),
    )


# The schedule is edited rarely and read on every card view: keep it for a minute per process.
SCHEDULE_TTL_SECONDS = 60.0
_schedule_cache: dict[str, tuple[float, list[ScheduleItem]]] = {}


async def _schedule(connection: Any) -> list[ScheduleItem]:
    cached = _schedule_cache.get("items")
    if cached is not None and time.monotonic() - cached[0] < SCHEDULE_TTL_SECONDS:
        return cached[1]
    items = await _load_schedule(connection)
    _schedule_cache["items"] = (time.monotonic(), items)
    return items


async def _load_schedule(connection: Any) -> list[ScheduleItem]:
    rows = await connection.fetch(
        """
        SELECT key, label_nb, label_en, window_start_day, window_end_day, condition, kind
        FROM pregnancy_schedule_item ORDER BY position, key
        """
    )
    return [
        ScheduleItem(
            key=row["key"],
            label_nb=row["label_nb"],
            label_en=row["label_en"],
            window_start_day=row["window_start_day"],
            window_end_day=row["window_end_day"],
            condition=row["condition"],
            kind=row["kind"],
        )
        for row in rows
    ]


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
    zero = _zero(due)
    done: set[str] = set()
    consultation_items = sorted((i for i in schedule if _is_consultation_item(i)), key=lambda i: i.window_start_day)
    for on in sorted(consultation_dates):
        day = (on - zero).days
        started = [i for i in consultation_items if i.window_start_day <= day and i.key not in done]
        within = [i for i in started if day <= i.window_end_day]
        chosen = within[0] if within else (started[-1] if started else None)
        if chosen is not None:
            done.add(chosen.key)
    for on, kind in ultrasounds:
        key = ULTRASOUND_FULFILS.get(kind)
        if key is None:
            day = (on - zero).days
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


async def _assemble(connection: Any, card: asyncpg.Record, on: date) -> PregnancyCard:
    patient_id, card_id = card["patient_id"], card["id"]
    args = (patient_id, card_id)
    consultations = await connection.fetch(
        "SELECT * FROM pregnancy_consultation WHERE patient_id = $1 AND card = $2 AND superseded_at IS NULL "
        "ORDER BY date, recorded_at",
        *args,
    )
    ultrasounds = await connection.fetch(_ULTRASOUNDS, *args)
    due, dating_id = _dating(card["last_menstrual_period"], ultrasounds)
    vaccines = await connection.fetch(
        "SELECT * FROM pregnancy_vaccine WHERE patient_id = $1 AND card = $2 ORDER BY given_on, recorded_at", *args
    )
    tests = await connection.fetch(
        "SELECT * FROM pregnancy_test WHERE patient_id = $1 AND card = $2 ORDER BY taken_on, recorded_at, id", *args
    )
    test_facts = [(row["test"], row["taken_on"], row["result"]) for row in tests]
    earlier = await connection.fetch(
        "SELECT * FROM pregnancy_earlier WHERE patient_id = $1 AND card = $2 ORDER BY year, recorded_at", *args
    )
    notes = await connection.fetch(
        "SELECT * FROM pregnancy_note WHERE patient_id = $1 AND card = $2 ORDER BY created_at, id", *args
    )
    self_registrations = await connection.fetch(
        "SELECT * FROM pregnancy_self_registration WHERE patient_id = $1 AND card = $2 ORDER BY effective_at, id", *args
    )
    header = _header(card["header"])
    schedule = await _schedule(connection)
    status = schedule_status(
        schedule,
        due.due_date,
        on,
        done_keys=done_keys(
            schedule,
            due.due_date,
            consultation_dates=[row["date"] for row in consultations],
            ultrasounds=[(row["date"], row["kind"]) for row in ultrasounds],
            vaccines=[row["vaccine"] for row in vaccines],
            tests=test_facts,
        ),
        conditions=conditions_of(header, on, fetal_rhd=latest_fetal_rhd(test_facts)),
        status=card["status"],
    )
    vaccines_due = [_influenza_offered_from(item, on) for item in status.vaccines_due]
    outcome = None
    if card["status"] != ONGOING:
        outcome = OutcomeOut(
            outcome=card["status"],
            date=card["outcome_date"],
            note=card["outcome_note"],
            author=_author(card, prefix="outcome_by_", at="outcome_at"),
        )
    age_on = on if card["status"] == ONGOING else card["outcome_date"]
    return PregnancyCard(
        id=card_id,
        status=card["status"],
        version=card["version"],
        last_menstrual_period=card["last_menstrual_period"],
        due_date=due.due_date,
        due_date_source=due.due_date_source,
        lmp_due_date=naegele_due_date(card["last_menstrual_period"]),
        gestational_age=_age(due.due_date, age_on),
        header=_header_out(header),
        earlier_pregnancies=[_earlier_out(row) for row in earlier],
        tests=[_test_out(row) for row in tests],
        consultations=[_consultation_out(row, due.due_date) for row in consultations],
        ultrasounds=[_ultrasound_out(row, due.due_date, dating_id) for row in ultrasounds],
        vaccines=[_vaccine_out(row) for row in vaccines],
        notes=[_note_out(row) for row in notes],
        self_registrations=[_self_registration_out(row, due.due_date) for row in self_registrations],
        next_due=status.next_due,
        overdue=status.overdue,
        vaccines_due=vaccines_due,
        outcome=outcome,
        created_by=_author(card, prefix="created_by_", at="created_at"),
        created_at=card["created_at"],
        updated_at=card["updated_at"],
    )


# --- validation --------------------------------------------------------------------------------------


def _require_open(card: asyncpg.Record, what: str) -> None:
    if card["status"] != ONGOING:
        raise Conflict(
            f"this pregnancy card is closed (status {card['status']}): a closed card takes no {what}",
            extra={"cardStatus": card["status"]},
        )


def _check_lmp(lmp: date, on: date, field: str = "lastMenstrualPeriod") -> None:
    if lmp > on:
        raise BadRequest("the last menstrual period cannot be in the future", field=field)
    if (on - lmp).days > MAX_LMP_AGE_DAYS:
        raise BadRequest(f"the last menstrual period is more than {MAX_LMP_AGE_DAYS // 7} weeks ago", field=field)


def _check_header(header: CardHeader) -> None:
    if header.gravida is not None and header.para is not None and header.para >= header.gravida:
        raise BadRequest("para (earlier births) must be less than gravida, which counts this pregnancy", field="para")
    # Anti-D immunisation needs RhD-negative red cells; an RhD-positive woman cannot be RhD-immunised.
    if header.rhd_immunised and header.rhd != "negative":
        raise BadRequest("only an RhD-negative woman can be immunised against RhD (anti-D)", field="rhdImmunised")


def _check_entry_date(on: date, due: date, today_: date, field: str, what: str) -> None:
    if on > today_:
        raise BadRequest(f"the {what} date cannot be in the future", field=field)
    start = _zero(due)
    if on < start:
        raise BadRequest(
            f"the {what} date is before this pregnancy began (0+0 is {start.isoformat()})",
            field=field,
        )


def _check_consultation(data: ConsultationIn, due: date, today_: date) -> None:
    _check_entry_date(data.date, due, today_, "date", "consultation")
    age = gestational_age_on(due, data.date)
    if data.gestational_week is not None:
        try:
            check_stated_week(due, data.date, data.gestational_week)
        except ValueError as exc:
            raise BadRequest(
                f"gestational week {data.gestational_week} does not fit the date: the card gives {age} on "
                f"{data.date.isoformat()}",
                field="gestationalWeek",
            ) from exc
    if (data.systolic is None) != (data.diastolic is None):
        missing = "diastolic" if data.diastolic is None else "systolic"
        raise BadRequest("blood pressure needs both systolic and diastolic", field=missing)
    if data.systolic is not None and data.diastolic is not None and data.systolic <= data.diastolic:
        raise BadRequest("systolic must be higher than diastolic", field="systolic")
    # CLINICAL.md v1.1 (Helsedirektoratet's card): symphysis-fundus height is measured and plotted from week 24.
    if data.sf_cm is not None and age.weeks < SF_FROM_WEEK:
        raise BadRequest(f"symphysis-fundus height is measured from week {SF_FROM_WEEK} (this is {age})", field="sfCm")


def _check_earlier(items: Sequence[EarlierPregnancyIn], today_: date, prefix: str = "") -> None:
    for index, item in enumerate(items):
        at = f"{prefix}[{index}]." if prefix else ""
        if item.year > today_.year:
            raise BadRequest("an earlier pregnancy cannot be in a future year", field=f"{at}year")
        if item.kind == "miscarriage":
            if item.birth_weight_g is not None:
                raise BadRequest("a miscarriage has no birth weight", field=f"{at}birthWeightG")
            if item.mode is not None:
                raise BadRequest("a miscarriage has no mode of delivery", field=f"{at}mode")
        # CLINICAL.md v1.1: a loss at 22+0 or later is a birth (stillbirth), not a miscarriage. `week` is the
        # completed weeks, so week 22 is 22+0 to 22+6.
        if item.week is None:
            continue
        if item.kind == "miscarriage" and item.week >= VIABILITY_WEEK:
            raise BadRequest(
                f"a loss at week {VIABILITY_WEEK} or later is a birth (stillbirth), not a miscarriage",
                field=f"{at}week",
            )
        if item.kind == "birth" and item.week < VIABILITY_WEEK:
            raise BadRequest(
                f"a pregnancy ending before week {VIABILITY_WEEK} is a miscarriage, not a birth", field=f"{at}week"
            )


def _check_outcome_fits_age(data: OutcomeIn, due: date) -> None:
    """CLINICAL.md v1.1: an outcome must fit the gestational age at its date, by the due date in force.

    A miscarriage ends a pregnancy before 22+0; a delivery or stillbirth is a birth, at 22+0 or later.
    A termination is not dated by this rule.
    """
    age = gestational_age_on(due, data.date)
    if data.outcome == "miscarriage" and age.weeks >= VIABILITY_WEEK:
        raise BadRequest(
            f"the pregnancy was {age} on {data.date.isoformat()}: a loss at {VIABILITY_WEEK}+0 or later is a "
            "stillbirth, not a miscarriage",
            field="outcome",
        )
    if data.outcome in ("delivered", "stillbirth") and age.weeks < VIABILITY_WEEK:
        raise BadRequest(
            f"the pregnancy was {age} on {data.date.isoformat()}: an ending before {VIABILITY_WEEK}+0 is a "
            "miscarriage, not a birth",
            field="outcome",
        )


def _check_test(data: TestIn) -> tuple[float | None, str | None, str | None]:
    """(value, unit, result) to store."""
    numeric = NUMERIC_TESTS.get(data.test)
    if numeric is not None:
        unit, low, high = numeric
        if data.result is not None:
            raise BadRequest(f"{data.test} is a numeric test: send value ({unit}), not result", field="result")
        if data.value is None or not low <= data.value <= high:
            raise BadRequest(f"{data.test} needs a value between {low:g} and {high:g} {unit}", field="value")
        return data.value, unit, None
    allowed = RESULT_TESTS[data.test]
    if data.value is not None:
        raise BadRequest(f"{data.test} has a result, not a value", field="value")
    if data.result not in allowed:
        raise BadRequest(f"{data.test} result must be one of: {', '.join(allowed)}", field="result")
    return None, None, data.result


# --- clinician: the card -----------------------------------------------------------------------------


async def create_card(principal: ClinicianPrincipal, patient_id: uuid.UUID, data: CardIn) -> PregnancyCard:
    on = today()
    _check_lmp(data.last_menstrual_period, on)
    header = CardHeader(**{f: getattr(data, f) for f in CardHeader.__struct_fields__})
    _check_header(header)
    _check_earlier(data.earlier_pregnancies, on, prefix="earlierPregnancies")
    midwife = principal.authorization == "JO" and may_attest(principal, "midwife")
    grant = await authorize(principal, patient_id, CREATE_AS_MIDWIFE if midwife else WRITE)
    writer = Writer.of(principal)
    now = utcnow()
    card_id = uuid.uuid4()
    header_json = msgspec.json.encode(header).decode()
    try:
        async with write_transaction(grant) as connection:
            ongoing = await connection.fetchval(
                "SELECT id FROM pregnancy_card WHERE patient_id = $1 AND status = 'ongoing' FOR UPDATE",
                grant.patient_id,
            )
            if ongoing is not None:
                raise Conflict(
                    "this patient already has an ongoing pregnancy card; record its outcome first",
                    extra={"ongoingCardId": str(ongoing)},
                )
            await connection.execute(
                """
                INSERT INTO pregnancy_card (id, patient_id, status, version, last_menstrual_period, header,
                                            created_by_hpr, created_by_name, created_by_role, created_by_org,
                                            created_by_org_kind, created_at, updated_at)
                VALUES ($1, $2, 'ongoing', 1, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $10)
                """,
                card_id,
                grant.patient_id,
                data.last_menstrual_period,
                header_json,
                *writer.values(now),
            )
            await _insert_header_version(
                connection,
                grant.patient_id,
                card_id,
                version=1,
                lmp=data.last_menstrual_period,
                header_json=header_json,
                writer=writer,
                now=now,
            )
            for item in data.earlier_pregnancies:
                await _insert_earlier(connection, grant.patient_id, card_id, item, writer=writer, now=now)
            await set_context(grant.patient_id, PREGNANCY, ONGOING)
            await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CARD_CREATED, card_id)
    except asyncpg.UniqueViolationError as exc:
        # Two creations raced past the check above; the partial unique index kept one.
        raise Conflict("this patient already has an ongoing pregnancy card") from exc
    return await _read(grant.patient_id, card_id)


async def _insert_header_version(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    version: int,
    lmp: date,
    header_json: str,
    writer: Writer,
    now: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO pregnancy_card_version (id, patient_id, card, version, last_menstrual_period, header,
                                            author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        version,
        lmp,
        header_json,
        *writer.values(now),
    )


async def _insert_earlier(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    item: EarlierPregnancyIn,
    *,
    writer: Writer,
    now: datetime,
) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow(
        """
        INSERT INTO pregnancy_earlier (id, patient_id, card, year, kind, week, birth_weight_g, mode, complications,
                                       author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        RETURNING *
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        item.year,
        item.kind,
        item.week,
        item.birth_weight_g,
        item.mode,
        item.complications,
        *writer.values(now),
    )
    return row


async def _read(patient_id: uuid.UUID, card_id: uuid.UUID) -> PregnancyCard:
    async with DB.connection() as connection:
        return await _assemble(connection, await _card_row(connection, patient_id, card_id), today())


async def read_card(principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID) -> PregnancyCard:
    grant = await _grant(principal, patient_id, "read", card_id)
    return await _read(grant.patient_id, card_id)


async def _summaries(patient_id: uuid.UUID) -> CardList:
    async with DB.connection() as connection:
        rows = await connection.fetch(
            "SELECT * FROM pregnancy_card WHERE patient_id = $1 ORDER BY created_at DESC, id", patient_id
        )
        items = []
        for row in rows:
            due = await _due(connection, row)
            items.append(
                CardSummary(
                    id=row["id"],
                    status=row["status"],
                    last_menstrual_period=row["last_menstrual_period"],
                    due_date=due.due_date,
                    due_date_source=due.due_date_source,
                    outcome_date=row["outcome_date"],
                    created_at=row["created_at"],
                )
            )
    return CardList(items=items)


async def list_cards(principal: ClinicianPrincipal, patient_id: uuid.UUID) -> CardList:
    grant = await _grant(principal, patient_id, "read", None)
    return await _summaries(grant.patient_id)


async def update_header(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    patch: CardHeaderPatch,
    if_match: str | None,
) -> PregnancyCard:
    changes = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET and name != "last_menstrual_period"
    }
    new_lmp = patch.last_menstrual_period
    if not changes and new_lmp is msgspec.UNSET:
        raise BadRequest("send at least one field to change", field="body")
    on = today()
    if isinstance(new_lmp, date):
        _check_lmp(new_lmp, on)
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        card = await _card_row(connection, grant.patient_id, card_id, lock="update")
        require_if_match(if_match, card["version"], resource="pregnancy card")
        _require_open(card, "changes")
        header = msgspec.structs.replace(_header(card["header"]), **changes)
        _check_header(header)
        lmp: date = new_lmp if isinstance(new_lmp, date) else card["last_menstrual_period"]
        if lmp != card["last_menstrual_period"]:
            # A new LMP can also change which scan dates the pregnancy (the 22+6 limit counts from it).
            candidate = await _due_for(connection, card, lmp)
            await _check_nothing_predates(connection, card, candidate.due_date, field="lastMenstrualPeriod")
        version = card["version"] + 1
        header_json = msgspec.json.encode(header).decode()
        await connection.execute(
            """
            UPDATE pregnancy_card SET header = $3::jsonb, last_menstrual_period = $4, version = $5, updated_at = $6
            WHERE id = $1 AND patient_id = $2
            """,
            card_id,
            grant.patient_id,
            header_json,
            lmp,
            version,
            now,
        )
        await _insert_header_version(
            connection,
            grant.patient_id,
            card_id,
            version=version,
            lmp=lmp,
            header_json=header_json,
            writer=writer,
            now=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CARD_UPDATED, card_id)
    return await _read(grant.patient_id, card_id)


async def _check_nothing_predates(connection: Any, card: asyncpg.Record, due: date, *, field: str) -> None:
    """A changed due date (new LMP, new dating scan) must not leave recorded entries before 0+0."""
    earliest: date | None = await connection.fetchval(
        """
        SELECT min(d) FROM (
            SELECT date AS d FROM pregnancy_consultation WHERE patient_id = $1 AND card = $2 AND superseded_at IS NULL
            UNION ALL SELECT date FROM pregnancy_ultrasound WHERE patient_id = $1 AND card = $2
            UNION ALL SELECT given_on FROM pregnancy_vaccine WHERE patient_id = $1 AND card = $2
            UNION ALL SELECT taken_on FROM pregnancy_test WHERE patient_id = $1 AND card = $2
        ) entries
        """,
        card["patient_id"],
        card["id"],
    )
    if earliest is not None and earliest < _zero(due):
        raise BadRequest(
            f"this would date the pregnancy after an entry of {earliest.isoformat()} (0+0 would be "
            f"{_zero(due).isoformat()})",
            field=field,
        )


async def header_history(principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID) -> HeaderHistory:
    grant = await _grant(principal, patient_id, "read", card_id)
    async with DB.connection() as connection:
        await _card_row(connection, grant.patient_id, card_id)
        rows = await connection.fetch(
            """
            SELECT * FROM pregnancy_card_version WHERE patient_id = $1 AND card = $2 ORDER BY version DESC
            """,
            grant.patient_id,
            card_id,
        )
    return HeaderHistory(
        items=[
            HeaderVersionOut(
                version=row["version"],
                last_menstrual_period=row["last_menstrual_period"],
                header=_header(row["header"]),
                author=_author(row),
            )
            for row in rows
        ]
    )


async def record_outcome(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, data: OutcomeIn
) -> PregnancyCard:
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now = utcnow()
    on = today()
    async with DB.transaction(), DB.connection() as connection:
        card = await _card_row(connection, grant.patient_id, card_id, lock="update")
        if card["status"] != ONGOING:
            if card["status"] == data.outcome and card["outcome_date"] == data.date:
                return await _assemble(connection, card, on)  # the same PUT again changes nothing
            raise Conflict(
                f"the outcome is already recorded (status {card['status']}); a closed card is not reopened",
                extra={"cardStatus": card["status"]},
            )
        due = await _due(connection, card)
        _check_entry_date(data.date, due.due_date, on, "date", "outcome")
        _check_outcome_fits_age(data, due.due_date)
        await connection.execute(
            """
            UPDATE pregnancy_card SET status = $3, outcome_date = $4, outcome_note = $5,
                outcome_by_hpr = $6, outcome_by_name = $7, outcome_by_role = $8, outcome_by_org = $9,
                outcome_by_org_kind = $10, outcome_at = $11, updated_at = $11
            WHERE id = $1 AND patient_id = $2
            """,
            card_id,
            grant.patient_id,
            data.outcome,
            data.date,
            data.note,
            *writer.values(now),
        )
        # Measurements read this (no pregnancy BP alerts; NEWS2 valid again 6 weeks after the outcome date).
        await record_pregnancy_outcome(grant.patient_id, data.outcome, data.date)
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CARD_CLOSED, card_id)
    return await _read(grant.patient_id, card_id)


# --- clinician: entries ------------------------------------------------------------------------------


async def _open_card_for_entry(connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, what: str) -> asyncpg.Record:
    # FOR SHARE: entries may be written side by side, but not while the card is being closed.
    card = await _card_row(connection, patient_id, card_id, lock="share")
    _require_open(card, what)
    return card


async def add_consultation(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, data: ConsultationIn
) -> ConsultationOut:
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await _open_card_for_entry(connection, grant.patient_id, card_id, "new consultations")
        due = await _due(connection, card)
        _check_consultation(data, due.due_date, on)
        row = await _insert_consultation(
            connection,
            grant.patient_id,
            card_id,
            entry_id=uuid.uuid4(),
            version=1,
            data=data,
            reason=None,
            writer=writer,
            now=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CONSULTATION_ADDED, card_id)
    return _consultation_out(row, due.due_date)


async def _insert_consultation(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    entry_id: uuid.UUID,
    version: int,
    data: ConsultationIn,
    reason: str | None,
    writer: Writer,
    now: datetime,
) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow(
        """
        INSERT INTO pregnancy_consultation (
            id, patient_id, card, entry_id, version, correction_reason, date, gestational_week, weight_kg, systolic,
            diastolic, urine_protein, urine_glucose, hb, sf_cm, fetal_heart, presentation, fetal_movements, oedema,
            note, author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                $21, $22, $23, $24, $25, $26)
        RETURNING *
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        entry_id,
        version,
        reason,
        data.date,
        data.gestational_week,
        data.weight_kg,
        data.systolic,
        data.diastolic,
        data.urine_protein,
        data.urine_glucose,
        data.hb,
        data.sf_cm,
        data.fetal_heart,
        data.presentation,
        data.fetal_movements,
        data.oedema,
        data.note,
        *writer.values(now),
    )
    return row


async def correct_consultation(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    entry_id: uuid.UUID,
    data: ConsultationCorrectionIn,
    if_match: str | None,
) -> ConsultationOut:
    """A corrected row is a new version; the old one is kept, marked superseded, in the history."""
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await _card_row(connection, grant.patient_id, card_id, lock="share")
        current = await connection.fetchrow(
            """
            SELECT id, version FROM pregnancy_consultation
            WHERE patient_id = $1 AND card = $2 AND entry_id = $3 AND superseded_at IS NULL FOR UPDATE
            """,
            grant.patient_id,
            card_id,
            entry_id,
        )
        if current is None:
            raise NotFound("no such consultation on this card")
        require_if_match(if_match, current["version"], resource="consultation")
        _require_open(card, "corrections")
        due = await _due(connection, card)
        _check_consultation(data, due.due_date, on)
        await connection.execute(
            "UPDATE pregnancy_consultation SET superseded_at = $2 WHERE patient_id = $3 AND id = $1",
            current["id"],
            now,
            grant.patient_id,
        )
        fields = {name: getattr(data, name) for name in ConsultationIn.__struct_fields__}
        row = await _insert_consultation(
            connection,
            grant.patient_id,
            card_id,
            entry_id=entry_id,
            version=current["version"] + 1,
            data=ConsultationIn(**fields),
            reason=data.reason,
            writer=writer,
            now=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CONSULTATION_CORRECTED, card_id)
    return _consultation_out(row, due.due_date)


async def consultation_history(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, entry_id: uuid.UUID
) -> ConsultationHistory:
    grant = await _grant(principal, patient_id, "read", card_id)
    async with DB.connection() as connection:
        card = await _card_row(connection, grant.patient_id, card_id)
        due = await _due(connection, card)
        rows = await connection.fetch(
            """
            SELECT * FROM pregnancy_consultation WHERE patient_id = $1 AND card = $2 AND entry_id = $3
            ORDER BY version DESC
            """,
            grant.patient_id,
            card_id,
            entry_id,
        )
    if not rows:
        raise NotFound("no such consultation on this card")
    return ConsultationHistory(
        items=[
            ConsultationVersionOut(**_consultation_fields(row, due.due_date), superseded_at=row["superseded_at"])
            for row in rows
        ]
    )


async def add_ultrasound(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, data: UltrasoundIn
) -> UltrasoundOut:
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await _open_card_for_entry(connection, grant.patient_id, card_id, "new ultrasounds")
        due = await _due(connection, card)
        _check_entry_date(data.date, due.due_date, on, "date", "ultrasound")
        if data.due_date is not None:
            scan_age = _age(data.due_date, data.date)
            if scan_age is None or not 5 <= scan_age.weeks <= 42:
                raise BadRequest(
                    "this due date would put the scan outside weeks 5 to 42 of the pregnancy", field="dueDate"
                )
        row = await connection.fetchrow(
            """
            INSERT INTO pregnancy_ultrasound (id, patient_id, card, date, kind, due_date, fetuses, placenta, findings,
                                              author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            RETURNING *
            """,
            uuid.uuid4(),
            grant.patient_id,
            card_id,
            data.date,
            data.kind,
            data.due_date,
            data.fetuses,
            data.placenta,
            data.findings,
            *writer.values(now),
        )
        due, dating_id = _dating(
            card["last_menstrual_period"], await connection.fetch(_ULTRASOUNDS, grant.patient_id, card_id)
        )
        # Rolled back with the scan if it would date the pregnancy after entries already on the card.
        await _check_nothing_predates(connection, card, due.due_date, field="dueDate")
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_ULTRASOUND_ADDED, card_id)
    return _ultrasound_out(row, due.due_date, dating_id)


async def add_vaccine(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, data: VaccineIn
) -> VaccineOut:
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await _open_card_for_entry(connection, grant.patient_id, card_id, "new vaccines")
        due = await _due(connection, card)
        _check_entry_date(data.given_on, due.due_date, on, "givenOn", "vaccination")
        row = await connection.fetchrow(
            """
            INSERT INTO pregnancy_vaccine (id, patient_id, card, vaccine, given_on, note, author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            RETURNING *
            """,
            uuid.uuid4(),
            grant.patient_id,
            card_id,
            data.vaccine,
            data.given_on,
            data.note,
            *writer.values(now),
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_VACCINE_ADDED, card_id)
    return _vaccine_out(row)


async def add_test(principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, data: TestIn) -> TestOut:
    value, unit, result = _check_test(data)
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await _open_card_for_entry(connection, grant.patient_id, card_id, "new test results")
        due = await _due(connection, card)
        _check_entry_date(data.taken_on, due.due_date, on, "takenOn", "test")
        row = await connection.fetchrow(
            """
            INSERT INTO pregnancy_test (id, patient_id, card, test, taken_on, value, unit, result, note,
                                        author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            RETURNING *
            """,
            uuid.uuid4(),
            grant.patient_id,
            card_id,
            data.test,
            data.taken_on,
            value,
            unit,
            result,
            data.note,
            *writer.values(now),
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_TEST_ADDED, card_id)
    return _test_out(row)


async def add_earlier_pregnancy(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID, data: EarlierPregnancyIn
) -> EarlierPregnancyOut:
    _check_earlier([data], today())
    grant = await _grant(principal, patient_id, "write", card_id)
    writer = Writer.of(principal)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        await _open_card_for_entry(connection, grant.patient_id, card_id, "new entries")
        row = await _insert_earlier(connection, grant.patient_id, card_id, data, writer=writer, now=now)
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_EARLIER_PREGNANCY_ADDED, card_id)
    return _earlier_out(row)


# --- citizen -----------------------------------------------------------------------------------------


async def my_cards(me: Grant) -> CardList:
    return await _summaries(me.patient_id)


async def my_card(me: Grant, card_id: uuid.UUID) -> PregnancyCard:
    return await _read(me.patient_id, card_id)


async def add_note(me: Grant, card_id: uuid.UUID, data: NoteIn) -> NoteOut:
    text = data.text.strip()
    if not text:
        raise BadRequest("the note is empty", field="text")
    async with DB.transaction(), DB.connection() as connection:
        await _open_card_for_entry(connection, me.patient_id, card_id, "new notes")
        row = await connection.fetchrow(
            """
            INSERT INTO pregnancy_note (id, patient_id, card, kind, text, created_at)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
            """,
            uuid.uuid4(),
            me.patient_id,
            card_id,
            data.kind,
            text,
            utcnow(),
        )
        await events.append_event(me.patient_id, events.EventType.PREGNANCY_NOTE_ADDED, card_id)
    return _note_out(row)


# CLINICAL.md (måledata): a reading more than 5 minutes in the future is rejected.
MAX_FUTURE = timedelta(minutes=5)


def _check_self_registration(data: SelfRegistrationIn, now: datetime) -> None:
    if data.weight_kg is None and data.systolic is None and data.diastolic is None and data.fetal_movements is None:
        raise BadRequest("record at least one of weightKg, systolic and diastolic, fetalMovements", field="body")
    if (data.systolic is None) != (data.diastolic is None):
        missing = "diastolic" if data.diastolic is None else "systolic"
        raise BadRequest("blood pressure needs both systolic and diastolic", field=missing)
    if data.systolic is not None and data.diastolic is not None and data.systolic <= data.diastolic:
        raise BadRequest("systolic must be higher than diastolic", field="systolic")
    if data.effective_at > now + MAX_FUTURE:
        raise BadRequest("the time of the registration is in the future", field="effectiveAt")


async def add_self_registration(me: Grant, card_id: uuid.UUID, data: SelfRegistrationIn) -> SelfRegistrationOut:
    """The woman's own weight, blood pressure or fetal movements, on her card beside the clinicians' values.

    Home blood pressure goes through the same pregnancy rule as uploaded measurements (CLINICAL.md:
    ≥140/90 alerts the midwife and GP, ≥160/110 urgently), in the same transaction as the registration.
    """
    now = utcnow()
    _check_self_registration(data, now)
    async with DB.transaction(), DB.connection() as connection:
        card = await _open_card_for_entry(connection, me.patient_id, card_id, "new registrations")
        due = await _due(connection, card)
        _check_entry_date(
            data.effective_at.astimezone(OSLO).date(), due.due_date, today(), "effectiveAt", "registration"
        )
        row = await connection.fetchrow(
            """
            INSERT INTO pregnancy_self_registration (id, patient_id, card, effective_at, weight_kg, systolic, diastolic,
                                                     fetal_movements, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *
            """,
            uuid.uuid4(),
            me.patient_id,
            card_id,
            data.effective_at,
            data.weight_kg,
            data.systolic,
            data.diastolic,
            data.fetal_movements,
            now,
        )
        await events.append_event(me.patient_id, events.EventType.PREGNANCY_SELF_REGISTRATION_ADDED, card_id)
        if data.systolic is not None:
            await _alert_on_home_blood_pressure(me.patient_id, row)
    return _self_registration_out(row, due.due_date)


async def _alert_on_home_blood_pressure(patient_id: uuid.UUID, row: asyncpg.Record) -> None:
    """A reading typed on the card alerts exactly as an uploaded one does (core's one rule)."""
    await raise_pregnancy_blood_pressure_alert(
        patient_id,
        systolic=row["systolic"],
        diastolic=row["diastolic"],
        at=row["effective_at"],
        resource_type="pregnancy-self-registration",
        resource_id=row["id"],
    )


# Rendering costs a few hundred milliseconds of CPU and the output is deterministic, so a card unchanged since
# the last download (same content, same print date) is served from memory. The key is a digest of the content:
# only a caller who already has the content can address an entry.
_PDF_CACHE: OrderedDict[bytes, bytes] = OrderedDict()
PDF_CACHE_SIZE = 64
# reportlab holds the GIL: more parallel renders only slow each other down and starve the thread pool.
_RENDERING = asyncio.Semaphore(2)


async def my_card_pdf(me: Grant, card_id: uuid.UUID) -> bytes:
    card = await my_card(me, card_id)
    on = today()
    # The name is the one her login carries (the patient record holds none); without it the row prints empty.
    name = me.principal.name if isinstance(me.principal, CitizenPrincipal) else None
    # The card's own schedule status: the next programme item, and the vaccines offered beside it (CLINICAL.md v1.1).
    sheet = printout(card, on, name=name, next_due=card.next_due, vaccines_offered=card.vaccines_due)
    key = hashlib.sha256(msgspec.json.encode(sheet)).digest()
    cached = _PDF_CACHE.get(key)
    if cached is not None:
        _PDF_CACHE.move_to_end(key)
        return cached
    async with _RENDERING:
        # CPU-bound: keep it off the event loop.
        document = await asyncio.to_thread(pdf.render_card_pdf, sheet)
    _PDF_CACHE[key] = document
    if len(_PDF_CACHE) > PDF_CACHE_SIZE:
        _PDF_CACHE.popitem(last=False)
    return document


# --- the printable card ------------------------------------------------------------------------------

ROLE_NB = {"JO": "jordmor", "LE": "lege", "SP": "sykepleier"}
PRESENTATION_NB = {"cephalic": "hode", "breech": "sete", "transverse": "tverr", "oblique": "skrå", "unknown": "ukjent"}
VACCINE_NB = {
    "whooping-cough": "Kikhoste",
    "influenza": "Influensa",
    "covid-19": "Covid-19",
    "anti-d": "Anti-D-profylakse",
    "other": "Annen",
}
MODE_NB = {"vaginal": "vaginal", "assisted-vaginal": "assistert vaginal", "caesarean": "keisersnitt"}


def _print_author(author: EntryAuthor) -> pdf.Author:
    return pdf.Author(
        name=author.name or f"HPR {author.hpr}",
        role=ROLE_NB.get(author.role, author.role),
        organisation=f"org.nr. {author.organisation}",
        hpr=author.hpr,
    )


def _extra_facts(header: HeaderOut) -> list[tuple[str, str]]:
    """What the birth ward needs from the header besides blood type, gravida/para, illnesses and lifestyle."""
    facts: list[tuple[str, str]] = []
    if header.allergies:
        facts.append(("CAVE / allergier", header.allergies))
    if header.medicines:
        facts.append(("Legemidler", header.medicines))
    if header.height_cm and header.pre_pregnancy_weight_kg:
        facts.append(
            (
                "Høyde / vekt før svangerskapet",
                f"{header.height_cm:g} cm / {header.pre_pregnancy_weight_kg:g} kg (KMI {header.bmi})",
            )
        )
    for label, contact in (("Fastlege", header.gp), ("Jordmor", header.midwife)):
        if contact is not None:
            facts.append(
                (label, ", ".join(part for part in (contact.name, contact.organisation, contact.phone) if part))
            )
    if header.planned_place_of_birth:
        facts.append(("Planlagt fødested", header.planned_place_of_birth))
    return facts


def printout(
    card: PregnancyCard,
    printed_on: date,
    *,
    name: str | None = None,
    next_due: DueItem | None = None,
    vaccines_offered: Sequence[DueItem] = (),
) -> pdf.CardPrintout:
    """The card as the PDF module wants it, with Norwegian words for the API's codes.

    `next_due` and `vaccines_offered` come from the card's schedule status (`nextDue`, `vaccinesDue`).
    """
    header = card.header
    age = card.gestational_age
    lifestyle = header.lifestyle
    return pdf.CardPrintout(
        printed_on=printed_on,
        name=name,
        due_date=card.due_date,
        due_date_source=card.due_date_source,
        last_menstrual_period=card.last_menstrual_period,
        gestational_age_today=GestationalAge(weeks=age.weeks, days=age.days) if age is not None else None,
        blood_type=header.blood_type,
        rhd=header.rhd,
        antibodies=header.antibodies,
        gravida=header.gravida,
        para=header.para,
        illnesses=[
            pdf.IllnessRow(name=illness.name, needs_extra_follow_up=illness.needs_extra_follow_up)
            for illness in header.illnesses
        ],
        lifestyle=(
            pdf.LifestyleFacts(
                folate=lifestyle.folate,
                tobacco=lifestyle.tobacco,
                snus=lifestyle.snus,
                alcohol=lifestyle.alcohol,
                other_substances=lifestyle.other_substances,
            )
            if lifestyle is not None
            else None
        ),
        tests=[
            pdf.TestRow(test=t.test, taken_on=t.taken_on, value=t.value, unit=t.unit, result=t.result, note=t.note)
            for t in card.tests
        ],
        earlier_pregnancies=[
            pdf.EarlierPregnancy(
                year=p.year,
                week=p.week,
                birth_weight_g=p.birth_weight_g,
                mode="spontanabort" if p.kind == "miscarriage" else MODE_NB.get(p.mode or "", p.mode),
                complications=p.complications,
            )
            for p in card.earlier_pregnancies
        ],
        consultations=[
            pdf.ConsultationRow(
                date=c.date,
                gestational_age=GestationalAge(weeks=c.gestational_age.weeks, days=c.gestational_age.days),
                author=_print_author(c.author),
                weight_kg=c.weight_kg,
                systolic=c.systolic,
                diastolic=c.diastolic,
                urine_protein=c.urine_protein,
                urine_glucose=c.urine_glucose,
                hb=c.hb,
                sf_cm=c.sf_cm,
                fetal_heart=c.fetal_heart,
                presentation=PRESENTATION_NB.get(c.presentation or "", c.presentation),
                fetal_movements=c.fetal_movements,
                oedema=c.oedema,
                note=c.note,
            )
            for c in card.consultations
        ],
        ultrasounds=[
            pdf.UltrasoundRow(
                date=u.date,
                gestational_age=(
                    GestationalAge(weeks=u.gestational_age.weeks, days=u.gestational_age.days)
                    if u.gestational_age is not None
                    else None
                ),
                due_date=u.due_date,
                fetuses=u.fetuses,
                placenta=u.placenta,
                findings=u.findings,
            )
            for u in card.ultrasounds
        ],
        vaccines=[
            pdf.VaccineRow(name=VACCINE_NB.get(v.vaccine, v.vaccine), given_on=v.given_on, note=v.note)
            for v in card.vaccines
        ],
        self_registrations=[
            pdf.SelfRegistrationRow(
                gestational_age=GestationalAge(weeks=r.gestational_age.weeks, days=r.gestational_age.days),
                weight_kg=r.weight_kg,
                systolic=r.systolic,
                diastolic=r.diastolic,
            )
            for r in card.self_registrations
            if r.gestational_age is not None
        ],
        next_due=next_due,
        vaccines_offered=list(vaccines_offered),
        extra_facts=_extra_facts(header),
    )


async def has_card(patient_id: uuid.UUID) -> bool:
    """Whether the patient has any card (the demo loader's idempotency check)."""
    async with DB.connection() as connection:
        found = await connection.fetchval("SELECT 1 FROM pregnancy_card WHERE patient_id = $1 LIMIT 1", patient_id)
    return found is not None
