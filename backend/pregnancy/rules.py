"""Who may write a pregnancy card and what is plausible on it: the Needs, and the checks that are pure rules.

Access: a clinician reaches a card through `authorize(..., READ or WRITE)` (resource `pregnancy`, consent
`pregnancy-card`); without the woman's consent she gets 404 exactly as without a care relation (emergency
access excepted, in the core). Creating a card is the same: a card is the woman's, and without her consent no
clinician may even learn whether she is pregnant, so a missing consent is indistinguishable from no access.

A card is written by midwives (JO) and doctors (LE) at a helsestasjon, a hospital or a GP office (the Needs'
`Role`: anyone else is refused by core with 403 and a denied audit row); a midwife who creates the card attests
her organisation's `midwife` care relation in the card's own transaction if it has none (`create_need`).
A closed card (any outcome) is read-only: every write answers 409 with the reason (`require_open`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend.core.access import Grant, Need, Role, clinician_of, may_attest
from backend.core.audit import Author
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import oslo_now
from backend.core.errors import BadRequest, Conflict
from backend.pregnancy.dating import PREGNANCY_DAYS, check_stated_week, gestational_age_on
from backend.pregnancy.queries import CardRow
from backend.pregnancy.schedule import ONGOING
from backend.pregnancy.schemas import (
    CardHeader,
    ConsultationIn,
    EarlierPregnancyIn,
    OutcomeIn,
    SelfRegistrationIn,
    TestIn,
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


def create_need(principal: ClinicianPrincipal) -> Need:
    """What creating a card needs: a midwife (JO) whose organisation may attest it also attests her relation."""
    midwife = principal.authorization == "JO" and may_attest(principal, "midwife")
    return CREATE_AS_MIDWIFE if midwife else WRITE


def writer_of(grant: Grant) -> Author:
    """The clinician behind an entry, as her token named her when she wrote it (core's one author value)."""
    return Author.of(clinician_of(grant))


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


# CLINICAL.md v1.1: symphysis-fundus height is accepted and plotted from week 24.
SF_FROM_WEEK = 24
# CLINICAL.md v1.1: a pregnancy ending at 22+0 or later is a birth (delivered or stillbirth); before, a miscarriage.
VIABILITY_WEEK = 22

# CLINICAL.md (måledata): a reading more than 5 minutes in the future is rejected.
MAX_FUTURE = timedelta(minutes=5)


def today() -> date:
    """The date on the card: Europe/Oslo."""
    return oslo_now().date()


def zero(due: date) -> date:
    """Day 0+0 of a pregnancy with this due date."""
    return due - timedelta(days=PREGNANCY_DAYS)


def require_open(card: CardRow, what: str) -> None:
    if card.status != ONGOING:
        raise Conflict(
            f"this pregnancy card is closed (status {card.status}): a closed card takes no {what}",
            extra={"cardStatus": card.status},
        )


def check_lmp(lmp: date, on: date, field: str = "lastMenstrualPeriod") -> None:
    if lmp > on:
        raise BadRequest("the last menstrual period cannot be in the future", field=field)
    if (on - lmp).days > MAX_LMP_AGE_DAYS:
        raise BadRequest(f"the last menstrual period is more than {MAX_LMP_AGE_DAYS // 7} weeks ago", field=field)


def check_header(header: CardHeader) -> None:
    if header.gravida is not None and header.para is not None and header.para >= header.gravida:
        raise BadRequest("para (earlier births) must be less than gravida, which counts this pregnancy", field="para")
    # Anti-D immunisation needs RhD-negative red cells; an RhD-positive woman cannot be RhD-immunised.
    if header.rhd_immunised and header.rhd != "negative":
        raise BadRequest("only an RhD-negative woman can be immunised against RhD (anti-D)", field="rhdImmunised")


def check_entry_date(on: date, due: date, today_: date, field: str, what: str) -> None:
    if on > today_:
        raise BadRequest(f"the {what} date cannot be in the future", field=field)
    start = zero(due)
    if on < start:
        raise BadRequest(
            f"the {what} date is before this pregnancy began (0+0 is {start.isoformat()})",
            field=field,
        )


def check_consultation(data: ConsultationIn, due: date, today_: date) -> None:
    check_entry_date(data.date, due, today_, "date", "consultation")
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


def check_earlier(items: Sequence[EarlierPregnancyIn], today_: date, prefix: str = "") -> None:
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


def check_outcome_fits_age(data: OutcomeIn, due: date) -> None:
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


@dataclass(frozen=True, slots=True)
class CheckedTest:
    """A test result as stored: the value in the test's fixed unit, or one of its allowed results."""

    test: str
    taken_on: date
    value: float | None
    unit: str | None
    result: str | None
    note: str | None


def check_test(data: TestIn) -> CheckedTest:
    """The checks of a test result that need no patient data, before the decision."""
    numeric = NUMERIC_TESTS.get(data.test)
    if numeric is not None:
        unit, low, high = numeric
        if data.result is not None:
            raise BadRequest(f"{data.test} is a numeric test: send value ({unit}), not result", field="result")
        if data.value is None or not low <= data.value <= high:
            raise BadRequest(f"{data.test} needs a value between {low:g} and {high:g} {unit}", field="value")
        return CheckedTest(data.test, data.taken_on, data.value, unit, None, data.note)
    allowed = RESULT_TESTS[data.test]
    if data.value is not None:
        raise BadRequest(f"{data.test} has a result, not a value", field="value")
    if data.result not in allowed:
        raise BadRequest(f"{data.test} result must be one of: {', '.join(allowed)}", field="result")
    return CheckedTest(data.test, data.taken_on, None, None, data.result, data.note)


def check_self_registration(data: SelfRegistrationIn, now: datetime) -> None:
    if data.weight_kg is None and data.systolic is None and data.diastolic is None and data.fetal_movements is None:
        raise BadRequest("record at least one of weightKg, systolic and diastolic, fetalMovements", field="body")
    if (data.systolic is None) != (data.diastolic is None):
        missing = "diastolic" if data.diastolic is None else "systolic"
        raise BadRequest("blood pressure needs both systolic and diastolic", field=missing)
    if data.systolic is not None and data.diastolic is not None and data.systolic <= data.diastolic:
        raise BadRequest("systolic must be higher than diastolic", field="systolic")
    if data.effective_at > now + MAX_FUTURE:
        raise BadRequest("the time of the registration is in the future", field="effectiveAt")
