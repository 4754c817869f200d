"""Every SQL statement of måledata, as functions of a connection and plain values, returning typed results.

Callers pass `grant.patient_id`; every statement is bounded by it. The upload is one `INSERT … SELECT FROM
unnest(…) ON CONFLICT DO NOTHING RETURNING id` (dedupe by the unique indexes: client id; device serial + code +
time), the NEWS2 vital set one more, and reads are single index scans with only the filters given.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
from asyncpg.pgproto.pgproto import UUID as FastUUID

from backend.core.audit import Author
from backend.core.paging import BeforeTimeAndId
from backend.core.rows import typed_rows
from backend.measurements.codes import BLOOD_PRESSURE_PANEL, DIASTOLIC, SYSTOLIC
from backend.measurements.news2 import News2Result, Spo2Scale
from backend.measurements.schemas import (
    ComponentOut,
    DeviceOut,
    MeasurementOut,
    News2MeasurementIds,
    Source,
    Spo2TargetValue,
    UploadItem,
)

MM_HG = "mm[Hg]"


def new_measurement_ids(count: int) -> list[uuid.UUID]:
    """UUIDv7s (RFC 9562: milliseconds since the epoch, then random bits), one random draw for the lot.

    Time-ordered ids land at the right edge of the primary-key index instead of on a random page,
    which keeps the bulk insert's index work in cache (measured: ~1.4x the COPY rate of uuid4 keys).
    asyncpg's own UUID type is built ~8x faster than uuid.UUID and is one (isinstance, ==, hash).
    """
    milliseconds = time.time_ns() // 1_000_000
    prefix = (milliseconds & (2**48 - 1)) << 80 | 0x7 << 76 | 0x2 << 62  # version 7, RFC 9562 variant
    mask = ~(0xF << 76 | 0x3 << 62) & (2**80 - 1)
    entropy = os.urandom(10 * count)
    return [
        FastUUID((prefix | (int.from_bytes(entropy[offset : offset + 10]) & mask)).to_bytes(16))
        for offset in range(0, 10 * count, 10)
    ]


def new_measurement_id() -> uuid.UUID:
    return new_measurement_ids(1)[0]


async def lock_patient(connection: Any, patient_id: uuid.UUID) -> None:
    """One writer per patient at a time (her row, FOR NO KEY UPDATE): concurrent writers never deadlock."""
    await connection.execute("SELECT 1 FROM patient WHERE id = $1 FOR NO KEY UPDATE", patient_id)


# --- the upload ----------------------------------------------------------------------------------------------------


_INSERT_MEASUREMENTS = """
INSERT INTO measurement (id, patient_id, client_id, code, value, systolic, diastolic, unit, effective_at,
                         device_serial, device_model, source, recorded_by_hpr, created_at)
SELECT r.id, $1, r.client_id, r.code, r.value, r.systolic, r.diastolic, r.unit, r.effective_at,
       r.device_serial, r.device_model, $12, $13, $14
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::text[],
            $9::timestamptz[], $10::text[], $11::text[])
     AS r(id, client_id, code, value, systolic, diastolic, unit, effective_at, device_serial, device_model)
