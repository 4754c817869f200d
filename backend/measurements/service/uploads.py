"""Uploads of måledata: a batch decoded item by item, stored in one statement, answered per item in order.

The citizen's own uploads and a clinician's recorded readings take the same format. Every valid item of a batch
goes in one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` (queries.insert_measurements), so dedupe is
decided by the unique indexes, concurrent identical batches store once, and the cost per row stays in PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.core import events
from backend.core.access import Grant, Need, write_transaction
from backend.core.alerts import Severity, pregnancy_blood_pressure_severity, raise_pregnancy_blood_pressure_alert
from backend.core.auth import CitizenPrincipal, ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.context import has_ongoing_pregnancy
from backend.core.errors import BadRequest, PayloadTooLarge
from backend.measurements import queries
from backend.measurements.codes import BLOOD_PRESSURE_PANEL, validate_reading
from backend.measurements.queries import NewMeasurements
from backend.measurements.schemas import (
    MAX_BATCH_ITEMS,
    Source,
    UploadIn,
    UploadItem,
    UploadOut,
    UploadResult,
)

RESOURCE = "measurement"
WRITE = Need(action="write", resource_type=RESOURCE)


# --- decoding an upload, item by item ----------------------------------------------------------------------


class _RawBatch(msgspec.Struct, forbid_unknown_fields=True):
    items: list[msgspec.Raw]


class _ItemId(msgspec.Struct):
    id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class _Rejected:
    id: uuid.UUID | None
    reason: str


def _reason(error: msgspec.DecodeError) -> str:
    """msgspec's message with its `$.path` turned into the item's field name (`components[0].value: …`)."""
    message = str(error)
    text, separator, path = message.rpartition(" - at `")
    if not separator:
        return message
    field = path.rstrip("`").removeprefix("$").removeprefix(".")
    return f"{field}: {text}" if field else text


def _envelope_problem(error: msgspec.ValidationError) -> BadRequest:
    """The body is JSON but not `{"items": [...]}`: name the field that is wrong (default `items`)."""
    message = str(error)
    unknown = re.search(r"unknown field `([^`]*)`", message)
    if unknown:
        return BadRequest(f"unknown field {unknown.group(1)[:40]!r}", field=unknown.group(1)[:40])
    return BadRequest(_reason(error), field="items")


def _too_many(count: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"a batch holds at most {MAX_BATCH_ITEMS} items; this one has {count}",
        extra={"limit": MAX_BATCH_ITEMS, "errors": [{"field": "items", "message": f"at most {MAX_BATCH_ITEMS} items"}]},
    )


def _item_id_of(raw: Any) -> uuid.UUID | None:
    try:
        if isinstance(raw, msgspec.Raw):
            return msgspec.json.decode(raw, type=_ItemId).id
        if isinstance(raw, dict):
            return msgspec.convert({"id": raw.get("id")}, type=_ItemId).id
    except msgspec.DecodeError:
        return None
    return None


def _decode_raw(raw: msgspec.Raw) -> UploadItem | _Rejected:
    try:
        return msgspec.json.decode(raw, type=UploadItem)
    except msgspec.DecodeError as error:
        return _Rejected(_item_id_of(raw), _reason(error))


def _convert_loose(item: Any) -> UploadItem | _Rejected:
    try:
        return msgspec.convert(item, type=UploadItem, strict=True)
    except msgspec.ValidationError as error:
        return _Rejected(_item_id_of(item), _reason(error))


def _loose_items(body: bytes) -> list[Any]:
    """Python's parser, which reads the non-standard NaN / Infinity tokens some clients emit, as numbers."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("the body is not valid JSON", field="body") from error
    if not isinstance(document, dict) or "items" not in document:
        raise BadRequest('the body must be an object {"items": [...]}', field="items")
    unknown = sorted(set(document) - {"items"})
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}", field=str(unknown[0]))
    items = document["items"]
    if not isinstance(items, list):
        raise BadRequest("items must be an array", field="items")
    return items


