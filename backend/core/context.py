"""Patient context: small facts one domain publishes (in its write transaction) for other domains to read,
and facts the core derives itself (the birth date, from the sealed identity number)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from backend.core.clock import OSLO
from backend.core.identity import InvalidIdentityNumber, parse_identity_number, sealer
from backend.db.engine import DB

PREGNANCY = "pregnancy"  # value: "ongoing" while a card is open; absent or the outcome otherwise
PREGNANCY_ENDED_ON = "pregnancy-ended-on"  # value: ISO date of the latest pregnancy's outcome
# The consent without which no clinician may learn that she is or was pregnant (CLINICAL.md v1.1).
PREGNANCY_CONSENT = "pregnancy-card"


async def set_context(patient_id: uuid.UUID, key: str, value: str | None) -> None:
    """Set or clear a fact; runs in the caller's transaction when there is one."""
    async with DB.connection() as connection:
        if value is None:
            await connection.execute("DELETE FROM patient_context WHERE patient_id = $1 AND key = $2", patient_id, key)
            return
        await connection.execute(
            """
            INSERT INTO patient_context (id, patient_id, key, value, updated_at) VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (patient_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
            """,
            uuid.uuid4(),
            patient_id,
            key,
            value,
        )


async def get_context(patient_id: uuid.UUID, key: str) -> str | None:
    async with DB.connection() as connection:
        value: str | None = await connection.fetchval(
            "SELECT value FROM patient_context WHERE patient_id = $1 AND key = $2", patient_id, key
        )
    return value


async def has_ongoing_pregnancy(patient_id: uuid.UUID) -> bool:
    return await get_context(patient_id, PREGNANCY) == "ongoing"


async def record_pregnancy_outcome(patient_id: uuid.UUID, outcome: str, ended_on: date) -> None:
    """A pregnancy ended: its outcome and date, in the writer's transaction (NEWS2 reads the date)."""
    await set_context(patient_id, PREGNANCY, outcome)
    await set_context(patient_id, PREGNANCY_ENDED_ON, ended_on.isoformat())


@dataclass(frozen=True, slots=True)
class PregnancyFacts:
    ongoing: bool
    ended_on: date | None
    """The outcome date of the latest pregnancy that has ended, if any."""


async def pregnancy_facts(patient_id: uuid.UUID) -> PregnancyFacts:
    """Whether a pregnancy is ongoing, and when the latest one ended.

    The end is the published outcome date; an outcome published without one (by a writer that only sets
    `pregnancy`) ended at the latest on the day it was published, which is used instead.
    """
    async with DB.connection() as connection:
        rows = await connection.fetch(
            "SELECT key, value, updated_at FROM patient_context WHERE patient_id = $1 AND key = ANY($2::text[])",
            patient_id,
            [PREGNANCY, PREGNANCY_ENDED_ON],
        )
    facts = {row["key"]: row for row in rows}
    status, ended = facts.get(PREGNANCY), facts.get(PREGNANCY_ENDED_ON)
    if status is None or status["value"] == "ongoing":
        ended_on = date.fromisoformat(ended["value"]) if ended is not None else None
        return PregnancyFacts(ongoing=status is not None, ended_on=ended_on)
    if ended is not None and ended["updated_at"] >= status["updated_at"]:
        return PregnancyFacts(ongoing=False, ended_on=date.fromisoformat(ended["value"]))
    return PregnancyFacts(ongoing=False, ended_on=status["updated_at"].astimezone(OSLO).date())


async def birth_date(patient_id: uuid.UUID) -> date | None:
    """The birth date in the patient's fødselsnummer or D-nummer (day + 40; century from the individual number).

    Computed from the sealed number rather than stored: a stored copy could not be backfilled in SQL,
    because only the application holds the key. None only for a number that no longer parses (never
    stored by this service: every number is validated before a patient is created).
    """
    async with DB.connection() as connection:
        sealed: bytes | None = await connection.fetchval("SELECT fnr_sealed FROM patient WHERE id = $1", patient_id)
    if sealed is None:
        return None
    return birth_date_of_sealed(sealed)


def birth_date_of_sealed(sealed: bytes) -> date | None:
    """The birth date in a sealed identity number (`patient.fnr_sealed`), for a caller that read the row itself."""
    try:
        # Synthetic numbers reach the database only where they are allowed; here the number is only read.
        return parse_identity_number(sealer().unseal(sealed), allow_synthetic=True).birth_date
    except InvalidIdentityNumber:
        return None


def age_and_sex_of(sealed: bytes | None, day: date) -> tuple[int | None, str | None]:
    """Completed years on `day` and the legal sex of the sealed identity number `sealed` (None, None: unknown)."""
    if sealed is None:
        return None, None
    try:
        number = parse_identity_number(sealer().unseal(sealed), allow_synthetic=True)
    except InvalidIdentityNumber:
        return None, None
    return age_on(number.birth_date, day), number.sex


def age_on(born: date, day: date) -> int:
    """Completed years on `day` (a 29 February birthday comes on 1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
