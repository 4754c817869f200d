"""Rules on the entries of a medication list: which are current or visible, what a valid entry is, likely duplicates.

Pure functions of the entries and a Norwegian date: the list's service, its history and the citizen's view
all decide with these.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import msgspec

from backend.core.clock import OSLO, utcnow
from backend.core.errors import BadRequest
from backend.medications.atc import InvalidAtcCode, validate_entry_atc
from backend.medications.schemas import ListWarning, MedicationEntry

# A stopped entry stays in the current view this many days after its stop date (CLINICAL.md).
STOPPED_VISIBLE_DAYS = 90
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DAYS_AHEAD = 5 * 366


def today() -> date:
    """The calendar date in Norway now (stop dates are Norwegian dates)."""
    return utcnow().astimezone(OSLO).date()


def is_visible(entry: MedicationEntry, on: date) -> bool:
    """Active, or stopped no more than 90 days before `on`."""
    return entry.stopped_at is None or on <= entry.stopped_at + timedelta(days=STOPPED_VISIBLE_DAYS)


def is_active(entry: MedicationEntry, on: date) -> bool:
    """Not stopped yet (a stop date in the future is a planned stop)."""
    return entry.stopped_at is None or entry.stopped_at > on


# --- validation ---------------------------------------------------------------------------------------


def clean(text: str | None) -> str | None:
    """The text without surrounding blanks; None when nothing is left."""
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


def normalise_entries(entries: Sequence[MedicationEntry], on: date) -> list[MedicationEntry]:
    """Trim texts and check every rule msgspec cannot: 400 naming each offending field, nothing stored."""
    problems: list[dict[str, str]] = []
    seen: dict[uuid.UUID, int] = {}
    latest = on + timedelta(days=LATEST_DAYS_AHEAD)
    cleaned: list[MedicationEntry] = []

    def problem(index: int, field: str, message: str) -> None:
        problems.append({"field": f"entries[{index}].{field}", "message": message})

    for index, entry in enumerate(entries):
        if entry.id in seen:
            problem(index, "id", f"the entry id {entry.id} is also used by entries[{seen[entry.id]}]")
        seen.setdefault(entry.id, index)
        name = clean(entry.name)
        if name is None:
            problem(index, "name", "give the medicine's name")
        try:
            validate_entry_atc(entry.atc)
        except InvalidAtcCode as exc:
            problem(index, "atc", str(exc))
        if not EARLIEST_DATE <= entry.started_at <= latest:
            problem(index, "startedAt", f"startedAt must lie between {EARLIEST_DATE} and {latest}")
        stop_reason = clean(entry.stop_reason)
        if entry.stopped_at is not None:
            if entry.stopped_at < entry.started_at:
                problem(index, "stoppedAt", "stoppedAt must be on or after startedAt")
            elif entry.stopped_at > latest:
                problem(index, "stoppedAt", f"stoppedAt must be on or before {latest}")
            if stop_reason is None:
                problem(index, "stopReason", "a stopped entry needs its stop reason")
        elif stop_reason is not None:
            problem(index, "stoppedAt", "stopReason is given but stoppedAt is not: give the stop date too")
        if entry.dose is not None:
            if not entry.dose.as_needed and entry.dose.times_per_day is None:
                problem(index, "dose.timesPerDay", "a regular dose needs timesPerDay (or asNeeded: true)")
            if not entry.dose.unit.strip():
                problem(index, "dose.unit", "give the dose unit")
        cleaned.append(
            msgspec.structs.replace(
                entry,
                name=name or entry.name,
                form=clean(entry.form),
                strength=clean(entry.strength),
                dosage=clean(entry.dosage),
                reason=clean(entry.reason),
                stop_reason=stop_reason,
                prescription=None,  # read-only: the list shows it, a write never sets it
            )
        )
    if problems:
        first = problems[0]
        raise BadRequest(f"{first['field']}: {first['message']}", field=first["field"], errors=problems)
    return cleaned


def _strength_key(strength: str | None) -> str:
    return "".join((strength or "").split()).casefold()


def duplicate_warnings(entries: Iterable[MedicationEntry], on: date) -> list[ListWarning]:
    """Active entries with the same ATC code and strength: probably one medicine entered twice."""
    groups: dict[tuple[str, str], list[MedicationEntry]] = {}
    for entry in entries:
        if is_active(entry, on):
            groups.setdefault((entry.atc, _strength_key(entry.strength)), []).append(entry)
    return [
        ListWarning(
            code="duplicate-active",
            message=f"{len(group)} active entries have ATC {atc} and the same strength; is one a duplicate?",
            atc=atc,
            strength=group[0].strength,
            entry_ids=[entry.id for entry in group],
        )
        for (atc, _), group in sorted(groups.items())
        if len(group) > 1
    ]


def display_order(entry: MedicationEntry) -> tuple[bool, str, str]:
    return (entry.stopped_at is not None, entry.name.casefold(), str(entry.id))