def decode_batch(body: bytes) -> list[UploadItem | _Rejected]:
    """Each item decoded on its own, so one bad item (a string for a number, NaN) is rejected alone.

    The whole batch is decoded in one typed pass first (the common, valid case); only when that fails
    are the items decoded one by one to find which of them are wrong.
    """
    try:
        return list(msgspec.json.decode(body, type=UploadIn).items)
    except msgspec.DecodeError:
        pass
    try:
        raw_items = msgspec.json.decode(body, type=_RawBatch).items
    except msgspec.ValidationError as error:
        raise _envelope_problem(error) from error
    except msgspec.DecodeError:
        loose = _loose_items(body)
        if len(loose) > MAX_BATCH_ITEMS:
            raise _too_many(len(loose)) from None
        return [_convert_loose(item) for item in loose]
    if len(raw_items) > MAX_BATCH_ITEMS:
        raise _too_many(len(raw_items))
    return [_decode_raw(raw) for raw in raw_items]


# --- storing -------------------------------------------------------------------------------------------------


def _writer(grant: Grant) -> tuple[Source, str | None]:
    """Who stores the readings: the citizen herself, or a clinician (kept with his HPR number)."""
    principal = grant.principal
    if isinstance(principal, ClinicianPrincipal):
        return "clinician", principal.hpr
    assert isinstance(principal, CitizenPrincipal)
    return "citizen", None


async def upload_measurements(grant: Grant, body: bytes) -> UploadOut:
    """Store the valid items of a batch once each; answer every item in order. One event per batch.

    The citizen's own uploads are `citizen` readings; a clinician's are `clinician` readings with his HPR number.
    A citizen's newly stored blood pressure may alert her midwife and GP while she is pregnant.
    """
    source, recorded_by_hpr = _writer(grant)
    decoded = decode_batch(body)
    now = utcnow()
    columns = NewMeasurements()
    planned: list[_Rejected | int] = []
    for item in decoded:
        if isinstance(item, _Rejected):
            planned.append(item)
            continue
        reason = validate_reading(item.code, item.value, item.unit, item.components, item.effective_at, now)
        planned.append(_Rejected(item.id, reason) if reason is not None else columns.add(item))
    columns.assign_ids()
    created: set[uuid.UUID] = set()
    if columns.ids:
        async with write_transaction(grant) as connection:
            # One writer per patient at a time: concurrent batches for her never deadlock on each other's rows.
            await queries.lock_patient(connection, grant.patient_id)
            created = await queries.insert_measurements(
                connection, grant.patient_id, columns, source=source, recorded_by_hpr=recorded_by_hpr, created_at=now
            )
            if created:
                await events.append_event(grant.patient_id, events.EventType.MEASUREMENTS_UPLOADED, uuid.uuid4())
                if source == "citizen":
                    await _alert_on_pregnancy_blood_pressure(grant, columns, created)
    return UploadOut(results=_results(planned, columns, created))


def _results(
    planned: Sequence[_Rejected | int], columns: NewMeasurements, created: set[uuid.UUID]
) -> list[UploadResult]:
    results: list[UploadResult] = []
    for plan in planned:
        if isinstance(plan, _Rejected):
            results.append(UploadResult(id=plan.id, status="rejected", reason=plan.reason))
            continue
        stored_id, client_id = columns.ids[plan], columns.client_ids[plan]
        if stored_id in created:
            results.append(UploadResult(id=client_id or stored_id, status="created"))
        else:
            results.append(UploadResult(id=client_id, status="duplicate"))
    return results


async def _alert_on_pregnancy_blood_pressure(grant: Grant, columns: NewMeasurements, created: set[uuid.UUID]) -> None:
    """One alert per batch, for its worst newly stored reading, while the patient has an ongoing pregnancy."""
    worst: tuple[int, Severity, int] | None = None
    for index, code in enumerate(columns.codes):
        if code != BLOOD_PRESSURE_PANEL or columns.ids[index] not in created:
            continue
        systolic = columns.systolics[index]
        assert systolic is not None
        severity = pregnancy_blood_pressure_severity(systolic, columns.diastolics[index])
        if severity is None:
            continue
        rank = 2 if severity == "urgent" else 1
        if worst is None or rank > worst[0]:
            worst = (rank, severity, index)
    if worst is None or not await has_ongoing_pregnancy(grant.patient_id):
        return
    _, _, index = worst
    await raise_pregnancy_blood_pressure_alert(
        grant.patient_id,
        systolic=columns.systolics[index] or 0.0,
        diastolic=columns.diastolics[index],
        at=columns.effective_ats[index],
        resource_type="measurement",
        resource_id=columns.ids[index],
    )
