"""Rules of municipal services: the municipality's upsert by decision id, with versions, and the readers' views.

The allocation office or care record system of a municipality (org kinds `kommune`, `hjemmetjeneste`) writes
a service by the source system's decision id: new → version 1 (201), changed → the next version (200), the
same again → nothing new (200). A service belongs to the municipality that wrote it first; another
municipality's write is refused (403, audited). A service not updated for 90 days is `stale` (computed when
read). Readers see what `sharing.readable_municipalities` allows; the citizen sees all of hers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.core import events
from backend.core.access import Grant, Need, Role, clinician_of, refuse, write_transaction
from backend.core.audit import Author
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.paging import BeforeNumber, clamp_limit, decode_cursor, keyset_page
from backend.core.settings import Settings
from backend.municipal import catalogue, queries
from backend.municipal.schemas import (
    Coordinator,
    MunicipalServiceIn,
    MunicipalServiceList,
    MunicipalServiceOut,
    Provider,
    ServiceHistory,
    ServiceVersionOut,
)
from backend.municipal.sharing import readable_municipalities

RESOURCE = "municipal-service"
STALE_AFTER = timedelta(days=90)
WRITER_ORG_KINDS = frozenset({"kommune", "hjemmetjeneste"})

WRITER = Role(
    "only a municipality's allocation office or care record system (org kind kommune or hjemmetjeneste) "
    "writes municipal services",
    org_kinds=WRITER_ORG_KINDS,
)
READ_SERVICES = Need(action="read", resource_type=RESOURCE)
WRITE_SERVICE = Need(action="write", resource_type=RESOURCE, role=WRITER)

# The fields a version compares, by their API names, in the order they are listed as changed.
_COMPARED = ("service", "status", "from", "until", "frequency", "provider", "coordinator", "practicalInfo")


class _OtherMunicipality(Exception):
    """The service id is another municipality's: refused after the write's transaction is rolled back."""


def _json(value: msgspec.Struct | None) -> str | None:
    return msgspec.json.encode(value).decode() if value is not None else None


def _fields(data: MunicipalServiceIn) -> dict[str, Any]:
    return {
        "service": data.service,
        "status": data.status,
        "starts_on": data.from_,
        "ends_on": data.until,
        "frequency": data.frequency,
        "provider": _json(data.provider),
        "coordinator": _json(data.coordinator),
        "practical_info": data.practical_info,
    }


def check_service(data: MunicipalServiceIn) -> None:
    """What the shape cannot say: a service code of the catalogue, `until` not before `from` (400, the field named)."""
    if not catalogue.is_known(data.service):
        raise BadRequest(f"unknown service {data.service!r}; known: {', '.join(catalogue.SERVICES)}", field="service")
    if data.until is not None and data.until < data.from_:
        raise BadRequest("until must not be before from", field="until")


def service_out(stored: queries.StoredService, now: datetime) -> MunicipalServiceOut:
    return MunicipalServiceOut(
        id=stored.id,
        service=stored.service,
        service_label=catalogue.label(stored.service),
        status=stored.status,  # type: ignore[arg-type]  # the table's CHECK holds it to ServiceStatus
        from_=stored.starts_on,
        until=stored.ends_on,
        frequency=stored.frequency,
        provider=msgspec.json.decode(stored.provider, type=Provider),
        coordinator=msgspec.json.decode(stored.coordinator, type=Coordinator) if stored.coordinator else None,
        practical_info=stored.practical_info,
        municipality=stored.municipality,
        version=stored.version,
        updated_at=stored.updated_at,
        stale=now - stored.updated_at > STALE_AFTER,
    )


def _changed(before: queries.StoredService, fields: dict[str, Any]) -> list[str]:
    old = {
        "service": before.service,
        "status": before.status,
        "from": before.starts_on,
        "until": before.ends_on,
        "frequency": before.frequency,
        "provider": msgspec.json.decode(before.provider),
        "coordinator": msgspec.json.decode(before.coordinator) if before.coordinator else None,
        "practicalInfo": before.practical_info,
    }
    new = {
        "service": fields["service"],
        "status": fields["status"],
        "from": fields["starts_on"],
        "until": fields["ends_on"],
        "frequency": fields["frequency"],
        "provider": msgspec.json.decode(fields["provider"]),
        "coordinator": msgspec.json.decode(fields["coordinator"]) if fields["coordinator"] else None,
        "practicalInfo": fields["practical_info"],
    }
    return [name for name in _COMPARED if old[name] != new[name]]


async def put_service(
    grant: Grant, service_id: uuid.UUID, data: MunicipalServiceIn
) -> tuple[MunicipalServiceOut, bool]:
    """Upsert by decision id; returns the service and whether it is new. Nothing is stored on any refusal."""
    principal = clinician_of(grant)
    check_service(data)
    municipality = principal.municipality
    if municipality is None:
        await refuse(grant, "your token names no municipality (kommunenummer) to write services for")
    if data.municipality is not None and data.municipality != municipality:
        await refuse(
            grant,
            f"a municipality writes only its own services: your organisation is of {municipality}, "
            f"not {data.municipality}",
            resource_id=str(service_id),
        )
    fields = _fields(data)
    author = Author.of(principal)
    now = utcnow()
    try:
        async with write_transaction(grant) as tx:
            current = await queries.lock_service(tx, grant.patient_id, service_id)
            created = False
            changed: list[str] = []
            if current is None:
                current = await queries.insert_service(
                    tx, grant.patient_id, service_id, municipality=municipality, fields=fields, now=now
                )
                if current is not None:
                    created = True
                    changed = list(_COMPARED)
                else:  # another writer created it meanwhile: this write is then a change of it
                    current = await queries.lock_service(tx, grant.patient_id, service_id)
            if current is None:  # pragma: no cover - a row that existed a moment ago cannot vanish (no deletes)
                raise NotFound("no such municipal service")
            if current.municipality != municipality:
                raise _OtherMunicipality
            if not created:
                changed = _changed(current, fields)
                if not changed:
                    return service_out(current, now), False
                current = await queries.update_service(tx, grant.patient_id, service_id, fields, now)
            written = msgspec.json.encode(service_out(current, now))
            await queries.insert_version(tx, grant.patient_id, current, changed=changed, written=written, by=author)
            await events.append_event(grant.patient_id, events.EventType.MUNICIPAL_SERVICE_UPDATED, service_id)
    except _OtherMunicipality:
        await refuse(
            grant,
            "this service is another municipality's record; a municipality writes only its own services",
            resource_id=str(service_id),
        )
    return service_out(current, now), created


async def services_for_clinician(
    grant: Grant, settings: Settings, *, statuses: tuple[str, ...] | None = None
) -> MunicipalServiceList:
    """The services of the municipalities she may read; the others' only counted."""
    principal = clinician_of(grant)
    municipalities = sorted(readable_municipalities(principal, settings))
    async with DB.connection() as connection:
        stored, others = await queries.services_of(connection, grant.patient_id, municipalities, statuses)
    now = utcnow()
    return MunicipalServiceList(items=[service_out(row, now) for row in stored], other_municipalities_count=others)


