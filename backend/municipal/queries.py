"""Every SQL statement of municipal services: functions of a connection and plain values, typed results.

Reached only with `grant.patient_id` (the services take the `Grant`) or by the demo loader; every statement
names the patient. Reads filtered by municipality take the reader's municipalities as a text array.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from backend.core.audit import Author
from backend.core.rows import typed_row

Connection = Any  # an asyncpg connection (or the transaction's)


class StoredService(msgspec.Struct, kw_only=True, frozen=True):
    """A service row as stored; `provider` and `coordinator` are the JSON documents as written."""

    id: uuid.UUID
    municipality: str
    service: str
    status: str
    starts_on: date
    ends_on: date | None
    frequency: str | None
    provider: str
    coordinator: str | None
    practical_info: str | None
    version: int
    updated_at: datetime


class StoredVersion(msgspec.Struct, kw_only=True, frozen=True):
    version: int
    at: datetime
    changed: list[str]
    written: str
    by: Author


_COLUMNS = (
    "id, municipality, service, status, starts_on, ends_on, frequency, provider::text AS provider,"
    " coordinator::text AS coordinator, practical_info, version, updated_at"
)


def _stored(row: Any) -> StoredService:
    return typed_row(StoredService, row)


async def lock_service(connection: Connection, patient_id: uuid.UUID, service_id: uuid.UUID) -> StoredService | None:
    """The service, locked until the writer's transaction ends, or None."""
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM municipal_service WHERE patient_id = $1 AND id = $2 FOR UPDATE",  # noqa: S608 - constant columns
        patient_id,
        service_id,
    )
    return _stored(row) if row is not None else None


async def insert_service(
    connection: Connection,
    patient_id: uuid.UUID,
    service_id: uuid.UUID,
    *,
    municipality: str,
    fields: dict[str, Any],
    now: datetime,
) -> StoredService | None:
    """Version 1 of a new service; None when another writer inserted the same id first."""
    row = await connection.fetchrow(
        f"""
        INSERT INTO municipal_service (id, patient_id, municipality, service, status, starts_on, ends_on, frequency,
                                       provider, coordinator, practical_info, version, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, 1, $12, $12)
        ON CONFLICT (patient_id, id) DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant columns
        service_id,
        patient_id,
        municipality,
        *_values(fields),
        now,
    )
    return _stored(row) if row is not None else None


async def update_service(
    connection: Connection, patient_id: uuid.UUID, service_id: uuid.UUID, fields: dict[str, Any], now: datetime
) -> StoredService:
    """The next version of a locked service."""
    row = await connection.fetchrow(
        f"""
        UPDATE municipal_service
        SET service = $3, status = $4, starts_on = $5, ends_on = $6, frequency = $7, provider = $8::jsonb,
            coordinator = $9::jsonb, practical_info = $10, version = version + 1, updated_at = $11
        WHERE patient_id = $1 AND id = $2
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant columns
        patient_id,
        service_id,
        *_values(fields),
        now,
    )
    return _stored(row)


def _values(fields: dict[str, Any]) -> tuple[Any, ...]:
    return (
        fields["service"],
        fields["status"],
        fields["starts_on"],
        fields["ends_on"],
        fields["frequency"],
        fields["provider"],
        fields["coordinator"],
        fields["practical_info"],
    )


async def insert_version(
    connection: Connection,
    patient_id: uuid.UUID,
    stored: StoredService,
    *,
    changed: Sequence[str],
    written: bytes,
    by: Author,
) -> None:
    await connection.execute(
        """
        INSERT INTO municipal_service_version (id, patient_id, service_id, version, changed, written, at, by_hpr,
                                               by_name, by_authorization, by_org, by_org_kind)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)
        """,
        uuid.uuid4(),
        patient_id,
        stored.id,
        stored.version,
        list(changed),
        written.decode(),
        stored.updated_at,
        by.hpr,
        by.name,
        by.authorization,
        by.organisation,
        by.org_kind,
    )


_VISIBLE = """
SELECT s.id, s.municipality, s.service, s.status, s.starts_on, s.ends_on, s.frequency, s.provider::text AS provider,
       s.coordinator::text AS coordinator, s.practical_info, s.version, s.updated_at, o.others
FROM (SELECT count(*) AS others FROM municipal_service
      WHERE patient_id = $1 AND NOT (municipality = ANY($2::text[]))) o
LEFT JOIN municipal_service s
       ON s.patient_id = $1 AND s.municipality = ANY($2::text[]) AND ($3::text[] IS NULL OR s.status = ANY($3::text[]))
ORDER BY s.status = 'ended', s.starts_on DESC, s.id
"""


# The legevakt overview's two parts (one JSON column each of its one statement): $1 patient, $2 the municipalities
# she may read, $3 the statuses shown; and how many services of the other municipalities she has.
SHOWN_SERVICES = f"""
SELECT {_COLUMNS} FROM municipal_service
WHERE patient_id = $1 AND municipality = ANY($2::text[]) AND status = ANY($3::text[])
ORDER BY status = 'ended', starts_on DESC, id
"""  # noqa: S608 - constant columns
OTHER_MUNICIPALITIES = """
SELECT count(*) AS others FROM municipal_service WHERE patient_id = $1 AND NOT (municipality = ANY($2::text[]))
"""


class OthersCount(msgspec.Struct, frozen=True):
    others: int


async def services_of(
    connection: Connection,
    patient_id: uuid.UUID,
    municipalities: Sequence[str] | None,
    statuses: Sequence[str] | None = None,
) -> tuple[list[StoredService], int]:
    """The patient's services of `municipalities` (None: every municipality) with `statuses` (None: any), and how
    many services of other municipalities she has; one statement."""
    if municipalities is None:
        rows = await connection.fetch(
            f"""
            SELECT {_COLUMNS} FROM municipal_service
            WHERE patient_id = $1 AND ($2::text[] IS NULL OR status = ANY($2::text[]))
            ORDER BY status = 'ended', starts_on DESC, id
            """,  # noqa: S608 - constant columns
            patient_id,
            list(statuses) if statuses is not None else None,
        )
        return [_stored(row) for row in rows], 0
    rows = await connection.fetch(
        _VISIBLE, patient_id, list(municipalities), list(statuses) if statuses is not None else None
    )
    services = [_stored(row) for row in rows if row["id"] is not None]
    return services, int(rows[0]["others"]) if rows else 0


async def service_municipality(connection: Connection, patient_id: uuid.UUID, service_id: uuid.UUID) -> str | None:
    found: str | None = await connection.fetchval(
        "SELECT municipality FROM municipal_service WHERE patient_id = $1 AND id = $2", patient_id, service_id
    )
    return found


async def versions(
    connection: Connection, patient_id: uuid.UUID, service_id: uuid.UUID, before: int | None, limit: int
) -> list[StoredVersion]:
    """Versions of one service, newest first, below version `before` when given."""
    rows = await connection.fetch(
        """
        SELECT version, at, changed, written::text AS written, by_hpr, by_name, by_authorization, by_org, by_org_kind
        FROM municipal_service_version
        WHERE patient_id = $1 AND service_id = $2 AND ($3::int IS NULL OR version < $3)
        ORDER BY version DESC
        LIMIT $4
        """,
        patient_id,
        service_id,
        before,
        limit,
    )
    return [
        StoredVersion(
            version=row["version"],
            at=row["at"],
            changed=list(row["changed"]),
            written=row["written"],
            by=Author.from_row(row, "by_"),
        )
        for row in rows
    ]
