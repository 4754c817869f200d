"""The legevakt overview's registry: the sections other domains contribute, read in its access decision's statement.

A view that combines domains (the legevakt overview, API.md "Municipal services and the legevakt overview")
must not import them. Each domain registers its section's query here with `@overview_source(name)` in its own
`overview.py`; the composition imports those modules (`backend/app.py`), and the overview route asks
`authorize_read(clinician, patient_id, need, sections_read(clinician, settings, answer, **own))`. A section's source takes the clinician and the
app's settings and answers a `SectionQuery`: a constant SELECT of its own, its arguments (the patient, whether
the basis is emergency access, whether she may learn what the Need's `reveals` consent protects are `PATIENT`,
`EMERGENCY`, `REVEALS`: the decision's, not the caller's), the shape of a row and how the section is built of its
rows. It never authorizes or audits. Core runs every section's SELECT as one JSON column of ONE statement, the
`Read` of `authorize_read`: the decision, its one audit row (resource type `overview`) and every section in one
round trip and one snapshot, no transaction; a refused decision reads nothing. The sections' shapes are declared
here, the vocabulary both sides share, so the answer is typed without the route's domain knowing the others.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

import msgspec

from backend.core.access import Read, bound_to_decision
from backend.core.alerts import OPEN_ALERTS, OVERVIEW_ALERTS, OpenAlertRow, open_alerts_out
from backend.core.auth import ClinicianPrincipal
from backend.core.context import age_and_sex_of
from backend.core.settings import Settings

SectionName = Literal["medications", "prescriptions", "vitals", "pregnancy", "labResults", "documents", "alerts"]

# How far back the overview looks (API.md): vitals of the last 72 hours, flagged lab results of the last 14 days.
VITALS_HOURS = 72
LAB_RESULT_DAYS = 14
NEWEST_DOCUMENTS = 5


class OverviewMedication(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    name: str
    atc: str | None = None
    form: str | None = None
    strength: str | None = None
    dosage: str | None = None
    reason: str | None = None
    kind: str | None = None
    started_at: date | None = None


class OverviewPrescription(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    name: str
    atc: str | None = None
    dosage_text: str | None = None
    dispensings_left: int | None = None
    valid_until: date | None = None
    status: str


class OverviewReading(msgspec.Struct, kw_only=True, rename="camel"):
    value: float | None = None
    unit: str | None = None
    systolic: float | None = None
    diastolic: float | None = None
    at: datetime


class OverviewNews2(msgspec.Struct, kw_only=True, rename="camel"):
    total: int
    risk: str
    at: datetime
    valid_for_patient: bool


class OverviewVitals(msgspec.Struct, kw_only=True, rename="camel"):
    news2: OverviewNews2 | None = None
    blood_pressure: OverviewReading | None = None
    pulse: OverviewReading | None = None
    spo2: OverviewReading | None = None
    temperature: OverviewReading | None = None


class OverviewGestationalAge(msgspec.Struct, kw_only=True, rename="camel"):
    weeks: int
    days: int


class OverviewPregnancy(msgspec.Struct, kw_only=True, rename="camel"):
    status: str
    gestational_age: OverviewGestationalAge | None = None


class OverviewLabResult(msgspec.Struct, kw_only=True, rename="camel"):
    report_id: uuid.UUID
    code: str
    display: str
    value: float | str
    unit: str | None = None
    flag: str
    issued_at: datetime


class OverviewDocument(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    type: str
    title: str
    date: date
    organisation: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Decided:
    """An argument of a section that the overview's access decision knows, not its caller: the composition writes
    the decision's own column (`core.access.Read`'s lateral row `access`) where the section wrote its `$n`."""

    column: str


# The patient the decision was asked about; whether its basis is emergency access; whether the reader may learn
# what the overview Need's `reveals` consent protects (`grant_passes_consent`'s rule, decided in the statement).
PATIENT = Decided("access.patient_id")
EMERGENCY = Decided("access.emergency")
REVEALS = Decided("access.reveals")


@dataclass(frozen=True, slots=True)
class Since:
    """An argument of a section that is the start of a window ending now: the composition binds it to the read's
    time less `window`, and a kept overview is keyed by the window, not the time (its section's `expires` says
    when a row leaves the window)."""

    window: timedelta


VITALS_WINDOW = Since(timedelta(hours=VITALS_HOURS))
LAB_RESULTS_WINDOW = Since(timedelta(days=LAB_RESULT_DAYS))


@dataclass(frozen=True, slots=True)
class SectionQuery:
    """One section's part of the overview's one statement: a SELECT (its own `$1..$n`), its arguments, the shape
    of one of its rows, and how the section is made of those rows (in the SELECT's order).

    An argument may be `PATIENT`, `EMERGENCY` or `REVEALS` (what the access decision finds in the same statement),
    or a `Since` (a window ending now). The composition runs every section's SELECT as a JSON array inside the
    decision's statement, so the rows come back as JSON objects keyed by the SELECT's column names and are decoded
    straight into `row` (a msgspec type whose fields are those names).

    The overview is kept until she changes (every write appends an event), midnight in Norway (what counts days:
    today's medicines, a prescription's last day, the look-back of documents, her age) or 5 minutes. A section
    whose rows change with time alone otherwise says when, from its rows: `expires` (None: not by time)."""

    sql: str
    args: Sequence[Any]
    row: type[Any]
    build: Callable[[list[Any]], Any]
    expires: Callable[[list[Any]], datetime | None] | None = None


# A section's query for this clinician; None when the section is null without reading anything.
SectionSource = Callable[[ClinicianPrincipal, Settings], SectionQuery | None]


@dataclass(frozen=True, slots=True)
class RegisteredSection:
    name: SectionName
    query: SectionSource


_SECTIONS: dict[SectionName, RegisteredSection] = {}
T = TypeVar("T")


def overview_source(name: SectionName) -> Callable[[SectionSource], SectionSource]:
    """Register the query of the overview's section `name` (one per section; the same function may register again)."""

    def register(query: SectionSource) -> SectionSource:
        known = _SECTIONS.get(name)
        if known is not None and (known.query.__module__, known.query.__qualname__) != (
            query.__module__,
            query.__qualname__,
        ):
            raise ValueError(f"overview section {name!r} is registered twice")
        _SECTIONS[name] = RegisteredSection(name=name, query=query)
        return query

    return register


def registered_sections() -> tuple[SectionName, ...]:
    return tuple(_SECTIONS)


# A part: its SQL and, per its parameter ($1 first), the decision's column it names or None for an argument.
_Part = tuple[str, tuple[str | None, ...]]


_PART_NAMES = tuple(f"part_{index}" for index in range(64))  # the composed statement's columns, by position


@functools.lru_cache(maxsize=64)
def _composed(parts: tuple[_Part, ...]) -> str:
    """One SELECT with one JSON column per part (`part_0`…); each part's `$n` is the decision's column it names, or
    moved past the arguments of the parts before."""
    if len(parts) > len(_PART_NAMES):
        raise ValueError(f"the overview composes at most {len(_PART_NAMES)} parts")
    columns = []
    offset = 0
    for index, (sql, decided) in enumerate(parts):
        shifted = bound_to_decision(sql, decided, offset=offset)
        offset += decided.count(None)
        # Only the sections' constant SQL and the decision's constant column names are interpolated.
        columns.append(f"(SELECT coalesce(json_agg(r), '[]') FROM ({shifted}) r)::text AS part_{index}")  # noqa: S608
    return "SELECT " + ",\n       ".join(columns)


_DECODERS: dict[type[Any], msgspec.json.Decoder[list[Any]]] = {}


def _decoder(row: type[Any]) -> msgspec.json.Decoder[list[Any]]:
    found = _DECODERS.get(row)
    if found is None:
        found = _DECODERS[row] = msgspec.json.Decoder(list[row])  # type: ignore[valid-type]
    return found


def sections_read(
    principal: ClinicianPrincipal,
    settings: Settings,
    answer: Callable[[dict[str, Any]], T],
    now: datetime,
    **own: SectionQuery,
) -> Read[tuple[T, datetime | None]]:
    """Every registered section and the caller's `own` queries as ONE read of the access decision's statement
    (`authorize_read`, with the overview's Need: its one audit row; 403 by role and 404 out of scope as
    `authorize`, and then no section is read); `answer` makes the answer from the sections by name.

    A section this build lacks is absent; a section whose source gave no query is None. One statement is one
    snapshot, so no transaction is needed, and one round trip: measured, the statements' fixed costs (a round
    trip, a bind, an execution, rows decoded in Python) were the overview's cost, not the reads themselves.

    The read's answer is (the answer, the earliest time a section `expires`); its `key` is its arguments with each
    window (`Since`) in place of its start at `now`.
    """
    answers: dict[str, Any] = {}
    asked: list[tuple[str, SectionQuery]] = []
    parts: list[_Part] = []
    args: list[Any] = []
    key: list[Any] = []
    for name, query in itertools.chain(
        [(section.name, section.query(principal, settings)) for section in _SECTIONS.values()],
        [("_relations", _reader_relations(principal))],
        own.items(),
    ):
        if query is None:
            answers[name] = None
            continue
        asked.append((name, query))
        decided: list[str | None] = []
        for arg in query.args:  # one pass: the decision's columns by position, the other arguments in order
            if type(arg) is Decided:
                decided.append(arg.column)
                continue
            decided.append(None)
            args.append(now - arg.window if type(arg) is Since else arg)
            key.append(arg)
        parts.append((query.sql, tuple(decided)))

    def result(rows: list[Any]) -> tuple[T, datetime | None]:
        [row] = rows
        ends: list[datetime] = []
        for index, (name, query) in enumerate(asked):
            decoded = _decoder(query.row).decode(row[_PART_NAMES[index]])
            answers[name] = query.build(decoded)
            if query.expires is not None and (end := query.expires(decoded)) is not None:
                ends.append(end)
        return answer(answers), min(ends, default=None)

    return Read(
        sql=_composed(tuple(parts)) if parts else "SELECT true AS nothing",
        args=tuple(args),
        result=result,
        key=tuple(key),
    )


# When the reader's organisation's care relations to her begin or end (`valid_from`, `valid_until`): the alerts
# it may see follow its relations' kinds, which change with time alone then.
_RELATION_CHANGES = """
SELECT least(min(valid_from) FILTER (WHERE valid_from > now()),
             min(valid_until) FILTER (WHERE valid_until > now())) AS changes_at
FROM care_relation WHERE patient_id = $1 AND org_number = $2
"""


class _RelationChanges(msgspec.Struct, frozen=True):
    changes_at: datetime | None


def _reader_relations(principal: ClinicianPrincipal) -> SectionQuery:
    return SectionQuery(
        sql=_RELATION_CHANGES,
        args=(PATIENT, principal.org_number),
        row=_RelationChanges,
        build=lambda rows: None,
        expires=lambda rows: rows[0].changes_at if rows else None,
    )


def oldest_plus(window: Since, times: Sequence[datetime]) -> datetime | None:
    """When the oldest of `times` leaves `window` (a section's `expires`)."""
    return min(times) + window.window if times else None


@overview_source("alerts")
def open_alerts(principal: ClinicianPrincipal, _settings: Settings) -> SectionQuery | None:
    """The patient's open alerts the reader's organisation may see (core's own section)."""
    args = (principal.org_number, principal.hpr, PATIENT, EMERGENCY, OVERVIEW_ALERTS)
    return SectionQuery(sql=OPEN_ALERTS, args=args, row=OpenAlertRow, build=open_alerts_out)


# The patient's sealed identity number (hex), which her age and sex are read from (`context.age_and_sex_of`).
_SEALED_IDENTITY = "SELECT encode(fnr_sealed, 'hex') AS sealed FROM patient WHERE id = $1"


class _SealedIdentity(msgspec.Struct, frozen=True):
    sealed: str | None


def age_and_sex_query(day: date) -> SectionQuery:
    """Her completed years on `day` and her legal sex, as a part of the overview's statement."""

    def build(rows: list[_SealedIdentity]) -> tuple[int | None, str | None]:
        sealed = rows[0].sealed if rows else None
        return age_and_sex_of(bytes.fromhex(sealed) if sealed is not None else None, day)

    return SectionQuery(sql=_SEALED_IDENTITY, args=(PATIENT,), row=_SealedIdentity, build=build)
