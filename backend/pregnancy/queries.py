"""Every SQL statement of the pregnancy card: functions of a connection and plain values, with typed results.

Reached only with `grant.patient_id` (the rules in card.py, entries.py, woman.py and view.py hold the Grant),
and every statement is filtered by the patient. Rows come back as the structs below, never as bare records.
The author of a row is core's `Author`; the tables keep its authorization in `…_role`, so every statement
that returns an author also names that column `…_authorization` for `Author.from_row`.

Statements that name a key or a conflict target (the schema is moving to composite `(patient_id, id)` keys):
`supersede_consultation` (by row id) and the inserts (each takes a fresh `id`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal, NamedTuple, TypeVar

import msgspec

from backend.core.audit import Author
from backend.core.rows import typed_row
from backend.pregnancy.schedule import ScheduleItem
from backend.pregnancy.schemas import (
    CardHeader,
    ConsultationIn,
    ConsultationOut,
    EarlierPregnancyIn,
    EarlierPregnancyOut,
    NoteOut,
    Status,
    TestOut,
    VaccineOut,
)

# --- typed rows --------------------------------------------------------------------------------------


class CardRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    patient_id: uuid.UUID
    status: Status
    version: int
    last_menstrual_period: dt.date
    header: CardHeader
    outcome_date: dt.date | None
    outcome_note: str | None
    outcome_by: Author | None
    outcome_at: dt.datetime | None
    created_by: Author
    created_at: dt.datetime
    updated_at: dt.datetime


class HeaderVersionRow(msgspec.Struct, kw_only=True, frozen=True):
    version: int
    last_menstrual_period: dt.date
    header: CardHeader
    author: Author
    recorded_at: dt.datetime


class ConsultationRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    entry_id: uuid.UUID
    version: int
    superseded_at: dt.datetime | None
    correction_reason: str | None
    date: dt.date
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
    author: Author
    recorded_at: dt.datetime


class UltrasoundRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    date: dt.date
    kind: str
    due_date: dt.date | None
    fetuses: int | None
    placenta: str | None
    findings: str | None
    author: Author
    recorded_at: dt.datetime


class VaccineRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    vaccine: str
    given_on: dt.date
    note: str | None
    author: Author
    recorded_at: dt.datetime


class TestRow(msgspec.Struct, kw_only=True, frozen=True):
    __test__ = False  # not a pytest class

    id: uuid.UUID
    test: str
    taken_on: dt.date
    value: float | None
    unit: str | None
    result: str | None
    note: str | None
    author: Author
    recorded_at: dt.datetime


class EarlierRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    year: int
    kind: str
    week: int | None
    birth_weight_g: int | None
    mode: str | None
    complications: str | None
    author: Author
    recorded_at: dt.datetime


class NoteRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    kind: str
    text: str
    created_at: dt.datetime


class SelfRegistrationRow(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    effective_at: dt.datetime
    weight_kg: float | None
    systolic: int | None
    diastolic: int | None
    fetal_movements: bool | None
    created_at: dt.datetime


class CurrentVersion(NamedTuple):
    id: uuid.UUID
    version: int


S = TypeVar("S", bound=msgspec.Struct)


def _authored(shape: type[S], row: Any) -> S:
    return typed_row(shape, row, author=Author.from_row(row, "author_"))


def _header(raw: str) -> CardHeader:
    return msgspec.json.decode(raw, type=CardHeader)


def _card(row: Any) -> CardRow:
    closed = row["outcome_by_hpr"] is not None
    return typed_row(
        CardRow,
        row,
        header=_header(row["header"]),
        created_by=Author.from_row(row, "created_by_"),
        outcome_by=Author.from_row(row, "outcome_by_") if closed else None,
    )


def _stamp(author: Author, at: dt.datetime) -> tuple[str, str | None, str, str, str, dt.datetime]:
    """The author columns of a row (`…_hpr, _name, _role, _org, _org_kind`) and its time."""
    return (author.hpr, author.name, author.authorization, author.organisation, author.org_kind, at)


# Every statement returning an author also returns `…_role AS …_authorization`, the name `Author.from_row` reads.


# --- the card ----------------------------------------------------------------------------------------

Lock = Literal["share", "update"] | None
_CARD_QUERIES: dict[Lock, str] = {
    None: "SELECT *, created_by_role AS created_by_authorization, outcome_by_role AS outcome_by_authorization FROM pregnancy_card WHERE id = $1 AND patient_id = $2",
    "share": "SELECT *, created_by_role AS created_by_authorization, outcome_by_role AS outcome_by_authorization FROM pregnancy_card WHERE id = $1 AND patient_id = $2 FOR SHARE",
    "update": "SELECT *, created_by_role AS created_by_authorization, outcome_by_role AS outcome_by_authorization FROM pregnancy_card WHERE id = $1 AND patient_id = $2 FOR UPDATE",
}


async def card(connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, *, lock: Lock = None) -> CardRow | None:
    row = await connection.fetchrow(_CARD_QUERIES[lock], card_id, patient_id)
    return _card(row) if row is not None else None


async def has_card(connection: Any, patient_id: uuid.UUID) -> bool:
    """Whether the patient has any card (the demo loader's idempotency check)."""
    found = await connection.fetchval("SELECT 1 FROM pregnancy_card WHERE patient_id = $1 LIMIT 1", patient_id)
    return found is not None


async def newest_card_id(connection: Any, patient_id: uuid.UUID) -> uuid.UUID | None:
    """Her ongoing card, or else the newest one (the legevakt overview's pregnancy status), or None."""
    found: uuid.UUID | None = await connection.fetchval(
        """
        SELECT id FROM pregnancy_card WHERE patient_id = $1
        ORDER BY status = 'ongoing' DESC, created_at DESC, id LIMIT 1
        """,
        patient_id,
    )
    return found


async def lock_ongoing_card(connection: Any, patient_id: uuid.UUID) -> uuid.UUID | None:
    """The id of her ongoing card, locked until the transaction ends, or None."""
    found: uuid.UUID | None = await connection.fetchval(
        "SELECT id FROM pregnancy_card WHERE patient_id = $1 AND status = 'ongoing' FOR UPDATE", patient_id
    )
    return found


async def cards_page(
    connection: Any, patient_id: uuid.UUID, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[CardRow]:
    """Her cards, newest first, before the (created_at, id) of a cursor."""
    rows = await connection.fetch(
        """
        SELECT *, created_by_role AS created_by_authorization, outcome_by_role AS outcome_by_authorization FROM pregnancy_card
        WHERE patient_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
        patient_id,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [_card(row) for row in rows]


async def insert_card(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    lmp: dt.date,
    header: CardHeader,
    author: Author,
    at: dt.datetime,
) -> None:
    """The card and its header's version 1."""
    header_json = msgspec.json.encode(header).decode()
    await connection.execute(
        """
        INSERT INTO pregnancy_card (id, patient_id, status, version, last_menstrual_period, header,
                                    created_by_hpr, created_by_name, created_by_role, created_by_org,
                                    created_by_org_kind, created_at, updated_at)
        VALUES ($1, $2, 'ongoing', 1, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $10)
        """,
        card_id,
        patient_id,
        lmp,
        header_json,
        *_stamp(author, at),
    )
    await _insert_header_version(connection, patient_id, card_id, 1, lmp, header_json, author, at)


async def update_header(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    version: int,
    lmp: dt.date,
    header: CardHeader,
    author: Author,
    at: dt.datetime,
) -> None:
    """The card's new header and LMP as `version`, and that version kept in its history."""
    header_json = msgspec.json.encode(header).decode()
    await connection.execute(
        """
        UPDATE pregnancy_card SET header = $3::jsonb, last_menstrual_period = $4, version = $5, updated_at = $6
        WHERE id = $1 AND patient_id = $2
        """,
        card_id,
        patient_id,
        header_json,
        lmp,
        version,
        at,
    )
    await _insert_header_version(connection, patient_id, card_id, version, lmp, header_json, author, at)


async def _insert_header_version(  # noqa: PLR0917 (private, called twice with every value in place)
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    version: int,
    lmp: dt.date,
    header_json: str,
    author: Author,
    at: dt.datetime,
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
        *_stamp(author, at),
    )


async def header_versions(
    connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, *, before: int | None, limit: int
) -> list[HeaderVersionRow]:
    """The header's versions, newest first, before a cursor's version."""
    rows = await connection.fetch(
        """
        SELECT *, author_role AS author_authorization FROM pregnancy_card_version
        WHERE patient_id = $1 AND card = $2 AND ($3::int IS NULL OR version < $3)
        ORDER BY version DESC LIMIT $4
        """,
        patient_id,
        card_id,
        before,
        limit,
    )
    return [
        typed_row(HeaderVersionRow, row, header=_header(row["header"]), author=Author.from_row(row, "author_"))
        for row in rows
    ]


async def close_card(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    outcome: str,
    on: dt.date,
    note: str | None,
    author: Author,
    at: dt.datetime,
) -> None:
    await connection.execute(
        """
        UPDATE pregnancy_card SET status = $3, outcome_date = $4, outcome_note = $5,
            outcome_by_hpr = $6, outcome_by_name = $7, outcome_by_role = $8, outcome_by_org = $9,
            outcome_by_org_kind = $10, outcome_at = $11, updated_at = $11
        WHERE id = $1 AND patient_id = $2
        """,
        card_id,
        patient_id,
        outcome,
        on,
        note,
        *_stamp(author, at),
    )


async def earliest_entry(connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID) -> dt.date | None:
    """The date of the card's earliest dated entry (current consultations, scans, vaccines, tests)."""
    earliest: dt.date | None = await connection.fetchval(
        """
        SELECT min(d) FROM (
            SELECT date AS d FROM pregnancy_consultation WHERE patient_id = $1 AND card = $2 AND superseded_at IS NULL
            UNION ALL SELECT date FROM pregnancy_ultrasound WHERE patient_id = $1 AND card = $2
            UNION ALL SELECT given_on FROM pregnancy_vaccine WHERE patient_id = $1 AND card = $2
            UNION ALL SELECT taken_on FROM pregnancy_test WHERE patient_id = $1 AND card = $2
        ) entries
        """,
        patient_id,
        card_id,
    )
    return earliest


# --- the card's scans (dating) ----------------------------------------------------------------------

# The same order as the ultrasounds of `_WHOLE_CARD`: `dating.dating_scan` reads them so.
_ULTRASOUNDS = """
SELECT *, author_role AS author_authorization FROM pregnancy_ultrasound
WHERE patient_id = $1 AND card = $2 ORDER BY date, recorded_at, id
"""


async def ultrasounds(connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID) -> list[UltrasoundRow]:
    """In the order `dating.dating_scan` reads them (for the due date in force, without the rest of the card)."""
    rows = await connection.fetch(_ULTRASOUNDS, patient_id, card_id)
    return [_authored(UltrasoundRow, row) for row in rows]


# --- the whole card in one statement (issue 21: it was eight) ---------------------------------------


class WholeCard(msgspec.Struct, kw_only=True, frozen=True):
    """The card and every current entry on it, read by one statement (`whole_card`) and decoded at once.

    Entries with nothing to work out are decoded straight into their response structs (authors included);
    a consultation's `gestationalAge` comes as 0+0, for `view.assemble` to set from the due date in force.
    Ultrasounds and self-registrations stay rows: the dating rule and the Oslo date are worked out in Python.
    """

    card: CardRow
    consultations: list[ConsultationOut]
    ultrasounds: list[UltrasoundRow]
    vaccines: list[VaccineOut]
    tests: list[TestOut]
    earlier: list[EarlierPregnancyOut]
    notes: list[NoteOut]
    self_registrations: list[SelfRegistrationRow]


def _author_json(prefix: str, *, at: str | None = None) -> str:
    """An author's columns as the JSON object `Author` decodes from (its fields in camelCase); with the time of
    the entry, the `EntryAuthor` of an entry, whose `role` is the authorization again (as `view.entry_author`)."""
    entry = f", 'role', {prefix}role, 'at', {at}" if at is not None else ""
    return (
        f"json_build_object('hpr', {prefix}hpr, 'name', {prefix}name, 'authorization', {prefix}role, "
        f"'organisation', {prefix}org, 'orgKind', {prefix}org_kind{entry})"
    )


def _rows_json(table: str, fields: str, order: str, *, author: str | None = None, where: str = "") -> str:
    """A JSON array of one card's rows of `table`, in `order`: each an object of `fields` (`key` for a column of
    that name, `key=expression` otherwise) and its author: an `EntryAuthor` when `author` names the entry's time
    column, the row's plain `Author` when it is "row". The rows of a subquery as JSON (`json_agg` of the row)
    cost PostgreSQL less than a `json_build_object` per row; the aggregate takes them in the subquery's order
    (one sorted scan, nothing between it and the aggregate), and tests/pregnancy/test_card_assembly.py pins it."""
    pairs = [field.split("=", 1) if "=" in field else (field, field) for field in fields.split()]
    if author is not None:
        pairs.append(("author", _author_json("author_", at=None if author == "row" else author)))
    columns = ", ".join(f'{value} AS "{key}"' for key, value in pairs)
    return (
        f"(SELECT coalesce(json_agg(entry), '[]') FROM (SELECT {columns} FROM {table} "  # noqa: S608
        f"WHERE patient_id = $1 AND card = $2{where} ORDER BY {order}) entry)"
    )


_CARD_JSON = f"""json_build_object(
    'id', c.id, 'patient_id', c.patient_id, 'status', c.status, 'version', c.version,
    'last_menstrual_period', c.last_menstrual_period, 'header', c.header,
    'outcome_date', c.outcome_date, 'outcome_note', c.outcome_note,
    'outcome_by', CASE WHEN c.outcome_by_hpr IS NOT NULL THEN {_author_json("c.outcome_by_")} END,
    'outcome_at', c.outcome_at, 'created_by', {_author_json("c.created_by_")},
    'created_at', c.created_at, 'updated_at', c.updated_at)"""
# One JSON array per kind of entry, in the order the card shows them (ultrasounds as `_ULTRASOUNDS`), each in
# the names of the struct it decodes into (the response structs' camelCase, the rows' own names).
_ENTRIES_JSON = {
    "consultations": _rows_json(
        "pregnancy_consultation",
        "id=entry_id version date gestationalAge=json_build_object('weeks',0,'days',0) gestationalWeek=gestational_week"
        " weightKg=weight_kg systolic diastolic urineProtein=urine_protein urineGlucose=urine_glucose hb sfCm=sf_cm"
        " fetalHeart=fetal_heart presentation fetalMovements=fetal_movements oedema note"
        " corrected=(version>1) correctionReason=correction_reason",
        "date, recorded_at",
        author="recorded_at",
        where=" AND superseded_at IS NULL",
    ),
    "ultrasounds": _rows_json(
        "pregnancy_ultrasound",
        "id date kind due_date fetuses placenta findings recorded_at",
        "date, recorded_at, id",
        author="row",
    ),
    "vaccines": _rows_json(
        "pregnancy_vaccine", "id vaccine givenOn=given_on note", "given_on, recorded_at", author="recorded_at"
    ),
    "tests": _rows_json(
        "pregnancy_test",
        "id test takenOn=taken_on value unit result note",
        "taken_on, recorded_at, id",
        author="recorded_at",
    ),
    "earlier": _rows_json(
        "pregnancy_earlier",
        "id year kind week birthWeightG=birth_weight_g mode complications",
        "year, recorded_at",
        author="recorded_at",
    ),
    "notes": _rows_json(
        "pregnancy_note",
        "id kind text createdAt=created_at author=json_build_object('at',created_at)",
        "created_at, id",
    ),
    "self_registrations": _rows_json(
        "pregnancy_self_registration",
        "id effective_at weight_kg systolic diastolic fetal_movements created_at",
        "effective_at, id",
    ),
}
# One statement instead of eight (and one JSON document, decoded once into `WholeCard`).
_WHOLE_CARD = (
    f"SELECT json_build_object('card', {_CARD_JSON}, "  # noqa: S608 - constant parts, no input
    + ", ".join(f"'{name}', {sql}" for name, sql in _ENTRIES_JSON.items())
    + ")::text FROM pregnancy_card c WHERE c.id = $2 AND c.patient_id = $1"
)
_whole_card_decoder = msgspec.json.Decoder(WholeCard)


async def whole_card(connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID) -> WholeCard | None:
    """Her card with every current entry, in the orders the card shows them; None when she has no such card."""
    found: str | None = await connection.fetchval(_WHOLE_CARD, patient_id, card_id)
    return _whole_card_decoder.decode(found) if found is not None else None


# --- writing entries ---------------------------------------------------------------------------------


async def insert_earlier(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    item: EarlierPregnancyIn,
    *,
    author: Author,
    at: dt.datetime,
) -> EarlierRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_earlier (id, patient_id, card, year, kind, week, birth_weight_g, mode, complications,
                                       author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        RETURNING *, author_role AS author_authorization
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
        *_stamp(author, at),
    )
    return _authored(EarlierRow, row)


async def insert_consultation(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    entry_id: uuid.UUID,
    version: int,
    data: ConsultationIn,
    reason: str | None,
    author: Author,
    at: dt.datetime,
) -> ConsultationRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_consultation (
            id, patient_id, card, entry_id, version, correction_reason, date, gestational_week, weight_kg, systolic,
            diastolic, urine_protein, urine_glucose, hb, sf_cm, fetal_heart, presentation, fetal_movements, oedema,
            note, author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                $21, $22, $23, $24, $25, $26)
        RETURNING *, author_role AS author_authorization
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
        *_stamp(author, at),
    )
    return _authored(ConsultationRow, row)


async def lock_current_consultation(
    connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, entry_id: uuid.UUID
) -> CurrentVersion | None:
    """The row and version of a consultation's current version, locked until the transaction ends."""
    row = await connection.fetchrow(
        """
        SELECT id, version FROM pregnancy_consultation
        WHERE patient_id = $1 AND card = $2 AND entry_id = $3 AND superseded_at IS NULL FOR UPDATE
        """,
        patient_id,
        card_id,
        entry_id,
    )
    return CurrentVersion(row["id"], row["version"]) if row is not None else None


async def supersede_consultation(connection: Any, patient_id: uuid.UUID, row_id: uuid.UUID, at: dt.datetime) -> None:
    await connection.execute(
        "UPDATE pregnancy_consultation SET superseded_at = $3 WHERE id = $2 AND patient_id = $1", patient_id, row_id, at
    )


async def consultation_versions(
    connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, entry_id: uuid.UUID, *, before: int | None, limit: int
) -> list[ConsultationRow]:
    """Every version of a consultation, newest first, before a cursor's version."""
    rows = await connection.fetch(
        """
        SELECT *, author_role AS author_authorization FROM pregnancy_consultation
        WHERE patient_id = $1 AND card = $2 AND entry_id = $3 AND ($4::int IS NULL OR version < $4)
        ORDER BY version DESC LIMIT $5
        """,
        patient_id,
        card_id,
        entry_id,
        before,
        limit,
    )
    return [_authored(ConsultationRow, row) for row in rows]


async def insert_ultrasound(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    on: dt.date,
    kind: str,
    due_date: dt.date | None,
    fetuses: int | None,
    placenta: str | None,
    findings: str | None,
    author: Author,
    at: dt.datetime,
) -> UltrasoundRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_ultrasound (id, patient_id, card, date, kind, due_date, fetuses, placenta, findings,
                                          author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        RETURNING *, author_role AS author_authorization
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        on,
        kind,
        due_date,
        fetuses,
        placenta,
        findings,
        *_stamp(author, at),
    )
    return _authored(UltrasoundRow, row)


async def insert_vaccine(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    vaccine: str,
    given_on: dt.date,
    note: str | None,
    author: Author,
    at: dt.datetime,
) -> VaccineRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_vaccine (id, patient_id, card, vaccine, given_on, note,
                                       author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        RETURNING *, author_role AS author_authorization
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        vaccine,
        given_on,
        note,
        *_stamp(author, at),
    )
    return _authored(VaccineRow, row)


async def insert_test(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    test: str,
    taken_on: dt.date,
    value: float | None,
    unit: str | None,
    result: str | None,
    note: str | None,
    author: Author,
    at: dt.datetime,
) -> TestRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_test (id, patient_id, card, test, taken_on, value, unit, result, note,
                                    author_hpr, author_name, author_role, author_org, author_org_kind, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        RETURNING *, author_role AS author_authorization
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        test,
        taken_on,
        value,
        unit,
        result,
        note,
        *_stamp(author, at),
    )
    return _authored(TestRow, row)


# --- the woman's own entries -------------------------------------------------------------------------


async def insert_note(
    connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, *, kind: str, text: str, at: dt.datetime
) -> NoteRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_note (id, patient_id, card, kind, text, created_at)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        kind,
        text,
        at,
    )
    return typed_row(NoteRow, row)


async def insert_self_registration(
    connection: Any,
    patient_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    effective_at: dt.datetime,
    weight_kg: float | None,
    systolic: int | None,
    diastolic: int | None,
    fetal_movements: bool | None,
    at: dt.datetime,
) -> SelfRegistrationRow:
    row = await connection.fetchrow(
        """
        INSERT INTO pregnancy_self_registration (id, patient_id, card, effective_at, weight_kg, systolic, diastolic,
                                                 fetal_movements, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        effective_at,
        weight_kg,
        systolic,
        diastolic,
        fetal_movements,
        at,
    )
    return typed_row(SelfRegistrationRow, row)


# --- the schedule (not a patient's) ------------------------------------------------------------------


async def schedule_items(connection: Any) -> list[ScheduleItem]:
    rows = await connection.fetch(
        """
        SELECT key, label_nb, label_en, window_start_day, window_end_day, condition, kind
        FROM pregnancy_schedule_item ORDER BY position, key
        """
    )
    return [typed_row(ScheduleItem, row) for row in rows]


# --- reminders of the programme (the worker's) -------------------------------------------------------------


async def ongoing_cards_to_remind(
    connection: Any, *, after: tuple[uuid.UUID, uuid.UUID] | None, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(patient_id, card id) of ongoing cards whose woman has the pregnancy-card consent, in key order after `after`."""
    rows = await connection.fetch(
        """
        SELECT c.patient_id, c.id FROM pregnancy_card c
        WHERE c.status = 'ongoing'
          AND EXISTS (SELECT 1 FROM consent k WHERE k.patient_id = c.patient_id AND k.scope = 'pregnancy-card')
          AND ($1::uuid IS NULL OR (c.patient_id, c.id) > ($1, $2::uuid))
        ORDER BY c.patient_id, c.id LIMIT $3
        """,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [(row["patient_id"], row["id"]) for row in rows]


async def has_pregnancy_consent(connection: Any, patient_id: uuid.UUID) -> bool:
    found: bool = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM consent WHERE patient_id = $1 AND scope = 'pregnancy-card')", patient_id
    )
    return found


async def insert_reminder(
    connection: Any, patient_id: uuid.UUID, card_id: uuid.UUID, item_key: str, starts_on: dt.date
) -> bool:
    """True when this card's item had not been reminded of (a second worker, or a later round, gets False)."""
    inserted = await connection.fetchval(
        """
        INSERT INTO pregnancy_reminder (id, patient_id, card, item_key, starts_on) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (patient_id, card, item_key) DO NOTHING RETURNING id
        """,
        uuid.uuid4(),
        patient_id,
        card_id,
        item_key,
        starts_on,
    )
    return inserted is not None