ON CONFLICT DO NOTHING
RETURNING id
"""


class NewMeasurements:
    """The valid items of a batch as one array per column, for the single unnest INSERT."""

    __slots__ = (
        "client_ids",
        "codes",
        "device_models",
        "device_serials",
        "diastolics",
        "effective_ats",
        "ids",
        "systolics",
        "units",
        "values",
    )

    def __init__(self) -> None:
        self.ids: list[uuid.UUID] = []
        self.client_ids: list[uuid.UUID | None] = []
        self.codes: list[str] = []
        self.values: list[float | None] = []
        self.systolics: list[float | None] = []
        self.diastolics: list[float | None] = []
        self.units: list[str | None] = []
        self.effective_ats: list[datetime] = []
        self.device_serials: list[str | None] = []
        self.device_models: list[str | None] = []

    def add(self, item: UploadItem) -> int:
        """Append the item's columns; its stored id comes later, from `assign_ids`. Returns its row index."""
        self.client_ids.append(item.id)
        code = item.code
        self.codes.append(code)
        if code == BLOOD_PRESSURE_PANEL:
            systolic = diastolic = None
            for component in item.components or ():
                if component.code == SYSTOLIC:
                    systolic = component.value
                else:
                    diastolic = component.value
            self.values.append(None)
            self.systolics.append(systolic)
            self.diastolics.append(diastolic)
            self.units.append(None)
        else:
            self.values.append(item.value)
            self.systolics.append(None)
            self.diastolics.append(None)
            self.units.append(item.unit)
        self.effective_ats.append(item.effective_at)
        device = item.device
        if device is None:
            self.device_serials.append(None)
            self.device_models.append(None)
        else:
            self.device_serials.append(device.serial)
            self.device_models.append(device.model)
        return len(self.codes) - 1

    def assign_ids(self) -> None:
        self.ids = new_measurement_ids(len(self.codes))

    def arrays(self) -> tuple[list[Any], ...]:
        return (
            self.ids,
            self.client_ids,
            self.codes,
            self.values,
            self.systolics,
            self.diastolics,
            self.units,
            self.effective_ats,
            self.device_serials,
            self.device_models,
        )


async def insert_measurements(
    connection: Any,
    patient_id: uuid.UUID,
    rows: NewMeasurements,
    *,
    source: Source,
    recorded_by_hpr: str | None,
    created_at: datetime,
) -> set[uuid.UUID]:
    """The ids stored; a row the unique indexes find already stored is skipped (a duplicate)."""
    stored = await connection.fetch(
        _INSERT_MEASUREMENTS, patient_id, *rows.arrays(), source, recorded_by_hpr, created_at
    )
    return {row[0] for row in stored}


# --- reading -------------------------------------------------------------------------------------------------------


class _Filter:
    """WHERE conditions built from static fragments, with only the filters given, so each is an index bound."""

    def __init__(
        self, patient_id: uuid.UUID | None, code: str | None, first: datetime | None, last: datetime | None
    ) -> None:
        # None: the access decision's patient, in a read that runs in its statement (core.access.Read).
        self.args: list[Any] = []
        self.conditions = [
            "patient_id = access.patient_id" if patient_id is None else f"patient_id = {self.arg(patient_id)}"
        ]
        if code is not None:
            self.where("code = {}", code)
        if first is not None:
            self.where("effective_at >= {}", first)
        if last is not None:
            self.where("effective_at <= {}", last)

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, fragment: str, value: Any) -> None:
        self.conditions.append(fragment.format(self.arg(value)))

    def sql(self) -> str:
        return " AND ".join(self.conditions)


def _measurement_out(row: Any) -> MeasurementOut:
    code = row["code"]
    components: list[ComponentOut] | None = None
    unit: str | None = row["unit"]
    if code == BLOOD_PRESSURE_PANEL:
        components = [
            ComponentOut(code=SYSTOLIC, value=row["systolic"], unit=MM_HG),
            ComponentOut(code=DIASTOLIC, value=row["diastolic"], unit=MM_HG),
        ]
        unit = None
    serial, model = row["device_serial"], row["device_model"]
    return MeasurementOut(
        id=row["id"],
        client_id=row["client_id"],
        code=code,
        value=row["value"],
        unit=unit,
        components=components,
        effective_at=row["effective_at"],
        device=DeviceOut(serial=serial, model=model) if serial is not None or model is not None else None,
        source=row["source"],
        created_at=row["created_at"],
    )


async def measurements_newest_first(
    connection: Any,
    patient_id: uuid.UUID,
    *,
    code: str | None,
    first: datetime | None,
    last: datetime | None,
    before: BeforeTimeAndId | None,
    limit: int,
) -> list[MeasurementOut]:
    """Up to `limit` of her measurements, newest first by (effective time, id), from before `before` if given."""
    sql, args = newest_first_sql(patient_id, code=code, first=first, last=last, before=before, limit=limit)
    return measurement_rows(await connection.fetch(sql, *args))


