"""Patient context: small facts one domain publishes (in its write transaction) for other domains to read."""

from __future__ import annotations

import uuid

from backend.db.engine import DB

PREGNANCY = "pregnancy"  # value: "ongoing" while a card is open; absent or the outcome otherwise


async def set_context(patient_id: uuid.UUID, key: str, value: str | None) -> None:
    """Set or clear a fact; runs in the caller's transaction when there is one."""
    async with DB.connection() as connection:
        if value is None:
            await connection.execute("DELETE FROM patient_context WHERE patient = $1 AND key = $2", patient_id, key)
            return
        await connection.execute(
            """
            INSERT INTO patient_context (id, patient, key, value, updated_at) VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (patient, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
            """,
            uuid.uuid4(),
            patient_id,
            key,
            value,
        )


async def get_context(patient_id: uuid.UUID, key: str) -> str | None:
    async with DB.connection() as connection:
        value: str | None = await connection.fetchval(
            "SELECT value FROM patient_context WHERE patient = $1 AND key = $2", patient_id, key
        )
    return value


async def has_ongoing_pregnancy(patient_id: uuid.UUID) -> bool:
    return await get_context(patient_id, PREGNANCY) == "ongoing"
