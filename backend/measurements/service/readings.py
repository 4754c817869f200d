"""Reading måledata back: a patient's measurements by code and period (newest first, keyset-paged), one code's
series for charts, and the catalogue of codes an upload accepts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.core.access import Grant, Need, Read
from backend.core.change_signals import PatientCache
from backend.core.db import DB
from backend.core.encoded import Encoded
from backend.core.errors import BadRequest
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.measurements import queries
from backend.measurements.codes import MEASUREMENTS, PanelMeasurement, SingleMeasurement
from backend.measurements.schemas import (
    MeasurementCode,
    MeasurementCodes,
    MeasurementComponentCode,
    MeasurementDisplay,
    MeasurementPage,
    Series,
)

RESOURCE = "measurement"
READ = Need(action="read", resource_type=RESOURCE)
MAX_SERIES_POINTS = 5000


def _known_code(code: str | None, *, required: bool) -> str | None:
    if code is None:
        if required:
            raise BadRequest("code is required", field="code")
        return None
    definition = MEASUREMENTS.get(code)
    if definition is None:
        raise BadRequest(f"unknown measurement code {code[:40]!r}", field="code")
    if isinstance(definition, SingleMeasurement) and definition.panel is not None:
        raise BadRequest(
            f"{code} is stored as a component of the panel {definition.panel}; ask for {definition.panel}",
            field="code",
        )
    return code


def _time(raw: str | None, field: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise BadRequest(f"{field} must be an RFC 3339 time such as 2026-01-31T08:00:00+01:00", field=field) from error
    if moment.utcoffset() is None:
        raise BadRequest(f"{field} must carry a UTC offset", field=field)
    return moment


def _period(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    first, last = _time(start, "from"), _time(end, "to")
    if first is not None and last is not None and first > last:
        raise BadRequest("from must not be after to", field="from")
    return first, last


def _unit_of(code: str, stored: str | None) -> str:
    definition = MEASUREMENTS[code]
    if isinstance(definition, PanelMeasurement):
        return definition.components[0].unit
    return stored or definition.unit


async def list_measurements(
    grant: Grant,
    *,
    code: str | None,
    start: str | None,
    end: str | None,
    cursor: str | None,
    limit: int | None,
) -> MeasurementPage:
    """The patient's measurements, newest first, keyset-paged on (effective time, id)."""
    read = _read(grant.patient_id, code=code, start=start, end=end, cursor=cursor, limit=limit)
    async with DB.connection() as connection:
        rows = await connection.fetch(read.sql, *read.args)
    return read.result(rows)


# Clinicians' pages, kept per patient until she changes: the same for every reader the decision allows, and every
# write of a measurement (her upload, a clinician's vital set) appends an event for her in its transaction. The
# filters are the key (the statement's arguments); nothing in a page changes by time alone.
CLINICIAN_PAGES: PatientCache[Encoded[MeasurementPage]] = PatientCache(limit=2_000, per_patient=4)


def measurements_read(
    *, code: str | None, start: str | None, end: str | None, cursor: str | None, limit: int | None
) -> Read[MeasurementPage]:
    """A clinician's list, read in the access decision's statement (`authorize_read` with READ). Its filters are
    checked first: a 400 is no reason to read her record."""
    return _read(None, code=code, start=start, end=end, cursor=cursor, limit=limit)


def _read(
    patient_id: uuid.UUID | None,
    *,
    code: str | None,
    start: str | None,
    end: str | None,
    cursor: str | None,
    limit: int | None,
) -> Read[MeasurementPage]:
    """The list's statement and how its rows make the page; `patient_id` None: the access decision's patient."""
    known = _known_code(code, required=False)
    first, last = _period(start, end)
    size = clamp_limit(limit)
    before = decode_cursor(cursor, BeforeTimeAndId)
    sql, args = queries.newest_first_sql(patient_id, code=known, first=first, last=last, before=before, limit=size + 1)

    def page(rows: list[Any]) -> MeasurementPage:
        found = queries.measurement_rows(rows)
        items, next_cursor = keyset_page(found, size, lambda final: BeforeTimeAndId(at=final.effective_at, id=final.id))
        return MeasurementPage(items=items, next=next_cursor)

    return Read(sql=sql, args=args, result=page)


# Her chart's points, kept per patient until she changes: every write of a measurement (her upload, a clinician's
# vital set) appends an event in its transaction; the period is explicit, so time alone changes nothing.
_SERIES: PatientCache[queries.SeriesRows] = PatientCache()


async def measurement_series(grant: Grant, *, code: str | None, start: str | None, end: str | None) -> Series:
    """One code's points in the period, oldest first; the newest MAX_SERIES_POINTS when there are more."""
    known = _known_code(code, required=True)
    assert known is not None
    first, last = _period(start, end)

    async def read() -> tuple[queries.SeriesRows, None]:
        async with DB.connection() as connection:
            rows = await queries.series(
                connection, grant.patient_id, known, first=first, last=last, limit=MAX_SERIES_POINTS
            )
        return rows, None

    found = await _SERIES.get(grant.patient_id, (known, first, last), read)
    return Series(code=known, unit=_unit_of(known, found.first_unit), points=found.points, truncated=found.truncated)


# --- the catalogue ------------------------------------------------------------------------------------------


def _component_code(definition: SingleMeasurement) -> MeasurementComponentCode:
    return MeasurementComponentCode(
        code=definition.code,
        display=MeasurementDisplay(nb=definition.display_nb, en=definition.display),
        unit=definition.unit,
        minimum=definition.minimum,
        maximum=definition.maximum,
    )


def measurement_codes() -> MeasurementCodes:
    """The codes an upload accepts, in catalogue order; systolic and diastolic only inside blood pressure."""
    items = []
    for definition in MEASUREMENTS.values():
        display = MeasurementDisplay(nb=definition.display_nb, en=definition.display)
        if isinstance(definition, PanelMeasurement):
            components = [_component_code(component) for component in definition.components]
            items.append(MeasurementCode(code=definition.code, display=display, unit=None, minimum=None,
                                         maximum=None, components=components))  # fmt: skip
        elif definition.panel is None:
            items.append(MeasurementCode(code=definition.code, display=display, unit=definition.unit,
                                         minimum=definition.minimum, maximum=definition.maximum, components=None))  # fmt: skip
    return MeasurementCodes(items=items)