def measurement_rows(rows: list[Any]) -> list[MeasurementOut]:
    return [_measurement_out(row) for row in rows]


def newest_first_sql(
    patient_id: uuid.UUID | None,
    *,
    code: str | None,
    first: datetime | None,
    last: datetime | None,
    before: BeforeTimeAndId | None,
    limit: int,
) -> tuple[str, tuple[Any, ...]]:
    """The statement of `measurements_newest_first`; `patient_id` None: the access decision's (a core Read)."""
    query = _Filter(patient_id, code, first, last)
    if before is not None:
        # The plain bound lets the index stop early; the row comparison breaks ties on the id.
        at, key = query.arg(before.at), query.arg(before.id)
        query.conditions.append(f"effective_at <= {at} AND (effective_at, id) < ({at}, {key}::uuid)")
    sql = f"""
        SELECT id, client_id, code, value, systolic, diastolic, unit, effective_at, device_serial, device_model,
               source, created_at
        FROM measurement
        WHERE {query.sql()}
        ORDER BY effective_at DESC, id DESC
        LIMIT {query.arg(limit)}
    """  # noqa: S608 - only static fragments and $n placeholders are interpolated
    return sql, tuple(query.args)


class SeriesRows(NamedTuple):
    """A code's newest points, oldest first: `[time, value]`, or `[time, systolic, diastolic]` for the panel."""

    points: list[list[datetime | float | None]]
    truncated: bool  # there were more points than asked for; the oldest were left out
    first_unit: str | None  # the stored unit of the first (oldest) point; None for the panel or no point


async def series(
    connection: Any,
    patient_id: uuid.UUID,
    code: str,
    *,
    first: datetime | None,
    last: datetime | None,
    limit: int,
) -> SeriesRows:
    """The newest `limit` points of one code in the period (one index scan, newest first, then turned round)."""
    query = _Filter(patient_id, code, first, last)
    sql = f"""
        SELECT effective_at, value, systolic, diastolic, unit FROM measurement
        WHERE {query.sql()}
        ORDER BY effective_at DESC, id DESC
        LIMIT {query.arg(limit + 1)}
    """  # noqa: S608 - only static fragments and $n placeholders are interpolated
    rows = await connection.fetch(sql, *query.args)
    truncated = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    points: list[list[datetime | float | None]]
    if code == BLOOD_PRESSURE_PANEL:
        points = [[row["effective_at"], row["systolic"], row["diastolic"]] for row in rows]
    else:
        points = [[row["effective_at"], row["value"]] for row in rows]
    return SeriesRows(points=points, truncated=truncated, first_unit=rows[0]["unit"] if rows else None)


# --- NEWS2 ---------------------------------------------------------------------------------------------------------


class VitalReading(NamedTuple):
    """One measurement of a NEWS2 vital set (blood pressure as systolic and diastolic, no unit)."""

    id: uuid.UUID
    code: str
    value: float | None
    systolic: float | None
    diastolic: float | None
    unit: str | None


async def target_in_force_for_score(connection: Any, patient_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the SpO2 target in force; FOR SHARE: a target cleared while a score is recorded waits for it."""
    target: uuid.UUID | None = await connection.fetchval(
        "SELECT id FROM spo2_target WHERE patient_id = $1 AND cleared_at IS NULL FOR SHARE", patient_id
    )
    return target


async def insert_vital_set(
    connection: Any,
    patient_id: uuid.UUID,
    readings: Sequence[VitalReading],
    *,
    effective_at: datetime,
    recorded_by_hpr: str,
    created_at: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO measurement (id, patient_id, client_id, code, value, systolic, diastolic, unit, effective_at,
                                 device_serial, device_model, source, recorded_by_hpr, created_at)
        SELECT r.id, $1, NULL, r.code, r.value, r.systolic, r.diastolic, r.unit, $7, NULL, NULL,
               'clinician', $8, $9
        FROM unnest($2::uuid[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $10::text[])
             AS r(id, code, value, systolic, diastolic, unit)
        """,
        patient_id,
        [reading.id for reading in readings],
        [reading.code for reading in readings],
        [reading.value for reading in readings],
        [reading.systolic for reading in readings],
        [reading.diastolic for reading in readings],
        effective_at,
        recorded_by_hpr,
        created_at,
        [reading.unit for reading in readings],
    )


