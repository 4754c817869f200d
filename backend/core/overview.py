"""The legevakt overview's registry: the sections other domains contribute, read in one statement under one Grant.

A view that combines domains (the legevakt overview, API.md "Municipal services and the legevakt overview")
must not import them. Each domain registers its section's query here with `@overview_source(name)` in its own
`overview.py`; the composition imports those modules (`backend/app.py`), and the overview route asks
`read_sections(grant, settings, **own)`. A section's source takes the Grant the overview's one access decision
gave (one audit row: resource type `overview`) and the app's settings and answers a `SectionQuery`: a constant
SELECT of its own, its arguments, the shape of a row and how the section is built of its rows. It never
authorizes or audits again. Core runs every section's SELECT as one JSON column of ONE statement: one round
trip, one snapshot, no transaction (the bench scenario went from 12 statements to this one after the decision).
The sections' shapes are declared here, the vocabulary both sides share, so the answer is typed without the
route's domain knowing the others.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import msgspec

from backend.core.access import Grant
from backend.core.alerts import OPEN_ALERTS, OpenAlertRow, open_alerts_args, open_alerts_out
from backend.core.clock import utcnow
from backend.core.context import age_and_sex_of
from backend.core.db import DB
from backend.core.settings import Settings

SectionName = Literal["medications", "prescriptions", "vitals", "pregnancy", "labResults", "documents", "alerts"]
SectionReader = Callable[[Grant, Settings], Awaitable[Any]]

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
class SectionQuery:
    """One section's part of the overview's one statement: a SELECT (its own `$1..$n`), its arguments, the shape
    of one of its rows, and how the section is made of those rows (in the SELECT's order).

    The composition runs every section's SELECT as a JSON array inside one statement, so the rows come back as
    JSON objects keyed by the SELECT's column names and are decoded straight into `row` (a msgspec type whose
    fields are those names)."""

    sql: str
    args: Sequence[Any]
    row: type[Any]
    build: Callable[[list[Any]], Any]


# A section's query for this reader; None when the section is null without reading anything (no consent).
SectionSource = Callable[[Grant, Settings], Awaitable[SectionQuery | None]]


@dataclass(frozen=True, slots=True)
class RegisteredSection:
    name: SectionName
    query: SectionSource


_SECTIONS: dict[SectionName, RegisteredSection] = {}


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


_PARAMETER = re.compile(r"\$(\d+)")


def _shift(found: re.Match[str], *, by: int) -> str:
    return f"${int(found.group(1)) + by}"


@functools.lru_cache(maxsize=64)
def _composed(parts: tuple[tuple[str, int], ...]) -> str:
    """One SELECT with one JSON column per part; each part's `$n` moved past the parameters of the parts before."""
    columns = []
    offset = 0
    for sql, count in parts:
        shifted = _PARAMETER.sub(functools.partial(_shift, by=offset), sql)
        # Only the sections' constant SQL is interpolated; every value is a parameter.
        columns.append(f"(SELECT coalesce(json_agg(r), '[]') FROM ({shifted}) r)::text")  # noqa: S608
        offset += count
    return "SELECT " + ",\n       ".join(columns)


_DECODERS: dict[type[Any], msgspec.json.Decoder[list[Any]]] = {}


def _decoder(row: type[Any]) -> msgspec.json.Decoder[list[Any]]:
    found = _DECODERS.get(row)
    if found is None:
        found = _DECODERS[row] = msgspec.json.Decoder(list[row])  # type: ignore[valid-type]
    return found


async def read_sections(grant: Grant, settings: Settings, **own: SectionQuery) -> dict[str, Any]:
    """Every registered section for the patient of `grant`, and the caller's `own` queries, in ONE statement.

    A section this build lacks is absent; a section whose source gave no query is None. One statement is one
    snapshot, so no transaction is needed, and one round trip: measured, the statements' fixed costs (a round
    trip, a bind, an execution, rows decoded in Python) were the overview's cost, not the reads themselves.
    """
    queries: dict[str, SectionQuery | None] = {
        section.name: await section.query(grant, settings) for section in _SECTIONS.values()
    }
    queries.update(own)
    asked = [(name, query) for name, query in queries.items() if query is not None]
    answers: dict[str, Any] = {name: None for name, query in queries.items() if query is None}
    if not asked:
        return answers
    sql = _composed(tuple((query.sql, len(query.args)) for _, query in asked))
    async with DB.connection() as connection:
        row = await connection.fetchrow(sql, *(arg for _, query in asked for arg in query.args))
    for (name, query), document in zip(asked, row.values(), strict=True):
        answers[name] = query.build(_decoder(query.row).decode(document))
    return answers


@overview_source("alerts")
async def open_alerts(grant: Grant, _settings: Settings) -> SectionQuery | None:
    """The patient's open alerts the reader's organisation may see (core's own section)."""
    args = open_alerts_args(grant)
    if args is None:
        return None
    return SectionQuery(sql=OPEN_ALERTS, args=args, row=OpenAlertRow, build=open_alerts_out)


# The patient's sealed identity number (hex), which her age and sex are read from (`context.age_and_sex_of`).
_SEALED_IDENTITY = "SELECT encode(fnr_sealed, 'hex') AS sealed FROM patient WHERE id = $1"


class _SealedIdentity(msgspec.Struct, frozen=True):
    sealed: str | None


def age_and_sex_query(patient_id: uuid.UUID, day: date) -> SectionQuery:
    """Her completed years on `day` and her legal sex, as a part of the overview's statement."""

    def build(rows: list[_SealedIdentity]) -> tuple[int | None, str | None]:
        sealed = rows[0].sealed if rows else None
        return age_and_sex_of(bytes.fromhex(sealed) if sealed is not None else None, day)

    return SectionQuery(sql=_SEALED_IDENTITY, args=(patient_id,), row=_SealedIdentity, build=build)


def vitals_since() -> datetime:
    """The start of the overview's vitals window."""
    return utcnow() - timedelta(hours=VITALS_HOURS)


def lab_results_since() -> datetime:
    """The start of the overview's flagged-results window."""
    return utcnow() - timedelta(days=LAB_RESULT_DAYS)
