"""The append-only audit log: one row per clinician read or write (allowed or denied) and per editor action."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from backend.core.auth import ClinicianPrincipal, EditorPrincipal, SystemPrincipal
from backend.core.logs import request_id_var
from backend.db.engine import DB
from backend.db.errors import DatabaseUnavailable

log = logging.getLogger("helsekort.audit")

_COLUMNS = """actor_kind, actor, hpr, name, "authorization", org_number, org_kind,
                       patient_id, action, resource_type, resource_id, basis, request_id, refusal"""

INSERT_SQL = f"""
INSERT INTO audit_log ({_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
"""  # noqa: S608 - a constant

# A row that names no patient (an editor's action, a lookup that found no one) has its own table: every
# audit_log row belongs to a patient, the key the patient tables are distributed by. $8 is always NULL here.
INSERT_GLOBAL_SQL = """
INSERT INTO audit_log_global (actor_kind, actor, hpr, name, "authorization", org_number, org_kind,
                              action, resource_type, resource_id, basis, request_id, refusal)
SELECT $1, $2, $3, $4, $5, $6, $7, $9, $10, $11, $12, $13, $14 WHERE $8::uuid IS NULL
"""


# Several rows in one statement: one array per column, in INSERT_SQL's order.
_INSERT_MANY_SQL = f"""
INSERT INTO audit_log ({_COLUMNS})
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
"""  # noqa: S608 - a constant

AuditRow = tuple[Any, ...]  # INSERT_SQL's $1…$14, patient_id ($8) set
# What one bad row makes the whole statement fail with (a value outside the vocabulary, too long, not null).
_ROW_ERRORS = (asyncpg.exceptions.IntegrityConstraintViolationError, asyncpg.exceptions.DataError)


class _Group:
    """The rows of one event loop waiting to be written, and whether a writer is at work on them."""

    def __init__(self) -> None:
        self.waiting: list[tuple[AuditRow, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Group] = weakref.WeakKeyDictionary()


async def append_row_durably(row: AuditRow) -> None:
    """Write a patient's audit row and return once it is committed: group commit for the audit log.

    Rows that arrive while a write is under way go together in the next statement, so under load one commit (and
    its WAL flush) carries many requests' rows instead of one each. The caller still waits for her own row to be
    on disk, so nothing she goes on to disclose or change is ever ahead of it. A statement that fails on a row is
    retried row by row (one bad row does not take the others with it); a row that cannot be written raises
    DatabaseUnavailable here, and the caller answers 503 without disclosing anything.
    """
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = _Group()
    future = loop.create_future()
    group.waiting.append((row, future))
    if group.writer is None:
        # A context of its own: the writer serves many requests and must not run inside one's transaction.
        group.writer = loop.create_task(_write(group), context=contextvars.Context())
    # A request that goes away while waiting cancels only its wait: its row is in the batch and is written.
    await future


_Waiting = tuple[AuditRow, asyncio.Future[None]]


async def _write(group: _Group) -> None:
    """Write what is waiting, batch after batch, until nothing is; settle every waiter whatever happens."""
    batch: list[_Waiting] = []
    try:
        while group.waiting:
            batch, group.waiting = group.waiting, []
            try:
                await _insert_many([row for row, _ in batch])
            except _ROW_ERRORS as exc:
                if len(batch) == 1:
                    _failed(batch, exc)
                    continue
                for one in batch:  # one bad row must not take the others with it
                    try:
                        await _insert_many([one[0]])
                    except Exception as row_exc:
                        _failed([one], row_exc)
                    else:
                        _written([one])
            except Exception as exc:  # the server, not a row: every row of the batch fails (503), none is retried
                _failed(batch, exc)
            else:
                _written(batch)
            batch = []
    except BaseException as exc:  # cancelled (shutdown): no caller may wait for ever
        _failed([*batch, *group.waiting], exc)
        group.waiting = []
        raise
    finally:
        group.writer = None


def _written(batch: Sequence[_Waiting]) -> None:
    for _, future in batch:
        if not future.done():
            future.set_result(None)


def _failed(batch: Sequence[_Waiting], exc: BaseException) -> None:
    log.warning("audit rows not written", extra={"rows": len(batch), "error": type(exc).__name__})
    for _, future in batch:
        if not future.done():
            future.set_exception(
                DatabaseUnavailable("the audit log could not be written; try again shortly", retry_after=1)
            )


async def _insert_many(rows: Sequence[AuditRow]) -> None:
    async with DB.connection() as connection:
        await connection.execute(_INSERT_MANY_SQL, *(list(column) for column in zip(*rows, strict=True)))


def _insert_sql(patient_id: uuid.UUID | None) -> str:
    return INSERT_SQL if patient_id is not None else INSERT_GLOBAL_SQL


def clinician_row(principal: ClinicianPrincipal) -> tuple[str, str, str, str | None, str, str, str]:
    return (
        "clinician",
        principal.caller_id,
        principal.hpr,
        principal.name,
        principal.authorization,
        principal.org_number,
        principal.org_kind,
    )


class Author(msgspec.Struct, kw_only=True, rename="camel"):
    """A clinician as shown beside what she did (acknowledged an alert, prescribed an SpO2 target)."""

    hpr: str
    name: str | None
    authorization: str
    organisation: str
    org_kind: str

    @classmethod
    def of(cls, principal: ClinicianPrincipal) -> Author:
        return cls(
            hpr=principal.hpr,
            name=principal.name,
            authorization=principal.authorization,
            organisation=principal.org_number,
            org_kind=principal.org_kind,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any], prefix: str) -> Author:
        """From the columns a table stores an author in: `{prefix}hpr`, `{prefix}name`, … `{prefix}org_kind`."""
        return cls(
            hpr=row[f"{prefix}hpr"],
            name=row[f"{prefix}name"],
            authorization=row[f"{prefix}authorization"],
            organisation=row[f"{prefix}org"],
            org_kind=row[f"{prefix}org_kind"],
        )


async def record_clinician_action(
    principal: ClinicianPrincipal,
    *,
    patient_id: uuid.UUID | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    basis: str,
    refusal: str | None = None,
) -> None:
    """One row; `basis` is how access was allowed, or `denied` with the `refusal` reason."""
    async with DB.connection() as connection:
        await connection.execute(
            _insert_sql(patient_id),
            *clinician_row(principal),
            patient_id,
            action,
            resource_type,
            resource_id,
            basis,
            request_id_var.get(),
            refusal,
        )


async def record_system_action(
    connection: Any, principal: SystemPrincipal, *, patient_id: uuid.UUID, action: str, resource_type: str, basis: str
) -> None:
    """A machine client's write about a patient (the register's guardianship), in the writer's transaction."""
    await connection.execute(
        INSERT_SQL,
        "system",
        principal.caller_id,
        None,
        None,
        None,
        None,
        None,
        patient_id,
        action,
        resource_type,
        None,
        basis,
        request_id_var.get(),
        None,
    )


async def record_editor_action(
    principal: EditorPrincipal, *, action: str, resource_type: str, resource_id: str | None
) -> None:
    async with DB.connection() as connection:
        await connection.execute(
            INSERT_GLOBAL_SQL,
            "editor",
            principal.caller_id,
            None,
            principal.name,
            None,
            None,
            None,
            None,
            action,
            resource_type,
            resource_id,
            "editor",
            request_id_var.get(),
            None,
        )


class AccessLogEntry(msgspec.Struct, kw_only=True, rename="camel"):
    at: datetime
    actor_kind: str  # clinician, or citizen: someone who represents her (basis representative), or system
    representative: uuid.UUID | None = None  # actor_kind citizen: the representative's patient id
    hpr: str | None
    name: str | None
    authorization: str | None
    organisation: str | None
    org_kind: str | None
    action: str
    resource_type: str
    resource_id: str | None
    basis: str


REPRESENTATIVE_ACTOR = "patient:"  # core/representation.py writes a representative's rows so


def _representative(actor_kind: str, actor: str) -> uuid.UUID | None:
    if actor_kind != "citizen" or not actor.startswith(REPRESENTATIVE_ACTOR):
        return None
    try:
        return uuid.UUID(actor.removeprefix(REPRESENTATIVE_ACTOR))
    except ValueError:
        return None


async def access_log_page(
    patient_id: uuid.UUID, *, before_id: int | None, limit: int
) -> list[tuple[int, AccessLogEntry]]:
    """Newest first; keyset-paged on the row id so concurrent inserts never shift a page."""
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT id, at, actor_kind, actor, hpr, name, "authorization", org_number, org_kind, action, resource_type,
                   resource_id, basis
            FROM audit_log
            WHERE patient_id = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC
            LIMIT $3
            """,
            patient_id,
            before_id,
            limit,
        )
    return [
        (
            row["id"],
            AccessLogEntry(
                at=row["at"],
                actor_kind=row["actor_kind"],
                representative=_representative(row["actor_kind"], row["actor"]),
                hpr=row["hpr"],
                name=row["name"],
                authorization=row["authorization"],
                organisation=row["org_number"],
                org_kind=row["org_kind"],
                action=row["action"],
                resource_type=row["resource_type"],
                resource_id=row["resource_id"],
                basis=row["basis"],
            ),
        )
        for row in rows
    ]