async def insert_news2_score(
    connection: Any,
    score_id: uuid.UUID,
    patient_id: uuid.UUID,
    result: News2Result,
    *,
    effective_at: datetime,
    valid: bool,
    not_valid_reason: str | None,
    scale: Spo2Scale,
    on_oxygen: bool,
    consciousness: str,
    measurements: News2MeasurementIds,
    recorded_by_hpr: str,
    org_number: str,
    created_at: datetime,
    target_id: uuid.UUID | None,
) -> None:
    subscores = result.subscores
    await connection.execute(
        """
        INSERT INTO news2_score (id, patient_id, effective_at, total, risk, single_parameter_red,
                                 valid_for_patient, spo2_scale, on_oxygen, consciousness,
                                 respiration_rate_score, spo2_score, on_oxygen_score, systolic_score,
                                 pulse_score, consciousness_score, temperature_score,
                                 respiration_rate_measurement, spo2_measurement, blood_pressure_measurement,
                                 pulse_measurement, temperature_measurement, recorded_by_hpr, org_number,
                                 created_at, not_valid_reason, spo2_target)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                $21, $22, $23, $24, $25, $26, $27)
        """,
        score_id,
        patient_id,
        effective_at,
        result.total,
        result.risk,
        result.single_parameter_red,
        valid,
        scale,
        on_oxygen,
        consciousness,
        subscores.respiration_rate,
        subscores.spo2,
        subscores.on_oxygen,
        subscores.systolic,
        subscores.pulse,
        subscores.consciousness,
        subscores.temperature,
        measurements.respiration_rate,
        measurements.spo2,
        measurements.blood_pressure,
        measurements.pulse,
        measurements.temperature,
        recorded_by_hpr,
        org_number,
        created_at,
        not_valid_reason,
        target_id,
    )


# --- SpO2 target ---------------------------------------------------------------------------------------------------


class PrescribedTarget(NamedTuple):
    target: Spo2TargetValue
    prescribed_by: Author
    prescribed_at: datetime


_TARGET_IN_FORCE = """
SELECT target, prescribed_by_hpr, prescribed_by_name, prescribed_by_authorization, prescribed_by_org,
       prescribed_by_org_kind, prescribed_at
FROM spo2_target WHERE patient_id = $1 AND cleared_at IS NULL
"""


async def target_in_force(connection: Any, patient_id: uuid.UUID) -> PrescribedTarget | None:
    row = await connection.fetchrow(_TARGET_IN_FORCE, patient_id)
    if row is None:
        return None
    return PrescribedTarget(
        target=row["target"], prescribed_by=Author.from_row(row, "prescribed_by_"), prescribed_at=row["prescribed_at"]
    )