async def services_for_citizen(grant: Grant) -> list[MunicipalServiceOut]:
    """All of her services, from every municipality (she is the one they are about)."""
    async with DB.connection() as connection:
        stored, _ = await queries.services_of(connection, grant.patient_id, None)
    now = utcnow()
    return [service_out(row, now) for row in stored]


def _version_position(item: ServiceVersionOut) -> BeforeNumber:
    return BeforeNumber(n=item.version)


async def service_history(
    grant: Grant, settings: Settings, service_id: uuid.UUID, *, cursor: str | None, limit: int | None
) -> ServiceHistory:
    """Versions of one service, newest first: who, when, which fields changed, the service as written.

    Only for a reader who may see the service (404 otherwise, exactly like an unknown id).
    """
    principal = clinician_of(grant)
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeNumber)
    async with DB.connection() as connection:
        municipality = await queries.service_municipality(connection, grant.patient_id, service_id)
        if municipality is None or municipality not in readable_municipalities(principal, settings):
            raise NotFound("no such municipal service")
        rows = await queries.versions(
            connection, grant.patient_id, service_id, position.n if position else None, size + 1
        )
    items = [
        ServiceVersionOut(
            version=row.version,
            at=row.at,
            by=row.by,
            changed=row.changed,
            service=msgspec.json.decode(row.written, type=MunicipalServiceOut),
        )
        for row in rows
    ]
    page, following = keyset_page(items, size, _version_position)
    return ServiceHistory(items=page, next=following)
