"""The list's history: its versions newest first with who made each and what it touched, any version whole, and diffs.

One set of rules for the clinician and the citizen alike: the `Grant` already says whose list it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import msgspec

from backend.core.access import Grant
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.paging import Int32, Position, clamp_limit, decode_cursor, keyset_page
from backend.medications import queries, queries_prescriptions
from backend.medications.entries import display_order
from backend.medications.schemas import (
    EntryChangeKind,
    EntryDiff,
    FieldChange,
    ListDiff,
    ListVersionDetail,
    ListVersionOut,
    MedicationEntry,
    MedicationHistory,
    VersionChange,
)


def diff_versions(
    before: Mapping[uuid.UUID, MedicationEntry], after: Mapping[uuid.UUID, MedicationEntry], *, from_: int, to: int
) -> ListDiff:
    """Entries added, removed (a diff backwards) and changed field by field between two versions."""
    changed: list[EntryDiff] = []
    for entry_id, new in after.items():
        old = before.get(entry_id)
        if old is None or old == new:
            continue
        old_fields = msgspec.to_builtins(old)
        new_fields = msgspec.to_builtins(new)
        fields = [
            FieldChange(field=name, from_=old_fields.get(name), to=new_fields.get(name))
            for name in new_fields
            if old_fields.get(name) != new_fields.get(name)
        ]
        changed.append(EntryDiff(id=entry_id, name=new.name, fields=fields))
    return ListDiff(
        from_=from_,
        to=to,
        added=sorted((entry for key, entry in after.items() if key not in before), key=display_order),
        removed=sorted((entry for key, entry in before.items() if key not in after), key=display_order),
        changed=sorted(changed, key=lambda item: (item.name.casefold(), str(item.id))),
    )


def _change(touched: queries.TouchedEntry) -> EntryChangeKind:
    """What a version did to an entry: added it, stopped it, or changed it otherwise."""
    if not touched.existed:
        return "added"
    if touched.stopped_before is None and touched.stopped_at is not None:
        return "stopped"
    return "changed"


PRESCRIPTION_EVENTS = 200  # at most this many prescription events beside one page of versions


class _BeforeVersion(Position):
    before: Int32


async def history(
    grant: Grant,
    *,
    cursor: str | None,
    limit: int | None,
    from_version: int | None,
    to_version: int | None,
) -> MedicationHistory:
    """The versions, newest first, with who made each and what it touched; a diff when from and to are given."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _BeforeVersion)
    if (from_version is None) != (to_version is None):
        missing = "from" if from_version is None else "to"
        raise BadRequest(f"{missing}: give both from and to to compare two versions", field=missing)
    async with DB.connection() as connection:
        current = (await queries.head(connection, grant.patient_id)).version
        for name, value in (("from", from_version), ("to", to_version)):
            if value is not None and not 0 <= value <= current:
                raise BadRequest(f"{name}: must be a version between 0 and {current}", field=name)
        rows = await queries.list_versions(
            connection, grant.patient_id, before=position.before if position else None, limit=size + 1
        )
        page, next_cursor = keyset_page(rows, size, lambda row: _BeforeVersion(before=row.version))
        touched = await queries.touched_entries(connection, grant.patient_id, [row.version for row in page])
        # The prescription events of the time this page covers: after its oldest version (none on the last page)
        # up to the version before which it starts (none on the first page).
        newer = await queries.list_version(connection, grant.patient_id, position.before) if position else None
        prescription_events = await queries_prescriptions.prescription_events(
            connection,
            grant.patient_id,
            after=page[-1].at if page and next_cursor else None,
            until=newer.at if newer else None,
            limit=PRESCRIPTION_EVENTS,
        )
        diff = None
        if from_version is not None and to_version is not None:
            diff = diff_versions(
                await queries.entries_as_of(connection, grant.patient_id, from_version),
                await queries.entries_as_of(connection, grant.patient_id, to_version),
                from_=from_version,
                to=to_version,
            )
    changes: dict[int, list[VersionChange]] = {}
    for entry in touched:
        changes.setdefault(entry.version, []).append(
            VersionChange(id=entry.entry_id, name=entry.name, change=_change(entry))
        )
    return MedicationHistory(
        current_version=current,
        items=[
            ListVersionOut(version=row.version, at=row.at, by=row.by, changes=changes.get(row.version, []))
            for row in page
        ],
        next=next_cursor,
        diff=diff,
        prescription_events=prescription_events,
    )


async def list_version(grant: Grant, version: int) -> ListVersionDetail:
    """Version N of the list, reconstructed from the entry versions (404 beyond the current version)."""
    async with DB.connection() as connection:
        current = (await queries.head(connection, grant.patient_id)).version
        if not 0 <= version <= current:
            raise NotFound(f"the list has versions 0 to {current}")
        made = await queries.list_version(connection, grant.patient_id, version)
        entries = await queries.entries_as_of(connection, grant.patient_id, version)
    return ListVersionDetail(
        version=version,
        at=made.at if made is not None else None,
        by=made.by if made is not None else None,
        entries=sorted(entries.values(), key=display_order),
    )