async def insert_target(
    connection: Any,
    target_id: uuid.UUID,
    patient_id: uuid.UUID,
    *,
    target: Spo2TargetValue,
    author: Author,
    prescribed_at: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO spo2_target (id, patient_id, target, prescribed_by_hpr, prescribed_by_name,
                                 prescribed_by_authorization, prescribed_by_org, prescribed_by_org_kind,
                                 prescribed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        target_id,
        patient_id,
        target,
        author.hpr,
        author.name,
        author.authorization,
        author.organisation,
        author.org_kind,
        prescribed_at,
    )


async def clear_target(
    connection: Any, patient_id: uuid.UUID, author: Author, cleared_at: datetime
) -> uuid.UUID | None:
    """End the target in force, keeping who cleared it and when; its id, or None when none was in force."""
    cleared: uuid.UUID | None = await connection.fetchval(
        """
        UPDATE spo2_target SET cleared_at = $2, cleared_by_hpr = $3, cleared_by_name = $4, cleared_by_org = $5
        WHERE patient_id = $1 AND cleared_at IS NULL
        RETURNING id
        """,
        patient_id,
        cleared_at,
        author.hpr,
        author.name,
        author.organisation,
    )
    return cleared


# --- the legevakt overview ----------------------------------------------------------------------------------------


class LatestVital(msgspec.Struct, frozen=True):
    """The newest reading of one code (or the newest NEWS2 score, `code` 'news2') since the window's start."""

    code: str
    value: float | None
    unit: str | None
    systolic: float | None
    diastolic: float | None
    total: int | None
    risk: str | None
    valid_for_patient: bool | None
    effective_at: datetime


# $1 patient, $2 the window's start, $3 the codes; one row per code found (the overview reads them as JSON).
LATEST_VITALS = """
SELECT c.code, m.value, m.unit, m.systolic, m.diastolic, NULL::smallint AS total, NULL::text AS risk,
       NULL::boolean AS valid_for_patient, m.effective_at
FROM unnest($3::text[]) AS c(code)
CROSS JOIN LATERAL (
    SELECT value, unit, systolic, diastolic, effective_at FROM measurement
    WHERE patient_id = $1 AND code = c.code AND effective_at >= $2
    ORDER BY effective_at DESC, id LIMIT 1
) m
UNION ALL
(SELECT 'news2', NULL, NULL, NULL, NULL, total, risk, valid_for_patient, effective_at FROM news2_score
 WHERE patient_id = $1 AND effective_at >= $2
 ORDER BY effective_at DESC, id LIMIT 1)
"""


class News2ScoreRow(msgspec.Struct, kw_only=True):
    """A recorded NEWS2 score with its sub-scores and the measurements it was scored from."""

    id: uuid.UUID
    effective_at: datetime
    total: int
    risk: str
    single_parameter_red: bool
    valid_for_patient: bool
    not_valid_reason: str | None
    spo2_scale: int
    on_oxygen: bool
    consciousness: str
    respiration_rate_score: int
    spo2_score: int
    on_oxygen_score: int
    systolic_score: int
    pulse_score: int
    consciousness_score: int
    temperature_score: int
    respiration_rate_measurement: uuid.UUID
    spo2_measurement: uuid.UUID
    blood_pressure_measurement: uuid.UUID
    pulse_measurement: uuid.UUID
    temperature_measurement: uuid.UUID
    created_at: datetime


async def news2_scores_newest_first(
    connection: Any,
    patient_id: uuid.UUID,
    *,
    first: datetime | None,
    last: datetime | None,
    before: BeforeTimeAndId | None,
    limit: int,
) -> list[News2ScoreRow]:
    """Up to `limit` of her NEWS2 scores in the period, newest first by (effective time, id), before `before`."""
    rows = await connection.fetch(
        """
        SELECT id, effective_at, total, risk, single_parameter_red, valid_for_patient, not_valid_reason, spo2_scale,
               on_oxygen, consciousness, respiration_rate_score, spo2_score, on_oxygen_score, systolic_score,
               pulse_score, consciousness_score, temperature_score, respiration_rate_measurement, spo2_measurement,
               blood_pressure_measurement, pulse_measurement, temperature_measurement, created_at
        FROM news2_score
        WHERE patient_id = $1
          AND ($2::timestamptz IS NULL OR effective_at >= $2)
          AND ($3::timestamptz IS NULL OR effective_at <= $3)
          AND ($4::timestamptz IS NULL OR (effective_at, id) < ($4, $5::uuid))
        ORDER BY effective_at DESC, id DESC
        LIMIT $6
        """,
        patient_id,
        first,
        last,
        before.at if before else None,
        before.id if before else None,
        limit,
    )
    return typed_rows(News2ScoreRow, rows)
